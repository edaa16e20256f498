"""Workflows for the lifecycle tests: children, continue-as-new, sagas, timeouts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from aionactors import RetryPolicy, activity, workflow

CALLS: Counter[str] = Counter()
FAIL_BOOKING = threading.Event()
HOLD_RELEASE = threading.Event()
RELEASE_RUNNING = threading.Event()
_lock = threading.Lock()


def _called(name: str) -> None:
    with _lock:
        CALLS[name] += 1


@activity.defn
def reserve(order: str) -> str:
    _called(f"reserve:{order}")
    return f"reservation-{order}"


@activity.defn
def release(reservation: str) -> str:
    _called(f"release:{reservation}")
    RELEASE_RUNNING.set()
    while HOLD_RELEASE.is_set():  # held: only an engine shutdown (cancellation) ends it
        activity.heartbeat()
        RELEASE_RUNNING.wait(0.01)  # a short beat between heartbeats
    return f"released {reservation}"


@activity.defn
def book(order: str) -> str:
    _called(f"book:{order}:{activity.info().attempt}")
    if FAIL_BOOKING.is_set():
        raise ConnectionError("booking service down")
    return f"booked-{order}"


@workflow.defn(name="shipping")
class Shipping:
    """The child: ships an order after a durable wait, or fails on request."""

    def __init__(self) -> None:
        self.expedite = False

    @workflow.run
    async def run(self, order: dict[str, Any]) -> str:
        if order.get("fail"):
            raise ValueError(f"cannot ship {order['id']}")
        await workflow.wait_condition(lambda: self.expedite, timeout=timedelta(hours=1))
        return f"shipped {order['id']}{' fast' if self.expedite else ''}"

    @workflow.signal
    def hurry(self) -> None:
        self.expedite = True


@workflow.defn(name="order")
class Order:
    """A saga: reserve, ship through a child workflow; on cancel, release the reservation."""

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        reservation = await workflow.execute_activity(reserve, order["id"])
        try:
            shipping = workflow.start_child_workflow(
                Shipping, order, workflow_id=f"ship-{order['id']}"
            )
            if order.get("hurry"):
                shipping.signal("hurry")
            shipped = await shipping
        except workflow.CancelledError:
            released = await workflow.execute_activity(release, reservation)
            return {"compensated": released}
        except workflow.ChildWorkflowFailure as failure:
            released = await workflow.execute_activity(release, reservation)
            return {"child_failed": failure.error.message, "compensated": released}
        return {"reservation": reservation, "shipped": shipped}


@workflow.defn(name="counter")
class Counter_:
    """Continues as new every step: the history of each run stays short."""

    @workflow.run
    async def run(self, state: dict[str, int]) -> dict[str, int]:
        await workflow.sleep(1)
        if state["n"] < state["until"]:
            workflow.continue_as_new({"n": state["n"] + 1, "until": state["until"]})
        return state


@workflow.defn(name="booking")
class Booking:
    @workflow.run
    async def run(self, order: str) -> str:
        policy = RetryPolicy(initial_interval=0, maximum_attempts=2)
        return await workflow.execute_activity(book, order, retry_policy=policy)


@workflow.defn(name="slowpoke", timeout=60)
class Slowpoke:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(hours=1))
        return "too late"


@workflow.defn(name="tagger")
class Tagger:
    def __init__(self) -> None:
        self.tier = ""

    @workflow.run
    async def run(self, priority: int) -> int:
        workflow.upsert_search_attributes({"priority": priority, "tags": ["a", "b"]})
        await workflow.wait_condition(lambda: bool(self.tier))
        workflow.upsert_search_attributes({"tier": self.tier})
        return priority

    @workflow.signal
    def set_tier(self, tier: str) -> None:
        self.tier = tier


LIFECYCLE_WORKFLOWS = [Shipping, Order, Counter_, Booking, Slowpoke, Tagger]
LIFECYCLE_ACTIVITIES = [reserve, release, book]


@workflow.defn(name="relay")
class Relay:
    """A child that continues as new twice before it answers."""

    @workflow.run
    async def run(self, hops: int) -> str:
        if hops > 0:
            workflow.continue_as_new(hops - 1)
        return "relayed"


@workflow.defn(name="relay_parent")
class RelayParent:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_child_workflow(Relay, 2, workflow_id="relay-child")


@workflow.defn(name="impatient")
class Impatient:
    """Tries to continue as new while an activity is still running."""

    @workflow.run
    async def run(self) -> str:
        pending = workflow.execute_activity(reserve, "x")
        try:
            workflow.continue_as_new(None)
        except RuntimeError as refused:
            await pending
            return str(refused)
        return "not refused"


LIFECYCLE_WORKFLOWS += [Relay, RelayParent, Impatient]
