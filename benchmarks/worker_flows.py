"""Workflows for bench_workers.py and bench_cluster.py: three activities, remote or in-process."""

from __future__ import annotations

from aionactors import activity, workflow

QUEUE = "bench"


@activity.defn(name="bench_step")
def step(value: int) -> int:
    return value + 1


@workflow.defn(name="RemoteThree")
class RemoteThree:
    @workflow.run
    async def run(self, value: int) -> int:
        for _ in range(3):
            value = await workflow.execute_activity("bench_step", value, task_queue=QUEUE)
        return value


@workflow.defn(name="LocalThree")
class LocalThree:
    @workflow.run
    async def run(self, value: int) -> int:
        for _ in range(3):
            value = await workflow.execute_activity(step, value)
        return value
