"""An order saga: reserve stock, ship through a child workflow, and compensate on cancel.

    python examples/order_saga.py

Runs two orders on a SQLite file: one ships, one is cancelled while its shipment
waits, and releases its reservation (compensation) before it ends.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from aionactors import Engine, RetryPolicy, activity, workflow


@activity.defn
def reserve_stock(order: dict[str, Any]) -> str:
    return f"reservation-{order['id']}"


@activity.defn
def release_stock(reservation: str) -> str:
    return f"released {reservation}"


@activity.defn
def print_label(order: dict[str, Any]) -> str:
    return f"label for {order['id']}"


@workflow.defn(name="shipment")
class Shipment:
    """The child: prints a label, then waits for the courier (a signal) for up to a day."""

    def __init__(self) -> None:
        self.picked_up = False

    @workflow.run
    async def run(self, order: dict[str, Any]) -> str:
        label = await workflow.execute_activity(print_label, order)
        if not await workflow.wait_condition(lambda: self.picked_up, timeout=timedelta(days=1)):
            raise RuntimeError("courier never came")
        return f"{label}: picked up"

    @workflow.signal
    def courier_arrived(self) -> None:
        self.picked_up = True


@workflow.defn(name="order_saga")
class OrderSaga:
    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        reservation = await workflow.execute_activity(
            reserve_stock, order, retry_policy=RetryPolicy(maximum_attempts=3)
        )
        try:
            shipped = await workflow.execute_child_workflow(
                Shipment, order, workflow_id=f"shipment-{order['id']}"
            )
        except workflow.CancelledError:
            # The order was cancelled: undo what was done; re-raising ends the run Cancelled
            # (returning a value instead would end it Completed).
            await workflow.execute_activity(release_stock, reservation)
            raise
        return {"order": order["id"], "reservation": reservation, "shipment": shipped}


def wait_for(engine: Engine, workflow_id: str, event_type: str) -> None:
    """Block until the workflow's history holds an event of this type (no polling loop)."""
    seen = threading.Event()
    engine.add_commit_listener(
        lambda events: (
            seen.set()
            if any(e.workflow_id == workflow_id and e.type == event_type for e in events)
            else None
        )
    )
    if not any(e.type == event_type for e in engine.history(workflow_id)):
        seen.wait(30)


def main() -> None:
    database = Path(tempfile.mkdtemp()) / "saga.db"
    with Engine.open(
        f"sqlite:///{database}",
        workflows=[OrderSaga, Shipment],
        activities=[reserve_stock, release_stock, print_label],
    ) as engine:
        engine.start_workflow(OrderSaga, {"id": "A-1"}, workflow_id="order-A-1")
        engine.start_workflow(OrderSaga, {"id": "B-2"}, workflow_id="order-B-2")
        wait_for(engine, "shipment-A-1", "TimerStarted")
        wait_for(engine, "shipment-B-2", "TimerStarted")

        engine.signal("shipment-A-1", "courier_arrived")
        print("order A-1 ->", engine.result("order-A-1", timeout=30))

        engine.cancel("order-B-2", "customer cancelled")
        wait_for(engine, "order-B-2", "ActivityCompleted")  # the compensation
        wait_for(engine, "shipment-B-2", "WorkflowCancelled")  # parent-close policy: terminate
        print("order B-2 ->", engine.describe("order-B-2").summary.status.value)
        print("shipment B-2 ->", engine.describe("shipment-B-2").summary.status.value)
        for event in engine.history("order-B-2"):
            detail = getattr(event, "activity_type", "") or getattr(event, "reason", "")
            print(f"  #{event.seq:<2} {event.type} {detail}")


if __name__ == "__main__":
    main()
