"""``aionactors workflow|schedule ...``: the HTTP client's calls as shell commands (JSON out)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from transports.client import AionClient, ClientError
from transports.message_commands import add_message_verbs, message_call

DEFAULT_SERVER = "http://127.0.0.1:8080"


def add_workflow_commands(commands: Any) -> None:
    """Register ``workflow <verb>`` on the top-level subparsers."""
    workflow = commands.add_parser("workflow", help="talk to a running `aionactors serve`")
    workflow.add_argument("--server", default=DEFAULT_SERVER, help=f"default {DEFAULT_SERVER}")
    workflow.add_argument("--namespace", default="default")
    workflow.add_argument("--token", help="bearer token (JWT auth mode)")
    verbs = workflow.add_subparsers(dest="verb", required=True)

    start = verbs.add_parser("start", help="start a workflow; prints {workflow_id, run_id}")
    start.add_argument("workflow_type")
    start.add_argument("--input", type=_json, default=None, help="JSON input")
    start.add_argument("--id", dest="workflow_id")
    signal = verbs.add_parser("signal", help="send a signal (durable before it returns)")
    signal.add_argument("workflow_id")
    signal.add_argument("name")
    signal.add_argument("--payload", type=_json, default=None, help="JSON payload")
    query = verbs.add_parser("query", help="ask a running workflow a query")
    query.add_argument("workflow_id")
    query.add_argument("name")
    query.add_argument("args", nargs="*", type=_json, help="JSON arguments")
    cancel = verbs.add_parser("cancel", help="cancel a workflow")
    cancel.add_argument("workflow_id")
    cancel.add_argument("--reason")
    result = verbs.add_parser("result", help="wait for a workflow's outcome")
    result.add_argument("workflow_id")
    result.add_argument("--wait", type=float, default=30.0, help="seconds to wait")
    describe = verbs.add_parser("describe", help="summary, pending work and runs")
    describe.add_argument("workflow_id")
    history = verbs.add_parser("history", help="recorded events")
    history.add_argument("workflow_id")
    history.add_argument("--from-seq", type=int, default=1)
    listing = verbs.add_parser("list", help="list workflows (newest first)")
    listing.add_argument("--type", dest="workflow_type")
    listing.add_argument("--status")
    listing.add_argument("--limit", type=int, default=50)
    watch = verbs.add_parser("watch", help="stream a workflow's events until it ends")
    watch.add_argument("workflow_id")
    watch.add_argument("--from-seq", type=int, default=1)
    add_message_verbs(verbs, _json)


def add_schedule_commands(commands: Any) -> None:
    """Register ``schedule <verb>`` on the top-level subparsers."""
    schedule = commands.add_parser("schedule", help="manage schedules on a running server")
    schedule.add_argument("--server", default=DEFAULT_SERVER, help=f"default {DEFAULT_SERVER}")
    schedule.add_argument("--namespace", default="default")
    schedule.add_argument("--token", help="bearer token (JWT auth mode)")
    verbs = schedule.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="create a schedule; prints its state")
    create.add_argument("workflow_type")
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="cron expression, e.g. '*/5 * * * *'")
    when.add_argument("--every", type=float, help="interval in seconds")
    create.add_argument("--timezone", default="UTC")
    create.add_argument("--id", dest="schedule_id")
    create.add_argument("--input", type=_json, default=None, help="JSON input for each run")
    create.add_argument("--overlap", dest="overlap_policy", help="skip, buffer_one, ...")
    create.add_argument("--catch-up", dest="catch_up_policy", help="skip, one or all")
    verbs.add_parser("list", help="the namespace's schedules")
    for verb, help_text in (
        ("describe", "state, next fire times and recent executions"),
        ("pause", "stop firing"),
        ("resume", "fire again from now on"),
        ("trigger", "fire now"),
        ("delete", "delete (runs in progress go on)"),
    ):
        verbs.add_parser(verb, help=help_text).add_argument("schedule_id")


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


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


async def _call(args: argparse.Namespace, client: AionClient) -> Any:
    match args.verb:
        case "start":
            return await client.start(args.workflow_type, args.input, workflow_id=args.workflow_id)
        case "signal":
            await client.signal(args.workflow_id, args.name, args.payload)
            return {}
        case "query":
            return {"result": await client.query(args.workflow_id, args.name, *args.args)}
        case "cancel":
            await client.cancel(args.workflow_id, args.reason)
            return {}
        case "result":
            return await client.result(args.workflow_id, wait_ms=int(args.wait * 1000))
        case "describe":
            return await client.describe(args.workflow_id)
        case "history":
            return await client.history(args.workflow_id, from_seq=args.from_seq)
        case "list":
            filters = {"workflow_type": args.workflow_type, "status": args.status}
            return await client.list(limit=args.limit, **filters)
        case "watch":
            async for frame in client.watch(args.workflow_id, from_seq=args.from_seq):
                print(json.dumps(frame["event"]), flush=True)
            return None
        case "update" | "signal-with-start":
            return await message_call(args, client)
    raise ValueError(f"unknown workflow command {args.verb!r}")  # pragma: no cover


def run_client_command(args: argparse.Namespace) -> int:
    """Run one ``workflow`` or ``schedule`` command; errors print the envelope and exit 1."""
    call = _call if args.command == "workflow" else _schedule_call

    async def go() -> Any:
        async with AionClient(args.server, namespace=args.namespace, token=args.token) as client:
            return await call(args, client)

    try:
        answer = asyncio.run(go())
    except ClientError as exc:
        error = {"code": exc.code, "message": exc.message, "error_type": exc.error_type}
        print(json.dumps({"error": error}), file=sys.stderr)
        return 1
    except OSError as exc:
        print(json.dumps({"error": {"code": "unavailable", "message": str(exc)}}), file=sys.stderr)
        return 1
    if answer is not None:
        print(json.dumps(answer, indent=2))
    return 0
