"""``aionactors replay``: replay recorded histories against new code before it ships.

Point it at a store (``--db``) or at exported histories (``--history FILE``, from
``aionactors workflow history --json``) and at the code under test (``--load MODULE`` or
``--package FILE``). Every run is replayed; any non-determinism exits non-zero, so a CI
job can refuse a change that would break the runs in flight.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aionactors.core.errors import AionError
from aionactors.core.events import Event
from aionactors.engine.registry import Registry
from aionactors.packages import PackageCatalog, read_archive
from aionactors.store.urls import open_store
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.replayer import ReplayReport, check_history, load_history

_BATCH = 500


def add_replay_command(commands: Any) -> None:
    replay = commands.add_parser(
        "replay", help="replay recorded histories against new workflow code (a CI check)"
    )
    code = replay.add_argument_group("the code under test (at least one)")
    code.add_argument("--load", action="append", default=[], metavar="MODULE")
    code.add_argument("--package", action="append", default=[], type=Path, metavar="FILE")
    source = replay.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="store URL whose histories to replay")
    source.add_argument("--history", action="append", type=Path, metavar="FILE",
                        help="a history from `aionactors workflow history --json`")  # fmt: skip
    replay.add_argument("--workflow-type", help="only runs of this type")
    replay.add_argument("--limit", type=int, help="at most this many workflows")
    replay.add_argument("--json", action="store_true", help="one JSON report per run")


def definitions_under_test(
    modules: Iterable[str], packages: Iterable[Path]
) -> dict[str, WorkflowDefinition]:
    """The workflow types of ``modules`` and package files, by name (packages win)."""
    registry = Registry()
    registry.load_modules(modules)
    definitions = dict(registry.workflows)
    catalog = PackageCatalog()
    for path in packages:
        loaded, _ = catalog.load(read_archive(path.read_bytes()), "operator", datetime.now(UTC))
        definitions.update(loaded.code.workflows)
    return definitions


def stored_histories(url: str, limit: int | None) -> Iterator[list[Event]]:
    store = open_store(url)
    try:
        ids = store.list_workflow_ids()[:limit]
        for start in range(0, len(ids), _BATCH):
            batch = store.read_histories(ids[start : start + _BATCH])
            yield from (batch[workflow_id] for workflow_id in ids[start : start + _BATCH])
    finally:
        store.close()


def check(
    definitions: dict[str, WorkflowDefinition],
    histories: Iterable[Sequence[Event]],
    workflow_type: str | None = None,
) -> list[ReplayReport]:
    reports = [r for history in histories for r in check_history(definitions, history)]
    return [r for r in reports if workflow_type is None or r.workflow_type == workflow_type]


def run_replay_command(args: argparse.Namespace) -> int:
    if not args.load and not args.package:
        print("aionactors replay: give the code under test: --load MODULE or --package FILE",
              file=sys.stderr)  # fmt: skip
        return 2
    if os.getcwd() not in sys.path:  # --load names modules where we run, as serve does
        sys.path.insert(0, os.getcwd())
    try:
        definitions = definitions_under_test(args.load, args.package)
    except (ImportError, OSError, AionError) as exc:
        print(f"aionactors replay: cannot load the code under test: {exc}", file=sys.stderr)
        return 2
    histories: Iterable[Sequence[Event]] = (
        stored_histories(args.db, args.limit)
        if args.db
        else [load_history(path.read_bytes()) for path in args.history[: args.limit]]
    )
    reports = check(definitions, histories, args.workflow_type)
    for report in reports:
        if args.json:
            print(json.dumps(report.model_dump()))
        elif report.outcome != "ok":
            print(f"{report.outcome.upper():17} {report.workflow_id} ({report.workflow_type}, "
                  f"run {report.run_id}): {report.detail}")  # fmt: skip
    failed = sum(r.failed for r in reports)
    skipped = sum(r.outcome == "skipped" for r in reports)
    print(f"{len(reports) - failed - skipped} replayed, {failed} non-deterministic, "
          f"{skipped} skipped", file=sys.stderr if args.json else sys.stdout)  # fmt: skip
    return 1 if failed else 0
