"""Workflow-to-workflow effects, run off the actors' threads.

Starting a child, signalling another workflow and closing children by their
parent-close policy all talk to *other* workflow actors. Doing that from inside
an actor could deadlock two actors asking each other, so these effects run on a
small thread pool; each is recorded in the caller's history before it is handed
over, and each is idempotent, so re-running them after a crash is safe.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aionactors import tracing
from aionactors.core.errors import (
    AionError,
    AlreadyExists,
    NotFound,
    NotRunning,
    WorkflowNotFound,
)
from aionactors.core.events import Event
from aionactors.core.payload import WorkflowError
from aionactors.core.status import FINAL_EVENT_TYPES, current_lease_terminal
from aionactors.core.workflow_keys import peer_key, public_id
from aionactors.engine import messages as msg
from aionactors.workflow.commands import ParentClosePolicy, StartChild
from aionactors.workflow.errors import WorkflowAlreadyStarted

if TYPE_CHECKING:
    from aionactors.engine.engine import Engine

_log = logging.getLogger(__name__)
_START_ATTEMPTS = 3


class EngineOps:
    """The Engine's side of :class:`~aionactors.engine.runtime.WorkflowOps`."""

    def __init__(self, engine: Engine, lanes: int = 4) -> None:
        self._engine = engine
        # One thread per lane, chosen by target workflow: effects on one workflow keep
        # their order (a child is started before the parent's signal to it is sent).
        self._lanes = [
            ThreadPoolExecutor(1, thread_name_prefix=f"aionactors-ops-{n}") for n in range(lanes)
        ]
        self._closed = False
        self._parents: dict[str, str] = {}
        """Running children this engine hosts -> their parent (set when a child's actor boots)."""
        self._endings: queue.SimpleQueue[tuple[Event, str] | None] = queue.SimpleQueue()
        self._notifier = threading.Thread(
            target=self._notify_parents, name="aionactors-children", daemon=True
        )
        self._notifier.start()

    # ---- WorkflowOps --------------------------------------------------------------------
    def ensure_child(
        self, parent_id: str, namespace: str, command: StartChild, version: str | None
    ) -> None:
        self._engine.packages.child_recorded(version)
        carrier = tracing.current_carrier()  # the parent's "child start" span, if traced
        self._submit(
            peer_key(namespace, command.child_workflow_id),
            self._ensure_child,
            parent_id,
            namespace,
            command,
            version,
            carrier,
        )

    def send_signal(self, workflow_id: str, name: str, payload: Any) -> None:
        self._submit(workflow_id, self._signal, workflow_id, name, payload)

    def close_child(self, workflow_id: str, policy: ParentClosePolicy) -> None:
        self._submit(workflow_id, self._close, workflow_id, policy)

    def redeliver(self, workflow_id: str, message: Any) -> None:
        """A message its actor never handled (it stopped first): deliver it again."""
        if not self._closed:
            self._submit(workflow_id, self._engine.tell, workflow_id, message)

    def watch_child(self, workflow_id: str, parent_id: str) -> None:
        """A child's run is live here: tell ``parent_id`` when it ends (no store read then)."""
        self._parents[workflow_id] = parent_id

    # ---- the work -----------------------------------------------------------------------
    def _ensure_child(
        self,
        parent_id: str,
        namespace: str,
        command: StartChild,
        version: str | None,
        carrier: dict[str, str] | None = None,
    ) -> None:
        """Start the child exactly once; if it already ended, tell the parent how.

        The id may be held by a workflow that is not this parent's child: a running one
        makes the start fail (WorkflowAlreadyStarted); a finished one is followed by a
        fresh run, this parent's child.
        """
        try:
            with tracing.within(carrier):  # the child's run joins the parent's trace
                self._start_child(parent_id, namespace, command, version)
        finally:
            self._engine.packages.child_settled(version)

    def _start_child(
        self, parent_id: str, namespace: str, command: StartChild, version: str | None
    ) -> None:
        engine, child_id = self._engine, command.child_workflow_id
        child_key = peer_key(namespace, child_id)  # the code names it in its namespace
        for _ in range(_START_ATTEMPTS):  # a start lost to a concurrent one looks again
            summary = engine.store.get_summary(child_key)
            if summary is not None and summary.parent == parent_id:
                self._report_if_ended(parent_id, child_key)  # ours: started before
                return
            if summary is not None and not summary.status.is_terminal:
                self._refuse_child(
                    parent_id,
                    child_id,
                    f"workflow id {child_id!r} is held by a running workflow"
                    f" ({summary.workflow_type}) that is not a child of {parent_id!r}",
                )
                return
            try:
                engine.start_workflow(
                    command.workflow_type,
                    command.input,
                    workflow_id=child_id,
                    namespace=namespace,
                    parent_workflow_id=parent_id,
                    package_version=version,
                )
                return
            except AlreadyExists as exc:
                if summary is not None and summary.namespace != namespace:
                    self._refuse_child(parent_id, child_id, exc.message)
                    return
            except AionError as exc:  # e.g. the child's type is not registered here
                error = WorkflowError(message=exc.message, type=exc.error_type)
                engine.tell(parent_id, msg.ChildDone(child_id, error=error))
                return
        self._refuse_child(parent_id, child_id, f"workflow id {child_id!r} is being started")

    def report_child_end(self, parent_id: str, child_key: str) -> None:
        """Another node hosts the child and says it ended: tell the parent how, from the
        store (WorkflowNotFound unless ``child_key`` is a child of ``parent_id``)."""
        summary = self._engine.store.get_summary(child_key)
        if summary is None or summary.parent != parent_id:
            raise WorkflowNotFound(child_key)
        self._report_if_ended(parent_id, child_key)

    def _report_if_ended(self, parent_id: str, child_key: str) -> None:
        terminal = current_lease_terminal(self._engine.store.read_history(child_key))
        if terminal is not None and terminal.type in FINAL_EVENT_TYPES:
            self._engine.tell(parent_id, msg.ChildDone.of(public_id(child_key), terminal))

    def _refuse_child(self, parent_id: str, child_id: str, message: str) -> None:
        error = WorkflowError(message=message, type=WorkflowAlreadyStarted.ERROR_TYPE)
        self._engine.tell(parent_id, msg.ChildDone(child_id, error=error))

    def _signal(self, workflow_id: str, name: str, payload: Any) -> None:
        try:
            self._engine.signal(workflow_id, name, payload)
        except (NotFound, NotRunning) as exc:
            _log.warning("signal %r to %s was not delivered: %s", name, workflow_id, exc)

    def _close(self, workflow_id: str, policy: ParentClosePolicy) -> None:
        terminate = policy == ParentClosePolicy.TERMINATE
        with contextlib.suppress(NotFound, NotRunning):  # already over
            self._engine.cancel(workflow_id, "parent closed", terminate=terminate)

    # ---- children's endings reach their parents ------------------------------------------
    def on_commit(self, events: Sequence[Event]) -> None:
        """Commit listener (writer thread): queue children's endings for the notifier.

        Every ending is recorded by the workflow's own actor, which registered the run's
        parent when it booted, so a child's ending always finds its parent here. (Should
        the engine die before the notifier runs, the parent's replay asks the child again.)
        """
        for event in events:
            if event.type in FINAL_EVENT_TYPES:
                parent = self._parents.pop(event.workflow_id, None)
                if parent is not None:
                    self._endings.put((event, parent))

    def _notify_parents(self) -> None:
        while (ending := self._endings.get()) is not None:
            event, parent = ending
            try:
                self._engine.tell(parent, msg.ChildDone.of(public_id(event.workflow_id), event))
            except Exception:
                _log.exception("could not tell the parent of %s that it ended", event.workflow_id)

    def _submit(self, target: str, fn: Any, *args: Any) -> None:
        def run() -> None:
            try:
                fn(*args)
            except Exception:
                _log.exception("workflow effect %s%r failed", fn.__name__, args)

        lane = self._lanes[zlib.crc32(target.encode()) % len(self._lanes)]
        try:
            lane.submit(run)
        except RuntimeError:
            _log.warning("engine shutting down: %s%r dropped", fn.__name__, args)

    def close(self) -> None:
        self._closed = True
        self._endings.put(None)
        self._notifier.join(timeout=10)
        for lane in self._lanes:
            lane.shutdown(wait=True, cancel_futures=True)
