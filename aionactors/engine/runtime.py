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
    from aionactors.engine.timers import TimerService


class WorkflowOps(Protocol):
    """What a workflow actor asks of other workflows; never blocks the actor."""

    def ensure_child(self, parent_id: str, namespace: str, command: StartChild) -> None: ...

    def send_signal(self, workflow_id: str, name: str, payload: Any) -> None: ...

    def close_child(self, workflow_id: str, policy: ParentClosePolicy) -> None: ...

    def watch_child(self, workflow_id: str, parent_id: str) -> None: ...


@dataclass
class Runtime:
    store: EventStore
    writer: GroupCommitWriter
    clock: Clock
    registry: Registry
    executor: ActivityExecutor
    timers: TimerService
    residency: Residency
    on_activity_outcome: Callable[[ActivityOutcome], None]
    ops: WorkflowOps
    dispatcher: Dispatcher
    schema: SearchAttributeSchema | None = None
    fresh_starts: dict[str, list[Event]] = field(default_factory=dict)
    """Histories just written by a start, so the first activation need not read them back."""

    def history_of(self, workflow_id: str) -> list[Event]:
        # Nothing else can write a just-started history before its first actor runs:
        # every later event of it is recorded by that actor.
        fresh = self.fresh_starts.pop(workflow_id, None)
        return fresh if fresh is not None else self.store.read_history(workflow_id)
