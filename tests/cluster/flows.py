"""The workflow the cluster tests run: wait for ``go``, then three activities."""

from __future__ import annotations

from aionactors import activity, workflow


@activity.defn(name="cluster_step")
def step(value: int) -> int:
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
