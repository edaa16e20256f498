"""A child started under an id another workflow holds: a running holder makes the start
fail in the parent (WorkflowAlreadyStarted); a finished one is followed by a fresh run."""

from __future__ import annotations

from typing import Any

import pytest

from aionactors import WorkflowAlreadyStarted, WorkflowFailedError, WorkflowStatus, workflow
from tests.engine import workflows as w
from tests.engine.support import WAIT, checked, open_engine


@workflow.defn(name="ids.echo")
class Echo:
    @workflow.run
    async def run(self, value: Any) -> Any:
        return value


@workflow.defn(name="ids.parent")
class Parent:
    @workflow.run
    async def run(self, job: dict[str, Any]) -> Any:
        try:
            return await workflow.execute_child_workflow(
                Echo, job["value"], workflow_id=job["child_id"]
            )
        except WorkflowAlreadyStarted as taken:
            if job.get("reraise"):
                raise
            return {"refused": taken.error.type, "message": taken.error.message}


@pytest.fixture
def engine(db_path, clock):
    yield from checked(open_engine(db_path, clock, workflows=[Parent, Echo, w.Parked]))


def test_an_id_held_by_a_running_workflow_fails_the_child_start_catchably(engine) -> None:
    engine.start_workflow(w.Parked, workflow_id="taken")
    engine.start_workflow(Parent, {"value": 1, "child_id": "taken"}, workflow_id="parent")
    outcome = engine.result("parent", timeout=WAIT)
    assert outcome["refused"] == "WorkflowAlreadyStarted"
    assert "'taken' is held by a running workflow (parked)" in outcome["message"]
    failed = [e for e in engine.history("parent") if e.type == "ChildWorkflowFailed"]
    assert len(failed) == 1 and failed[0].error.type == "WorkflowAlreadyStarted"  # recorded
    assert engine.summary("taken").status == WorkflowStatus.RUNNING  # the holder is untouched
    assert [e.type for e in engine.history("taken")].count("WorkflowStarted") == 1


def test_uncaught_it_fails_the_parent(engine) -> None:
    engine.start_workflow(w.Parked, workflow_id="taken")
    job = {"value": 1, "child_id": "taken", "reraise": True}
    engine.start_workflow(Parent, job, workflow_id="parent")
    with pytest.raises(WorkflowFailedError) as failed:
        engine.result("parent", timeout=WAIT)
    assert failed.value.failure_type == "WorkflowAlreadyStarted"


def test_an_id_held_by_a_finished_workflow_gets_a_fresh_run_owned_by_the_parent(engine) -> None:
    engine.start_workflow(w.Parked, workflow_id="reused")
    engine.signal("reused", "put", "the old result")
    assert engine.result("reused", timeout=WAIT) == "the old result"
    engine.start_workflow(Parent, {"value": "fresh", "child_id": "reused"}, workflow_id="parent")
    assert engine.result("parent", timeout=WAIT) == "fresh"
    child = engine.summary("reused")
    assert child.workflow_type == "ids.echo" and child.parent == "parent"
    assert child.status == WorkflowStatus.COMPLETED
    assert len(engine.describe("reused").runs) == 2
