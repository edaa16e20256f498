"""The services every workflow actor shares; built once by the Engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aionactors.engine.activities import ActivityExecutor, ActivityOutcome
from aionactors.engine.clock import Clock
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
