"""The main job a newcomer runs first: a durable history written, re-read and listed."""

from __future__ import annotations

from typing import TextIO

from aionactors.core.events import SignalReceived, WorkflowCompleted, WorkflowStarted
from aionactors.core.ids import new_id
from aionactors.core.timestamps import utc_now
from aionactors.core.visibility import WorkflowFilter
from aionactors.store import WriteToken, open_store


def run_store_demo(url: str, out: TextIO) -> int:
    """Record start → signal → completion for a fresh workflow, then read it all back."""
    token = WriteToken.recorder()
    workflow_id, run_id = new_id(), new_id()
    with open_store(url) as store:
        started = WorkflowStarted(
            seq=1,
            recorded_at=utc_now(),
            workflow_id=workflow_id,
            workflow_type="demo.greeting",
            input={"name": "world"},
            run_id=run_id,
        )
        store.append(token, workflow_id, [started], 0)
        signal = SignalReceived(
            seq=2, recorded_at=utc_now(), workflow_id=workflow_id, name="approve", payload={}
        )
        done = WorkflowCompleted(
            seq=3, recorded_at=utc_now(), workflow_id=workflow_id, result="hello, world"
        )
        store.append(token, workflow_id, [signal, done], 1)
        print(f"store: {url}", file=out)
        for event in store.read_history(workflow_id):
            print(f"  #{event.seq} {event.type}", file=out)
        total = store.count(WorkflowFilter(workflow_type="demo.greeting"))
        summary = store.get_summary(workflow_id)
        status = summary.status if summary else "?"
        print(f"workflow {workflow_id}: {status}; {total} demo workflow(s) in this store", file=out)
    return 0
