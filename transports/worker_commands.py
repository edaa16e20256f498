"""``aionactors worker``: serve one task queue's activities from imported modules, for
the server given and, when it is a cluster node, for every node of its cluster.

Example::

    aionactors worker --server http://127.0.0.1:8080 --task-queue payments --load shop.activities
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from aionactors.engine.registry import Registry
from transports.worker import Worker, WorkerRefused

DEFAULT_SERVER = "http://127.0.0.1:8080"
EXIT_REFUSED = 3
EXIT_CONFIG_ERROR = 2


def add_worker_command(commands: Any) -> None:
    """Register ``worker`` on the top-level subparsers."""
    server = os.environ.get("AIONACTORS_SERVER", DEFAULT_SERVER)
    worker = commands.add_parser("worker", help="run a task queue's activities for a server")
    worker.add_argument("--server", default=server, help=f"server URL (default {server})")
    worker.add_argument("--task-queue", required=True, help="the queue to serve")
    worker.add_argument(
        "--load",
        action="append",
        required=True,
        metavar="MODULE",
        help="import MODULE and serve its @activity.defn functions (repeatable)",
    )
    worker.add_argument(
        "--max-concurrent", type=int, default=8,
        help="tasks in hand at once, per node of a cluster (each node gets its own slots)",
    )  # fmt: skip
    worker.add_argument(
        "--refresh-seconds", type=float, default=2.0,
        help="how often to re-read the cluster's nodes (GET /cluster) to follow joins and exits",
    )  # fmt: skip
    worker.add_argument("--namespace", action="append", help="namespace to serve (repeatable)")
    worker.add_argument("--token", help="bearer token (JWT auth mode)")
    worker.add_argument("--subject", help="x-aion-subject header (headers auth mode)")
    worker.add_argument("--namespaces-header", help="x-aion-namespaces header (headers mode)")


def run_worker_command(args: argparse.Namespace) -> int:
    """Serve until SIGTERM drains; exit 0, or 3 when the server refuses the registration."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    registry = Registry()
    try:
        registry.load_modules(args.load)
    except ImportError as exc:
        print(f"aionactors worker: {exc}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    activities = [d.fn for d in registry.activities.values()]
    if not activities:
        print(f"aionactors worker: no @activity.defn functions in {args.load}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    headers = {}
    if args.subject:
        headers["x-aion-subject"] = args.subject
    if args.namespaces_header:
        headers["x-aion-namespaces"] = args.namespaces_header
    worker = Worker(
        args.server, task_queue=args.task_queue, activities=activities,
        max_concurrent=args.max_concurrent, namespace=args.namespace or ["default"],
        token=args.token, headers=headers, refresh_seconds=args.refresh_seconds,
    )  # fmt: skip
    try:
        worker.run()
    except WorkerRefused as exc:
        print(f"aionactors worker: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return 0
