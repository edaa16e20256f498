"""Updates inside the driver: validate against live state, run the handler, report its outcome.

An update is a signal that answers. Its validator runs read-only on live state
and records nothing; an accepted update is recorded (``UpdateAccepted``) and
then applied like any event: the handler runs (a plain ``def`` at once, an
``async def`` as a task that may await activities and timers), and its outcome
is the ``CompleteUpdate`` command, recorded as ``UpdateCompleted``. Replay
re-applies the recorded updates at the same place in history, so the handler
issues the same commands again; validators are not re-run.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from aionactors.core import events as ev
from aionactors.core.errors import InvalidInput, UnknownUpdate, UpdateRejected
from aionactors.core.payload import WorkflowError
from aionactors.workflow.commands import CompleteUpdate
from aionactors.workflow.context import running
from aionactors.workflow.errors import CancelledError, ContinueAsNewRequest
from aionactors.workflow.payloads import PayloadValidationError, call_types, to_json
from aionactors.workflow.scheduler import WorkflowFuture
from aionactors.workflow.state import ensure_json

if TYPE_CHECKING:
    from aionactors.workflow.driver import WorkflowDriver


def validate_update(driver: WorkflowDriver, name: str, args: list[Any]) -> None:
    """Refuse an update before anything is recorded: unknown name, bad arguments, validator."""
    attribute = driver.definition.updates.get(name)
    if attribute is None:
        raise UnknownUpdate(f"workflow type {driver.definition.name!r} has no update {name!r}")
    handler = getattr(driver.instance, attribute)
    try:
        decoded = call_types(handler, method=True).decode(args, f"argument of update {name!r}")
        inspect.signature(handler).bind(*decoded)
    except PayloadValidationError as exc:
        raise InvalidInput(str(exc)) from None
    except TypeError as exc:
        raise InvalidInput(f"update {name!r}: {exc}") from None
    check = driver.definition.update_validators.get(name)
    if check is None:
        return
    try:
        with running(driver, read_only=True):
            outcome = check(driver.instance, *decoded)
    except Exception as exc:
        raise UpdateRejected(f"update {name!r} rejected: {exc}") from None
    if inspect.iscoroutine(outcome):
        outcome.close()
        raise UpdateRejected(f"the validator of update {name!r} must be a plain 'def'")


def on_update_accepted(driver: WorkflowDriver, event: ev.UpdateAccepted) -> None:
    """Run the handler of a recorded update; its outcome becomes a CompleteUpdate command."""
    attribute = driver.definition.updates.get(event.name)
    what = f"argument of update {event.name!r}"
    try:
        if attribute is None:  # the code lost the handler since the update was accepted
            raise LookupError(f"workflow type {driver.definition.name!r} has no such update")
        handler = getattr(driver.instance, attribute)
        args = call_types(handler, method=True).decode(event.args, what)
        with running(driver):
            outcome = handler(*args)
    except (Exception, CancelledError, ContinueAsNewRequest) as exc:  # the update's, not the run's
        driver.issue(CompleteUpdate(event.update_id, error=WorkflowError.from_exception(exc)))
        return
    if inspect.iscoroutine(outcome):
        task = driver.scheduler.spawn(outcome, f"update {event.name}")
        driver.update_tasks.append(task)
        task.future.add_done_callback(lambda done: _finished(driver, event.update_id, done))
    else:
        _complete(driver, event.update_id, outcome)


def _finished(driver: WorkflowDriver, update_id: str, done: WorkflowFuture) -> None:
    error = done.exception()
    if error is not None:
        driver.issue(CompleteUpdate(update_id, error=WorkflowError.from_exception(error)))
    else:
        _complete(driver, update_id, done.result())


def _complete(driver: WorkflowDriver, update_id: str, result: Any) -> None:
    try:
        value = ensure_json(to_json(result), "update result")
    except TypeError as exc:
        driver.issue(CompleteUpdate(update_id, error=WorkflowError.from_exception(exc)))
        return
    driver.issue(CompleteUpdate(update_id, result=value))


def on_update_completed(driver: WorkflowDriver, event: ev.UpdateCompleted) -> None:
    driver.match(event, lambda c: isinstance(c, CompleteUpdate) and c.update_id == event.update_id)
