"""The activity executor: outcomes, context, delays, timeouts, cancellation, races, shutdown.

Time is a ManualClock: delays and timeouts fire inside ``clock.advance()`` on the
test thread. Waiting for work on other threads uses Events/Queues with timeouts.
"""

from __future__ import annotations

import asyncio
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aionactors import activity
from aionactors.core.payload import ActivityErrorKind
from aionactors.engine.activities import (
    ActivityAttemptFailed,
    ActivityExecutor,
    ActivityOutcome,
    ActivitySucceeded,
    ActivityTask,
    ActivityTimedOut,
    ActivityWasCancelled,
)
from aionactors.engine.clock import ManualClock

WAIT = 2.0  # upper bound for anything that should happen promptly
T0 = datetime(2030, 1, 1, tzinfo=UTC)


class Outcomes:
    """Collects on_done calls; ``get`` waits for the next one."""

    def __init__(self) -> None:
        self.queue: queue.Queue[ActivityOutcome] = queue.Queue()

    def __call__(self, outcome: ActivityOutcome) -> None:
        self.queue.put(outcome)

    def get(self) -> ActivityOutcome:
        return self.queue.get(timeout=WAIT)

    def assert_none(self) -> None:
        assert self.queue.empty(), f"unexpected outcome {self.queue.queue[0]!r}"


def task(activity_type: str, input: Any = None, *, activity_id: int = 0, **kw: Any) -> ActivityTask:
    kw.setdefault("attempt", 1)
    return ActivityTask("wf-1", "run-1", activity_id, activity_type, input, **kw)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def make_executor(clock: ManualClock) -> Iterator[Callable[..., ActivityExecutor]]:
    made: list[ActivityExecutor] = []

    def make(*fns: Callable[..., Any]) -> ActivityExecutor:
        definitions = {d.name: d for d in map(activity.activity_definition, fns)}
        executor = ActivityExecutor(definitions, clock, max_workers=4)
        made.append(executor)
        return executor

    yield make
    for executor in made:
        executor.shutdown()


# -- authoring ------------------------------------------------------------------


def test_defn_keeps_the_function_callable_and_attaches_a_definition() -> None:
    @activity.defn
    def double(x: int) -> int:
        return 2 * x

    @activity.defn(name="fetch")
    async def fetch_page(url: str) -> str:
        return url

    assert double(21) == 42
    assert activity.activity_definition(double) == activity.ActivityDefinition(
        "double", double, False
    )
    definition = activity.activity_definition(fetch_page)
    assert (definition.name, definition.is_async) == ("fetch", True)


def test_undecorated_or_multi_argument_functions_are_refused() -> None:
    def plain(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="plain is not an activity"):
        activity.activity_definition(plain)
    with pytest.raises(TypeError, match="at most one positional parameter"):

        @activity.defn
        def two(a: int, b: int) -> int:
            return a + b


def test_context_functions_refuse_to_run_outside_an_activity() -> None:
    with pytest.raises(RuntimeError, match=r"activity.info\(\) called outside an activity"):
        activity.info()
    with pytest.raises(RuntimeError, match="outside an activity"):
        activity.heartbeat()
    with pytest.raises(RuntimeError, match="outside an activity"):
        activity.is_cancelled()


# -- outcomes -------------------------------------------------------------------


@activity.defn
def add_one(x: int) -> dict:
    return {"value": x + 1, "pair": (1, 2)}


@activity.defn
async def async_add_one(x: int) -> int:
    await asyncio.sleep(0)
    return x + 1


@activity.defn
def no_input() -> str:
    return "ok"


@activity.defn
def boom(_: Any) -> None:
    raise ValueError("card declined")


@activity.defn
async def async_boom(_: Any) -> None:
    raise KeyError("missing")


@activity.defn
def refuse(_: Any) -> None:
    raise activity.ApplicationError(
        "account closed", type="AccountClosed", non_retryable=True, details={"code": 7}
    )


@activity.defn
def not_json(_: Any) -> object:
    return object()


def test_sync_and_async_success_report_json_results(make_executor, clock) -> None:
    executor = make_executor(add_one, async_add_one, no_input)
    outcomes = Outcomes()
    executor.submit(task("add_one", 1, activity_id=0), outcomes)
    executor.submit(task("async_add_one", 1, activity_id=1), outcomes)
    executor.submit(task("no_input", activity_id=2), outcomes)
    got = {o.task.activity_id: o for o in (outcomes.get(), outcomes.get(), outcomes.get())}
    assert all(isinstance(o, ActivitySucceeded) for o in got.values())
    assert got[0].result == {"value": 2, "pair": [1, 2]}  # normalised as replay will read it
    assert got[1].result == 2
    assert got[2].result == "ok"
    assert executor.in_flight_count() == 0


@pytest.mark.parametrize(
    ("fn", "error_type", "message"),
    [(boom, "ValueError", "card declined"), (async_boom, "KeyError", "'missing'")],
)
def test_an_exception_is_a_retryable_failure(make_executor, fn, error_type, message) -> None:
    executor = make_executor(fn)
    outcomes = Outcomes()
    executor.submit(task(fn.__name__), outcomes)
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityAttemptFailed)
    assert outcome.error.kind is ActivityErrorKind.RETRYABLE
    assert (outcome.error.type, outcome.error.message) == (error_type, message)


def test_non_retryable_application_error_is_terminal(make_executor) -> None:
    executor = make_executor(refuse)
    outcomes = Outcomes()
    executor.submit(task("refuse"), outcomes)
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityAttemptFailed)
    assert outcome.error.kind is ActivityErrorKind.TERMINAL
    assert (outcome.error.type, outcome.error.message) == ("AccountClosed", "account closed")
    assert outcome.error.details == {"code": 7}


def test_a_plain_application_error_is_retryable_and_keeps_its_type(make_executor) -> None:
    @activity.defn
    def flaky(_: Any) -> None:
        raise activity.ApplicationError("try later", type="Busy", details={"bad": {1, 2}})

    executor = make_executor(flaky)
    outcomes = Outcomes()
    executor.submit(task("flaky"), outcomes)
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityAttemptFailed)
    assert (outcome.error.kind, outcome.error.type) == (ActivityErrorKind.RETRYABLE, "Busy")
    assert outcome.error.details == "{'bad': {1, 2}}"  # not JSON: kept as its repr


def test_a_failing_callback_does_not_break_the_executor(make_executor, caplog) -> None:
    executor = make_executor(add_one)
    outcomes = Outcomes()
    called = threading.Event()

    def explode(outcome: ActivityOutcome) -> None:
        try:
            raise RuntimeError("actor gone")
        finally:
            called.set()

    executor.submit(task("add_one", 1, activity_id=0), explode)
    assert called.wait(WAIT)
    executor.submit(task("add_one", 2, activity_id=1), outcomes)
    assert outcomes.get().result["value"] == 3
    executor.shutdown()  # waits for the failing delivery, which logs before it ends
    assert "on_done callback failed" in caplog.text


def test_tasks_are_validated() -> None:
    with pytest.raises(ValueError, match="1-based"):
        task("x", attempt=0)
    with pytest.raises(ValueError, match="delay"):
        task("x", delay=-1)
    with pytest.raises(ValueError, match="heartbeat_timeout"):
        task("x", heartbeat_timeout=0)


def test_unknown_activity_type_is_a_terminal_failure(make_executor) -> None:
    executor = make_executor(add_one)
    outcomes = Outcomes()
    executor.submit(task("nope"), outcomes)
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityAttemptFailed)
    assert outcome.error.kind is ActivityErrorKind.TERMINAL
    assert outcome.error.type == "ActivityTypeNotFound"
    assert "'nope'" in outcome.error.message


def test_a_result_that_is_not_json_is_a_terminal_failure(make_executor) -> None:
    executor = make_executor(not_json)
    outcomes = Outcomes()
    executor.submit(task("not_json"), outcomes)
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityAttemptFailed)
    assert outcome.error.kind is ActivityErrorKind.TERMINAL
    assert "not JSON" in outcome.error.message


# -- context --------------------------------------------------------------------

seen: queue.Queue[Any] = queue.Queue()


@activity.defn(name="whoami")
def whoami_sync(_: Any) -> None:
    seen.put(activity.info())


@activity.defn(name="whoami_async")
async def whoami_async(_: Any) -> None:
    seen.put(activity.info())


@pytest.mark.parametrize("activity_type", ["whoami", "whoami_async"])
def test_info_describes_the_running_attempt(make_executor, clock, activity_type) -> None:
    executor = make_executor(whoami_sync, whoami_async)
    outcomes = Outcomes()
    executor.submit(
        ActivityTask(
            "wf-9", "run-3", 4, activity_type, None, attempt=2, namespace="shop",
            task_queue="payments", start_to_close_timeout=30.0, heartbeat_timeout=5.0, delay=1.5,
        ),
        outcomes,
    )  # fmt: skip
    clock.advance(1.5)
    assert isinstance(outcomes.get(), ActivitySucceeded)
    info = seen.get(timeout=WAIT)
    assert info == activity.ActivityInfo(
        workflow_id="wf-9", run_id="run-3", activity_id=4, activity_type=activity_type,
        attempt=2, namespace="shop", task_queue="payments", start_to_close_timeout=30.0,
        heartbeat_timeout=5.0, scheduled_time=T0, started_time=T0 + timedelta(seconds=1.5),
    )  # fmt: skip


# -- delays and timeouts ----------------------------------------------------------

started: queue.Queue[str] = queue.Queue()
release = threading.Event()


@pytest.fixture(autouse=True)
def _reset_shared_state() -> Iterator[None]:
    release.clear()
    for shared in (started, seen):
        while not shared.empty():
            shared.get_nowait()
    yield
    release.set()  # never leave a worker blocked


@activity.defn
def blocker(_: Any) -> str:
    started.put("blocker")
    release.wait(WAIT)
    return "late"


def test_a_delayed_task_starts_only_when_the_clock_reaches_it(make_executor, clock) -> None:
    calls = threading.Event()

    @activity.defn
    def mark(_: Any) -> None:
        calls.set()

    executor = make_executor(mark)
    outcomes = Outcomes()
    executor.submit(task("mark", delay=5.0), outcomes)
    clock.advance(4.9)  # the launch would happen inside advance(), so it has not
    assert not calls.is_set()
    assert executor.in_flight("wf-1", 0) is not None
    clock.advance(0.1)
    assert isinstance(outcomes.get(), ActivitySucceeded)
    assert calls.is_set()


def test_start_to_close_timeout_reports_once_and_ignores_the_late_result(
    make_executor, clock
) -> None:
    executor = make_executor(blocker)
    outcomes = Outcomes()
    executor.submit(task("blocker", start_to_close_timeout=10.0), outcomes)
    started.get(timeout=WAIT)
    clock.advance(9.9)
    outcomes.assert_none()
    clock.advance(0.1)
    outcome = outcomes.get()
    assert outcome == ActivityTimedOut(outcome.task, "start_to_close")
    assert outcome.error.type == "ActivityTimeout"
    assert outcome.error.kind is ActivityErrorKind.RETRYABLE
    assert outcome.error.message.startswith("start_to_close timeout")
    assert executor.in_flight_count() == 0
    release.set()
    executor.shutdown()  # joins the worker: its late result has been and gone
    outcomes.assert_none()


def test_heartbeats_keep_an_attempt_alive_until_they_stop(make_executor, clock) -> None:
    beat, beaten = queue.Queue(), queue.Queue()
    errors: queue.Queue[BaseException] = queue.Queue()

    @activity.defn
    def beating(_: Any) -> None:
        started.put("beating")
        try:
            while beat.get(timeout=WAIT):
                activity.heartbeat({"progress": 1})
                beaten.put(True)
        except BaseException as exc:
            errors.put(exc)
            raise

    executor = make_executor(beating)
    outcomes = Outcomes()
    executor.submit(task("beating", heartbeat_timeout=2.0), outcomes)
    started.get(timeout=WAIT)
    clock.advance(1.5)
    beat.put(True)
    beaten.get(timeout=WAIT)  # deadline is now t=3.5
    clock.advance(1.5)  # t=3.0: past the first deadline, before the new one
    outcomes.assert_none()
    clock.advance(0.5)  # t=3.5
    outcome = outcomes.get()
    assert isinstance(outcome, ActivityTimedOut)
    assert outcome.timeout_type == "heartbeat"
    beat.put(True)  # the abandoned attempt learns it was cancelled at its next heartbeat
    assert isinstance(errors.get(timeout=WAIT), activity.ActivityCancelledError)


def test_an_async_activity_past_its_timeout_is_cancelled(make_executor, clock) -> None:
    cancelled = threading.Event()

    @activity.defn
    async def stuck(_: Any) -> None:
        started.put("stuck")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    executor = make_executor(stuck)
    outcomes = Outcomes()
    executor.submit(task("stuck", start_to_close_timeout=1.0), outcomes)
    started.get(timeout=WAIT)
    clock.advance(1.0)
    assert isinstance(outcomes.get(), ActivityTimedOut)
    assert cancelled.wait(WAIT)


# -- cancellation -------------------------------------------------------------------


def test_cancelling_a_sync_activity_is_prompt_and_cooperative(make_executor) -> None:
    go = threading.Event()
    raised: queue.Queue[Any] = queue.Queue()

    @activity.defn
    def careful(_: Any) -> str:
        started.put("careful")
        go.wait(WAIT)
        raised.put(activity.is_cancelled())
        try:
            activity.heartbeat()
        except activity.ActivityCancelledError as exc:
            raised.put(exc)
            raise
        return "finished anyway"

    executor = make_executor(careful)
    outcomes = Outcomes()
    executor.submit(task("careful"), outcomes)
    started.get(timeout=WAIT)
    assert executor.cancel("wf-1", 0) is True
    outcome = outcomes.get()  # delivered before the function notices
    assert isinstance(outcome, ActivityWasCancelled)
    assert executor.in_flight("wf-1", 0) is None
    go.set()
    assert raised.get(timeout=WAIT) is True
    assert isinstance(raised.get(timeout=WAIT), activity.ActivityCancelledError)
    executor.shutdown()
    outcomes.assert_none()


def test_cancelling_an_async_activity_cancels_its_task(make_executor) -> None:
    cancelled = threading.Event()

    @activity.defn
    async def waiting(_: Any) -> None:
        started.put("waiting")
        try:
            await asyncio.sleep(3600)  # never elapses: the task is cancelled first
        except asyncio.CancelledError:
            cancelled.set()
            raise

    executor = make_executor(waiting)
    outcomes = Outcomes()
    executor.submit(task("waiting"), outcomes)
    started.get(timeout=WAIT)
    assert executor.cancel("wf-1", 0) is True
    assert isinstance(outcomes.get(), ActivityWasCancelled)
    assert cancelled.wait(WAIT)
    outcomes.assert_none()


def test_cancelling_a_delayed_task_means_it_never_runs(make_executor, clock) -> None:
    calls = threading.Event()

    @activity.defn
    def never(_: Any) -> None:
        calls.set()

    executor = make_executor(never)
    outcomes = Outcomes()
    executor.submit(task("never", delay=5.0), outcomes)
    assert executor.cancel("wf-1", 0) is True
    assert isinstance(outcomes.get(), ActivityWasCancelled)
    clock.advance(10)
    executor.shutdown()
    assert not calls.is_set()
    outcomes.assert_none()


def test_cancel_with_nothing_in_flight_and_cancel_workflow(make_executor) -> None:
    executor = make_executor(blocker)
    outcomes = Outcomes()
    assert executor.cancel("wf-1", 0) is False
    for activity_id in range(3):
        executor.submit(task("blocker", activity_id=activity_id, delay=1.0), outcomes)
    executor.submit(ActivityTask("wf-2", "run", 0, "blocker", None, attempt=1, delay=1), outcomes)
    assert executor.in_flight_count() == 4
    assert executor.cancel_workflow("wf-1") == 3
    assert {outcomes.get().task.activity_id for _ in range(3)} == {0, 1, 2}
    assert executor.in_flight_count() == 1
    assert executor.in_flight("wf-2", 0) is not None


# -- exactly once ---------------------------------------------------------------------


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    """Switch threads often, so both sides of a race get to win some of the time."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("fast_thread_switching")
@pytest.mark.parametrize("racer", ["cancel", "timeout"])
def test_exactly_one_outcome_when_completion_races_cancel_or_timeout(
    make_executor, clock, racer
) -> None:
    both_ready = threading.Barrier(2, timeout=WAIT)

    @activity.defn
    def racing(i: int) -> int:
        both_ready.wait()
        sum(range(i * 7919 % 5000))  # varying work: the race is won by either side
        return i

    @activity.defn
    async def async_racing(i: int) -> int:
        both_ready.wait()  # blocks the loop for an instant: fine in a test
        sum(range(i * 7919 % 5000))
        return i

    executor = make_executor(racing, async_racing)
    outcomes = Outcomes()
    n = 200
    for i in range(n):
        kind = ("racing", "async_racing")[i % 2]
        executor.submit(task(kind, i, activity_id=i, start_to_close_timeout=1.0), outcomes)
        both_ready.wait()  # the activity is returning right now
        if racer == "cancel":
            executor.cancel("wf-1", i)
        else:
            clock.advance(1.0)
    got = [outcomes.get() for _ in range(n)]
    executor.shutdown()  # every worker has finished: any second outcome would be here now
    outcomes.assert_none()
    assert sorted(o.task.activity_id for o in got) == list(range(n))
    lost = ActivityWasCancelled if racer == "cancel" else ActivityTimedOut
    assert all(isinstance(o, ActivitySucceeded | lost) for o in got)


def test_a_duplicate_submit_of_an_in_flight_attempt_is_a_no_op(make_executor) -> None:
    executor = make_executor(blocker)
    outcomes = Outcomes()
    executor.submit(task("blocker"), outcomes)
    started.get(timeout=WAIT)
    executor.submit(task("blocker"), outcomes)
    with pytest.raises(ValueError, match="attempt 1 in flight"):
        executor.submit(task("blocker", attempt=2), outcomes)
    release.set()
    assert outcomes.get() == ActivitySucceeded(task("blocker"), "late")
    executor.shutdown()
    assert started.empty()
    outcomes.assert_none()


# -- shutdown -----------------------------------------------------------------------------


def test_shutdown_joins_every_thread_and_delivers_nothing_more(clock) -> None:
    before = set(threading.enumerate())

    @activity.defn
    def polite(_: Any) -> None:
        started.put("polite")
        while not release.wait(0.01):  # a long job that heartbeats as it goes
            activity.heartbeat()

    @activity.defn
    async def sleepy(_: Any) -> None:
        started.put("sleepy")
        await asyncio.sleep(3600)

    definitions = {d.name: d for d in map(activity.activity_definition, [polite, sleepy])}
    executor = ActivityExecutor(definitions, clock)
    outcomes = Outcomes()
    executor.submit(task("polite", activity_id=0), outcomes)
    executor.submit(task("sleepy", activity_id=1), outcomes)
    executor.submit(task("polite", activity_id=2, delay=5.0), outcomes)
    assert {started.get(timeout=WAIT), started.get(timeout=WAIT)} == {"polite", "sleepy"}
    assert len(set(threading.enumerate()) - before) >= 2  # a worker and the loop thread

    executor.shutdown()

    assert set(threading.enumerate()) - before == set()
    clock.advance(10)
    outcomes.assert_none()
    assert started.empty()
    with pytest.raises(RuntimeError, match="shut down"):
        executor.submit(task("polite", activity_id=3), outcomes)
