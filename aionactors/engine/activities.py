"""The activity executor: runs one attempt at a time per activity, reports one outcome.

Sync activities run on a thread pool; async ones on one asyncio loop in its own
daemon thread. Delays and timeouts go through the :class:`Clock`, so tests move
time by hand. Retrying is not decided here: the workflow actor reads the outcome
and submits the next attempt.

Example::

    executor = ActivityExecutor({d.name: d for d in map(activity_definition, [charge])}, clock)
    executor.submit(ActivityTask("wf-1", "run-1", 0, "charge", {"id": 42}, attempt=1), tell_actor)
    ...
    executor.shutdown()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from aionactors import tracing
from aionactors.core.payload import ActivityError, ActivityErrorKind
from aionactors.core.workflow_keys import public_id
from aionactors.engine.clock import Cancellable, Clock
from aionactors.engine.workers import WorkerPool
from aionactors.workflow.activity import (
    ActivityCancelledError,
    ActivityDefinition,
    ActivityInfo,
    enter_activity,
    error_from_exception,
)
from aionactors.workflow.payloads import to_json

_log = logging.getLogger(__name__)

_ASYNC_GRACE_SECONDS = 5.0
"""How long shutdown lets cancelled async activities run their cleanup."""


def _traced(task: ActivityTask) -> contextlib.AbstractContextManager[None]:
    """A span for one attempt, in the run's trace (a no-op without OpenTelemetry)."""
    return tracing.span(
        f"activity {task.activity_type}",
        carrier=task.trace_context,
        attributes={"workflow.id": public_id(task.workflow_id), "workflow.run_id": task.run_id,
                    "workflow.namespace": task.namespace,
                    "activity.id": task.activity_id, "activity.attempt": task.attempt},
    )  # fmt: skip


@dataclass(frozen=True)
class ActivityTask:
    """One attempt to run: ``attempt`` is 1-based, times are seconds, ``input`` is JSON."""

    workflow_id: str
    run_id: str
    activity_id: int
    activity_type: str
    input: Any
    attempt: int
    namespace: str = "default"
    task_queue: str = "default"
    start_to_close_timeout: float | None = None
    heartbeat_timeout: float | None = None
    schedule_to_start_timeout: float | None = None
    """Task queues only: how long the attempt may wait unclaimed (in-process ones start
    at once)."""
    delay: float = 0.0
    package_version: str | None = None
    """The run's pinned package version: its activities run that version's code."""
    trace_context: dict[str, str] | None = None  # the run's W3C trace context (tracing.py)

    def __post_init__(self) -> None:
        if self.attempt < 1:
            raise ValueError(f"attempt is 1-based, got {self.attempt}")
        if self.delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {self.delay}")
        for name in ("start_to_close_timeout", "heartbeat_timeout", "schedule_to_start_timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 seconds or None, got {value}")


@dataclass(frozen=True)
class ActivitySucceeded:
    task: ActivityTask
    result: Any


@dataclass(frozen=True)
class ActivityAttemptFailed:
    task: ActivityTask
    error: ActivityError


@dataclass(frozen=True)
class ActivityTimedOut:
    task: ActivityTask
    timeout_type: Literal["start_to_close", "heartbeat", "schedule_to_start"]

    @property
    def error(self) -> ActivityError:
        """The error to record for this attempt.

        Start-to-close and heartbeat timeouts are retryable (``ActivityTimeout``). A
        schedule-to-start timeout is not (``ScheduleToStartTimeout``, as in Temporal): no
        worker claimed the task, and a retry would only wait on the same queue again.
        """
        task = self.task
        limit = getattr(task, f"{self.timeout_type}_timeout")
        if self.timeout_type == "schedule_to_start":
            return ActivityError(
                kind=ActivityErrorKind.TERMINAL,
                type="ScheduleToStartTimeout",
                message=f"schedule_to_start timeout: attempt {task.attempt} of activity "
                f"{task.activity_type!r} waited on task queue {task.task_queue!r} "
                f"for {limit}s and no worker claimed it",
            )
        what = "ran longer than" if self.timeout_type == "start_to_close" else "was silent for"
        return ActivityError(
            kind=ActivityErrorKind.RETRYABLE,
            type="ActivityTimeout",
            message=f"{self.timeout_type} timeout: attempt {task.attempt} of activity "
            f"{task.activity_type!r} {what} {limit}s",
        )


@dataclass(frozen=True)
class ActivityWasCancelled:
    task: ActivityTask


ActivityOutcome = (
    ActivitySucceeded | ActivityAttemptFailed | ActivityTimedOut | ActivityWasCancelled
)
OnDone = Callable[[ActivityOutcome], None]
ActivityResolver = Callable[[str, str | None], ActivityDefinition | None]
"""(activity type, package version) -> its definition, or None if it is not registered."""
HeartbeatHook = Callable[[ActivityTask, Any], None]
"""Told of every heartbeat (the remote worker SDK relays them to the server)."""

_SHARED_WITH_INFO = tuple(
    f.name for f in fields(ActivityInfo) if f.name in {t.name for t in fields(ActivityTask)}
)
"""Every ActivityInfo field but the two times is copied from the task."""


class _Attempt:
    """One submitted task's mutable state; every field is guarded by the executor's lock."""

    def __init__(
        self, task: ActivityTask, on_done: OnDone, clock: Clock, lock: threading.RLock
    ) -> None:
        self.task = task
        self.on_done = on_done
        self.scheduled_time = clock.now()
        self.settled = False
        self.running = False
        """The activity code has begun (a drain waits for these to report)."""
        self.cancel_requested = False  # written under the lock; a plain read is enough
        self.timers: list[Cancellable] = []
        self.future: concurrent.futures.Future[None] | None = None
        self.last_heartbeat: datetime = self.scheduled_time
        self._info: ActivityInfo | None = None
        self._clock = clock
        self._lock = lock
        self.on_heartbeat: HeartbeatHook | None = None

    # The ActivityContext seen by activity code.
    @property
    def info(self) -> ActivityInfo:
        assert self._info is not None, "info is set before the activity function runs"
        return self._info

    def heartbeat(self, details: Any = None) -> None:
        with self._lock:
            if self.cancel_requested:
                raise ActivityCancelledError(
                    f"attempt {self.task.attempt} of activity {self.task.activity_type!r} "
                    "was cancelled by the engine"
                )
            self.last_heartbeat = self._clock.now()
            hook = self.on_heartbeat
        if hook is not None:
            hook(self.task, details)

    def is_cancelled(self) -> bool:
        return self.cancel_requested

    def begin(self) -> None:
        """Mark the attempt as running (caller holds the lock)."""
        now = self._clock.now()
        self.last_heartbeat = now
        self.running = True
        shared = {name: getattr(self.task, name) for name in _SHARED_WITH_INFO}
        shared["workflow_id"] = public_id(self.task.workflow_id)  # the id in its namespace
        self._info = ActivityInfo(**shared, scheduled_time=self.scheduled_time, started_time=now)

    def stop(self) -> None:
        """Stop timers and ask the running code to stop (caller holds the lock)."""
        self.cancel_requested = True
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()
        if self.future is not None:
            # Chained to the asyncio task: cancels it in the loop (unless the loop is closed).
            with contextlib.suppress(RuntimeError):
                self.future.cancel()


class ActivityExecutor:
    """Runs activity attempts and reports exactly one outcome per submitted task.

    ``on_done`` is called once per task, from a worker thread, the loop thread or
    the clock's thread; keep it quick (tell an actor). Nothing is delivered after
    :meth:`shutdown` returns.
    """

    def __init__(
        self,
        definitions: Mapping[str, ActivityDefinition] | ActivityResolver,
        clock: Clock,
        *,
        max_workers: int = 32,
        on_heartbeat: HeartbeatHook | None = None,
    ) -> None:
        if isinstance(definitions, Mapping):
            by_name = dict(definitions)
            self._resolve: ActivityResolver = lambda name, _version: by_name.get(name)
        else:
            self._resolve = definitions
        self._clock = clock
        self._on_heartbeat = on_heartbeat
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._in_flight: dict[tuple[str, int], _Attempt] = {}
        self._by_workflow: dict[str, set[int]] = {}
        """In-flight activity ids per workflow, so cancelling a workflow's is not a scan."""
        self._delivering: Counter[int] = Counter()  # thread id -> on_done calls running
        self._closed = False
        self._draining = False
        self._pool = WorkerPool(max_workers, "aionactors-activity")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None

    # -- public API -------------------------------------------------------------

    def submit(self, task: ActivityTask, on_done: OnDone) -> None:
        """Run ``task`` after ``task.delay`` seconds; a duplicate in-flight attempt is a no-op."""
        key = (task.workflow_id, task.activity_id)
        with self._lock:
            if self._closed:
                raise RuntimeError("the activity executor is shut down")
            current = self._in_flight.get(key)
            if current is not None:
                if current.task.attempt == task.attempt:
                    return
                raise ValueError(
                    f"activity {task.activity_id} of workflow {task.workflow_id!r} already has "
                    f"attempt {current.task.attempt} in flight; cancel it before submitting "
                    f"attempt {task.attempt}"
                )
            attempt = _Attempt(task, on_done, self._clock, self._lock)
            attempt.on_heartbeat = self._on_heartbeat
            self._in_flight[key] = attempt
            self._by_workflow.setdefault(task.workflow_id, set()).add(task.activity_id)
            if task.delay > 0:
                attempt.timers.append(
                    self._clock.call_later(task.delay, lambda: self._launch(attempt))
                )
            else:
                self._launch(attempt)

    def cancel(self, workflow_id: str, activity_id: int) -> bool:
        """Cancel the in-flight attempt; ``False`` if there was none."""
        with self._lock:
            attempt = self._in_flight.get((workflow_id, activity_id))
            if attempt is None:
                return False
        return self._settle(attempt, ActivityWasCancelled(attempt.task))

    def cancel_workflow(self, workflow_id: str) -> int:
        """Cancel every in-flight attempt of ``workflow_id``; returns how many."""
        with self._lock:
            ids = self._by_workflow.get(workflow_id, ())
            attempts = [self._in_flight[(workflow_id, i)] for i in ids]
        return sum(self._settle(a, ActivityWasCancelled(a.task)) for a in attempts)

    def in_flight(self, workflow_id: str, activity_id: int) -> ActivityTask | None:
        with self._lock:
            attempt = self._in_flight.get((workflow_id, activity_id))
            return attempt.task if attempt is not None else None

    def in_flight_count(self) -> int:
        with self._lock:
            return len(self._in_flight)

    def drain(self, timeout: float) -> bool:
        """Begin no new attempt; wait up to ``timeout`` s for running ones to report.

        Attempts not yet begun (queued, or waiting out a retry delay) stay unstarted: their
        ActivityStarted is recorded, so recovery dispatches them. ``True`` if every running
        attempt delivered its outcome in time.
        """

        def idle() -> bool:
            running = any(a.running for a in self._in_flight.values())
            return not running and not sum(self._delivering.values())

        with self._lock:
            self._draining = True
            return self._idle.wait_for(idle, timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Abandon outstanding attempts (no outcome) and stop; ``wait`` joins every thread.

        A sync activity that never heartbeats cannot be interrupted: with ``wait=True``
        shutdown waits for it to return.
        """
        me = threading.get_ident()
        with self._lock:
            self._closed = True
            abandoned = list(self._in_flight.values())
            self._in_flight.clear()
            self._by_workflow.clear()
            for attempt in abandoned:
                attempt.settled = True
                attempt.stop()
            # A callback already running may finish; none may start or outlive us.
            self._idle.wait_for(lambda: sum(self._delivering.values()) == self._delivering[me])
            loop, loop_thread = self._loop, self._loop_thread
        self._pool.shutdown(wait=wait)
        if loop is not None and loop_thread is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed already
                loop.call_soon_threadsafe(loop.stop)
            if wait and loop_thread is not threading.current_thread():
                loop_thread.join()

    # -- running an attempt -----------------------------------------------------

    def _launch(self, attempt: _Attempt) -> None:
        """Hand the attempt to the pool or the loop (its delay has passed)."""
        with self._lock:
            if attempt.settled or self._closed or self._draining:
                return
            attempt.timers.clear()  # the delay timer has fired
            definition = self._resolve(attempt.task.activity_type, attempt.task.package_version)
            if definition is None:
                error = ActivityError(
                    kind=ActivityErrorKind.TERMINAL,
                    type="ActivityTypeNotFound",
                    message=f"activity type {attempt.task.activity_type!r} is not registered "
                    "with this engine; pass it in activities=[...]",
                )
                self._pool.submit(self._settle, attempt, ActivityAttemptFailed(attempt.task, error))
            elif definition.is_async:
                attempt.future = asyncio.run_coroutine_threadsafe(
                    self._run_async(attempt, definition), self._ensure_loop()
                )
            else:
                self._pool.submit(self._run_sync, attempt, definition)

    def _begin(self, attempt: _Attempt) -> bool:
        """Start the clock on a running attempt's timeouts; ``False`` if already settled."""
        with self._lock:
            if attempt.settled or self._draining:
                return False  # a drain lets running attempts finish, starts none
            attempt.begin()
            task = attempt.task
            if task.start_to_close_timeout is not None:
                attempt.timers.append(
                    self._clock.call_later(
                        task.start_to_close_timeout,
                        lambda: self._settle(attempt, ActivityTimedOut(task, "start_to_close")),
                    )
                )
            if task.heartbeat_timeout is not None:
                self._arm_heartbeat_check(attempt, task.heartbeat_timeout)
            return True

    def _arm_heartbeat_check(self, attempt: _Attempt, timeout: float) -> None:
        deadline = attempt.last_heartbeat + timedelta(seconds=timeout)
        attempt.timers.append(
            self._clock.call_at(deadline, lambda: self._check_heartbeat(attempt, timeout))
        )

    def _check_heartbeat(self, attempt: _Attempt, timeout: float) -> None:
        with self._lock:
            if attempt.settled:
                return
            deadline = attempt.last_heartbeat + timedelta(seconds=timeout)
            if self._clock.now() < deadline:  # a heartbeat came in: wait for the new deadline
                self._arm_heartbeat_check(attempt, timeout)
                return
        self._settle(attempt, ActivityTimedOut(attempt.task, "heartbeat"))

    def _run_sync(self, attempt: _Attempt, definition: ActivityDefinition) -> None:
        if not self._begin(attempt):
            return
        try:
            with enter_activity(attempt), _traced(attempt.task):
                result = definition.call(attempt.task.input)
        except BaseException as exc:  # the outcome must be reported whatever was raised
            self._settle(attempt, ActivityAttemptFailed(attempt.task, error_from_exception(exc)))
        else:
            self._settle(attempt, _success(attempt.task, result))

    async def _run_async(self, attempt: _Attempt, definition: ActivityDefinition) -> None:
        if not self._begin(attempt):
            return
        try:
            with enter_activity(attempt), _traced(attempt.task):
                result = await definition.call(attempt.task.input)
        except asyncio.CancelledError as exc:
            # Only reaches on_done if nobody settled first (cancel() and timeouts do).
            self._settle(attempt, ActivityAttemptFailed(attempt.task, error_from_exception(exc)))
            raise
        except BaseException as exc:  # incl. ActivityCancelledError from a late heartbeat()
            self._settle(attempt, ActivityAttemptFailed(attempt.task, error_from_exception(exc)))
        else:
            self._settle(attempt, _success(attempt.task, result))

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The one event loop for async activities, started on first use (lock held)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(
                target=_run_loop, args=(self._loop,), name="aionactors-activity-loop", daemon=True
            )
            self._loop_thread.start()
        return self._loop

    # -- settling ---------------------------------------------------------------

    def _settle(self, attempt: _Attempt, outcome: ActivityOutcome) -> bool:
        """Record the attempt's one outcome and deliver it; ``False`` if it was already settled."""
        me = threading.get_ident()
        with self._lock:
            if attempt.settled:
                return False
            attempt.settled = True
            key = (attempt.task.workflow_id, attempt.task.activity_id)
            if self._in_flight.get(key) is attempt:
                del self._in_flight[key]
                ids = self._by_workflow.get(key[0])
                if ids is not None:
                    ids.discard(key[1])
                    if not ids:
                        del self._by_workflow[key[0]]
            attempt.stop()
            if self._closed:
                return False
            self._delivering[me] += 1
        try:
            attempt.on_done(outcome)
        except Exception:  # a faulty callback must not break the executor
            _log.exception("activity on_done callback failed for %s", attempt.task)
        finally:
            with self._lock:
                self._delivering[me] -= 1
                if not self._delivering[me]:
                    del self._delivering[me]
                self._idle.notify_all()
        return True


def _success(task: ActivityTask, result: Any) -> ActivityOutcome:
    try:
        # Round-trip so the live result equals what replay will read back (tuples -> lists).
        normalised = json.loads(json.dumps(to_json(result), allow_nan=False))
    except (TypeError, ValueError) as exc:
        error = ActivityError(
            kind=ActivityErrorKind.TERMINAL,
            type="ResultNotSerializable",
            message=f"activity {task.activity_type!r} returned a value that is not JSON: {exc}",
        )
        return ActivityAttemptFailed(task, error)
    return ActivitySucceeded(task, normalised)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.wait(tasks, timeout=_ASYNC_GRACE_SECONDS))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
