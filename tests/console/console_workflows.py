"""Workflows the console tests' `aionactors serve` runs (via --load): the server tests' set,
plus a parent with a child, one with pending work (a failing activity and a timer), one
that continues as new, and one whose activity runs on a remote worker's queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aionactors import RetryPolicy, activity, workflow
from tests.transports.sample_workflows import (  # re-exported: --load registers what it finds
    Checkout,
    Collector,
    Failing,
    Greeter,
    shout,
)

__all__ = [
    "Checkout",
    "Collector",
    "Failing",
    "Greeter",
    "Looper",
    "Parent",
    "Pending",
    "RemoteCharge",
    "decline",
    "shout",
]


@activity.defn
def decline(order: Any) -> None:
    raise RuntimeError("card declined")


@workflow.defn(name="parent")
class Parent:
    """Starts one `collector` child and waits for it."""

    @workflow.run
    async def run(self, arg: Any = None) -> Any:
        return await workflow.execute_child_workflow("collector", arg)


@workflow.defn(name="pending")
class Pending:
    """Leaves an activity retrying (after one failure) and a timer armed for an hour."""

    @workflow.run
    async def run(self, arg: Any = None) -> None:
        policy = RetryPolicy(initial_interval=3600, maximum_attempts=0)
        await workflow.gather(
            workflow.execute_activity(decline, arg, retry_policy=policy),
            workflow.sleep(timedelta(hours=1)),
        )


@workflow.defn(name="looper")
class Looper:
    """Continues as new once: a run chain of two runs."""

    @workflow.run
    async def run(self, n: int = 0) -> int:
        if n < 1:
            workflow.continue_as_new(n + 1)
        return n


@workflow.defn(name="remote_charge")
class RemoteCharge:
    """One `console_charge` activity on the task queue ``queue`` (served by a remote worker)."""

    @workflow.run
    async def run(self, queue: str) -> Any:
        return await workflow.execute_activity("console_charge", None, task_queue=queue)
