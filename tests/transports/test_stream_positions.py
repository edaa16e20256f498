"""Stream positions (PROTOCOL.md, "Stream additions"): every frame carries the event's place
in the store's global commit order, and firehose / filtered resume from a position — a
replay of the namespace's stored events, then live, contiguous and duplicate-free — on
SQLite, PostgreSQL and the in-memory store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from aionactors import Engine
from aionactors.core.workflow_keys import public_id
from aionactors.engine.clock import ManualClock
from aionactors.store import EventStore, InMemoryStore, SQLiteStore
from tests.transports import sample_workflows as s
from tests.transports.api import act, result, start
from tests.transports.support import TENANT_A, TENANT_B, Stream, tenant
from transports import ServerConfig, create_app
from transports.state import STATE

MAX_POSITION = 2**63 - 1


@pytest.fixture(params=["sqlite", "memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[EventStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield SQLiteStore(tmp_path / "positions.db")
    elif request.param == "memory":
        yield InMemoryStore()
    else:
        from aionactors.store.postgres import PostgresStore

        dsn = request.getfixturevalue("postgres_dsn")
        yield PostgresStore(dsn, schema=request.getfixturevalue("postgres_schema"))


@pytest.fixture
def any_engine(store: EventStore) -> Iterator[Engine]:
    engine = Engine.open(store, workflows=s.WORKFLOWS, activities=s.ACTIVITIES, clock=ManualClock())
    yield engine
    engine.shutdown()


@pytest.fixture
async def pclient(aiohttp_client, any_engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(any_engine, ServerConfig(outbound_buffer=64)))


@pytest.fixture
async def open_stream(pclient: TestClient) -> AsyncIterator[Any]:
    opened: list[Stream] = []

    async def connect(subscription: dict[str, Any], namespace: str = TENANT_A) -> Stream:
        stream = Stream(await pclient.ws_connect("/events/stream", headers=tenant(namespace)))
        opened.append(stream)
        await stream.subscribe(subscription)
        return stream

    yield connect
    for stream in opened:
        await stream.ws.close()


def committed_in(client: TestClient, namespace: str, after: int = 0) -> list[tuple[int, str, int]]:
    """(position, workflow_id, seq) of every stored event of ``namespace`` after ``after``."""
    store = client.server.app[STATE].engine.store
    rows = store.read_committed_in(namespace, after, 100_000)
    return [(c.position, public_id(c.event.workflow_id), c.event.seq) for c in rows]


def key(frame: dict[str, Any]) -> tuple[int, str, int]:
    return frame["position"], frame["event"]["workflow_id"], frame["event"]["seq"]


async def frames_until(stream: Stream, count: int) -> list[dict[str, Any]]:
    return [await stream.next_event() for _ in range(count)]


async def mixed_history(client: TestClient) -> list[str]:
    """Workflows in two namespaces, interleaved in commit order; returns tenant-a's ids."""
    ids = []
    for n in range(3):
        ids.append((await start(client, namespace=TENANT_A))["workflow_id"])
        await start(client, namespace=TENANT_B)
        await act(client, "signal", workflow_id=ids[-1], signal_name="note", payload=n)
    return ids


async def test_every_frame_carries_its_commit_position(pclient, open_stream) -> None:
    workflow_id = (await start(pclient, "greeter", input="x"))["workflow_id"]
    await result(pclient, workflow_id)
    stream = await open_stream(
        {"per_workflow": {"namespace": TENANT_A, "workflow_id": workflow_id, "resume_from_seq": 1}}
    )
    frames = []
    while (frame := await stream.next_frame()) is not None:
        frames.append(key(frame))
    assert frames == committed_in(pclient, TENANT_A)
    positions = [f[0] for f in frames]
    assert positions == sorted(set(positions))


async def test_firehose_resumes_from_a_position_then_goes_live(pclient, open_stream) -> None:
    await mixed_history(pclient)
    stored = committed_in(pclient, TENANT_A)
    cursor = stored[3][0]
    stream = await open_stream(
        {"firehose": {"namespace": TENANT_A, "resume_from_position": cursor}}
    )
    replayed = [key(f) for f in await frames_until(stream, len(stored) - 3)]
    assert replayed == stored[3:]  # only tenant-a's events, from the cursor, in order
    late = (await start(pclient, namespace=TENANT_A))["workflow_id"]
    await start(pclient, namespace=TENANT_B)
    live = [key(f) for f in await frames_until(stream, 2)]
    assert [(w, seq) for _, w, seq in live] == [(late, 1), (late, 2)]
    assert replayed + live == committed_in(pclient, TENANT_A, cursor - 1)


async def test_a_resume_while_commits_flow_is_contiguous_and_duplicate_free(
    pclient, open_stream
) -> None:
    workflow_id = (await start(pclient))["workflow_id"]
    signals = 60

    async def keep_signalling() -> None:
        for n in range(signals):
            await act(pclient, "signal", workflow_id=workflow_id, signal_name="note", payload=n)

    signalling = asyncio.create_task(keep_signalling())
    stream = await open_stream({"firehose": {"namespace": TENANT_A, "resume_from_position": 1}})
    received = [key(f) for f in await frames_until(stream, 2 + signals)]
    await signalling
    assert received == committed_in(pclient, TENANT_A)


async def test_a_lagged_firehose_resumes_from_its_last_position(pclient, open_stream) -> None:
    """A broadcast restart cuts every subscriber off with ``lagged`` (as a full buffer
    does); resuming from the last position + 1 loses and repeats nothing."""
    workflow_id = (await start(pclient))["workflow_id"]
    stream = await open_stream({"firehose": {"namespace": TENANT_A, "resume_from_position": 1}})
    received = [key(f) for f in await frames_until(stream, 2)]
    pclient.server.app[STATE].broadcaster.actor_ref.tell("poison: not a batch")
    for n in range(5):  # commits go on while nobody is attached
        await act(pclient, "signal", workflow_id=workflow_id, signal_name="note", payload=n)
    while (frame := await stream.next_frame()) is not None and "error" not in frame:
        received.append(key(frame))
    assert frame is not None and frame["error"]["code"] == "lagged"
    cursor = received[-1][0] + 1
    resumed = await open_stream(
        {"firehose": {"namespace": TENANT_A, "resume_from_position": cursor}}
    )
    await act(pclient, "signal", workflow_id=workflow_id, signal_name="finish", payload=1)
    stored = committed_in(pclient, TENANT_A)
    received += [key(f) for f in await frames_until(resumed, len(stored) - len(received))]
    assert received == stored


async def test_filtered_resume_applies_the_live_selectors(pclient, open_stream) -> None:
    finished = (await start(pclient, "greeter", input="a"))["workflow_id"]
    await result(pclient, finished)
    running = (await start(pclient))["workflow_id"]  # collector, still running
    await start(pclient, "greeter", namespace=TENANT_B, input="b")
    by_type = await open_stream(
        {"filtered": {"namespace": TENANT_A, "workflow_type": "collector",
                      "resume_from_position": 1}}
    )  # fmt: skip
    assert {f["event"]["workflow_id"] for f in await frames_until(by_type, 2)} == {running}
    completed = await open_stream(
        {"filtered": {"namespace": TENANT_A, "status": "Completed", "resume_from_position": 1}}
    )
    (frame,) = await frames_until(completed, 1)
    assert (frame["event"]["workflow_id"], frame["event"]["type"]) == (
        finished,
        "WorkflowCompleted",
    )
    await act(pclient, "signal", workflow_id=running, signal_name="finish", payload=1)
    (frame,) = await frames_until(completed, 1)  # then live, through the same filter
    assert (frame["event"]["workflow_id"], frame["event"]["type"]) == (running, "WorkflowCompleted")


async def test_position_cursor_edges(pclient, open_stream) -> None:
    await start(pclient)
    head = committed_in(pclient, TENANT_A)[-1][0]
    for cursor, error_type in (
        (0, None),
        (-1, None),
        (head + 2, "ResumeCursorAheadOfHistory"),
        (MAX_POSITION, "ResumeCursorAheadOfHistory"),
        (MAX_POSITION + 1, None),
        (2**64, None),
        ("1", None),
        (1.0, None),
    ):
        for kind in ("firehose", "filtered"):
            stream = await open_stream({kind: {"namespace": TENANT_A,
                                               "resume_from_position": cursor}})  # fmt: skip
            await stream.expect_error("invalid_input", error_type)
    at_head = await open_stream(
        {"firehose": {"namespace": TENANT_A, "resume_from_position": head + 1}}
    )
    workflow_id = (await start(pclient))["workflow_id"]
    assert [key(f)[1:] for f in await frames_until(at_head, 2)] == [
        (workflow_id, 1),
        (workflow_id, 2),
    ]


async def test_a_resume_never_crosses_namespaces(pclient, open_stream) -> None:
    await mixed_history(pclient)
    stream = await open_stream({"firehose": {"namespace": TENANT_B, "resume_from_position": 1}},
                               TENANT_B)  # fmt: skip
    frames = await frames_until(stream, len(committed_in(pclient, TENANT_B)))
    assert {f["namespace"] for f in frames} == {TENANT_B}
    assert [key(f) for f in frames] == committed_in(pclient, TENANT_B)
    denied = await open_stream({"firehose": {"namespace": TENANT_B, "resume_from_position": 1}})
    await denied.expect_error("namespace_denied")
