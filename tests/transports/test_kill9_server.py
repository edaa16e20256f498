"""`aionactors serve` killed with SIGKILL mid-flight, restarted on the same database:
every acknowledged start and signal is there, and every workflow completes."""

from __future__ import annotations

import signal

from tests.transports.processes import start_server
from transports.client import AionClient


async def test_sigkill_mid_flight_loses_nothing_acknowledged(tmp_path) -> None:
    db = tmp_path / "server.db"
    first, url = start_server(db)
    acknowledged: dict[str, int] = {}
    try:
        async with AionClient(url) as client:
            for index in range(20):
                workflow_id = f"kill9-{index}"
                await client.start("collector", workflow_id=workflow_id)
                acknowledged[workflow_id] = 0
                for note in range(index % 4):
                    await client.signal(workflow_id, "note", {"n": note})
                    acknowledged[workflow_id] += 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert first.returncode == -signal.SIGKILL

    second, url = start_server(db)
    try:
        async with AionClient(url) as client:
            for workflow_id, notes in acknowledged.items():
                history = await client.history(workflow_id)
                recorded = [e for e in history["events"] if e["type"] == "SignalReceived"]
                assert len(recorded) == notes, workflow_id
                assert await client.query(workflow_id, "notes_so_far") == [
                    {"n": n} for n in range(notes)
                ]
                await client.signal(workflow_id, "finish", {"notes": notes})
            for workflow_id, notes in acknowledged.items():
                outcome = await client.result(workflow_id, wait_ms=20_000)
                assert outcome["status"] == "Completed", outcome
                assert outcome["result"] == {"notes": notes}
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
