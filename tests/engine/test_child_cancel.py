"""A child whose wait is cancelled (a failed sibling in gather, a lost race, a timeout)
is sent a cancel request, recorded in the parent's history before it is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aionactors import WorkflowStatus, workflow
from aionactors.workflow import ActivityFailure
from tests.engine import workflows as w
from tests.engine.support import WAIT, CommitWatch, checked, open_engine


@workflow.defn(name="child_cancel.parent")
class Parent:
    @workflow.run
    async def run(self, how: str) -> Any:
        child = workflow.execute_child_workflow(w.Parked, workflow_id=f"{how}-child")
        if how == "gather":
            try:
                await workflow.gather(child, workflow.execute_activity(w.rejects, "no stock"))
            except ActivityFailure as failure:
                return f"gather failed: {failure.message}"
        if how == "race":
            index, _ = await workflow.race(child, workflow.sleep(timedelta(minutes=10)))
            return f"race won by {index}"
        if how == "timeout":
            try:
                await workflow.timeout(child, timedelta(minutes=10))
            except workflow.TimeoutError:
                return "timed out"
        return "unreachable"


@pytest.fixture
def engine(db_path, clock):
    yield from checked(
        open_engine(db_path, clock, workflows=[Parent, w.Parked], activities=[w.rejects])
    )


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("gather", "gather failed: no stock"),
        ("race", "race won by 1"),
        ("timeout", "timed out"),
    ],
)
def test_a_child_whose_wait_is_cancelled_is_sent_a_cancel_request(
    engine, clock, how: str, expected: str
) -> None:
    watch = CommitWatch(engine)
    engine.start_workflow(Parent, how, workflow_id=how)
    child_id = f"{how}-child"
    watch.has(child_id, "WorkflowStarted")
    if how != "gather":
        watch.has(how, "TimerStarted")
        clock.advance(timedelta(minutes=10))
    assert engine.result(how, timeout=WAIT) == expected
    requested = [e for e in engine.history(how) if e.type == "ChildWorkflowCancelRequested"]
    assert [e.child_workflow_id for e in requested] == [child_id]
    watch.has(child_id, "WorkflowCancelled")
    assert engine.summary(child_id).status == WorkflowStatus.CANCELLED
    types = [e.type for e in engine.history(child_id)]
    assert "WorkflowCancelRequested" in types  # a request: the child's code could compensate
