"""Messages to workflows beyond signal and query: update, signal-with-start, handles.

A mixin of :class:`~aionactors.engine.engine.Engine`, kept apart so the facade
stays one screen of lifecycle and the plain operations.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aionactors.core.async_twin import AsyncTwin
from aionactors.core.errors import AlreadyExists, InvalidInput, NotRunning, WorkflowNotFound
from aionactors.core.ids import new_id
from aionactors.core.status import current_lease_terminal, run_segment
from aionactors.core.visibility import WorkflowSummary
from aionactors.core.workflow_keys import legacy_key, workflow_key
from aionactors.engine import messages as msg
from aionactors.engine.models import WorkflowHandle
from aionactors.engine.outcomes import outcome_of
from aionactors.engine.payload_checks import check_signal_payload
from aionactors.engine.updates import PendingUpdate, UpdateWaiters
from aionactors.workflow.payloads import (
    PayloadValidationError,
    adapter_for,
    call_types,
    needs_conversion,
)
from aionactors.workflow.payloads import to_json as _to_json
from aionactors.workflow.state import ensure_json

if TYPE_CHECKING:
    from aionactors.engine.engine import Engine

_SIGNAL_WITH_START_ATTEMPTS = 5
"""Rounds of "signal it / start it" when racing other starts and ends of the same id."""


def _json_or_invalid(value: Any, what: str) -> Any:
    try:
        return ensure_json(_to_json(value), what)
    except TypeError as exc:
        raise InvalidInput(str(exc)) from None


class WorkflowInteractions:
    """update, signal_with_start, get_handle (mixed into Engine)."""

    update_waiters: UpdateWaiters

    def update(
        self: Engine,
        workflow_id: str,
        name: str,
        *args: Any,
        run_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run update ``name`` and return its handler's result.

        Refused with nothing recorded: UnknownUpdate, InvalidInput (arguments that do not fit
        the handler's annotations), UpdateRejected (the validator raised), NotRunning. Else
        UpdateAccepted is durable before the handler runs and UpdateCompleted before this
        returns; UpdateFailed if the handler raised, UpdateTimeout past ``timeout`` seconds
        (the update stays accepted and its outcome is still recorded).
        """
        pending = self.begin_update(workflow_id, name, *args, run_id=run_id)
        try:
            return pending.wait(timeout)
        finally:
            pending.close()

    async def update_async(
        self: Engine,
        workflow_id: str,
        name: str,
        *args: Any,
        run_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Async twin of :meth:`update`: no thread is held while the handler runs."""
        pending = await asyncio.to_thread(
            self.begin_update, workflow_id, name, *args, run_id=run_id
        )
        try:
            return await pending.wait_async(timeout)
        finally:
            pending.close()

    def begin_update(
        self: Engine, workflow_id: str, name: str, *args: Any, run_id: str | None = None
    ) -> PendingUpdate:
        """Validate and record the update (UpdateAccepted); its outcome is awaited from the
        returned PendingUpdate (which the caller closes)."""
        encoded = [_json_or_invalid(arg, f"argument of update {name!r}") for arg in args]
        self.require_latest_run(workflow_id, run_id)
        pending = PendingUpdate(self.update_waiters, workflow_id, new_id(), name)
        try:
            self._ask(workflow_id, msg.RunUpdate(pending.update_id, name, encoded))
        except BaseException:
            pending.close()
            raise
        return pending

    def signal_with_start(
        self: Engine,
        workflow: str | type,
        workflow_id: str,
        signal_name: str,
        payload: Any = None,
        *,
        input: Any = None,
        namespace: str = "default",
        search_attributes: dict[str, Any] | None = None,
        execution_timeout: float | None = None,
    ) -> WorkflowHandle:
        """Signal the running workflow ``workflow_id``, or start it with the signal first.

        Either way one durable step: the signal alone, or the start and the signal in one
        append, the signal's handler running before the run method's first line.
        ``handle.started`` says which.
        """
        workflow_type = self.registry.workflow_name(workflow)
        payload = _json_or_invalid(payload, f"payload of signal {signal_name!r}")
        check_signal_payload(self.registry, workflow_type, signal_name, payload)
        for _ in range(_SIGNAL_WITH_START_ATTEMPTS):
            summary = self.find_in(namespace, workflow_id)
            if summary is not None and summary.namespace != namespace:
                raise AlreadyExists(f"workflow id {workflow_id!r} is taken")  # a legacy holder
            if summary is not None and not summary.status.is_terminal:
                try:
                    self.signal(summary.workflow_id, signal_name, payload)
                except NotRunning:
                    continue  # it ended meanwhile: start a new run
                return self._handle(summary, started=False)
            try:
                handle = self._start(
                    workflow_type,
                    input,
                    workflow_id=workflow_id,
                    namespace=namespace,
                    search_attributes=search_attributes,
                    execution_timeout=execution_timeout,
                    signal=(signal_name, payload),
                )
            except AlreadyExists:
                continue  # started concurrently: signal that run
            return handle
        raise AlreadyExists(f"workflow {workflow_id!r} kept changing; signal_with_start gave up")

    def find_in(self: Engine, namespace: str, workflow_id: str) -> WorkflowSummary | None:
        """The summary of ``workflow_id`` in ``namespace`` (its ``workflow_id`` is the key).

        Looks under the bare id too when the namespaced key is unknown: a store from
        before per-namespace ids kept every namespace's workflows there.
        """
        summary = self.store.get_summary(workflow_key(namespace, workflow_id))
        bare = legacy_key(namespace, workflow_id)
        if summary is None and bare is not None:
            held = self.store.get_summary(bare)
            if held is not None and held.namespace == namespace:
                return held
        return summary

    def get_handle(
        self: Engine,
        workflow_id: str,
        run_id: str | None = None,
        *,
        result_type: Any = None,
        namespace: str | None = None,
    ) -> WorkflowHandle:
        """A handle on an existing workflow (WorkflowNotFound otherwise); see WorkflowHandle.

        ``workflow_id`` is the engine's key (a handle's ``workflow_id``), or, with
        ``namespace``, the id within that namespace.
        """
        if namespace is not None:
            found = self.find_in(namespace, workflow_id)
            if found is None:
                raise WorkflowNotFound(workflow_id)
            workflow_id = found.workflow_id
        summary = self._require(workflow_id)
        if run_id is not None:
            runs = {run.run_id for run in self.store.read_run_chain(workflow_id)}
            if run_id not in runs:
                raise InvalidInput(f"workflow {workflow_id!r} has no run {run_id!r}")
        return self._handle(summary, run_id=run_id, result_type=result_type)

    def _handle(
        self: Engine,
        summary: WorkflowSummary,
        *,
        run_id: str | None = None,
        result_type: Any = None,
        started: bool = True,
    ) -> WorkflowHandle:
        return WorkflowHandle(
            summary.workflow_id,
            run_id or summary.run_id,
            engine=self,
            workflow_type=summary.workflow_type,
            result_type=result_type,
            pinned=run_id is not None,
            started=started,
        )

    def require_latest_run(self: Engine, workflow_id: str, run_id: str | None) -> None:
        """Refuse a terminal workflow, or a ``run_id`` that is not its latest run: NotRunning."""
        summary = self._require(workflow_id)
        if run_id is not None and run_id != summary.run_id:
            raise NotRunning(f"run {run_id!r} of workflow {workflow_id!r} is not its latest run")
        if summary.status.is_terminal:
            raise NotRunning(f"workflow {workflow_id!r} is {summary.status.value}")

    def is_latest_run(self: Engine, workflow_id: str, run_id: str | None) -> bool:
        return run_id is None or self._require(workflow_id).run_id == run_id

    def typed_result(self: Engine, handle: WorkflowHandle, value: Any) -> Any:
        """``value`` (recorded JSON) as the handle's result type or the run's return annotation."""
        if handle.result_type is not None:
            if not needs_conversion(handle.result_type):
                return value
            try:
                return adapter_for(handle.result_type).validate_python(value)
            except ValueError as exc:
                raise PayloadValidationError(f"result of {handle.workflow_id!r}: {exc}") from None
        definition = self.registry.workflows.get(handle.workflow_type or "")
        if definition is None:
            return value
        return call_types(getattr(definition.cls, definition.run_name)).decode_result(value)

    def past_run_result(self: Engine, workflow_id: str, run_id: str) -> Any:
        """The outcome of an earlier run (its history segment), as ``result`` gives the latest."""
        segment = run_segment(self.store.read_history(workflow_id), run_id)
        terminal = current_lease_terminal(segment)
        if terminal is None:
            raise NotRunning(f"run {run_id!r} of workflow {workflow_id!r} never ended")
        return outcome_of(terminal)

    signal_with_start_async = AsyncTwin()
    get_handle_async = AsyncTwin()
