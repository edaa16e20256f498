"""The ``aionactors`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from aionactors.demo import run_demo
from aionactors.store import DEFAULT_URL

EXIT_CONFIG_ERROR = 2
_SERVE_OPTIONS = ("db", "host", "port", "load", "packages", "auth", "log_format", "cluster",
                  "node_id", "advertise_url")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    from transports.commands import add_client_options

    parser = argparse.ArgumentParser(prog="aionactors", description=__doc__)
    parser.add_argument("--version", action="version", version=f"aionactors {_version()}")
    add_client_options(parser, nested=False)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a checkout workflow end to end and show its history"
    )
    demo.add_argument("--db", default=DEFAULT_URL, help=f"store URL (default {DEFAULT_URL})")
    serve = commands.add_parser(
        "serve",
        help="run the engine with the HTTP API and WebSocket event stream",
        description="Settings come from --config (TOML), then AIONACTORS_* environment "
        "variables, then these flags (flags win).",
    )
    serve.add_argument("--db", help=f"store URL (default {DEFAULT_URL})")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    serve.add_argument(
        "--load",
        nargs="+",
        action="extend",
        metavar="MODULE",
        help="import modules and register their workflows and activities",
    )
    serve.add_argument(
        "--package",
        dest="packages",
        action="append",
        type=Path,
        metavar="FILE",
        help="an operator package archive (repeatable; loaded every boot, never stored)",
    )
    serve.add_argument("--auth", choices=["headers", "jwt"], help="auth mode (default headers)")
    serve.add_argument(
        "--cluster",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="be a node of the cluster on this PostgreSQL database (shards, leases, failover);"
        " the default on a postgresql:// --db, --no-cluster for a server of its own",
    )
    serve.add_argument(
        "--node-id", help="this node's name in the cluster (default HOSTNAME:PORT-PID)"
    )
    serve.add_argument(
        "--advertise-url",
        help="how the other nodes reach this one (default http://HOST:PORT as bound)",
    )
    serve.add_argument("--config", type=Path, help="TOML config file")
    serve.add_argument(
        "--log-format", choices=["text", "json"], help="text (default) or one JSON object a line"
    )
    from transports.commands import add_schedule_commands, add_workflow_commands
    from transports.package_commands import add_package_commands

    add_workflow_commands(commands)  # the client side of the server
    add_schedule_commands(commands)
    add_package_commands(commands)
    from transports.worker_commands import add_worker_command

    add_worker_command(commands)
    from aionactors.replay_check import add_replay_command
    from transports.cluster_commands import add_cluster_commands

    add_cluster_commands(commands)

    add_replay_command(commands)
    return parser


def _version() -> str:
    try:
        return metadata.version("aionactors")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _serve(args: argparse.Namespace) -> int:
    # Imported here: the server stack is only needed by this command.
    from aionactors.core import AionError
    from transports.config import ConfigError, load_settings
    from transports.serve import StartupError, run

    overrides: dict[str, Any] = {
        name: value for name in _SERVE_OPTIONS if (value := getattr(args, name)) is not None
    }
    try:
        config = load_settings(args.config, overrides)
    except ConfigError as exc:
        print(f"aionactors serve: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    try:
        return run(config)
    except (ImportError, ValueError, AionError, StartupError) as exc:  # --load, URL, port
        print(f"aionactors serve: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR


def _demo(url: str) -> int:
    from aionactors.core import AionError

    try:
        return run_demo(url, out=sys.stdout)
    except AionError as exc:  # a bad --db: unknown scheme, unreachable server, missing folder
        print(f"aionactors demo: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _dispatch(argv)
    except BrokenPipeError:  # `aionactors workflow list | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
        return 0


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args.db)
    if args.command == "serve":
        return _serve(args)
    if args.command == "replay":
        from aionactors.replay_check import run_replay_command

        return run_replay_command(args)
    if args.command == "package":
        from transports.package_commands import run_package_command

        return run_package_command(args)
    if args.command == "worker":
        from transports.worker_commands import run_worker_command

        return run_worker_command(args)
    if args.command in ("workflow", "schedule", "cluster"):
        from transports.commands import run_client_command

        return run_client_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands first


if __name__ == "__main__":
    sys.exit(main())
