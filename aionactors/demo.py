"""The main job a newcomer runs first: a real workflow, end to end, on the embedded SQLite store.

A checkout workflow charges a card (an activity with retries), waits for an
approval signal, sleeps on a durable timer and ships. Run it twice: the second
run finds the first run's history in the same database.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, TextIO

from aionactors import workflow
from aionactors.core.events import Event
from aionactors.engine import Engine
from aionactors.workflow import RetryPolicy
from aionactors.workflow import activity as activity_api


@activity_api.defn
def charge_card(order: dict[str, Any]) -> dict[str, Any]:
    if activity_api.info().attempt < 2:
        raise ConnectionError("payment gateway timed out")  # the engine retries it
    return {"order": order["id"], "charged": order["amount"]}


@activity_api.defn
def ship(order: dict[str, Any]) -> str:
    return f"parcel-{order['id']}"


@workflow.defn(name="demo.checkout")
class Checkout:
    def __init__(self) -> None:
        self.approved = False
        self.notes: list[str] = []

    @workflow.run
    async def run(self, order: dict[str, Any]) -> dict[str, Any]:
        receipt = await workflow.execute_activity(
            charge_card, order, retry_policy=RetryPolicy(initial_interval=0.1, maximum_attempts=3)
        )
        if not await workflow.wait_condition(lambda: self.approved, timeout=timedelta(hours=24)):
            return {"status": "expired"}
        await workflow.sleep(0.5)
        parcel = await workflow.execute_activity(ship, order)
        return {"status": "shipped", "receipt": receipt, "parcel": parcel}

    @workflow.signal
    def approve(self) -> None:
        self.approved = True

    @workflow.query
    def status(self) -> dict[str, bool]:
        return {"approved": self.approved}

    @workflow.update
    def add_note(self, note: str) -> int:
        """An update: recorded, then answered with the number of notes so far."""
        self.notes.append(note)
        return len(self.notes)

    @add_note.validator
    def _check_note(self, note: str) -> None:
        if not note.strip():
            raise ValueError("a note must not be blank")  # rejected: nothing is recorded


def run_demo(url: str, out: TextIO) -> int:
    """Start a checkout, approve it, wait for the result, and print its history."""
    with Engine.open(url, workflows=[Checkout], activities=[charge_card, ship]) as engine:
        handle = engine.start_workflow(Checkout, {"id": 42, "amount": 99.5})
        print(f"started {handle.workflow_id} on {url}", file=out)
        waiting = threading.Event()

        def on_commit(events: Sequence[Event]) -> None:
            if any(e.type == "TimerStarted" for e in events):
                waiting.set()  # charged, now waiting for the approval

        engine.add_commit_listener(on_commit)
        if engine.describe(handle.workflow_id).pending_timers or waiting.wait(30):
            print(f"query status -> {engine.query(handle.workflow_id, 'status')}", file=out)
        engine.signal(handle.workflow_id, "approve")
        result = engine.result(handle.workflow_id, timeout=60)
        print(f"result -> {result}", file=out)
        for event in engine.history(handle.workflow_id):
            print(f"  #{event.seq:<2} {event.type}", file=out)
        total = engine.count_workflows(workflow_type="demo.checkout")
        print(f"{total} checkout workflow(s) recorded in this database", file=out)
    return 0
