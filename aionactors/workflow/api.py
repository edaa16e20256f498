"""The functions workflow code calls: activities, timers, conditions, fan-out, time, entropy.

Each returns a :class:`WorkflowFuture` at once (the command is issued when the
function is called), so ``workflow.gather(execute_activity(a), execute_activity(b))``
starts both in that order.
"""

from __future__ import annotations

import uuid as _uuid
from collections.abc import Awaitable, Callable, Coroutine, Generator
from datetime import datetime, timedelta
from random import Random
from typing import Any, NoReturn

from pydantic import BaseModel

from aionactors.core.errors import AionError
from aionactors.core.search import value_of
from aionactors.workflow.activity import activity_definition
from aionactors.workflow.commands import ActivityOptions, ParentClosePolicy
from aionactors.workflow.context import current
from aionactors.workflow.definition import workflow_definition
from aionactors.workflow.errors import ContinueAsNewRequest
from aionactors.workflow.payloads import CallTypes, call_types, to_json
from aionactors.workflow.retry import RetryPolicy
from aionactors.workflow.scheduler import WorkflowFuture
from aionactors.workflow.state import WorkflowInfo, ensure_json

Duration = timedelta | float | int


def _seconds(value: Duration | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def execute_activity(
    activity: Callable[..., Any] | str,
    arg: Any = None,
    *,
    retry_policy: RetryPolicy | None = None,
    start_to_close_timeout: Duration | None = None,
    heartbeat_timeout: Duration | None = None,
    task_queue: str = "default",
    schedule_to_start_timeout: Duration | None = None,
) -> WorkflowFuture:
    """Run an activity (a decorated function or its name) with one JSON argument.

    Awaiting gives its result, or raises ActivityFailure once retries are exhausted. Given
    the function (not its name), the result arrives as its return annotation declares
    (a pydantic model, a dataclass...), converted from the recorded JSON.

    ``schedule_to_start_timeout`` bounds how long an attempt may wait on its task queue
    for a worker to claim it; past that it fails as ``ScheduleToStartTimeout`` and, as in
    Temporal, is not retried (no worker is serving the queue: another attempt would wait
    the same way). In-process activities start at once, so it only applies to task queues.
    """
    name = activity if isinstance(activity, str) else activity_definition(activity).name
    options = ActivityOptions(
        retry_policy=retry_policy,
        start_to_close_timeout=_seconds(start_to_close_timeout),
        heartbeat_timeout=_seconds(heartbeat_timeout),
        task_queue=task_queue,
        schedule_to_start_timeout=_seconds(schedule_to_start_timeout),
    )
    future = current().schedule_activity(name, arg, options)
    return future if isinstance(activity, str) else _typed(future, call_types(activity))


def _typed(future: WorkflowFuture, types: CallTypes) -> WorkflowFuture:
    """``future``'s result converted to ``types``' return annotation (if it has a rich one)."""
    if types.result is None:
        return future
    typed = WorkflowFuture(label=future.label, on_cancel=future.cancel)

    def convert(done: WorkflowFuture) -> None:
        error = done.exception()
        if error is not None:
            typed.set_exception(error)
            return
        try:
            typed.set_result(types.decode_result(done.result()))
        except ValueError as exc:
            typed.set_exception(exc)

    future.add_done_callback(convert)
    return typed


def sleep(duration: Duration) -> WorkflowFuture:
    """A durable timer: survives restarts, may last months."""
    seconds = _seconds(duration) or 0.0
    if seconds <= 0:
        done = WorkflowFuture(label="sleep(0)")
        done.set_result(None)
        return done
    return current().start_timer(timedelta(seconds=seconds))


def wait_condition(
    predicate: Callable[[], bool], timeout: Duration | None = None
) -> WorkflowFuture:
    """Wait until ``predicate()`` is true (checked after every event): True, or False on timeout."""
    driver = current()
    future = WorkflowFuture(label="wait_condition")
    if predicate():
        future.set_result(True)
        return future
    driver.scheduler.add_condition(predicate, future)
    seconds = _seconds(timeout)
    if seconds is not None:
        timer = driver.start_timer(timedelta(seconds=max(seconds, 0.0)))

        def expire(fired: WorkflowFuture) -> None:
            if fired.exception() is None:
                future.set_result(False)

        timer.add_done_callback(expire)
        future.add_done_callback(lambda _: timer.cancel())
    return future


def _as_future(awaitable: Awaitable[Any], name: str) -> WorkflowFuture:
    if isinstance(awaitable, WorkflowFuture):
        return awaitable
    if isinstance(awaitable, ChildWorkflowHandle):
        return awaitable._result
    if isinstance(awaitable, Coroutine):
        return current().scheduler.spawn(awaitable, name).future
    raise TypeError(f"cannot wait on {awaitable!r}: pass workflow futures or coroutines")


def gather(*awaitables: Awaitable[Any]) -> WorkflowFuture:
    """All results in input order; the first failure cancels the rest and is raised."""
    children = [_as_future(a, f"gather[{i}]") for i, a in enumerate(awaitables)]
    results: list[Any] = [None] * len(children)
    remaining = len(children)

    def cancel_children() -> None:
        for child in children:
            child.cancel()

    combined = WorkflowFuture(label="gather", on_cancel=cancel_children)
    if not children:
        combined.set_result([])

    def settle(index: int, child: WorkflowFuture) -> None:
        nonlocal remaining
        if combined.done():
            return
        error = child.exception()
        if error is not None:
            combined.set_exception(error)
            cancel_children()
            return
        results[index] = child.result()
        remaining -= 1
        if remaining == 0:
            combined.set_result(results)

    for index, child in enumerate(children):
        child.add_done_callback(lambda c, i=index: settle(i, c))
    return combined


def race(*awaitables: Awaitable[Any]) -> WorkflowFuture:
    """The first to settle wins: ``(index, result)``, or its exception; the others are cancelled."""
    children = [_as_future(a, f"race[{i}]") for i, a in enumerate(awaitables)]
    if not children:
        raise ValueError("race() needs at least one awaitable")

    def cancel_children() -> None:
        for child in children:
            child.cancel()

    winner = WorkflowFuture(label="race", on_cancel=cancel_children)

    def settle(index: int, child: WorkflowFuture) -> None:
        if winner.done():
            return
        error = child.exception()
        if error is not None:
            winner.set_exception(error)
        else:
            winner.set_result((index, child.result()))
        cancel_children()

    for index, child in enumerate(children):
        child.add_done_callback(lambda c, i=index: settle(i, c))
    return winner


class TimeoutError(Exception):
    """An operation under ``workflow.timeout`` did not finish in time (and was cancelled)."""


async def timeout(awaitable: Awaitable[Any], duration: Duration) -> Any:
    """Await with a durable deadline; raise workflow.TimeoutError (cancelling it) past it."""
    index, value = await race(awaitable, sleep(duration))
    if index == 1:
        raise TimeoutError(f"timed out after {_seconds(duration)} s")
    return value


class ChildWorkflowHandle:
    """A started child workflow: await it for its result, or signal it."""

    def __init__(self, workflow_id: str, result: WorkflowFuture) -> None:
        self.workflow_id = workflow_id
        self._result = result

    def signal(self, name: str, payload: Any = None) -> None:
        """Record SignalSent, then deliver the signal to the child."""
        signal_external(self.workflow_id, name, payload)

    def __await__(self) -> Generator[Any, None, Any]:
        return self._result.__await__()


def start_child_workflow(
    workflow: type | str,
    arg: Any = None,
    *,
    workflow_id: str | None = None,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
) -> ChildWorkflowHandle:
    """Start a child workflow (recorded before it exists) without waiting for it."""
    if isinstance(workflow, str):
        name, types = workflow, None
    else:
        definition = workflow_definition(workflow)
        name, types = definition.name, call_types(getattr(workflow, definition.run_name))
    child_id, result = current().start_child(name, arg, workflow_id, parent_close_policy)
    return ChildWorkflowHandle(child_id, result if types is None else _typed(result, types))


async def execute_child_workflow(
    workflow: type | str,
    arg: Any = None,
    *,
    workflow_id: str | None = None,
    parent_close_policy: ParentClosePolicy = ParentClosePolicy.TERMINATE,
) -> Any:
    """Run a child workflow and wait for its result (following its continue-as-new chain)."""
    handle = start_child_workflow(
        workflow, arg, workflow_id=workflow_id, parent_close_policy=parent_close_policy
    )
    return await handle


def signal_external(workflow_id: str, name: str, payload: Any = None) -> None:
    """Signal another workflow; recorded as SignalSent in this history first."""
    current().signal_external(workflow_id, name, payload)


def upsert_search_attributes(attributes: dict[str, Any]) -> None:
    """Set search attributes on this workflow (recorded; visible to list queries)."""
    typed = {}
    for name, raw in attributes.items():
        if name.startswith("aion."):
            raise ValueError(f"search attribute {name!r} is reserved for the engine")
        try:
            typed[name] = raw if isinstance(raw, BaseModel) else value_of(raw)
        except AionError as exc:
            raise TypeError(exc.message) from None
    current().upsert_search_attributes(typed)


def continue_as_new(arg: Any = None, *, workflow_type: str | type | None = None) -> NoReturn:
    """End this run and start a fresh one (same workflow id, empty history segment)."""
    driver = current()
    activities, children = driver.unresolved()
    if activities or children:
        raise RuntimeError(
            f"continue_as_new refused: {activities} activities and {children} child workflows"
            " are unresolved; await or cancel them first"
        )
    arg = ensure_json(to_json(arg), "continue_as_new input")
    name = (
        workflow_type
        if workflow_type is None or isinstance(workflow_type, str)
        else workflow_definition(workflow_type).name
    )
    raise ContinueAsNewRequest(arg, name)


def now() -> datetime:
    """The time of the event the code is reacting to: identical on replay."""
    return current(for_command=False).now()


def random() -> Random:
    """A PRNG seeded by the run: the same draws on replay."""
    return current(for_command=False).rng


def uuid4() -> _uuid.UUID:
    """A deterministic UUID4 drawn from the run's PRNG."""
    return _uuid.UUID(int=current(for_command=False).rng.getrandbits(128), version=4)


def info() -> WorkflowInfo:
    return current(for_command=False).info()


def patched(change_id: str) -> bool:
    """Whether this run takes the new branch of a code change (Temporal's ``patched``).

    New runs, and runs reaching this point live, get ``True`` and a ``PatchRecorded``
    marker in their history; a run replaying history from before the change gets
    ``False`` and replays the old branch. Ask once per change id and run::

        if workflow.patched("send-receipt"):
            await workflow.execute_activity(send_receipt, order)
    """
    if not change_id:
        raise ValueError("a patch needs a non-empty change id")
    return current().patched(change_id)


def deprecate_patch(change_id: str) -> None:
    """The old branch of ``change_id`` is gone: keep the marker for histories that have it.

    Use it once no run that predates the patch is left; then remove the call too.
    """
    if not change_id:
        raise ValueError("a patch needs a non-empty change id")
    current().patched(change_id, deprecated=True)
