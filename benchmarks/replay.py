"""Workload 4, replay: how fast a workflow with a long history is rehydrated.

Producing 100,000 events live would take minutes, so each history is written
straight to the store: a synthetic but valid run of ``long_history`` (a loop
over N activities), ActivityScheduled/Started/Completed per activity, exactly
as the engine records them. ``synthetic_matches_live`` checks that claim on a
short history the engine produced itself. Rehydration is the two steps an
activation takes: read the history from SQLite (parse included), then replay
it through the workflow code with ``aionactors.workflow.replayer.replay``;
each history is rehydrated ``ROUNDS`` times and the median round reported.
"""

from __future__ import annotations

import gc
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aionactors import Engine
from aionactors.core import events as ev
from aionactors.core.search import NAMESPACE_ATTRIBUTE, StringValue
from aionactors.core.status import last_run_segment
from aionactors.engine.registry import Registry
from aionactors.store import SQLiteStore, WriteToken
from aionactors.workflow.definition import WorkflowDefinition
from aionactors.workflow.replayer import replay
from benchmarks.workloads import LongHistory, step

_CHUNK = 10_000
"""Events per append while writing a synthetic history."""


def synthetic_history(workflow_id: str, activities: int) -> list[ev.Event]:
    """The history ``long_history(activities)`` records: start, N activity triples, completion."""
    clock = datetime(2026, 1, 1, tzinfo=UTC)
    tick = timedelta(microseconds=500)
    events: list[ev.Event] = []

    def add(cls: type[Any], **fields: Any) -> None:
        nonlocal clock
        clock += tick
        events.append(
            cls(seq=len(events) + 1, recorded_at=clock, workflow_id=workflow_id, **fields)
        )

    add(
        ev.WorkflowStarted, workflow_type="long_history", input=activities, run_id=str(uuid.uuid4())
    )
    add(ev.SearchAttributesUpdated, attributes={NAMESPACE_ATTRIBUTE: StringValue(data="default")})
    total = 0
    for index in range(activities):
        add(ev.ActivityScheduled, activity_id=index, activity_type="step", input=total)
        add(ev.ActivityStarted, activity_id=index)
        total += 1
        add(ev.ActivityCompleted, activity_id=index, result=total)
    add(ev.WorkflowCompleted, result=total)
    return events


def _shape(history: list[ev.Event]) -> list[dict[str, Any]]:
    """What replay depends on: everything but the clock and the run id."""
    ignored = {"recorded_at", "run_id"}
    return [
        {k: v for k, v in event.model_dump(mode="json").items() if k not in ignored}
        for event in history
    ]


def synthetic_matches_live(folder: Path, activities: int = 20) -> bool:
    """Does the engine record, for a short run, exactly what ``synthetic_history`` builds?"""
    with Engine.open(
        SQLiteStore(folder / "replay-live.db"), workflows=[LongHistory], activities=[step]
    ) as engine:
        engine.start_workflow(LongHistory, activities, workflow_id="live")
        engine.result("live", timeout=60)
        live = engine.history("live")
    return _shape(live) == _shape(synthetic_history("live", activities))


ROUNDS = 5
"""Rehydrations timed per history; the row is the median round (one alone is at the
mercy of whatever else the shared machine runs)."""


def _rehydrate_once(
    store: SQLiteStore, workflow_id: str, definition: WorkflowDefinition
) -> tuple[float, float, Any]:
    """Seconds to read and to replay the history, and the replayed run's result."""
    gc.collect()  # each round from a settled heap, the last round's events freed
    began = time.perf_counter()
    loaded = store.read_history(workflow_id)
    read = time.perf_counter() - began
    began = time.perf_counter()
    driver = replay(definition, last_run_segment(loaded))
    replayed = time.perf_counter() - began
    return read, replayed, getattr(driver.terminal, "result", None)


def rehydrate(folder: Path, events_wanted: int, rounds: int = ROUNDS) -> dict[str, Any]:
    """Write a history of about ``events_wanted`` events, then time reading and replaying it
    ``rounds`` times (the median round is reported).

    Each round starts from a settled heap, as in an engine that has been running:
    otherwise the full collection that writing the synthetic history made due (tens of
    ms) lands inside the timed read or replay, at random.
    """
    activities = max((events_wanted - 3) // 3, 1)
    workflow_id = f"long-{activities}"
    history = synthetic_history(workflow_id, activities)
    events = len(history)
    registry = Registry()
    registry.add_workflow(LongHistory)
    definition = registry.workflow("long_history")
    with SQLiteStore(folder / f"replay-{activities}.db") as store:
        token = WriteToken.recorder()
        for start in range(0, len(history), _CHUNK):
            store.append(token, workflow_id, history[start : start + _CHUNK], start)
        del history
        timed = [_rehydrate_once(store, workflow_id, definition) for _ in range(rounds)]
    read, replayed, _ = sorted(timed, key=lambda t: t[0] + t[1])[len(timed) // 2]
    totals = [events / (r + p) for r, p, _ in timed]
    return {
        "events": events,
        "activities": activities,
        "rounds": rounds,
        "read_ms": round(read * 1000, 1),
        "replay_ms": round(replayed * 1000, 1),
        "total_ms": round((read + replayed) * 1000, 1),
        "events_per_s": round(events / (read + replayed), 1),
        "events_per_s_range": [round(min(totals), 1), round(max(totals), 1)],
        "replay_events_per_s": round(events / replayed, 1),
        "completed_with_same_result": all(result == activities for _, _, result in timed),
    }


def run(folder: Path, sizes: list[int]) -> dict[str, Any]:
    return {
        "synthetic_matches_live": synthetic_matches_live(folder),
        "histories": [rehydrate(folder, size) for size in sizes],
    }
