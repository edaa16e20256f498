"""The services every workflow actor shares; built once by the Engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aionactors.engine.activities import ActivityExecutor, ActivityOutcome
from aionactors.engine.clock import Clock
from aionactors.engine.registry import Registry
from aionactors.engine.writer import GroupCommitWriter
from aionactors.store.contract import EventStore

if TYPE_CHECKING:
    from aionactors.engine.residency import Residency
    from aionactors.engine.timers import TimerService


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
