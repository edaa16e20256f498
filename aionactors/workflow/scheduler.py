"""A tiny deterministic task runner for workflow coroutines (no asyncio loop).

Workflow code awaits :class:`WorkflowFuture` objects only. The scheduler steps
ready tasks in FIFO order until every task waits on an unresolved future: the
same resolutions in the same order always give the same steps, which is what
makes replay reproduce the original execution.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from aionactors.workflow.errors import (
    FOREIGN_AWAIT_ADVICE,
    CancelledError,
    ContinueAsNewRequest,
    ForeignAwaitError,
)

_PENDING, _DONE, _FAILED = "pending", "done", "failed"


class WorkflowFuture:
    """The only thing workflow code may await; resolved by the driver from history."""

    __slots__ = (
        "_callbacks",
        "_cancel_settles",
        "_exception",
        "_on_cancel",
        "_state",
        "_value",
        "label",
    )

    def __init__(
        self,
        label: str = "",
        on_cancel: Callable[[], None] | None = None,
        *,
        cancel_settles: bool = True,
    ) -> None:
        self.label = label
        self._state = _PENDING
        self._value: Any = None
        self._exception: BaseException | None = None
        self._callbacks: list[Callable[[WorkflowFuture], None]] = []
        self._on_cancel = on_cancel
        self._cancel_settles = cancel_settles
        """False for a task's future: cancelling asks the task to stop; it settles when it does."""

    def done(self) -> bool:
        return self._state != _PENDING

    def result(self) -> Any:
        if self._state == _PENDING:
            raise RuntimeError(f"future {self.label!r} is not resolved yet")
        if self._exception is not None:
            raise self._exception
        return self._value

    def exception(self) -> BaseException | None:
        return self._exception

    def set_result(self, value: Any) -> None:
        if self.done():
            return
        self._state, self._value = _DONE, value
        self._fire()

    def set_exception(self, exc: BaseException) -> None:
        if self.done():
            return
        self._state, self._exception = _FAILED, exc
        self._fire()

    def cancel(self) -> bool:
        """Cancel the operation behind the future; waiters see CancelledError."""
        if self.done():
            return False
        if self._on_cancel is not None:
            self._on_cancel()
        if self._cancel_settles:
            self.set_exception(CancelledError(f"{self.label or 'operation'} cancelled"))
        return True

    def add_done_callback(self, callback: Callable[[WorkflowFuture], None]) -> None:
        if self.done():
            callback(self)
        else:
            self._callbacks.append(callback)

    def _fire(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def __await__(self) -> Generator[WorkflowFuture, None, Any]:
        if not self.done():
            yield self
        return self.result()


class Task:
    """One coroutine of workflow code (the run method, a gather branch, an async handler)."""

    __slots__ = ("_cancel_requested", "_coro", "_scheduler", "future", "name", "waiting_on")

    def __init__(self, scheduler: Scheduler, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._scheduler = scheduler
        self._coro = coro
        self.name = name
        self.waiting_on: WorkflowFuture | None = None
        self._cancel_requested = False
        self.future = WorkflowFuture(label=name, on_cancel=self._cancel, cancel_settles=False)

    def step(self, exc: BaseException | None) -> None:
        if self._cancel_requested and exc is None:
            exc, self._cancel_requested = CancelledError(f"{self.name} cancelled"), False
        try:
            yielded = self._coro.throw(exc) if exc is not None else self._coro.send(None)
        except StopIteration as stop:
            self.future.set_result(stop.value)
            return
        except (Exception, CancelledError, ContinueAsNewRequest) as error:
            self.future.set_exception(error)
            return
        if not isinstance(yielded, WorkflowFuture):
            problem = ForeignAwaitError(
                f"workflow code awaited {yielded!r}, which the deterministic driver cannot run;"
                f" {FOREIGN_AWAIT_ADVICE}"
            )
            self._scheduler.schedule(self, problem)
            return
        self.waiting_on = yielded
        yielded.add_done_callback(self._wake)

    def _wake(self, _: WorkflowFuture) -> None:
        self.waiting_on = None
        self._scheduler.schedule(self, None)

    def _cancel(self) -> None:
        if self.waiting_on is not None:
            self.waiting_on.cancel()
        else:
            self._cancel_requested = True

    def close(self) -> None:
        """Drop the coroutine without running it further (the run is over)."""
        self._coro.close()


class Scheduler:
    """Runs ready tasks, then re-checks wait_condition predicates, until nothing moves."""

    def __init__(self) -> None:
        self._ready: deque[tuple[Task, BaseException | None]] = deque()
        self._conditions: list[tuple[Callable[[], bool], WorkflowFuture]] = []
        self._tasks: list[Task] = []

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> Task:
        task = Task(self, coro, name)
        self._tasks.append(task)
        self.schedule(task, None)
        return task

    def schedule(self, task: Task, exc: BaseException | None) -> None:
        self._ready.append((task, exc))

    def add_condition(self, predicate: Callable[[], bool], future: WorkflowFuture) -> None:
        self._conditions.append((predicate, future))

    @property
    def idle(self) -> bool:
        """Nothing to run: no task is ready and no condition waits to be checked (a
        condition may read ``workflow.now()``, which every applied event moves)."""
        return not self._ready and not self._conditions

    def run_until_quiescent(self) -> None:
        while True:
            while self._ready:
                task, exc = self._ready.popleft()
                if not task.future.done():
                    task.step(exc)
            if not self._check_conditions():
                return

    def _check_conditions(self) -> bool:
        """Resolve satisfied conditions; True if any task was woken."""
        woke = False
        remaining: list[tuple[Callable[[], bool], WorkflowFuture]] = []
        for predicate, future in self._conditions:
            if future.done():
                continue
            try:
                satisfied = bool(predicate())
            except Exception as error:
                future.set_exception(error)
                woke = True
                continue
            if satisfied:
                future.set_result(True)
                woke = True
            else:
                remaining.append((predicate, future))
        self._conditions = remaining
        return woke

    def close(self) -> None:
        for task in self._tasks:
            task.close()
        self._tasks.clear()
        self._ready.clear()
        self._conditions.clear()
