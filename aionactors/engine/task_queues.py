"""Task queues: activity attempts that wait for a remote worker to claim them.

The rule: an activity scheduled with an explicit ``task_queue`` other than
``"default"`` (``workflow.execute_activity("charge", x, task_queue="payments")``)
goes to that queue; everything else runs in-process as before
(:class:`RoutedExecutor` decides). The engine knows nothing of the wire: a
transport claims tasks, relays heartbeats and results, and reports lost
workers. Each submitted attempt reports exactly one outcome to the workflow
actor, through the same :data:`ActivityOutcome` path as in-process attempts, so
retries, backoff and timeouts behave the same. A result for an attempt that is
no longer current is ignored (the caller still acknowledges it). An optional
schedule-to-start deadline runs from the moment an attempt joins its queue (after
any retry backoff) until a worker claims it.

Example::

    queues = TaskQueues(clock)
    queues.on_available(lambda: wake_dispatcher())
    task = queues.claim("default", "payments", {"charge"}, worker_id="w1")
    queues.complete(task.task_id, {"ok": True})
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from aionactors.core.payload import ActivityError, ActivityErrorKind
from aionactors.engine.activities import (
    ActivityAttemptFailed,
    ActivityExecutor,
    ActivityOutcome,
    ActivitySucceeded,
    ActivityTask,
    ActivityTimedOut,
    ActivityWasCancelled,
    OnDone,
)
from aionactors.engine.clock import Cancellable, Clock

_log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"
CancelReason = Literal["cancelled", "start_to_close_timeout", "heartbeat_timeout", "lost"]


def is_remote(task: ActivityTask) -> bool:
    """Whether ``task`` is bound for a remote worker's queue (see the module rule)."""
    return task.task_queue != DEFAULT_QUEUE


@dataclass
class RemoteTask:
    """One attempt on a queue; ``worker_id`` is set once a worker claimed it."""

    task_id: str
    task: ActivityTask
    on_done: OnDone
    queued_at: datetime
    worker_id: str | None = None
    claimed_at: datetime | None = None
    last_heartbeat: datetime | None = None
    heartbeat_details: Any = None
    settled: bool = False
    timers: list[Cancellable] = field(default_factory=list)


CancelListener = Callable[[str, str, str], None]
"""(worker_id, task_id, reason): tell that worker to stop the task."""


class TaskQueues:
    """Queued and claimed remote attempts; thread-safe, callbacks run outside the lock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._queues: dict[tuple[str, str], deque[RemoteTask]] = {}
        self._tasks: dict[str, RemoteTask] = {}
        self._by_activity: dict[tuple[str, int], RemoteTask] = {}
        self._available: list[Callable[[], None]] = []
        self._cancel_listeners: list[CancelListener] = []
        self._closed = False

    # -- the transport's side ---------------------------------------------------

    def on_available(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from any thread) whenever a task joins a queue."""
        self._available.append(callback)

    def on_cancel(self, callback: CancelListener) -> None:
        """Call ``callback`` when a claimed task is no longer wanted."""
        self._cancel_listeners.append(callback)

    def claim(
        self, namespace: str, task_queue: str, activity_types: Collection[str], worker_id: str
    ) -> RemoteTask | None:
        """The oldest waiting task of one of ``activity_types``, now held by ``worker_id``."""
        with self._lock:
            queue = self._queues.get((namespace, task_queue))
            if not queue:
                return None
            for remote in list(queue):
                if remote.task.activity_type in activity_types or not activity_types:
                    queue.remove(remote)
                    self._start(remote, worker_id)
                    return remote
            return None

    def backlog(self) -> dict[tuple[str, str], int]:
        """Waiting (unclaimed) tasks per (namespace, task_queue) that ever held one; a
        drained queue reports 0, so a gauge built on this never keeps a stale value."""
        with self._lock:
            return {key: len(q) for key, q in self._queues.items()}

    def heartbeat(self, task_id: str, details: Any = None) -> bool:
        """Reset the task's heartbeat deadline; ``False`` if it is no longer current."""
        with self._lock:
            remote = self._tasks.get(task_id)
            if remote is None or remote.worker_id is None:
                return False
            remote.last_heartbeat = self._clock.now()
            remote.heartbeat_details = details
            return True

    def complete(self, task_id: str, result: Any) -> bool:
        """Record a success; ``False`` (and nothing recorded) if the attempt is not current."""
        remote = self._current(task_id)
        if remote is None:
            return False
        try:
            normalised = json.loads(json.dumps(result, allow_nan=False))
        except (TypeError, ValueError) as exc:
            error = ActivityError(
                kind=ActivityErrorKind.TERMINAL,
                type="ResultNotSerializable",
                message=f"remote result is not JSON: {exc}",
            )
            return self._settle(remote, ActivityAttemptFailed(remote.task, error))
        return self._settle(remote, ActivitySucceeded(remote.task, normalised))

    def fail(self, task_id: str, error: ActivityError) -> bool:
        """Record a failed attempt (retried per policy if retryable)."""
        remote = self._current(task_id)
        if remote is None:
            return False
        return self._settle(remote, ActivityAttemptFailed(remote.task, error))

    def lose(self, worker_id: str) -> int:
        """Record every attempt ``worker_id`` holds as a retryable "worker lost" failure."""
        with self._lock:
            held = [r for r in self._tasks.values() if r.worker_id == worker_id]
        for remote in held:
            error = ActivityError(
                kind=ActivityErrorKind.RETRYABLE,
                type="WorkerLost",
                message=f"worker lost: {worker_id} went away holding attempt "
                f"{remote.task.attempt} of activity {remote.task.activity_type!r}",
            )
            self._settle(remote, ActivityAttemptFailed(remote.task, error), notify=False)
        return len(held)

    def task_of(self, task_id: str) -> ActivityTask | None:
        """The claimed attempt ``task_id`` names, if it is still current."""
        remote = self._current(task_id)
        return remote.task if remote is not None else None

    def holder(self, workflow_id: str, activity_id: int) -> str | None:
        """The worker holding that activity's current attempt, if a worker does."""
        with self._lock:
            remote = self._by_activity.get((workflow_id, activity_id))
            return remote.worker_id if remote is not None else None

    def held_by(self, worker_id: str) -> list[str]:
        with self._lock:
            return [t for t, r in self._tasks.items() if r.worker_id == worker_id]

    # -- the executor interface (the workflow actor's side) ---------------------

    def submit(self, task: ActivityTask, on_done: OnDone) -> None:
        """Queue ``task`` after ``task.delay``; a duplicate of the current attempt is a no-op."""
        key = (task.workflow_id, task.activity_id)
        with self._lock:
            if self._closed:
                raise RuntimeError("the task queues are shut down")
            current = self._by_activity.get(key)
            if current is not None:
                if current.task.attempt == task.attempt:
                    return
                raise ValueError(
                    f"activity {task.activity_id} of workflow {task.workflow_id!r} already has "
                    f"attempt {current.task.attempt} queued; cancel it first"
                )
            remote = RemoteTask(uuid.uuid4().hex, task, on_done, self._clock.now())
            self._tasks[remote.task_id] = remote
            self._by_activity[key] = remote
            if task.delay > 0:
                enqueue = self._clock.call_later(task.delay, lambda: self._enqueue(remote))
                remote.timers.append(enqueue)
                return
        self._enqueue(remote)

    def cancel(self, workflow_id: str, activity_id: int) -> bool:
        with self._lock:
            remote = self._by_activity.get((workflow_id, activity_id))
        if remote is None:
            return False
        return self._settle(remote, ActivityWasCancelled(remote.task))

    def cancel_workflow(self, workflow_id: str) -> int:
        with self._lock:
            held = [r for (wf, _), r in self._by_activity.items() if wf == workflow_id]
        return sum(self._settle(r, ActivityWasCancelled(r.task)) for r in held)

    def in_flight(self, workflow_id: str, activity_id: int) -> ActivityTask | None:
        with self._lock:
            remote = self._by_activity.get((workflow_id, activity_id))
            return remote.task if remote is not None else None

    def in_flight_count(self) -> int:
        with self._lock:
            return len(self._tasks)

    def shutdown(self, wait: bool = True) -> None:
        """Abandon every attempt without an outcome (recovery re-queues them)."""
        del wait
        with self._lock:
            self._closed = True
            abandoned = list(self._tasks.values())
            self._tasks.clear()
            self._by_activity.clear()
            self._queues.clear()
            for remote in abandoned:
                remote.settled = True
                for timer in remote.timers:
                    timer.cancel()

    # -- internals --------------------------------------------------------------

    def _current(self, task_id: str) -> RemoteTask | None:
        with self._lock:
            remote = self._tasks.get(task_id)
            return remote if remote is not None and remote.worker_id is not None else None

    def _enqueue(self, remote: RemoteTask) -> None:
        with self._lock:
            if remote.settled or self._closed:
                return
            remote.timers.clear()
            key = (remote.task.namespace, remote.task.task_queue)
            self._queues.setdefault(key, deque()).append(remote)
            limit = remote.task.schedule_to_start_timeout
            if limit is not None:
                remote.timers.append(self._clock.call_later(limit, lambda: self._unclaimed(remote)))
        for callback in self._available:
            try:
                callback()
            except Exception:  # a faulty transport must not break the engine
                _log.exception("task queue availability callback failed")

    def _unclaimed(self, remote: RemoteTask) -> None:
        """The schedule-to-start deadline passed: time the attempt out if no one claimed it."""
        with self._lock:
            queue = self._queues.get((remote.task.namespace, remote.task.task_queue))
            if remote.settled or queue is None or remote not in queue:
                return  # claimed (or settled) meanwhile
            queue.remove(remote)  # out of reach of claim() before the lock is released
        self._settle(remote, ActivityTimedOut(remote.task, "schedule_to_start"))

    def _start(self, remote: RemoteTask, worker_id: str) -> None:
        """Hand ``remote`` to ``worker_id`` and arm its timeouts (lock held)."""
        for timer in remote.timers:  # the schedule-to-start deadline, met
            timer.cancel()
        remote.timers.clear()
        now = self._clock.now()
        remote.worker_id = worker_id
        remote.claimed_at = now
        remote.last_heartbeat = now
        task = remote.task
        if task.start_to_close_timeout is not None:
            remote.timers.append(
                self._clock.call_later(
                    task.start_to_close_timeout,
                    lambda: self._settle(remote, ActivityTimedOut(task, "start_to_close")),
                )
            )
        if task.heartbeat_timeout is not None:
            self._arm_heartbeat(remote, task.heartbeat_timeout)

    def _arm_heartbeat(self, remote: RemoteTask, timeout: float) -> None:
        assert remote.last_heartbeat is not None
        deadline = remote.last_heartbeat + timedelta(seconds=timeout)
        remote.timers.append(self._clock.call_at(deadline, lambda: self._check(remote, timeout)))

    def _check(self, remote: RemoteTask, timeout: float) -> None:
        with self._lock:
            if remote.settled or remote.last_heartbeat is None:
                return
            if self._clock.now() < remote.last_heartbeat + timedelta(seconds=timeout):
                self._arm_heartbeat(remote, timeout)
                return
        self._settle(remote, ActivityTimedOut(remote.task, "heartbeat"))

    def _settle(self, remote: RemoteTask, outcome: ActivityOutcome, *, notify: bool = True) -> bool:
        """Deliver the attempt's one outcome; tell its worker to stop unless it reported it."""
        with self._lock:
            if remote.settled:
                return False
            remote.settled = True
            self._tasks.pop(remote.task_id, None)
            key = (remote.task.workflow_id, remote.task.activity_id)
            if self._by_activity.get(key) is remote:
                del self._by_activity[key]
            queue = self._queues.get((remote.task.namespace, remote.task.task_queue))
            if queue is not None and remote in queue:
                queue.remove(remote)
            for timer in remote.timers:
                timer.cancel()
            remote.timers.clear()
            if self._closed:
                return False
        reason = _cancel_reason(outcome)
        if notify and reason is not None and remote.worker_id is not None:
            for listener in self._cancel_listeners:
                try:
                    listener(remote.worker_id, remote.task_id, reason)
                except Exception:
                    _log.exception("task queue cancel listener failed")
        try:
            remote.on_done(outcome)
        except Exception:
            _log.exception("remote activity on_done callback failed for %s", remote.task)
        return True


def _cancel_reason(outcome: ActivityOutcome) -> str | None:
    """Why the worker must stop, or None when the worker itself reported the outcome."""
    if isinstance(outcome, ActivityWasCancelled):
        return "cancelled"
    if isinstance(outcome, ActivityTimedOut):
        return f"{outcome.timeout_type}_timeout"
    return None


class RoutedExecutor:
    """The executor the workflow actors see: in-process attempts or task queues, by rule."""

    def __init__(self, local: ActivityExecutor, queues: TaskQueues) -> None:
        self.local = local
        self.queues = queues

    def submit(self, task: ActivityTask, on_done: OnDone) -> None:
        (self.queues if is_remote(task) else self.local).submit(task, on_done)

    def cancel(self, workflow_id: str, activity_id: int) -> bool:
        return self.local.cancel(workflow_id, activity_id) or self.queues.cancel(
            workflow_id, activity_id
        )

    def cancel_workflow(self, workflow_id: str) -> int:
        return self.local.cancel_workflow(workflow_id) + self.queues.cancel_workflow(workflow_id)

    def in_flight(self, workflow_id: str, activity_id: int) -> ActivityTask | None:
        return self.local.in_flight(workflow_id, activity_id) or self.queues.in_flight(
            workflow_id, activity_id
        )

    def in_flight_count(self) -> int:
        return self.local.in_flight_count() + self.queues.in_flight_count()

    def drain(self, timeout: float) -> bool:
        """In-process attempts get the drain window (see ActivityExecutor.drain); remote ones
        are their workers' to finish: the server sends ``drain`` and recovery re-queues."""
        return self.local.drain(timeout)

    def shutdown(self, wait: bool = True) -> None:
        self.queues.shutdown(wait=wait)
        self.local.shutdown(wait=wait)
