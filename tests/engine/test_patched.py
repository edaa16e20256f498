"""workflow.patched / deprecate_patch: old histories replay the old branch, new runs the new."""

from __future__ import annotations

from pathlib import Path

import pytest

from aionactors import activity, workflow
from aionactors.core.runs import split_runs
from aionactors.workflow import NonDeterminismError
from aionactors.workflow.replayer import replay
from tests.engine.support import CommitWatch, open_engine


@activity.defn
def old_step(name: str) -> str:
    return f"old {name}"


@activity.defn
def new_step(name: str) -> str:
    return f"new {name}"


class _Waits:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def release(self, _payload: object = None) -> None:
        self.go = True


@workflow.defn(name="patchy")
class Before(_Waits):
    @workflow.run
    async def run(self, name: str) -> str:
        step = await workflow.execute_activity(old_step, name)
        await workflow.wait_condition(lambda: self.go)
        return step


@workflow.defn(name="patchy")
class Patched(_Waits):
    @workflow.run
    async def run(self, name: str) -> str:
        if workflow.patched("use-new-step"):
            step = await workflow.execute_activity(new_step, name)
        else:
            step = await workflow.execute_activity(old_step, name)
        assert workflow.patched("use-new-step") == (step.startswith("new"))  # decided once
        await workflow.wait_condition(lambda: self.go)
        return step


@workflow.defn(name="patchy")
class Deprecated(_Waits):
    @workflow.run
    async def run(self, name: str) -> str:
        workflow.deprecate_patch("use-new-step")
        step = await workflow.execute_activity(new_step, name)
        await workflow.wait_condition(lambda: self.go)
        return step


@workflow.defn(name="patchy")
class PatchRemoved(_Waits):
    @workflow.run
    async def run(self, name: str) -> str:
        step = await workflow.execute_activity(new_step, name)
        await workflow.wait_condition(lambda: self.go)
        return step


ACTIVITIES = [old_step, new_step]


def run_on(db: Path, cls: type, starts: list[str] = (), finishes: list[str] = ()) -> dict:
    engine = open_engine(db, workflows=[cls], activities=ACTIVITIES)
    try:
        for workflow_id in starts:
            engine.start_workflow("patchy", workflow_id, workflow_id=workflow_id)
            CommitWatch(engine).has(workflow_id, "ActivityCompleted")
        results = {}
        for workflow_id in finishes:
            engine.signal(workflow_id, "release")
            results[workflow_id] = engine.result(workflow_id, timeout=20)
        return results
    finally:
        engine.shutdown()


def markers(db: Path, workflow_id: str) -> list[str]:
    engine = open_engine(db)
    try:
        return [e.change_id for e in engine.history(workflow_id) if e.type == "PatchRecorded"]
    finally:
        engine.shutdown()


def test_old_runs_replay_the_old_branch_new_runs_take_the_new(tmp_path: Path) -> None:
    db = tmp_path / "patch.db"
    run_on(db, Before, starts=["old-run"])
    results = run_on(db, Patched, starts=["new-run"], finishes=["old-run", "new-run"])
    assert results == {"old-run": "old old-run", "new-run": "new new-run"}
    assert markers(db, "old-run") == [] and markers(db, "new-run") == ["use-new-step"]


def test_deprecate_patch_replays_patched_histories_and_marks_new_runs(tmp_path: Path) -> None:
    db = tmp_path / "patch.db"
    run_on(db, Patched, starts=["patched-run"])
    results = run_on(db, Deprecated, starts=["later-run"], finishes=["patched-run", "later-run"])
    assert results == {"patched-run": "new patched-run", "later-run": "new later-run"}
    assert markers(db, "later-run") == ["use-new-step"]


def test_removing_the_call_while_marked_histories_remain_is_caught_by_replay(
    tmp_path: Path,
) -> None:
    db = tmp_path / "patch.db"
    run_on(db, Patched, starts=["marked"])
    engine = open_engine(db, workflows=[Patched], activities=ACTIVITIES)
    try:
        (segment,) = split_runs(engine.history("marked"))
    finally:
        engine.shutdown()
    from aionactors.workflow.definition import workflow_definition

    replay(workflow_definition(Patched), segment).close()  # the code that made it: fine
    with pytest.raises(NonDeterminismError, match="PatchRecorded"):
        replay(workflow_definition(PatchRemoved), segment)


def test_patched_outside_a_workflow_is_refused() -> None:
    with pytest.raises(Exception, match="workflow code"):
        workflow.patched("x")
    with pytest.raises(ValueError, match="non-empty"):
        workflow.patched("")


def test_reopened_engine_keeps_deciding_the_same(tmp_path: Path) -> None:
    """A run that took the new branch replays it after a restart (marker in history)."""
    db = tmp_path / "patch.db"
    run_on(db, Patched, starts=["r"])
    assert run_on(db, Patched, finishes=["r"]) == {"r": "new r"}
