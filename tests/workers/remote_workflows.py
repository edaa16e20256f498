"""Workflows and activities the remote-worker tests (and `serve`/`worker` subprocesses) load."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from aionactors import RetryPolicy, activity, workflow

QUEUE = "payments"
FAST_RETRY = RetryPolicy(initial_interval=0.0, maximum_attempts=5)


@activity.defn
def charge(order: dict[str, Any]) -> dict[str, Any]:
    """Charges an order; reports which worker process ran it."""
    info = activity.info()
    return {"order": order["id"], "attempt": info.attempt, "pid": os.getpid()}


@activity.defn
async def refund(amount: int) -> int:
    return -amount


@activity.defn
def flaky(marker: str) -> str:
    """Fails its first attempt (retryable), then succeeds."""
    if activity.info().attempt == 1:
        raise RuntimeError(f"first attempt of {marker} fails")
    return marker


@activity.defn
def hold(path: str) -> int:
    """Heartbeats until cancelled, or until the file at ``path`` exists (bounded)."""
    # Written aside, then renamed: a test that sees the file must see the pid in it.
    Path(path + ".starting").write_text(str(os.getpid()))
    Path(path + ".starting").replace(path + ".started")
    for _ in range(3000):
        activity.heartbeat("alive")
        if Path(path).exists():
            return os.getpid()
        time.sleep(0.01)
    raise TimeoutError("hold: never released")


@workflow.defn(name="pay")
class Pay:
    """Three remote activities in a row."""

    @workflow.run
    async def run(self, n: int) -> list[Any]:
        out = []
        for i in range(3):
            out.append(
                await workflow.execute_activity(
                    "charge", {"id": n * 10 + i}, task_queue=QUEUE, retry_policy=FAST_RETRY
                )
            )
        return out


@workflow.defn(name="pay_flaky")
class PayFlaky:
    @workflow.run
    async def run(self, marker: str) -> str:
        return await workflow.execute_activity(
            "flaky", marker, task_queue=QUEUE, retry_policy=FAST_RETRY
        )


@workflow.defn(name="pay_held")
class PayHeld:
    """One remote activity that heartbeats until released or cancelled."""

    @workflow.run
    async def run(self, path: str) -> int:
        return await workflow.execute_activity(
            "hold", path, task_queue=QUEUE, retry_policy=FAST_RETRY, heartbeat_timeout=30.0
        )


@workflow.defn(name="pay_soon")
class PaySoon:
    """One remote activity that must be claimed within a minute (a schedule-to-start timeout)."""

    @workflow.run
    async def run(self, n: int) -> Any:
        return await workflow.execute_activity(
            "charge", {"id": n}, task_queue=QUEUE, retry_policy=FAST_RETRY,
            schedule_to_start_timeout=60.0,
        )  # fmt: skip


WORKFLOWS = [Pay, PayFlaky, PayHeld, PaySoon]
ACTIVITIES = [charge, refund, flaky, hold]
