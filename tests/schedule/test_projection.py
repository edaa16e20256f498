"""Schedule state is a pure fold of the schedule's own history."""

from __future__ import annotations

from typing import Any

import pytest

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput
from aionactors.core.schedules import ScheduleConfig
from aionactors.core.workflow_keys import KEY_SEPARATOR, workflow_key
from aionactors.schedule import ScheduleProjection, history_id, tick_workflow_id
from aionactors.schedule.state import (
    manual_workflow_id,
    run_history_id,
    schedule_key,
    schedule_of,
)
from tests.schedule.support import at

CONFIG = ScheduleConfig.model_validate({"spec": {"every_seconds": 60}, "workflow_type": "job"})


class Log:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def add(self, cls: type, seconds: float, **fields: Any) -> Log:
        self.events.append(
            cls(
                seq=len(self.events) + 1,
                recorded_at=at(seconds),
                workflow_id=history_id("s"),
                schedule_id="s",
                **fields,
            )
        )
        return self

    def fold(self) -> ScheduleProjection:
        projection = ScheduleProjection("s", recent_limit=3)
        for event in self.events:
            projection.apply(event)
        return projection


def triggered(wid: str, fire: float, cause: str = "scheduled") -> dict[str, Any]:
    return {
        "triggered_workflow_id": wid,
        "triggered_run_id": f"run-{wid}",
        "fire_at": at(fire),
        "cause": cause,
    }


def test_ids() -> None:
    assert history_id("nightly") == "schedule:nightly"
    assert tick_workflow_id("nightly", at(60)) == "nightly/2026-01-01T00:01:00Z"
    assert tick_workflow_id("n", at(0.5)) == "n/2026-01-01T00:00:00.500000Z"
    assert manual_workflow_id("n", 7) == "n/manual-7"
    assert schedule_of("n/2026-01-01T00:01:00Z") == "n" and schedule_of("plain") is None


def test_ids_are_per_namespace_and_placed_by_the_id() -> None:
    key = schedule_key("acme", "nightly")
    assert key == f"acme{KEY_SEPARATOR}nightly" and schedule_key("default", "nightly") == "nightly"
    run = workflow_key("acme", tick_workflow_id("nightly", at(60)))
    assert schedule_of(run) == key  # a run's end goes to its own namespace's schedule
    assert schedule_of(workflow_key("acme", manual_workflow_id("nightly", 2))) == key
    # a cluster places a namespaced schedule, its runs and a bare-id (older) one together
    assert run_history_id(history_id(key)) == run_history_id(run) == history_id("nightly")
    assert run_history_id(history_id("nightly")) is None  # placed by itself, as before
    for bad in (("acme", "a/b"), (f"a{KEY_SEPARATOR}b", "x"), ("acme", f"a{KEY_SEPARATOR}b")):
        with pytest.raises(InvalidInput):
            schedule_key(*bad)


def test_created_paused_resumed_move_the_cursor() -> None:
    log = Log().add(ev.ScheduleCreated, 10, config=CONFIG)
    assert log.fold().cursor == at(10) and log.fold().active
    log.add(ev.ScheduleTriggered, 60, **triggered("s/1", 60))
    assert log.fold().cursor == at(60)
    log.add(ev.SchedulePaused, 70)
    assert not log.fold().active and log.fold().exists
    log.add(ev.ScheduleResumed, 500)
    assert log.fold().cursor == at(500) and log.fold().active


def test_manual_and_backfill_runs_leave_the_cursor_alone() -> None:
    log = Log().add(ev.ScheduleCreated, 100, config=CONFIG)
    log.add(ev.ScheduleTriggered, 110, **triggered("s/manual-2", 110, "manual"))
    log.add(ev.ScheduleTriggered, 111, **triggered("s/x", 20, "backfill"))
    log.add(ev.ScheduleSkipped, 112, fire_at=at(40), reason="overlap", cause="backfill")
    projection = log.fold()
    assert projection.cursor == at(100) and projection.triggered_count == 2
    assert projection.skipped_count == 1


def test_buffer_release_and_endings() -> None:
    log = Log().add(ev.ScheduleCreated, 0, config=CONFIG)
    log.add(ev.ScheduleTriggered, 60, **triggered("s/1", 60))
    log.add(ev.ScheduleBuffered, 120, fire_at=at(120), triggered_workflow_id="s/2")
    log.add(ev.ScheduleBuffered, 180, fire_at=at(180), triggered_workflow_id="s/3")
    projection = log.fold()
    assert [b.workflow_id for b in projection.buffered] == ["s/2", "s/3"]
    assert projection.cursor == at(180)
    log.add(ev.ScheduleExecutionEnded, 200, triggered_workflow_id="s/1", status="Completed")
    log.add(ev.ScheduleTriggered, 200, **triggered("s/2", 120, "buffered"))
    log.add(ev.ScheduleSkipped, 201, fire_at=at(180), reason="start_failed", cause="buffered")
    state = log.fold().state([])
    assert state.buffered == []
    assert [e.workflow_id for e in state.current_executions] == ["s/2"]
    assert [(e.workflow_id, e.status) for e in state.recent_executions] == [
        ("s/2", "Running"),
        ("s/1", "Completed"),
    ]
    assert state.last_fire_at == at(180)


def test_recent_executions_are_bounded_and_duplicates_are_ignored() -> None:
    log = Log().add(ev.ScheduleCreated, 0, config=CONFIG)
    for k in range(1, 6):
        log.add(ev.ScheduleTriggered, 60 * k, **triggered(f"s/{k}", 60 * k))
    log.add(ev.ScheduleTriggered, 400, **triggered("s/5", 300))
    projection = log.fold()
    assert [e.workflow_id for e in projection.state([]).recent_executions] == ["s/5", "s/4", "s/3"]
    assert projection.triggered_count == 5


def test_delete_then_create_starts_afresh() -> None:
    log = Log().add(ev.ScheduleCreated, 0, config=CONFIG)
    log.add(ev.ScheduleTriggered, 60, **triggered("s/1", 60))
    log.add(ev.ScheduleDeleted, 70)
    assert not log.fold().exists and log.fold().current == {}
    log.add(ev.ScheduleCreated, 1000, config=CONFIG)
    projection = log.fold()
    assert projection.exists and projection.cursor == at(1000)
    assert projection.triggered_count == 0 and list(projection.recent) == []


def test_other_events_are_ignored() -> None:
    projection = ScheduleProjection("s")
    projection.apply(ev.SignalReceived(seq=1, recorded_at=at(0), workflow_id="w", name="x"))
    assert not projection.exists
