"""Workflows and activities the engine tests share. Side effects are counted per attempt."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from aionactors import RetryPolicy, activity, workflow
from aionactors.workflow.activity import ApplicationError

EXECUTIONS: Counter[tuple[str, int]] = Counter()
"""(activity input key, attempt) -> times the activity body ran."""
_lock = threading.Lock()
FLAKY_FAILURES: dict[str, int] = {}
RELEASE = threading.Event()
RUNNING = threading.Event()
SAW_CANCEL = threading.Event()
"""Set when blocks_until_released has begun (its timeouts count from then)."""


def _count(key: str) -> None:
    with _lock:
        EXECUTIONS[(key, activity.info().attempt)] += 1


@activity.defn
def double(payload: dict[str, Any]) -> int:
    _count(f"{activity.info().workflow_id}:double:{payload['n']}")
    return payload["n"] * 2


@activity.defn
async def add_async(payload: dict[str, Any]) -> int:
    _count(f"{activity.info().workflow_id}:add:{payload['a']}")
    return payload["a"] + payload["b"]


@activity.defn
def flaky(key: str) -> str:
    """Fails FLAKY_FAILURES[key] times, then succeeds."""
    _count(f"{activity.info().workflow_id}:flaky")
    with _lock:
        remaining = FLAKY_FAILURES.get(key, 0)
        FLAKY_FAILURES[key] = remaining - 1
    if remaining > 0:
        raise ConnectionError(f"flaky failure, {remaining} left")
    return f"ok after {activity.info().attempt} attempts"


@activity.defn
def rejects(reason: str) -> None:
    raise ApplicationError(reason, type="CardDeclined", non_retryable=True)


@activity.defn
def blocks_until_released(_: Any = None) -> str:
    RUNNING.set()
    while not RELEASE.wait(0.01):
        try:
            activity.heartbeat()
        except activity.ActivityCancelledError:
            SAW_CANCEL.set()
            raise
    return "released"


@workflow.defn(name="mixed")
class Mixed:
    """Activities (sync and async), a durable timer, a signal and a gather."""

    def __init__(self) -> None:
        self.go = False
        self.seen: list[Any] = []

    @workflow.run
    async def run(self, n: int) -> dict[str, Any]:
        first = await workflow.execute_activity(double, {"n": n})
        await workflow.sleep(timedelta(minutes=5))
        await workflow.wait_condition(lambda: self.go)
        pair = await workflow.gather(
            workflow.execute_activity(double, {"n": first}),
            workflow.execute_activity(add_async, {"a": first, "b": 1}),
        )
        token = str(workflow.uuid4())
        return {"first": first, "pair": pair, "seen": self.seen, "token_len": len(token)}

    @workflow.signal
    def proceed(self, payload: Any) -> None:
        self.seen.append(payload)
        self.go = True

    @workflow.query
    def progress(self) -> dict[str, Any]:
        return {"go": self.go, "seen": self.seen}


@workflow.defn(name="retrying")
class Retrying:
    @workflow.run
    async def run(self, key: str) -> str:
        policy = RetryPolicy(initial_interval=1, backoff_coefficient=2, maximum_attempts=4)
        return await workflow.execute_activity(flaky, key, retry_policy=policy)


@workflow.defn(name="parked")
class Parked:
    """Waits for a signal, then finishes: the shape of most long-lived workflows."""

    def __init__(self) -> None:
        self.value: Any = None

    @workflow.run
    async def run(self) -> Any:
        await workflow.wait_condition(lambda: self.value is not None)
        return self.value

    @workflow.signal
    def put(self, value: Any) -> None:
        self.value = value


@workflow.defn(name="sleeper")
class Sleeper:
    @workflow.run
    async def run(self, hours: float) -> str:
        await workflow.sleep(timedelta(hours=hours))
        return f"woke at {workflow.now().isoformat()}"
