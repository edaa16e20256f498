"""``aionactors workflow update`` and ``workflow signal-with-start``: the message verbs
(entries of ``transports.commands.WORKFLOW_VERBS``)."""

from __future__ import annotations

import argparse
from typing import Any

from transports.cli_args import json_arg, json_list
from transports.client import AionClient


def update_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument("name")
    parser.add_argument(
        "--args", type=json_list, default=[], help="JSON list of arguments (a non-list is one)"
    )
    parser.add_argument("--run-id")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for it")


async def update_call(args: argparse.Namespace, client: AionClient) -> Any:
    result = await client.update(
        args.workflow_id, args.name, *args.args, run_id=args.run_id, wait_ms=int(args.wait * 1000)
    )
    return {"result": result}


def signal_with_start_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_type")
    parser.add_argument("workflow_id")
    parser.add_argument("signal")
    parser.add_argument("--payload", type=json_arg, default=None, help="JSON signal payload")
    parser.add_argument("--input", type=json_arg, default=None, help="JSON input if it starts")


async def signal_with_start_call(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.signal_with_start(
        args.workflow_type, args.workflow_id, args.signal, args.payload, input=args.input
    )
