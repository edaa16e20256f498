"""Issue 13 defect 2: a store that cannot take writes is 503 ``unavailable`` with Retry-After
(bounded by the store's lock timeout), readiness says so, and nothing acknowledged is lost.

The fault is real: another SQLite connection holding ``BEGIN EXCLUSIVE``. The same mapping
covers read-only and full stores (``is_outage`` reads what SQLite or PostgreSQL said)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore
from tests.transports import sample_workflows as s
from tests.transports.api import get, post
from transports import ServerConfig, create_app

LOCK_TIMEOUT = 1


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "faults.db"


@pytest.fixture
def engine(db: Path) -> Iterator[Engine]:
    engine = Engine.open(
        SQLiteStore(db, lock_timeout=LOCK_TIMEOUT),
        workflows=s.WORKFLOWS,
        activities=s.ACTIVITIES,
        clock=ManualClock(),
    )
    yield engine
    engine.shutdown()


@pytest.fixture
async def client(aiohttp_client, engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(engine, ServerConfig()))


async def _start(client: TestClient, workflow_id: str) -> tuple[int, dict, dict]:
    response = await client.post(
        "/workflows/start", json={"workflow_type": "collector", "workflow_id": workflow_id}
    )
    return response.status, await response.json(), dict(response.headers)


async def test_a_locked_database_is_503_with_retry_after_then_recovers(
    client: TestClient, db: Path, engine: Engine
) -> None:
    status, _, _ = await _start(client, "before")
    assert status == 200
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        status, body, headers = await _start(client, "during")
        assert status == 503, body
        assert body["code"] == "unavailable" and "locked" in body["message"], body
        assert headers["Retry-After"] == "1"
        status, body = await get(client, "/health/ready")
        assert status == 503 and "commit a write" in body["message"], body
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    status, body = await get(client, "/health/ready")
    assert status == 200, body
    status, body, _ = await _start(client, "after")
    assert status == 200, body
    status, body = await post(client, "/workflows/describe", {"workflow_id": "during"})
    assert status == 404  # the refused start left nothing behind
    for workflow_id in ("before", "after"):  # what was acknowledged is there
        status, body = await post(client, "/workflows/describe", {"workflow_id": workflow_id})
        assert status == 200 and body["summary"]["status"] == "Running", body


@pytest.mark.parametrize(
    "said",
    [
        "attempt to write a readonly database",
        "database or disk is full",
        "database is locked",
        "cannot execute INSERT in a read-only transaction",
    ],
)
def test_what_the_store_said_decides_an_outage(said: str) -> None:
    from aionactors.store.outage import is_outage

    try:
        try:
            raise sqlite3.OperationalError(said)
        except sqlite3.OperationalError as driver:
            raise RuntimeError("wrapped by the recorder") from driver
    except RuntimeError as exc:
        assert is_outage(exc)
    assert not is_outage(sqlite3.IntegrityError("UNIQUE constraint failed"))
