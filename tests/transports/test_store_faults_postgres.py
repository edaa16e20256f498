"""Store faults on the real PostgreSQL (see test_store_faults.py for what is checked).

Read-only: a fresh database of its own is set ``default_transaction_read_only = on`` and
its sessions are ended, so the pool's new connections really are read-only (as after a
fail-over to a standby); clearing resets it and ends them again. Locked: another session
holds ``LOCK TABLE … IN ACCESS EXCLUSIVE MODE`` on the events table, and the write waits
``lock_timeout`` (the write timeout) before answering.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store.sql import EVENTS_TABLE
from tests.postgres_support import ADMIN_DSN, _connect_admin
from tests.transports import sample_workflows as s
from tests.transports.store_faults import (
    assert_intact,
    assert_not_ready,
    assert_refused,
    ready_again,
    start,
)
from transports import ServerConfig, create_app

pytestmark = pytest.mark.postgres

WRITE_TIMEOUT = 0.5


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[tuple[str, str]]:
    """(name, DSN) of a database created for one test (ALTER DATABASE must not leak)."""
    del postgres_dsn  # skips or fails the test the same way when no server answers
    name = f"aionactors_fault_{uuid.uuid4().hex[:12]}"
    with _connect_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, f"{ADMIN_DSN.rpartition('/')[0]}/{name}"
    finally:
        with _connect_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database: tuple[str, str]) -> Iterator[Engine]:
    engine = Engine.open(
        database[1], workflows=s.WORKFLOWS, activities=s.ACTIVITIES, clock=ManualClock(),
        cluster=False,  # a lone engine: these faults are the store's, not a cluster's
        store_write_timeout=WRITE_TIMEOUT,
    )  # fmt: skip
    yield engine
    engine.shutdown()


@pytest.fixture
async def client(aiohttp_client: Any, engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(engine, ServerConfig()))


def set_read_only(name: str, on: bool) -> None:
    setting = "SET default_transaction_read_only = on"
    if not on:
        setting = "RESET default_transaction_read_only"
    with _connect_admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" {setting}')
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )


async def refused_until(client: TestClient, said: str, caplog: pytest.LogCaptureFixture) -> None:
    """Starts while the pool drops its ended sessions are 503 too; then the store says ``said``."""
    for n in range(20):
        status, body, _ = await start(client, f"refused-{n}")
        assert status == 503 and body["code"] == "unavailable", body
        if said in body["message"].lower():
            break
    await assert_refused(client, "during", said, caplog)


async def test_a_read_only_database_is_503_and_service_resumes(
    client: TestClient, database: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    name = database[0]
    status, body, _ = await start(client, "before")
    assert status == 200, body
    set_read_only(name, True)
    try:
        await refused_until(client, "read-only transaction", caplog)
        await assert_not_ready(client, "read-only")
    finally:
        set_read_only(name, False)
    await ready_again(client)
    refused = [f"refused-{n}" for n in range(20)] + ["during"]
    await assert_intact(client, acknowledged=["before"], refused=refused)


async def test_a_lock_held_past_the_write_timeout_is_503_and_service_resumes(
    client: TestClient, database: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    status, body, _ = await start(client, "before")
    assert status == 200, body
    holder = psycopg.connect(database[1])
    try:
        holder.execute(f"LOCK TABLE {EVENTS_TABLE} IN ACCESS EXCLUSIVE MODE")
        # Answered while the lock is held: lock_timeout (the write timeout) bounds the wait.
        await assert_refused(client, "during", "lock timeout", caplog)
        await assert_not_ready(client, "lock timeout")
    finally:
        holder.rollback()
        holder.close()
    await ready_again(client)
    await assert_intact(client, acknowledged=["before"], refused=["during"])
