"""The services every workflow actor shares; built once by the Engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aionactors.core.events import Event
from aionactors.core.search import SearchAttributeSchema
from aionactors.engine.activities import ActivityExecutor, ActivityOutcome
from aionactors.engine.clock import Clock
from aionactors.engine.dispatcher import Dispatcher
from aionactors.engine.registry import Registry
from aionactors.engine.writer import GroupCommitWriter
from aionactors.store.contract import EventStore
from aionactors.workflow.commands import ParentClosePolicy, StartChild

if TYPE_CHECKING:
    from aionactors.engine.residency import Residency
    from aionactors.engine.task_queues import RoutedExecutor
    from aionactors.engine.timers import TimerService


class WorkflowOps(Protocol):
    """What a workflow actor asks of other workflows; never blocks the actor."""

    def ensure_child(
        self, parent_id: str, namespace: str, command: StartChild, version: str | None
    ) -> None: ...

    def send_signal(self, workflow_id: str, name: str, payload: Any) -> None: ...

    def close_child(self, workflow_id: str, policy: ParentClosePolicy) -> None: ...

    def watch_child(self, workflow_id: str, parent_id: str) -> None: ...

    def redeliver(self, workflow_id: str, message: Any) -> None: ...


@dataclass
class Runtime:
    store: EventStore
    writer: GroupCommitWriter
    clock: Clock
    registry: Registry
    executor: ActivityExecutor | RoutedExecutor
    timers: TimerService
    residency: Residency
    on_activity_outcome: Callable[[ActivityOutcome], None]
    ops: WorkflowOps
    dispatcher: Dispatcher
    schema: SearchAttributeSchema | None = None
    woken: set[str] = field(default_factory=set)
    """Workflows whose wake flag is known to be set (just started, reopened, or booted by
    recovery): their actor clears it on boot if it has nothing in flight."""
    read_ahead: dict[str, list[Event]] = field(default_factory=dict)
    """Histories read before their actor's first activation: just written by a start, or
    read many at a time by recovery. Taken once; later activations read the store."""

    def history_of(self, workflow_id: str) -> list[Event]:
        # Nothing else writes a workflow's history between the read ahead and its actor's
        # boot: every later event of it is recorded by that actor. (Were it stale anyway,
        # the actor's first append would conflict, and the restarted actor reads afresh.)
        ahead = self.read_ahead.pop(workflow_id, None)
        return ahead if ahead is not None else self.store.read_history(workflow_id)
