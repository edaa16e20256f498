"""Workflows the schedule tests start: one that ends at once, one that waits for a signal."""

from __future__ import annotations

from typing import Any

from aionactors import workflow


@workflow.defn(name="sched_quick")
class Quick:
    @workflow.run
    async def run(self, payload: Any = None) -> Any:
        return payload


@workflow.defn(name="sched_waiter")
class Waiter:
    """Runs until signalled ``finish``: the long-running execution overlap policies meet."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, payload: Any = None) -> Any:
        await workflow.wait_condition(lambda: self.done)
        return payload

    @workflow.signal
    def finish(self, _: Any = None) -> None:
        self.done = True
