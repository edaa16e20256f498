"""A cancel is a request (as in Temporal): the run ends when its code ends, so waiters,
the summary and commit order all see the compensation before the end. terminate ends
the run at once with no compensation."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from aionactors import Engine, WorkflowCancelledError, WorkflowStatus, activity, workflow
from aionactors.core.events import Event
from aionactors.engine.outcomes import ResultTimeout
from tests.engine.support import WAIT, CommitWatch, checked, open_engine

HOLD = threading.Event()
UNDOING = threading.Event()


@activity.defn
def undo(mode: str) -> str:
    UNDOING.set()
    assert HOLD.wait(WAIT), "the test never released the compensation"
    return f"undone ({mode})"


@workflow.defn(name="cancel.saga")
class Saga:
    @workflow.run
    async def run(self, mode: str) -> str:
        try:
            await workflow.sleep(3600)
        except workflow.CancelledError:
            undone = await workflow.execute_activity(undo, mode)
            if mode == "reraise":
                raise
            return undone
        return "slept"


@pytest.fixture(autouse=True)
def _reset():
    HOLD.clear()
    UNDOING.clear()
    yield
    HOLD.set()


@pytest.fixture
def engine(db_path, clock):
    yield from checked(
        open_engine(db_path, clock, workflows=[Saga], activities=[undo], drain_seconds=0)
    )


@pytest.fixture
def committed(engine: Engine) -> list[tuple[str, str]]:
    """Every committed (workflow, event type), in commit order: what streams are fed."""
    order: list[tuple[str, str]] = []
    engine.add_commit_listener(lambda events: order.extend((e.workflow_id, e.type) for e in events))
    return order


def _cancel_while_compensating(engine: Engine, mode: str) -> str:
    watch = CommitWatch(engine)
    engine.start_workflow(Saga, mode, workflow_id=mode)
    watch.has(mode, "TimerStarted")
    engine.cancel(mode, "customer asked")
    assert UNDOING.wait(WAIT)
    # Compensating: still Running, and nobody waiting on the result has been woken.
    assert engine.summary(mode).status == WorkflowStatus.RUNNING
    with pytest.raises(ResultTimeout):
        engine.result(mode, timeout=0.01)
    engine.cancel(mode, "asked again")  # a second request changes nothing
    assert [e.type for e in engine.history(mode)].count("WorkflowCancelRequested") == 1
    HOLD.set()
    return mode


def _types_after_request(history: Sequence[Event]) -> list[str]:
    types = [e.type for e in history]
    return types[types.index("WorkflowCancelRequested") :]


def test_code_that_catches_the_cancel_and_returns_completes(engine, committed) -> None:
    wid = _cancel_while_compensating(engine, "return")
    assert engine.result(wid, timeout=WAIT) == "undone (return)"
    assert engine.summary(wid).status == WorkflowStatus.COMPLETED
    assert _types_after_request(engine.history(wid)) == [
        "WorkflowCancelRequested",
        "TimerCancelled",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityCompleted",
        "WorkflowCompleted",
    ]


def test_a_cancellation_that_propagates_ends_cancelled_after_the_compensation(
    engine, committed
) -> None:
    wid = _cancel_while_compensating(engine, "reraise")
    with pytest.raises(WorkflowCancelledError, match="customer asked"):
        engine.result(wid, timeout=WAIT)
    assert engine.summary(wid).status == WorkflowStatus.CANCELLED
    mine = [kind for owner, kind in committed if owner == wid]
    assert mine.index("ActivityCompleted") < mine.index("WorkflowCancelled") == len(mine) - 1
    assert engine.describe(wid).pending_timers == []


def test_terminate_ends_the_run_at_once_without_compensation(engine) -> None:
    watch = CommitWatch(engine)
    engine.start_workflow(Saga, "reraise", workflow_id="terminated")
    watch.has("terminated", "TimerStarted")
    engine.cancel("terminated", "stop now", terminate=True)
    with pytest.raises(WorkflowCancelledError, match="stop now"):
        engine.result("terminated", timeout=WAIT)
    types = [e.type for e in engine.history("terminated")]
    assert types[-2:] == ["WorkflowCancelled", "TimerCancelled"]
    assert "WorkflowCancelRequested" not in types and "ActivityScheduled" not in types
    assert not UNDOING.is_set()


def test_terminate_during_a_compensation_ends_it(engine) -> None:
    watch = CommitWatch(engine)
    engine.start_workflow(Saga, "return", workflow_id="both")
    watch.has("both", "TimerStarted")
    engine.cancel("both", "please")
    assert UNDOING.wait(WAIT)
    engine.cancel("both", "enough", terminate=True)
    with pytest.raises(WorkflowCancelledError, match="enough"):
        engine.result("both", timeout=WAIT)
    assert _types_after_request(engine.history("both"))[-2:] == [
        "WorkflowCancelled",
        "ActivityCancelled",
    ]
    HOLD.set()  # the abandoned attempt's thread (it never heartbeats) may now return


def test_a_cancelled_run_that_did_not_compensate_reopens_with_its_timer_rearmed(
    engine, clock
) -> None:
    watch = CommitWatch(engine)
    engine.start_workflow(Saga, "reraise", workflow_id="again")
    watch.has("again", "TimerStarted")
    engine.cancel("again", "oops", terminate=True)
    engine.reopen("again")
    engine.cancel("again", "oops again")  # a request this time: the code compensates
    assert UNDOING.wait(WAIT)
    HOLD.set()
    with pytest.raises(WorkflowCancelledError, match="oops again"):
        engine.result("again", timeout=WAIT)


def test_reopen_undoes_a_request_the_code_let_through(db_path, clock) -> None:
    from tests.engine import workflows as w

    with open_engine(db_path, clock, workflows=[w.Sleeper]) as engine:
        watch = CommitWatch(engine)
        engine.start_workflow(w.Sleeper, 1.0, workflow_id="sleepy")
        watch.has("sleepy", "TimerStarted")
        engine.cancel("sleepy", "not now")
        with pytest.raises(WorkflowCancelledError):
            engine.result("sleepy", timeout=WAIT)
        engine.reopen("sleepy")
        assert len(engine.describe("sleepy").pending_timers) == 1  # re-armed
        clock.advance(3600)
        assert engine.result("sleepy", timeout=WAIT).startswith("woke at")
