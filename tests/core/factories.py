"""Deterministic sample events and histories for the core tests.

Every timestamp derives from ``T0``; nothing reads the wall clock or a random source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aionactors.core import events as ev
from aionactors.core.ids import TimerId
from aionactors.core.payload import ActivityError, ActivityErrorKind, WorkflowError
from aionactors.core.schedules import (
    CatchUpPolicy,
    OverlapPolicy,
    ScheduleConfig,
    ScheduleSpec,
)
from aionactors.core.search import (
    BoolValue,
    DatetimeValue,
    FloatValue,
    IntValue,
    KeywordListValue,
    StringValue,
)

T0 = datetime(2026, 11, 22, 13, 0, 0, 123456, tzinfo=UTC)
WF = "wf-1"


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def env(seq: int, workflow_id: str = WF) -> dict[str, object]:
    """Envelope keyword arguments for an event at ``seq`` recorded ``seq`` seconds after T0."""
    return {"seq": seq, "recorded_at": at(seq), "workflow_id": workflow_id}


CRON_CONFIG = ScheduleConfig(
    namespace="tenant-a",
    spec=ScheduleSpec(
        cron="*/5 * * * *",
        timezone="Europe/Berlin",
        start_at=at(0),
        end_at=at(86_400),
        jitter_seconds=1.5,
    ),
    workflow_type="report",
    input={"k": [1, 2.5, None, True, "s"]},
    overlap_policy=OverlapPolicy.BUFFER_ALL,
    catch_up_policy=CatchUpPolicy.ALL,
    catch_up_window_seconds=600,
    search_attributes={"team": StringValue(data="ops")},
)
INTERVAL_CONFIG = ScheduleConfig(
    spec=ScheduleSpec(every_seconds=30, offset_seconds=5), workflow_type="tick"
)

ALL_VALUE_KINDS = {
    "s": StringValue(data="x"),
    "i": IntValue(data=-7),
    "f": FloatValue(data=2.5),
    "b": BoolValue(data=False),
    "d": DatetimeValue(data=at(3)),
    "k": KeywordListValue(data=("a", "b")),
    "k0": KeywordListValue(data=()),
}


def event_samples() -> list[ev.EventBase]:
    """At least one instance of every event class, exercising defaults and every optional field."""
    retryable = ActivityError(
        kind=ActivityErrorKind.RETRYABLE, message="flaky", type="IOError", details={"n": 1}
    )
    terminal = ActivityError(kind=ActivityErrorKind.TERMINAL, message="bad")
    wf_error = WorkflowError(message="boom", type="RuntimeError", details=[1, "two"])
    return [
        ev.WorkflowStarted(**env(1), workflow_type="order", run_id="r1"),
        ev.WorkflowStarted(
            **env(2),
            workflow_type="order",
            input={"nested": {"list": [1, 2, {"x": None}]}, "unicode": "ünï"},
            run_id="r2",
            parent_run_id="r1",
            package_version="ab" * 32,
            parent_workflow_id="parent-wf",
        ),
        ev.WorkflowCompleted(**env(3)),
        ev.WorkflowCompleted(**env(4), result=[1, 2.5, "x", None, False]),
        ev.WorkflowFailed(**env(5), error=wf_error),
        ev.WorkflowFailed(**env(6), error=WorkflowError(message="plain")),
        ev.WorkflowCancelled(**env(7)),
        ev.WorkflowCancelled(**env(8), reason="operator asked"),
        ev.WorkflowCancelRequested(**env(8)),
        ev.WorkflowCancelRequested(**env(8), reason="customer asked"),
        ev.WorkflowTimedOut(**env(9)),
        ev.WorkflowTimedOut(**env(10), timeout="run"),
        ev.WorkflowContinuedAsNew(**env(11), parent_run_id="r1"),
        ev.WorkflowContinuedAsNew(**env(12), input=7, workflow_type="order_v2", parent_run_id="r1"),
        ev.WorkflowReopened(**env(13), run_id="r1"),
        ev.WorkflowReopened(**env(14), run_id="r1", reopened=(0, 3, 9)),
        ev.WorkflowPaused(**env(15), run_id="r1"),
        ev.WorkflowPaused(**env(16), run_id="r1", reason="maintenance", operator="alice"),
        ev.WorkflowResumed(**env(17), run_id="r1"),
        ev.WorkflowResumed(**env(18), run_id="r1", operator="bob"),
        ev.SearchAttributesUpdated(**env(19), attributes={}),
        ev.SearchAttributesUpdated(**env(20), attributes=dict(ALL_VALUE_KINDS)),
        ev.ActivityScheduled(**env(21), activity_id=0, activity_type="charge"),
        ev.ActivityScheduled(
            **env(22),
            activity_id=4,
            activity_type="charge",
            input={"amount": 10},
            task_queue="gpu",
            node="node-2",
        ),
        ev.ActivityStarted(**env(23), activity_id=0),
        ev.ActivityStarted(**env(24), activity_id=0, attempt=0),
        ev.ActivityCompleted(**env(25), activity_id=0),
        ev.ActivityCompleted(**env(26), activity_id=1, result={"ok": True}, attempt=3),
        ev.ActivityFailed(**env(27), activity_id=0, error=retryable, attempt=1),
        ev.ActivityFailed(**env(28), activity_id=0, error=terminal, attempt=2),
        ev.ActivityCancelled(**env(29), activity_id=2),
        ev.ActivityCancelled(**env(30), activity_id=2, attempt=5),
        ev.TimerStarted(**env(31), timer_id=TimerId.named("nap"), fire_at=at(100)),
        ev.TimerStarted(**env(32), timer_id=TimerId.anonymous(3), fire_at=at(200)),
        ev.TimerFired(**env(33), timer_id=TimerId.named("deadline:run")),
        ev.TimerFired(**env(34), timer_id=TimerId.anonymous(0)),
        ev.TimerCancelled(**env(35), timer_id=TimerId.named("nap")),
        ev.TimerCancelled(
            **env(36), timer_id=TimerId.anonymous(1), cause=ev.TimerCancelCause.CANCEL_TEARDOWN
        ),
        ev.WithTimeoutCompleted(
            **env(37),
            timer_id=TimerId.anonymous(4),
            outcome=ev.WithTimeoutOutcome.OPERATION_COMPLETED,
            result={"done": 1},
        ),
        ev.WithTimeoutCompleted(
            **env(38), timer_id=TimerId.named("wt"), outcome=ev.WithTimeoutOutcome.TIMED_OUT
        ),
        ev.SignalReceived(**env(39), name="approve"),
        ev.SignalReceived(**env(40), name="approve", payload={"ok": True}),
        ev.SignalSent(**env(41), target_workflow_id="other", name="ping"),
        ev.SignalSent(**env(42), target_workflow_id="other", name="ping", payload="hello"),
        ev.PatchRecorded(**env(43), change_id="use-new-step"),
        ev.ChildWorkflowStarted(**env(43), child_workflow_id="child-1", workflow_type="sub"),
        ev.ChildWorkflowStarted(
            **env(44),
            child_workflow_id="child-2",
            workflow_type="sub",
            input=[1],
            package_version="cd" * 32,
        ),
        ev.ChildWorkflowCompleted(**env(45), child_workflow_id="child-1"),
        ev.ChildWorkflowCompleted(**env(46), child_workflow_id="child-2", result=3.25),
        ev.ChildWorkflowFailed(**env(47), child_workflow_id="child-1", error=wf_error),
        ev.ChildWorkflowCancelled(**env(48), child_workflow_id="child-1"),
        ev.ChildWorkflowCancelRequested(**env(48), child_workflow_id="child-1"),
        ev.ScheduleCreated(**env(49), schedule_id="s-1", config=CRON_CONFIG),
        ev.ScheduleCreated(**env(50), schedule_id="s-2", config=INTERVAL_CONFIG),
        ev.ScheduleUpdated(**env(51), schedule_id="s-1", config=INTERVAL_CONFIG),
        ev.SchedulePaused(**env(52), schedule_id="s-1"),
        ev.ScheduleResumed(**env(53), schedule_id="s-1"),
        ev.ScheduleDeleted(**env(54), schedule_id="s-1"),
        ev.ScheduleTriggered(
            **env(55), schedule_id="s-1", triggered_workflow_id="wf-9", triggered_run_id="r9"
        ),
        ev.ScheduleTriggered(
            **env(56),
            schedule_id="s-1",
            triggered_workflow_id="wf-10",
            triggered_run_id="r10",
            fire_at=at(50),
            cause="buffered",
        ),
        ev.ScheduleSkipped(
            **env(57), schedule_id="s-1", fire_at=at(60), first_fire_at=at(30), reason="catch_up"
        ),
        ev.ScheduleBuffered(
            **env(58), schedule_id="s-1", fire_at=at(90), triggered_workflow_id="s-1/t90"
        ),
        ev.ScheduleExecutionEnded(
            **env(59), schedule_id="s-1", triggered_workflow_id="wf-9", status="Completed"
        ),
        ev.UpdateAccepted(**env(60), update_id="u-1", name="add", args=[{"sku": "a"}, 2]),
        ev.UpdateCompleted(**env(61), update_id="u-1", result={"count": 2}),
        ev.UpdateCompleted(**env(62), update_id="u-2", error=wf_error),
    ]


class History:
    """Builds one workflow's history with contiguous seqs and one second between events."""

    def __init__(self, workflow_id: str = WF) -> None:
        self.workflow_id = workflow_id
        self.events: list[ev.EventBase] = []

    def add(self, cls: type[ev.EventBase], **fields: object) -> ev.EventBase:
        seq = len(self.events) + 1
        event = cls(**env(seq, self.workflow_id), **fields)
        self.events.append(event)
        return event

    def started(self, run_id: str = "r1", workflow_type: str = "order", **fields: object):
        return self.add(ev.WorkflowStarted, run_id=run_id, workflow_type=workflow_type, **fields)

    def attrs(self, **values: object):
        return self.add(ev.SearchAttributesUpdated, attributes=values)

    def activity(self, activity_id: int = 0):
        return self.add(ev.ActivityScheduled, activity_id=activity_id, activity_type="act")

    def signal(self, name: str = "sig"):
        return self.add(ev.SignalReceived, name=name)

    def completed(self, result: object = None):
        return self.add(ev.WorkflowCompleted, result=result)

    def failed(self, message: str = "boom"):
        return self.add(ev.WorkflowFailed, error=WorkflowError(message=message))

    def cancelled(self):
        return self.add(ev.WorkflowCancelled)

    def timed_out(self):
        return self.add(ev.WorkflowTimedOut)

    def continued(self, parent_run_id: str):
        return self.add(ev.WorkflowContinuedAsNew, parent_run_id=parent_run_id)

    def reopened(self, run_id: str = "r1"):
        return self.add(ev.WorkflowReopened, run_id=run_id)

    def paused(self, run_id: str = "r1"):
        return self.add(ev.WorkflowPaused, run_id=run_id)

    def resumed(self, run_id: str = "r1"):
        return self.add(ev.WorkflowResumed, run_id=run_id)
