"""Run by test_kill9: an engine process that the test kills with SIGKILL mid-flight."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from aionactors import Engine, activity, workflow


@activity.defn
def slow_step(marker: str) -> str:
    """Blocks in the first process (which gets killed); returns at once after a restart."""
    flag = Path(marker)
    if not flag.exists():
        flag.write_text("running")
        print("activity-running", flush=True)
        threading.Event().wait()  # until SIGKILL
    return "stepped"


@workflow.defn(name="survivor")
class Survivor:
    def __init__(self) -> None:
        self.approved = False

    @workflow.run
    async def run(self, marker: str) -> dict:
        await workflow.wait_condition(lambda: self.approved)
        await workflow.sleep(0.2)
        step = await workflow.execute_activity(slow_step, marker)
        return {"step": step, "approved": self.approved}

    @workflow.signal
    def approve(self) -> None:
        self.approved = True


def main(db: str, marker: str) -> None:
    engine = Engine.open(f"sqlite:///{db}", workflows=[Survivor], activities=[slow_step])
    engine.start_workflow(Survivor, marker, workflow_id="survivor")
    engine.signal("survivor", "approve")
    print("signal-acknowledged", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
