"""A clean shutdown lets running activity attempts finish and records their outcomes;
an attempt that outlives the drain window is left to recovery, which runs it again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from aionactors import Engine, activity, workflow
from tests.engine.support import WAIT, open_engine

STARTED = threading.Event()
GO = threading.Event()


@activity.defn
def slow_side_effect(job: dict[str, Any]) -> str:
    """Attempt 1 waits for GO (as if it took long), then appends a line: the side effect."""
    attempt = activity.info().attempt
    STARTED.set()
    if attempt == 1:
        assert GO.wait(WAIT), "the test never released the activity"
    with Path(job["log"]).open("a") as log:
        log.write(f"attempt {attempt}\n")
    return f"done by attempt {attempt}"


@workflow.defn(name="drain.one_activity")
class OneActivity:
    @workflow.run
    async def run(self, job: dict[str, Any]) -> str:
        return await workflow.execute_activity(slow_side_effect, job)


@pytest.fixture(autouse=True)
def _reset() -> Any:
    STARTED.clear()
    GO.clear()
    yield
    GO.set()  # frees an abandoned attempt's thread


def _open(db_path: Path, clock, **settings: Any) -> Engine:
    return open_engine(
        db_path, clock, workflows=[OneActivity], activities=[slow_side_effect], **settings
    )


def _shutdown_in_background(engine: Engine) -> threading.Thread:
    stopper = threading.Thread(target=engine.shutdown, name="test-shutdown")
    stopper.start()
    draining = threading.Event()
    for _ in range(int(WAIT / 0.01)):  # bounded: the drain begins at once
        if engine.draining:
            draining.set()
            break
        draining.wait(0.01)
    assert draining.is_set(), "shutdown did not begin a drain"
    return stopper


def _activity_events(engine: Engine, workflow_id: str) -> list[tuple[str, int]]:
    return [(e.type, e.attempt) for e in engine.history(workflow_id) if hasattr(e, "attempt")]


def test_shutdown_lets_a_running_attempt_finish_and_records_its_outcome(
    db_path, clock, tmp_path
) -> None:
    log = tmp_path / "side-effects.log"
    engine = _open(db_path, clock)
    engine.start_workflow(OneActivity, {"log": str(log)}, workflow_id="drained")
    assert STARTED.wait(WAIT)
    stopper = _shutdown_in_background(engine)
    GO.set()  # the attempt finishes while the engine drains
    stopper.join(WAIT)
    assert not stopper.is_alive()

    with _open(db_path, clock) as reopened:
        assert reopened.result("drained", timeout=WAIT) == "done by attempt 1"
        assert _activity_events(reopened, "drained") == [
            ("ActivityStarted", 1),
            ("ActivityCompleted", 1),
        ]
    assert log.read_text() == "attempt 1\n"  # once: recovery had nothing to re-run


def test_an_attempt_outliving_the_drain_window_is_run_again_after_reopen(
    db_path, clock, tmp_path
) -> None:
    log = tmp_path / "side-effects.log"
    engine = _open(db_path, clock, drain_seconds=0.05)
    engine.start_workflow(OneActivity, {"log": str(log)}, workflow_id="parked")
    assert STARTED.wait(WAIT)
    engine.shutdown()  # attempt 1 is still waiting for GO: abandoned after the window

    with _open(db_path, clock) as reopened:
        assert reopened.result("parked", timeout=WAIT) == "done by attempt 2"
        assert _activity_events(reopened, "parked") == [
            ("ActivityStarted", 1),
            ("ActivityStarted", 2),
            ("ActivityCompleted", 2),
        ]
    assert log.read_text() == "attempt 2\n"  # attempt 1 has not written yet (at-least-once)
