"""SQLiteStore append throughput: single appends vs grouped (group commit), against the
raw eventsourcing recorder on the same file system.

    python benchmarks/bench_store.py            # full run (a minute or so)
    python benchmarks/bench_store.py --smoke    # tiny run, as CI does
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from aionactors.core.events import Event, WorkflowCompleted, event_json
from aionactors.store import AppendRequest, SQLiteStore, WriteToken
from aionactors.store.conformance import HistoryBuilder
from benchmarks.common import print_table, write_results

EVENTS_PER_WORKFLOW = 11
TOKEN = WriteToken.recorder()


def histories(count: int, prefix: str) -> list[list[Event]]:
    """Workflows shaped like a 3-activity run: start, 3 x (scheduled, started, completed), ..."""
    result = []
    for index in range(count):
        builder = HistoryBuilder(f"{prefix}-{index}")
        events = [builder.started(input={"order": index})]
        events += [builder.signal(f"step-{n}", {"n": n}) for n in range(EVENTS_PER_WORKFLOW - 2)]
        events.append(builder.make(WorkflowCompleted, result={"ok": True}))
        result.append(events)
    return result


def single_appends(store: SQLiteStore, workload: list[list[Event]]) -> None:
    for events in workload:
        for event in events:
            store.append(TOKEN, event.workflow_id, [event], event.seq - 1)


def per_workflow_appends(store: SQLiteStore, workload: list[list[Event]]) -> None:
    for events in workload:
        store.append(TOKEN, events[0].workflow_id, events, 0)


def grouped_appends(store: SQLiteStore, workload: list[list[Event]], group: int) -> None:
    for start in range(0, len(workload), group):
        chunk = workload[start : start + group]
        outcomes = store.append_batch(
            TOKEN, [AppendRequest(events[0].workflow_id, events, 0) for events in chunk]
        )
        assert not any(outcomes)


def raw_recorder(path: Path, workload: list[list[Event]], group: int) -> None:
    datastore = SQLiteDatastore(str(path), originator_id_type="text")
    recorder = SQLiteApplicationRecorder(datastore, "raw_events")
    recorder.create_table()
    for start in range(0, len(workload), group):
        stored = [
            StoredEvent(e.workflow_id, e.seq, e.type, event_json(e))
            for events in workload[start : start + group]
            for e in events
        ]
        recorder.insert_events(stored)
    datastore.close()


def measure(label: str, workflows: int, run) -> dict[str, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    events = workflows * EVENTS_PER_WORKFLOW
    return {
        "mode": label,
        "workflows": workflows,
        "events": events,
        "seconds": round(elapsed, 3),
        "events_per_s": round(events / elapsed, 1),
        "workflows_per_s": round(workflows / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--single", type=int, default=500, help="workflows for single appends")
    parser.add_argument("--grouped", type=int, default=10_000, help="workflows for grouped runs")
    parser.add_argument("--group", type=int, default=100, help="workflows per transaction")
    args = parser.parse_args()
    if args.smoke:
        args.single, args.grouped, args.group = 10, 200, 50

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with SQLiteStore(folder / "single.db") as store:
            workload = histories(args.single, "single")
            rows.append(
                measure(
                    "one event per append", args.single, lambda: single_appends(store, workload)
                )
            )
        with SQLiteStore(folder / "per-workflow.db") as store:
            workload = histories(args.grouped, "wf")
            rows.append(
                measure(
                    "one workflow per append",
                    args.grouped,
                    lambda: per_workflow_appends(store, workload),
                )
            )
        with SQLiteStore(folder / "grouped.db") as store:
            workload = histories(args.grouped, "grp")
            rows.append(
                measure(
                    f"{args.group} workflows per append_batch",
                    args.grouped,
                    lambda: grouped_appends(store, workload, args.group),
                )
            )
        workload = histories(args.grouped, "raw")
        rows.append(
            measure(
                f"raw eventsourcing recorder, {args.group} wf/txn",
                args.grouped,
                lambda: raw_recorder(folder / "raw.db", workload, args.group),
            )
        )
    print_table("SQLiteStore appends (file database, WAL, fsync on commit)", rows)
    write_results("store", {"parameters": vars(args), "results": rows})


if __name__ == "__main__":
    main()
