"""Create, describe, list, pause/resume, update, delete, trigger now, backfill, and errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aionactors import Engine
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    ScheduleNotFound,
    WorkflowTypeNotFound,
)
from aionactors.core.search import StringValue
from aionactors.core.workflow_keys import workflow_key
from aionactors.schedule import SCHEDULE_ID_ATTRIBUTE, ScheduleConfig, Schedules, ScheduleSpec
from aionactors.schedule.state import schedule_key
from aionactors.store import SQLiteStore
from tests.schedule.support import T0, Harness, at, every
from tests.schedule.workflows import Quick


def test_create_describes_the_protocol_state(harness: Harness) -> None:
    state = harness.schedules.create(
        {
            "namespace": "tenant-a",
            "spec": {"cron": "*/5 * * * *", "timezone": "Europe/Berlin"},
            "workflow_type": "sched_quick",
            "input": {"x": 1},
            "search_attributes": {"team": {"type": "String", "data": "ops"}},
        },
        schedule_id="five",
    )
    assert state.schedule_id == "five" and state.namespace == "tenant-a"
    assert state.next_fire_times == [at(300 * k) for k in range(1, 6)]
    assert state.paused is False and state.recent_executions == []
    wire = state.model_dump(mode="json")
    for key in ("schedule_id", "namespace", "spec", "workflow_type", "paused"):
        assert key in wire
    assert wire["next_fire_times"][0] == "2026-01-01T00:05:00.000000Z"
    assert wire["spec"] == {**wire["spec"], "cron": "*/5 * * * *", "timezone": "Europe/Berlin"}
    described = harness.schedules.describe("five", fire_times=2, namespace="tenant-a")
    assert described.next_fire_times == [at(300), at(600)]
    # the schedule's own history holds only schedule events, so it is no workflow
    key = schedule_key("tenant-a", "five")
    assert [e.type for e in harness.history(key)] == ["ScheduleCreated"]
    assert harness.engine.store.get_summary(f"schedule:{key}") is None
    assert harness.engine.count_workflows() == 0


def test_generated_ids_and_duplicates(harness: Harness) -> None:
    state = harness.schedules.create(every(60))
    assert len(state.schedule_id) == 36
    with pytest.raises(AlreadyExists):
        harness.schedules.create(every(60), schedule_id=state.schedule_id)


def test_a_schedule_never_joins_a_workflows_history(harness: Harness) -> None:
    engine = harness.engine
    engine.start_workflow("sched_waiter", workflow_id="schedule:taken")  # a schedule's name
    before = engine.history("schedule:taken")
    with pytest.raises(AlreadyExists):
        harness.schedules.create(every(60), schedule_id="taken")
    assert engine.history("schedule:taken") == before  # nothing appended to the workflow
    deleted = harness.schedules.create(every(60), schedule_id="again")
    harness.schedules.delete(deleted.schedule_id)
    assert harness.schedules.create(every(60), schedule_id="again").schedule_id == "again"


def test_triggered_runs_carry_namespace_schedule_id_and_attributes(harness: Harness) -> None:
    config = every(
        60,
        "sched_quick",
        namespace="tenant-a",
        search_attributes={"team": {"type": "String", "data": "ops"}},
    )
    harness.schedules.create(config, schedule_id="attrs")
    harness.clock.advance(60)
    (triggered,) = harness.wait_count(schedule_key("tenant-a", "attrs"), "ScheduleTriggered", 1)
    summary = harness.engine.describe(triggered.triggered_workflow_id).summary
    assert summary.namespace == "tenant-a"
    assert summary.search_attributes[SCHEDULE_ID_ATTRIBUTE] == StringValue(data="attrs")
    assert summary.search_attributes["team"] == StringValue(data="ops")
    assert triggered.triggered_run_id == summary.run_id
    listed = harness.engine.list_workflows(namespace="tenant-a").workflows
    # ids are per namespace: the engine keys the run by its namespace and id
    assert [s.workflow_id for s in listed] == [
        workflow_key("tenant-a", "attrs/2026-01-01T00:01:00Z")
    ]


def test_list_filters_by_namespace_and_orders_by_next_fire(harness: Harness) -> None:
    s = harness.schedules
    s.create(every(600, namespace="a"), schedule_id="slow")
    s.create(every(60, namespace="a"), schedule_id="fast")
    s.create(every(60, namespace="b"), schedule_id="other")
    s.create(every(30, namespace="a"), schedule_id="paused")
    s.pause("paused", namespace="a")
    assert [x.schedule_id for x in s.list()] == ["fast", "other", "slow", "paused"]
    assert [x.schedule_id for x in s.list("a")] == ["fast", "slow", "paused"]
    assert s.list("nobody") == []


def test_pause_stops_firing_and_resume_does_not_catch_up(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60, "sched_quick"), schedule_id="p")
    h.clock.advance(60)
    h.wait_count("p", "ScheduleExecutionEnded", 1)
    state = h.schedules.pause("p")
    assert state.paused and state.next_fire_times == []
    assert h.schedules.pause("p").paused  # idempotent: no second event
    h.tick(600, "p")
    assert len(h.triggered("p")) == 1
    state = h.schedules.resume("p")
    assert not state.paused and state.next_fire_times[0] == at(720)
    h.clock.advance(60)
    h.wait_count("p", "ScheduleTriggered", 2)
    assert h.fired_at("p") == [at(60), at(720)]
    types = [e.type for e in h.history("p")]
    assert types.count("SchedulePaused") == 1 and types.count("ScheduleResumed") == 1


def test_update_replaces_the_config_from_now_on(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60, "sched_quick"), schedule_id="u")
    h.clock.advance(30)
    state = h.schedules.update("u", every(3600, "sched_quick", overlap_policy="allow_all"))
    assert state.overlap_policy == "allow_all"
    assert state.next_fire_times[0] == at(3600)
    h.tick(3000, "u")
    assert h.triggered("u") == []
    h.clock.advance(600)
    h.wait_count("u", "ScheduleTriggered", 1)
    assert h.fired_at("u") == [at(3600)]


def test_update_handles_due_ticks_under_the_old_config_first(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60, "sched_quick"), schedule_id="u2")
    h.schedules.pause("u2")
    h.schedules.resume("u2")  # ticks are due only from now on
    h.clock.advance(60)  # a Wake is queued for 00:01 ...
    h.schedules.update("u2", every(3600, "sched_quick"))  # ... and runs before the update
    assert h.fired_at("u2") == [at(60)]


def test_delete_stops_the_schedule_and_the_id_can_be_reused(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(60), schedule_id="d")
    h.tick(60, "d")
    running = h.triggered("d")[0].triggered_workflow_id
    h.schedules.delete("d")
    for call in (
        lambda: h.schedules.describe("d"),
        lambda: h.schedules.pause("d"),
        lambda: h.schedules.delete("d"),
    ):
        with pytest.raises(ScheduleNotFound):
            call()
    assert h.schedules.list() == []
    h.clock.advance(600)
    assert len(h.triggered("d")) == 1
    assert h.status(running) == "Running"  # deleting a schedule leaves its runs alone
    state = h.schedules.create(every(3600), schedule_id="d")
    assert state.recent_executions == [] and state.next_fire_times[0] == at(3600)
    # a restart does not bring a deleted schedule back, nor lose a re-created one
    h.schedules.create(every(60), schedule_id="gone")
    h.schedules.delete("gone")
    h.restart()
    assert [s.schedule_id for s in h.schedules.list()] == ["d"]


def test_trigger_now_starts_a_manual_run_under_the_overlap_policy(harness: Harness) -> None:
    h = harness
    h.schedules.create(every(3600), schedule_id="t")
    state = h.schedules.trigger("t")
    (manual,) = state.current_executions
    assert manual.cause == "manual" and manual.workflow_id.startswith("t/manual-")
    assert state.next_fire_times[0] == at(3600)  # the schedule's own ticks are unchanged
    h.schedules.trigger("t")  # skip: a run is in progress
    assert [e.reason for e in h.events("t", "ScheduleSkipped")] == ["overlap"]
    state = h.schedules.trigger("t", overlap_policy="allow_all")
    assert len(state.current_executions) == 2
    with pytest.raises(InvalidInput, match="overlap_policy"):
        h.schedules.trigger("t", overlap_policy="sometimes")
    h.schedules.pause("t")
    assert len(h.schedules.trigger("t", overlap_policy="allow_all").current_executions) == 3


def test_backfill_applies_the_overlap_policy_and_is_idempotent(harness: Harness) -> None:
    h = harness
    h.clock.advance(3600)
    h.schedules.create(every(600, "sched_quick", overlap_policy="allow_all"), schedule_id="b")
    result = h.schedules.backfill("b", T0, T0 + timedelta(minutes=30))
    assert [e.fire_at for e in result.started] == [at(0), at(600), at(1200), at(1800)]
    assert all(e.cause == "backfill" for e in result.started)
    assert result.state.next_fire_times[0] == at(4200)  # the cursor did not move
    again = h.schedules.backfill("b", T0, T0 + timedelta(minutes=30))
    assert again.started == [] and again.already_started == [at(0), at(600), at(1200), at(1800)]
    with pytest.raises(InvalidInput, match="future"):
        h.schedules.backfill("b", T0, T0 + timedelta(hours=2))
    with pytest.raises(InvalidInput, match="after"):
        h.schedules.backfill("b", at(600), at(600))


def test_backfill_under_skip_starts_only_the_first_while_it_runs(harness: Harness) -> None:
    h = harness
    h.clock.advance(3600)
    h.schedules.create(every(600), schedule_id="bs")
    result = h.schedules.backfill("bs", at(600), at(1800))
    assert [e.fire_at for e in result.started] == [at(600)]
    assert result.skipped == [at(1200), at(1800)]


def test_unknown_ids_are_schedule_not_found(harness: Harness) -> None:
    s = harness.schedules
    for call in (
        lambda: s.describe("nope"),
        lambda: s.update("nope", every(60)),
        lambda: s.pause("nope"),
        lambda: s.resume("nope"),
        lambda: s.delete("nope"),
        lambda: s.trigger("nope"),
        lambda: s.backfill("nope", T0, at(60)),
    ):
        with pytest.raises(ScheduleNotFound) as caught:
            call()
        assert caught.value.to_wire()["code"] == "not_found"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (every(0), "spec.every_seconds"),
        ({"spec": {"cron": "61 * * * *"}, "workflow_type": "sched_quick"}, "spec.cron"),
        ({"spec": {"cron": "* * *"}, "workflow_type": "sched_quick"}, "spec.cron"),
        ({"spec": {"cron": "0 0 30 2 *"}, "workflow_type": "sched_quick"}, "spec.cron"),
        (
            {"spec": {"cron": "* * * * *", "timezone": "Mars/Olympus"}, "workflow_type": "x"},
            "spec.timezone",
        ),
        ({"spec": {"every_seconds": 10, "offset_seconds": 10}, "workflow_type": "x"}, "offset"),
        ({"spec": {}, "workflow_type": "sched_quick"}, "spec"),
        (every(60, overlap_policy="sometimes"), "overlap_policy"),
        (every(60, catch_up_policy="most"), "catch_up_policy"),
        (every(60, bogus=1), "bogus"),
        (
            every(60, search_attributes={SCHEDULE_ID_ATTRIBUTE: {"type": "String", "data": "x"}}),
            SCHEDULE_ID_ATTRIBUTE,
        ),
        (
            every(60, search_attributes={"aion.namespace": {"type": "String", "data": "other"}}),
            "aion.namespace",
        ),
    ],
)
def test_bad_configs_are_invalid_input_naming_the_field(harness, config, field) -> None:
    with pytest.raises(InvalidInput, match=field.replace(".", r"\.")):
        harness.schedules.create(config)
    assert harness.schedules.list() == []


def test_unknown_workflow_type_and_bad_ids(harness: Harness) -> None:
    with pytest.raises(WorkflowTypeNotFound):
        harness.schedules.create(every(60, "no_such_type"))
    for bad in ("a/b", "", "x" * 129, "has space"):
        with pytest.raises(InvalidInput, match="schedule_id"):
            harness.schedules.create(every(60), schedule_id=bad)
    config = ScheduleConfig(spec=ScheduleSpec(every_seconds=60), workflow_type="sched_quick")
    assert harness.schedules.create(config, schedule_id="typed").workflow_type == "sched_quick"


async def test_async_twins(harness: Harness) -> None:
    state = await harness.schedules.create_async(every(60), schedule_id="aio")
    assert (await harness.schedules.describe_async("aio")).schedule_id == state.schedule_id
    assert [s.schedule_id for s in await harness.schedules.list_async()] == ["aio"]


def test_an_engine_with_a_search_attribute_schema_accepts_schedule_runs(tmp_path, clock) -> None:
    engine = Engine.open(
        SQLiteStore(tmp_path / "schema.db"),
        clock=clock,
        workflows=[Quick],
        search_attributes={"team": "String"},
        schedules=False,
    )
    schedules = Schedules.start(engine)
    try:
        with pytest.raises(InvalidInput, match="not registered"):
            schedules.create(
                every(60, "sched_quick", search_attributes={"nope": {"type": "Int", "data": 1}})
            )
        good = every(60, "sched_quick", search_attributes={"team": {"type": "String", "data": "a"}})
        schedules.create(good, schedule_id="typed")
        clock.advance(60)
        schedules.describe("typed")
        (triggered,) = [
            e for e in engine.store.read_history("schedule:typed") if e.type == "ScheduleTriggered"
        ]
        attributes = engine.describe(triggered.triggered_workflow_id).summary.search_attributes
        assert attributes[SCHEDULE_ID_ATTRIBUTE] == StringValue(data="typed")
    finally:
        schedules.stop()
        engine.shutdown()
