"""The throughput workload on aionactors, in a fresh interpreter (the twin of dbos_workload.py).

    .venv/bin/python benchmarks/aion_workload.py --folder /tmp/x --mode concurrent --count 2000

Prints one JSON object on its last line of stdout. With ``--storage-limit`` it
also inserts the run's events into eventsourcing's raw SQLite recorder on a
fresh file in the same folder, twice: in exactly the transactions our writer
committed (same events, same batches), and grouped 100 whole workflows per
transaction (the recorder's best case). The events are turned into JSON first,
timed apart (``serialize_seconds``): the limit is the recorder's inserts alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from aionactors.core.events import Event, event_json
from benchmarks.cpu_usage import cpu_report, usage
from benchmarks.workloads import STARTERS, throughput

RAW_GROUP = 100
"""Workflows per transaction in the raw recorder's best case (as bench_store.py)."""


def insert_raw(path: Path, transactions: list[list[StoredEvent]]) -> float:
    """Seconds for eventsourcing's SQLite recorder to insert these transactions, one call each."""
    datastore = SQLiteDatastore(str(path), originator_id_type="text")
    recorder = SQLiteApplicationRecorder(datastore, "raw_events")
    recorder.create_table()
    began = time.perf_counter()
    for stored in transactions:
        recorder.insert_events(stored)
    elapsed = time.perf_counter() - began
    datastore.close()
    return elapsed


def storage_limit(folder: Path, commits: list[Sequence[Event]], workflows: int) -> dict[str, Any]:
    """The raw recorder writing the events of a finished run: as we batched them, and at best."""
    began = time.perf_counter()
    stored = {
        id(event): StoredEvent(event.workflow_id, event.seq, event.type, event_json(event))
        for batch in commits
        for event in batch
    }
    serialize_seconds = time.perf_counter() - began
    events = len(stored)
    same_batches = [[stored[id(e)] for e in batch] for batch in commits if batch]
    same_seconds = insert_raw(folder / "raw-same-batches.db", same_batches)

    per_workflow: dict[str, list[StoredEvent]] = {}
    for batch in commits:
        for event in batch:
            per_workflow.setdefault(event.workflow_id, []).append(stored[id(event)])
    histories = list(per_workflow.values())
    grouped = [
        [event for history in histories[i : i + RAW_GROUP] for event in history]
        for i in range(0, len(histories), RAW_GROUP)
    ]
    grouped_seconds = insert_raw(folder / "raw-grouped.db", grouped)
    return {
        "events": events,
        "events_per_workflow": round(events / max(workflows, 1), 1),
        "serialize_seconds": round(serialize_seconds, 3),
        "transactions": len(same_batches),
        "same_batches_seconds": round(same_seconds, 3),
        "same_batches_workflows_per_s": round(workflows / same_seconds, 1),
        "same_batches_events_per_s": round(events / same_seconds, 1),
        "grouped_per_transaction": RAW_GROUP,
        "grouped_seconds": round(grouped_seconds, 3),
        "grouped_workflows_per_s": round(workflows / grouped_seconds, 1),
        "grouped_events_per_s": round(events / grouped_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, required=True, help="where the SQLite files go")
    parser.add_argument("--mode", choices=["concurrent", "sequential"], required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--starters", type=int, default=STARTERS)
    parser.add_argument("--storage-limit", action="store_true", help="also time the raw recorder")
    parser.add_argument("--empty", action="store_true", help="workflows with no activities")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    args.folder.mkdir(parents=True, exist_ok=True)

    commits: list[Sequence[Event]] | None = [] if args.storage_limit else None
    before = usage()
    row = throughput(
        args.folder,
        args.count,
        concurrent=args.mode == "concurrent",
        starters=args.starters,
        commits=commits,
        empty=args.empty,
    )
    result: dict[str, Any] = {
        "engine": "aionactors",
        "mode": args.mode,
        "activities": 0 if args.empty else 3,
        "starters": args.starters if args.mode == "concurrent" else 1,
        **{k: v for k, v in row.items() if k != "workload"},
        **cpu_report(before, row["seconds"]),
    }
    if commits is not None:
        result["storage_limit"] = storage_limit(args.folder, commits, args.count)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
