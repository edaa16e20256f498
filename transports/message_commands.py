"""``aionactors workflow update`` and ``workflow signal-with-start``: the message verbs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from transports.client import AionClient


def add_message_verbs(verbs: Any, json_arg: Callable[[str], Any]) -> None:
    """Register ``update`` and ``signal-with-start`` on the ``workflow`` verbs; ``json_arg``
    parses a JSON option (an argparse error for text that is not JSON)."""

    def json_list(text: str) -> list[Any]:
        value = json_arg(text)
        return value if isinstance(value, list) else [value]

    update = verbs.add_parser("update", help="run an update; prints {result}")
    update.add_argument("workflow_id")
    update.add_argument("name")
    update.add_argument(
        "--args", type=json_list, default=[], help="JSON list of arguments (a non-list is one)"
    )
    update.add_argument("--run-id")
    update.add_argument("--wait", type=float, default=60.0, help="seconds to wait for it")
    start = verbs.add_parser(
        "signal-with-start",
        help="signal a running workflow or start it with the signal first; "
        "prints {workflow_id, run_id, started}",
    )
    start.add_argument("workflow_type")
    start.add_argument("workflow_id")
    start.add_argument("signal")
    start.add_argument("--payload", type=json_arg, default=None, help="JSON signal payload")
    start.add_argument("--input", type=json_arg, default=None, help="JSON input if it starts")


async def message_call(args: argparse.Namespace, client: AionClient) -> Any:
    """Run one of the verbs above against ``client``."""
    if args.verb == "update":
        result = await client.update(
            args.workflow_id,
            args.name,
            *args.args,
            run_id=args.run_id,
            wait_ms=int(args.wait * 1000),
        )
        return {"result": result}
    return await client.signal_with_start(
        args.workflow_type, args.workflow_id, args.signal, args.payload, input=args.input
    )
