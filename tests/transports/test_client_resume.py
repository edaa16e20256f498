"""The client's stream survives the server going away: it reconnects and resumes from
``last_seq + 1``, so the events it yields are contiguous and never repeated."""

from __future__ import annotations

import asyncio
import signal

from tests.transports.processes import free_port, start_server
from transports.client import AionClient, ClientError, SyncClient


async def test_watch_resumes_across_a_server_restart(tmp_path) -> None:
    port = free_port()  # the same address before and after the restart
    db = tmp_path / "resume.db"
    server, url = start_server(db, port)
    client = AionClient(url, reconnect_attempts=50)
    try:
        await client.start("collector", workflow_id="watched")
        for n in range(3):
            await client.signal("watched", "note", n)
        seen: list[int] = []
        five = asyncio.Event()

        async def consume() -> None:  # ONE watch, across the outage
            async for frame in client.watch("watched"):
                seen.append(frame["event"]["seq"])
                if len(seen) == 5:  # started, attributes, three notes
                    five.set()

        watching = asyncio.create_task(consume())
        await asyncio.wait_for(five.wait(), 20)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        server, _ = start_server(db, port)  # back, on the same address
        await client.signal("watched", "note", 3)
        await client.signal("watched", "finish", "done")
        await asyncio.wait_for(watching, 30)  # it ends after the terminal event
        assert seen == list(range(1, len(seen) + 1))  # contiguous, no repeats
        assert len(seen) == 8
    finally:
        await client.close()
        server.send_signal(signal.SIGTERM)
        server.wait(20)


async def test_client_errors_carry_the_envelope(tmp_path) -> None:
    server, url = start_server(tmp_path / "errors.db")
    try:
        async with AionClient(url) as client:
            try:
                await client.signal("missing", "note", 1)
            except ClientError as error:
                assert (error.status, error.code, error.error_type) == (
                    404,
                    "not_found",
                    "WorkflowNotFound",
                )
            else:
                raise AssertionError("a signal to a missing workflow must fail")
        sync = SyncClient(url)
        started = await asyncio.to_thread(sync.start, "greeter", "sync")
        outcome = await asyncio.to_thread(sync.result, started["workflow_id"])
        assert outcome["status"] == "Completed"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)


async def test_a_namespace_watch_resumes_by_position_across_a_restart(tmp_path) -> None:
    port = free_port()
    db = tmp_path / "positions.db"
    server, url = start_server(db, port)
    client = AionClient(url, reconnect_attempts=50)
    try:
        for _ in range(2):
            await client.start("collector")
        frames: list[dict] = []
        enough = asyncio.Event()

        async def consume() -> None:  # ONE watch, across the outage
            async for frame in client.watch_namespace(from_position=1):
                frames.append(frame)
                if len(frames) in (4, 8):  # two starts, then two more after the restart
                    enough.set()

        watching = asyncio.create_task(consume())
        await asyncio.wait_for(enough.wait(), 20)
        enough.clear()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        server, _ = start_server(db, port)
        for _ in range(2):
            await client.start("collector")
        await asyncio.wait_for(enough.wait(), 30)
        watching.cancel()
        positions = [frame["position"] for frame in frames]
        assert positions == sorted(set(positions))  # in commit order, no repeats
        seqs = [(frame["event"]["workflow_id"], frame["event"]["seq"]) for frame in frames]
        assert len(set(seqs)) == 8 and all(seq in (1, 2) for _, seq in seqs)
    finally:
        await client.close()
        server.send_signal(signal.SIGTERM)
        server.wait(20)
