"""Visibility summaries: folding events, whole or incrementally."""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from aionactors.core import events as ev
from aionactors.core.events import event_json, parse_event
from aionactors.core.search import IntValue, StringValue
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import (
    WorkflowSummary,
    apply_event,
    apply_events,
    summary_from_history,
)

from .factories import ALL_VALUE_KINDS, WF, History, at, env, event_samples

S = WorkflowStatus
NS = "aion.namespace"


def _rich_history() -> History:
    """Attributes, failure, reopen, pause, continue-as-new and a child start: every fold rule."""
    h = History()
    h.started("r1", input={"x": 1}, parent_workflow_id="parent-wf")
    h.attrs(**{NS: StringValue(data="tenant-a"), "n": IntValue(data=1)})
    h.activity(0)
    h.signal()
    h.failed("first failure")
    h.reopened("r1")
    h.paused("r1")
    h.resumed("r1")
    h.attrs(n=IntValue(data=2), tag=StringValue(data="t"))
    h.continued("r1")
    h.started("r2", workflow_type="order_v2", parent_run_id="r1")
    h.add(ev.TimerFired, timer_id="named:t")
    h.attrs(**ALL_VALUE_KINDS)
    h.failed("second failure")
    return h


def _simple_completed() -> History:
    h = History()
    h.started()
    h.activity()
    h.completed({"ok": True})
    return h


def _pre_start_noise() -> History:
    h = History()
    h.attrs(ignored=StringValue(data="x"))
    h.signal()
    h.started()
    h.attrs(kept=StringValue(data="y"))
    h.cancelled()
    return h


SCENARIOS = {
    "rich": _rich_history,
    "completed": _simple_completed,
    "pre_start_noise": _pre_start_noise,
}


# --- basic fold -----------------------------------------------------------------------


def test_empty_history_has_no_summary():
    assert summary_from_history([]) is None


def test_history_without_started_has_no_summary():
    h = History()
    h.attrs(**{NS: StringValue(data="a")})
    h.signal()
    h.completed()
    assert summary_from_history(h.events) is None
    assert apply_event(None, h.events[0]) is None


def test_started_alone():
    h = History()
    h.started("r1", workflow_type="order")
    assert summary_from_history(h.events) == WorkflowSummary(
        workflow_id=WF,
        run_id="r1",
        namespace="default",
        workflow_type="order",
        status=S.RUNNING,
        started_at=at(1),
        ended_at=None,
        parent=None,
        failure_reason=None,
        search_attributes={},
    )


def test_parent_comes_from_parent_workflow_id():
    h = History()
    h.started(parent_workflow_id="the-parent", parent_run_id=None)
    assert summary_from_history(h.events).parent == "the-parent"


def test_parent_run_id_is_not_the_parent_workflow():
    h = History()
    h.started("r2", parent_run_id="r1")
    assert summary_from_history(h.events).parent is None


def test_namespace_comes_from_search_attribute():
    h = History()
    h.started()
    assert summary_from_history(h.events).namespace == "default"
    h.attrs(**{NS: StringValue(data="tenant-a")})
    assert summary_from_history(h.events).namespace == "tenant-a"
    h.attrs(**{NS: StringValue(data="tenant-b")})
    assert summary_from_history(h.events).namespace == "tenant-b"


def test_non_string_namespace_attribute_falls_back_to_default():
    h = History()
    h.started()
    h.attrs(**{NS: IntValue(data=5)})
    assert summary_from_history(h.events).namespace == "default"


def test_search_attributes_merge_later_keys_override():
    h = History()
    h.started()
    h.attrs(a=StringValue(data="1"), b=StringValue(data="1"))
    h.attrs(b=StringValue(data="2"), c=IntValue(data=3))
    h.attrs()
    summary = summary_from_history(h.events)
    assert summary.search_attributes == {
        "a": StringValue(data="1"),
        "b": StringValue(data="2"),
        "c": IntValue(data=3),
    }


def test_attribute_update_does_not_touch_status():
    h = History()
    h.started()
    done = h.completed()
    h.attrs(a=StringValue(data="late"))
    summary = summary_from_history(h.events)
    assert summary.status is S.COMPLETED
    assert summary.ended_at == done.recorded_at
    assert summary.search_attributes == {"a": StringValue(data="late")}


@pytest.mark.parametrize(
    ("close", "status"),
    [
        ("completed", S.COMPLETED),
        ("failed", S.FAILED),
        ("cancelled", S.CANCELLED),
        ("timed_out", S.TIMED_OUT),
    ],
)
def test_terminal_sets_status_and_ended_at(close, status):
    h = History()
    h.started()
    h.activity()
    closing = getattr(h, close)()
    summary = summary_from_history(h.events)
    assert summary.status is status
    assert summary.ended_at == closing.recorded_at
    assert summary.failure_reason == ("boom" if close == "failed" else None)


def test_continued_as_new_closes_then_next_start_opens():
    h = History()
    h.started("r1", parent_workflow_id="p")
    h.attrs(**{NS: StringValue(data="tenant-a"), "k": StringValue(data="v")})
    closing = h.continued("r1")
    summary = summary_from_history(h.events)
    assert summary.status is S.CONTINUED_AS_NEW
    assert summary.ended_at == closing.recorded_at
    h.started("r2", workflow_type="order_v2", parent_run_id="r1")
    summary = summary_from_history(h.events)
    assert summary.run_id == "r2"
    assert summary.workflow_type == "order_v2"
    assert summary.status is S.RUNNING
    assert summary.started_at == h.events[-1].recorded_at
    assert summary.ended_at is None
    assert summary.parent is None  # the new WorkflowStarted carries no parent_workflow_id
    # Search attributes (and so the namespace) survive into the next run.
    assert summary.namespace == "tenant-a"
    assert summary.search_attributes["k"] == StringValue(data="v")


def test_failure_reason_and_ended_at_cleared_on_reopen():
    h = History()
    h.started()
    h.failed("kaput")
    summary = summary_from_history(h.events)
    assert summary.failure_reason == "kaput"
    assert summary.ended_at is not None
    h.reopened()
    summary = summary_from_history(h.events)
    assert summary.status is S.RUNNING
    assert summary.failure_reason is None
    assert summary.ended_at is None
    done = h.completed()
    summary = summary_from_history(h.events)
    assert summary.status is S.COMPLETED
    assert summary.failure_reason is None
    assert summary.ended_at == done.recorded_at


def test_failure_reason_cleared_by_new_run():
    h = History()
    h.started("r1")
    h.failed("kaput")
    h.started("r2", parent_run_id="r1")
    summary = summary_from_history(h.events)
    assert summary.failure_reason is None
    assert summary.ended_at is None


def test_pause_and_resume():
    h = History()
    h.started()
    h.paused()
    summary = summary_from_history(h.events)
    assert summary.status is S.PAUSED
    assert summary.ended_at is None
    h.resumed()
    assert summary_from_history(h.events).status is S.RUNNING


def test_non_lifecycle_events_leave_summary_alone():
    h = History()
    h.started()
    before = summary_from_history(h.events)
    noise = [
        e.model_copy(update=env(2 + i))
        for i, e in enumerate(event_samples())
        if e.type
        in {
            "ActivityScheduled",
            "ActivityCompleted",
            "TimerStarted",
            "SignalReceived",
            "ChildWorkflowStarted",
            "ScheduleTriggered",
        }
    ]
    assert apply_events(before, noise) == before


def test_apply_event_does_not_mutate_its_input():
    h = History()
    h.started()
    summary = summary_from_history(h.events)
    snapshot = summary.model_dump()
    h.attrs(a=StringValue(data="x"))
    h.failed()
    apply_events(summary, h.events[1:])
    assert summary.model_dump() == snapshot


def test_summary_json_shape():
    summary = summary_from_history(_rich_history().events)
    data = summary.model_dump(mode="json")
    assert set(data) == {
        "workflow_id",
        "run_id",
        "namespace",
        "workflow_type",
        "status",
        "started_at",
        "ended_at",
        "parent",
        "failure_reason",
        "search_attributes",
    }
    assert data["status"] == "Failed"
    assert data["started_at"].endswith("Z")
    assert data["ended_at"].endswith("Z")
    assert data["search_attributes"]["i"] == {"type": "Int", "data": -7}
    assert WorkflowSummary.model_validate_json(json.dumps(data)) == summary


def test_rich_history_summary():
    h = _rich_history()
    summary = summary_from_history(h.events)
    assert summary.run_id == "r2"
    assert summary.workflow_type == "order_v2"
    assert summary.status is S.FAILED
    assert summary.failure_reason == "second failure"
    assert summary.ended_at == h.events[-1].recorded_at
    assert summary.namespace == "tenant-a"
    assert summary.search_attributes == {
        NS: StringValue(data="tenant-a"),
        "n": IntValue(data=2),
        "tag": StringValue(data="t"),
        **ALL_VALUE_KINDS,
    }


# --- incremental folding equals whole-history folding ---------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_incremental_fold_equals_whole_fold_for_every_split(scenario):
    events = SCENARIOS[scenario]().events
    whole = summary_from_history(events)
    for cut in range(len(events) + 1):
        prefix = apply_events(None, events[:cut])
        assert apply_events(prefix, events[cut:]) == whole, f"split at {cut}"
        # The prefix itself is the whole fold of that prefix.
        assert prefix == summary_from_history(events[:cut])


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_incremental_fold_in_three_chunks(scenario):
    events = SCENARIOS[scenario]().events
    whole = summary_from_history(events)
    for i, j in combinations(range(len(events) + 1), 2):
        summary = apply_events(None, events[:i])
        summary = apply_events(summary, events[i:j])
        summary = apply_events(summary, events[j:])
        assert summary == whole, f"splits at {i}, {j}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_event_by_event_fold_and_json_round_trip(scenario):
    events = SCENARIOS[scenario]().events
    summary = None
    for event in events:
        summary = apply_event(summary, parse_event(event_json(event)))
    assert summary == summary_from_history(events)


def test_apply_events_accepts_any_iterable():
    events = _simple_completed().events
    assert summary_from_history(iter(events)) == summary_from_history(events)
    assert apply_events(None, (e for e in events)) == summary_from_history(events)
