"""A cron schedule starting workflows on a real engine (SQLite file, wall clock).

Every 2 seconds (a 6-field cron: seconds first) the schedule starts a
``heartbeat_report`` run that calls one activity. After ~7 s the example
prints what the schedule started, then restarts the engine on the same file to
show that the schedule comes back by itself, and stops.

    python examples/cron_schedule.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aionactors import Engine, activity, workflow


@activity.defn
def measure(fired_by: str) -> dict[str, str]:
    return {"fired_by": fired_by, "measured_at": datetime.now(UTC).strftime("%H:%M:%S.%f")}


@workflow.defn(name="heartbeat_report")
class HeartbeatReport:
    @workflow.run
    async def run(self, source: str) -> dict[str, str]:
        return await workflow.execute_activity(measure, source)


def open_engine(path: Path) -> Engine:
    return Engine.open(f"sqlite:///{path}", workflows=[HeartbeatReport], activities=[measure])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cron.db"
        engine = open_engine(db)
        schedules = engine.schedules  # the engine runs its schedules
        assert schedules is not None
        state = schedules.create(
            {
                "spec": {"cron": "*/2 * * * * *", "timezone": "Europe/Berlin"},
                "workflow_type": "heartbeat_report",
                "input": "cron-example",
                "overlap_policy": "skip",
            },
            schedule_id="heartbeat",
        )
        print("schedule 'heartbeat' next fires at:")
        for fire_at in state.next_fire_times[:3]:
            print("   ", fire_at.isoformat())

        time.sleep(7)
        state = schedules.describe("heartbeat")
        print(f"\nafter ~7 s it started {state.triggered_count} runs:")
        for execution in reversed(state.recent_executions):
            result = engine.result(execution.workflow_id, timeout=10)
            print(f"    {execution.workflow_id:40} {execution.status:9} -> {result}")

        engine.shutdown()
        print("\nengine restarted on the same file ...")
        engine = open_engine(db)
        schedules = engine.schedules  # the engine runs its schedules
        assert schedules is not None
        before = schedules.describe("heartbeat").triggered_count
        time.sleep(2.5)
        after = schedules.describe("heartbeat").triggered_count
        print(f"the schedule came back by itself and fired {after - before} more time(s)")
        schedules.delete("heartbeat")
        engine.shutdown()


if __name__ == "__main__":
    main()
