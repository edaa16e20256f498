"""describe().pending_timers says what the engine has armed: re-armed timers are listed,
the timers of a run that has ended are not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aionactors import WorkflowCancelledError
from aionactors.engine.outcomes import WorkflowTimedOutError
from tests.engine import lifecycle_workflows as lw
from tests.engine.support import CommitWatch, open_engine


def _engine(path, clock):
    return open_engine(
        path,
        clock,
        workflows=lw.LIFECYCLE_WORKFLOWS,
        activities=lw.LIFECYCLE_ACTIVITIES,
        timer_horizon=86_400,  # arm every stored timer of the day at open
    )


def _timer_ids(engine, workflow_id: str) -> list[str]:
    return sorted(t["timer_id"] for t in engine.describe(workflow_id).pending_timers)


def test_a_timer_rearmed_by_reopen_is_listed_before_and_after_a_restart(db_path, clock) -> None:
    with _engine(db_path, clock) as engine:
        watch = CommitWatch(engine)
        engine.start_workflow(lw.Slowpoke, workflow_id="slow", execution_timeout=10_000)
        watch.has("slow", "TimerStarted", 2)
        armed = _timer_ids(engine, "slow")
        assert len(armed) == 2  # the sleep and the run's deadline
        engine.cancel("slow", "oops", terminate=True)
        with pytest.raises(WorkflowCancelledError):
            engine.result("slow", timeout=20)
        assert _timer_ids(engine, "slow") == []
        engine.reopen("slow")
        assert _timer_ids(engine, "slow") == armed
    with _engine(db_path, clock) as engine:  # recovery re-arms them from the history
        assert _timer_ids(engine, "slow") == armed
        assert engine.timers.armed_count() == len(armed)
        clock.advance(timedelta(hours=1))
        assert engine.result("slow", timeout=20) == "too late"
        assert _timer_ids(engine, "slow") == []


def test_a_timed_out_workflow_lists_no_timers(db_path, clock) -> None:
    with _engine(db_path, clock) as engine:
        watch = CommitWatch(engine)
        engine.start_workflow(lw.Slowpoke, workflow_id="late")
        watch.has("late", "TimerStarted", 2)
        clock.advance(61)
        with pytest.raises(WorkflowTimedOutError):
            engine.result("late", timeout=20)
        assert engine.describe("late").pending_timers == []
        assert engine.describe("late").pending_activities == []
