"""The checkout workflow from the architecture notes, run end to end on SQLite.

    python examples/checkout.py            # start, approve, wait for the result
    python examples/checkout.py --crash    # ... and kill -9 the engine mid-way first

With --crash the engine runs in a child process that is killed with SIGKILL
while the workflow sleeps; a fresh engine over the same file finishes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from aionactors import Engine, RetryPolicy, activity, workflow


@activity.defn
def charge(order: dict) -> dict:
    return {"order": order["id"], "charged": order["amount"]}


@workflow.defn(name="checkout")
class Checkout:
    def __init__(self) -> None:
        self.approved = False

    @workflow.run
    async def run(self, order: dict) -> dict:
        receipt = await workflow.execute_activity(
            charge, order, retry_policy=RetryPolicy(maximum_attempts=5)
        )
        if not await workflow.wait_condition(lambda: self.approved, timeout=timedelta(hours=24)):
            return {"status": "expired"}
        await workflow.sleep(timedelta(seconds=2))  # days, in real life
        return {"status": "done", "receipt": receipt}

    @workflow.signal
    def approve(self, payload: dict) -> None:
        self.approved = True

    @workflow.query
    def state(self) -> dict:
        return {"approved": self.approved}


def open_engine(database: Path) -> Engine:
    return Engine.open(f"sqlite:///{database}", workflows=[Checkout], activities=[charge])


def start_and_approve(database: Path) -> None:
    engine = open_engine(database)
    sleeping = threading.Event()
    engine.add_commit_listener(
        lambda events: sleeping.set() if any(e.type == "TimerStarted" for e in events) else None
    )
    handle = engine.start_workflow(Checkout, {"id": 42, "amount": 10}, workflow_id="order-42")
    engine.signal(handle.workflow_id, "approve", {})
    while sleeping.wait(10) and engine.describe("order-42").pending_timers[0]["timer_id"] != (
        "anonymous:1"
    ):
        sleeping.clear()  # that was the approval deadline; wait for the 2 s sleep
    print("charged and approved; the workflow now sleeps", flush=True)
    if "--child" in sys.argv:
        signal.pause()  # wait here for the SIGKILL
    engine.shutdown()


def main() -> None:
    database = Path(tempfile.mkdtemp()) / "orders.db"
    if "--crash" in sys.argv:
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", str(database)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        print("child:", child.stdout.readline().strip())
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        print("killed the engine with SIGKILL; restarting over the same file")
    else:
        start_and_approve(database)
    with open_engine(database) as engine:
        print("result:", engine.result("order-42", timeout=30))
        print("events:", [e.type for e in engine.history("order-42")])


if __name__ == "__main__":
    if "--child" in sys.argv:
        start_and_approve(Path(sys.argv[-1]))
    else:
        main()
