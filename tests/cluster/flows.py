"""The workflow the cluster tests run: wait for ``go``, then three activities."""

from __future__ import annotations

import time
from datetime import timedelta

from aionactors import activity, workflow

STEP_SECONDS = 0.05
"""Long enough that a node killed mid-workload has attempts in flight."""


@activity.defn(name="cluster_step")
def step(value: int) -> int:
    time.sleep(STEP_SECONDS)
    return value + 1


@workflow.defn(name="ClusterFlow")
class ClusterFlow:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, value: int) -> int:
        await workflow.wait_condition(lambda: self.go)
        for _ in range(3):
            value = await workflow.execute_activity(step, value)
        return value

    @workflow.signal
    def proceed(self, _: object = None) -> None:
        self.go = True

    @workflow.query
    def going(self) -> bool:
        return self.go


@workflow.defn(name="SleepyFlow")
class SleepyFlow:
    """Parks on a durable timer: whoever owns its shard when it is due must fire it."""

    @workflow.run
    async def run(self, seconds: float) -> str:
        await workflow.sleep(timedelta(seconds=seconds))
        return "woke"


@workflow.defn(name="TickFlow")
class TickFlow:
    """What the cluster's schedules start: ends at once, so every tick's run completes."""

    @workflow.run
    async def run(self, payload: object = None) -> object:
        return payload


@workflow.defn(name="KidFlow")
class KidFlow:
    @workflow.run
    async def run(self, value: int) -> int:
        return value * 10


@workflow.defn(name="ParentFlow")
class ParentFlow:
    """Runs a child whose id the caller picks (so its shard, and its node, too)."""

    @workflow.run
    async def run(self, child_id: str) -> int:
        return await workflow.execute_child_workflow(KidFlow, 4, workflow_id=child_id)


@workflow.defn(name="PokeFlow")
class PokeFlow:
    """Signals another workflow (``ClusterFlow``'s ``proceed``), wherever it runs."""

    @workflow.run
    async def run(self, target: str) -> str:
        workflow.signal_external(target, "proceed")
        return target
