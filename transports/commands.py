"""``aionactors workflow|schedule ...``: the HTTP client's calls as shell commands.

Output is a human-readable table or ``key  value`` lines by default and JSON with
``--json``. The client options (``--server``, ``--namespace``, ``--token``, ``--json``)
are accepted anywhere on the line and default to ``AIONACTORS_SERVER``,
``AIONACTORS_NAMESPACE`` and ``AIONACTORS_TOKEN``. Each ``workflow`` verb is one
``WorkflowVerb`` in ``WORKFLOW_VERBS``: a new verb is a new entry (arguments + call).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from transports.cli_args import json_arg
from transports.cli_output import print_answer
from transports.client import AionClient, ClientError
from transports.message_commands import (
    signal_with_start_args,
    signal_with_start_call,
    update_args,
    update_call,
)

DEFAULT_SERVER = "http://127.0.0.1:8080"
"""``aionactors serve``'s default address (port 8080)."""
EXIT_NOT_SUCCESS = 1
EXIT_STILL_RUNNING = 3


def add_client_options(parser: argparse.ArgumentParser, *, nested: bool) -> None:
    """The options every client command takes. ``nested`` parsers (after a verb) suppress
    their defaults, so a value given before the verb is kept unless repeated after it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if nested else value

    server = os.environ.get("AIONACTORS_SERVER", DEFAULT_SERVER)
    group = parser.add_argument_group("client options (anywhere on the line)")
    group.add_argument(
        "--server", default=default(server),
        help=f"server URL (env AIONACTORS_SERVER, default {DEFAULT_SERVER})",
    )  # fmt: skip
    group.add_argument(
        "--namespace", default=default(os.environ.get("AIONACTORS_NAMESPACE", "default")),
        help="namespace (env AIONACTORS_NAMESPACE, default 'default')",
    )  # fmt: skip
    group.add_argument(
        "--token", default=default(os.environ.get("AIONACTORS_TOKEN")),
        help="bearer token for --auth jwt servers (env AIONACTORS_TOKEN)",
    )  # fmt: skip
    group.add_argument(
        "--json", dest="as_json", action="store_true", default=default(False),
        help="machine-readable JSON output instead of tables",
    )  # fmt: skip


Call = Callable[[argparse.Namespace, AionClient], Awaitable[Any]]


@dataclass(frozen=True)
class WorkflowVerb:
    """One ``aionactors workflow <name>`` command: its arguments and what it calls."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    call: Call


def _id_only(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")


def _id_and_reason(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument("--reason")


def _start_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_type")
    parser.add_argument("--input", type=json_arg, default=None, help="JSON input")
    parser.add_argument("--id", dest="workflow_id")


def _signal_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument("name")
    parser.add_argument("--payload", type=json_arg, default=None, help="JSON payload")


def _query_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument("name")
    parser.add_argument("args", nargs="*", type=json_arg, help="JSON arguments")


def _result_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for the end (default 30)"
    )


def _history_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow_id")
    parser.add_argument("--from-seq", type=int, default=1)


def _list_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="workflow_type")
    parser.add_argument("--status")
    parser.add_argument("--limit", type=int, default=50)


async def _start(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.start(args.workflow_type, args.input, workflow_id=args.workflow_id)


async def _signal(args: argparse.Namespace, client: AionClient) -> Any:
    await client.signal(args.workflow_id, args.name, args.payload)
    return {}


async def _query(args: argparse.Namespace, client: AionClient) -> Any:
    return {"result": await client.query(args.workflow_id, args.name, *args.args)}


async def _cancel(args: argparse.Namespace, client: AionClient) -> Any:
    await client.cancel(args.workflow_id, args.reason)
    return {}


async def _terminate(args: argparse.Namespace, client: AionClient) -> Any:
    await client.terminate(args.workflow_id, args.reason)
    return {}


async def _reopen(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.reopen(args.workflow_id)


async def _pause(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.pause(args.workflow_id, args.reason)


async def _resume(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.resume(args.workflow_id)


async def _result(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.result(args.workflow_id, wait_ms=int(args.wait * 1000))


async def _describe(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.describe(args.workflow_id)


async def _history(args: argparse.Namespace, client: AionClient) -> Any:
    return await client.history(args.workflow_id, from_seq=args.from_seq)


async def _list(args: argparse.Namespace, client: AionClient) -> Any:
    filters = {"workflow_type": args.workflow_type, "status": args.status}
    return await client.list(limit=args.limit, **filters)


async def _watch(args: argparse.Namespace, client: AionClient) -> Any:
    async for frame in client.watch(args.workflow_id, from_seq=args.from_seq):
        event = frame["event"]
        line = json.dumps(event) if args.as_json else f"{event['seq']:>4}  {event['type']}"
        print(line, flush=True)
    return None


WORKFLOW_VERBS: list[WorkflowVerb] = [
    WorkflowVerb("start", "start a workflow", _start_args, _start),
    WorkflowVerb("signal", "send a signal (durable before it returns)", _signal_args, _signal),
    WorkflowVerb("query", "ask a running workflow a query", _query_args, _query),
    WorkflowVerb("result", "wait for the outcome; non-zero exit unless Completed",
                 _result_args, _result),
    WorkflowVerb("describe", "summary, pending work and runs", _id_only, _describe),
    WorkflowVerb("history", "recorded events", _history_args, _history),
    WorkflowVerb("list", "list workflows (newest first)", _list_args, _list),
    WorkflowVerb("watch", "stream a workflow's events until it ends", _history_args, _watch),
    WorkflowVerb("cancel", "cancel (the code may compensate)", _id_and_reason, _cancel),
    WorkflowVerb("terminate", "end at once, no compensation", _id_and_reason, _terminate),
    WorkflowVerb("reopen", "continue a Failed/Cancelled run", _id_only, _reopen),
    WorkflowVerb("pause", "hold new activity dispatch", _id_and_reason, _pause),
    WorkflowVerb("resume", "undo pause", _id_only, _resume),
    WorkflowVerb("update", "run an update; prints its result", update_args, update_call),
    WorkflowVerb("signal-with-start", "signal a running workflow, or start it with the signal",
                 signal_with_start_args, signal_with_start_call),
]  # fmt: skip


def add_workflow_commands(commands: Any) -> None:
    """Register ``workflow <verb>`` (every entry of WORKFLOW_VERBS) on the subparsers."""
    workflow = commands.add_parser("workflow", help="talk to a running `aionactors serve`")
    add_client_options(workflow, nested=True)
    verbs = workflow.add_subparsers(dest="verb", required=True)
    for verb in WORKFLOW_VERBS:
        parser = verbs.add_parser(verb.name, help=verb.help)
        verb.add_arguments(parser)
        add_client_options(parser, nested=True)
        parser.set_defaults(call=verb.call)


def add_schedule_commands(commands: Any) -> None:
    """Register ``schedule <verb>`` on the top-level subparsers."""
    schedule = commands.add_parser("schedule", help="manage schedules on a running server")
    add_client_options(schedule, nested=True)
    verbs = schedule.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="create a schedule; prints its state")
    create.add_argument("workflow_type")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="cron expression, e.g. '*/5 * * * *'")
    when.add_argument("--every", type=float, help="interval in seconds")
    create.add_argument("--timezone", default="UTC")
    create.add_argument("--id", dest="schedule_id")
    create.add_argument("--input", type=json_arg, default=None, help="JSON input for each run")
    create.add_argument("--overlap", dest="overlap_policy", help="skip, buffer_one, ...")
    create.add_argument("--catch-up", dest="catch_up_policy", help="skip, one or all")
    add_client_options(create, nested=True)
    add_client_options(verbs.add_parser("list", help="the namespace's schedules"), nested=True)
    for verb, help_text in (
        ("describe", "state, next fire times and recent executions"),
        ("pause", "stop firing"),
        ("resume", "fire again from now on"),
        ("trigger", "fire now"),
        ("delete", "delete (runs in progress go on)"),
    ):
        parser = verbs.add_parser(verb, help=help_text)
        parser.add_argument("schedule_id")
        add_client_options(parser, nested=True)


async def _schedule_call(args: argparse.Namespace, client: AionClient) -> Any:
    match args.verb:
        case "create":
            spec: dict[str, Any] = (
                {"cron": args.cron, "timezone": args.timezone}
                if args.cron
                else {"every_seconds": args.every}
            )
            options = {
                name: value
                for name in ("input", "overlap_policy", "catch_up_policy")
                if (value := getattr(args, name)) is not None
            }
            return await client.create_schedule(
                spec, args.workflow_type, schedule_id=args.schedule_id, **options
            )
        case "list":
            return await client.schedules()
        case "describe":
            return await client.schedule(args.schedule_id)
        case "delete":
            await client.delete_schedule(args.schedule_id)
            return {}
        case verb:
            return await client.schedule_action(args.schedule_id, verb)


def run_client_command(args: argparse.Namespace) -> int:
    """Run one ``workflow``, ``schedule`` or ``cluster`` command; errors print one line and
    exit 1."""
    call: Call = _schedule_call if args.command == "schedule" else args.call

    async def go() -> Any:
        async with AionClient(args.server, namespace=args.namespace, token=args.token) as client:
            return await call(args, client)

    try:
        answer = asyncio.run(go())
    except ClientError as exc:
        return _fail(args, {"code": exc.code, "message": exc.message, "error_type": exc.error_type})
    except OSError as exc:
        return _fail(args, {"code": "unavailable", "message": f"{args.server}: {exc}"})
    if answer is None:
        return 0
    print_answer(answer, as_json=args.as_json)
    if args.command == "workflow" and args.verb == "result":
        return _result_exit(args, answer)
    return 0


def _fail(args: argparse.Namespace, error: dict[str, Any]) -> int:
    if args.as_json:
        print(json.dumps({"error": error}), file=sys.stderr)
    else:
        print(f"aionactors {args.command} {args.verb}: {error['code']}: {error['message']}",
              file=sys.stderr)  # fmt: skip
    return EXIT_NOT_SUCCESS


def _result_exit(args: argparse.Namespace, answer: dict[str, Any]) -> int:
    """0 for Completed; 3 while still running; 1 for every other end, with the reason."""
    status = answer.get("status")
    if status == "Completed":
        return 0
    if status in ("Running", "Paused"):
        print(f"aionactors workflow result: {args.workflow_id} is still {status} after "
              f"{args.wait:g} s (--wait for longer)", file=sys.stderr)  # fmt: skip
        return EXIT_STILL_RUNNING
    error = answer.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    reason = f"{status}: {message}" if message else f"{args.workflow_id} ended {status}"
    print(f"aionactors workflow result: {reason}", file=sys.stderr)
    return EXIT_NOT_SUCCESS
