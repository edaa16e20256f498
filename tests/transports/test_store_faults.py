"""Issue 13 defect 2: a store that cannot take writes is 503 ``unavailable`` with Retry-After
(bounded by the write timeout, ``store_write_timeout``), readiness says so, the log says what
the store said, nothing acknowledged is lost, nothing is half-written, and service resumes
when the fault clears.

The faults are real: another SQLite connection holding ``BEGIN EXCLUSIVE`` (locked), a
file system that really fills (full: SQLITE_FULL from ENOSPC on a small tmpfs), database
files made immutable under the open store (read-only: the kernel refuses the writes, root
included), and a PostgreSQL database turned read-only
(tests/transports/test_store_faults_postgres.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from tests.transports import sample_workflows as s
from tests.transports.store_faults import (
    assert_intact,
    assert_not_ready,
    assert_refused,
    ready_again,
    start,
)
from transports import ServerConfig, create_app
from transports.config import load_settings

WRITE_TIMEOUT = 0.5


def open_engine(db: Path) -> Engine:
    """From a URL, so the write timeout flows as configured (EngineSettings)."""
    return Engine.open(
        f"sqlite:///{db}",
        workflows=s.WORKFLOWS,
        activities=s.ACTIVITIES,
        clock=ManualClock(),
        store_write_timeout=WRITE_TIMEOUT,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "faults.db"


@pytest.fixture
def engine(db: Path) -> Iterator[Engine]:
    engine = open_engine(db)
    yield engine
    engine.shutdown()


@pytest.fixture
async def client(aiohttp_client, engine: Engine) -> TestClient:
    return await aiohttp_client(create_app(engine, ServerConfig()))


async def test_a_locked_database_is_503_within_the_write_timeout_then_recovers(
    client: TestClient, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status, _, _ = await start(client, "before")
    assert status == 200
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # Answered while the lock is still held: the wait is bounded by the write timeout.
        await assert_refused(client, "during", "database is locked", caplog)
        await assert_not_ready(client, "database is locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await ready_again(client)
    await assert_intact(client, acknowledged=["before"], refused=["during"])


@contextlib.contextmanager
def immutable(*files: Path) -> Iterator[None]:
    """The files become read-only under the open database, for root too (``chattr +i``:
    the kernel refuses every write, as on a file system remounted read-only)."""
    made = subprocess.run(
        ["chattr", "+i", *map(str, files)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"cannot make the database immutable ({made.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, files)], check=False)


async def test_a_read_only_database_is_503_then_recovers(
    client: TestClient, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    status, _, _ = await start(client, "before")
    assert status == 200
    wal = db.with_name(db.name + "-wal")  # the shared-memory index stays writable: it is mapped
    with immutable(db, wal):
        await assert_refused(client, "during", "disk i/o error", caplog)
        await assert_not_ready(client, "disk i/o error")
    await ready_again(client)
    await assert_intact(client, acknowledged=["before"], refused=["during"])


@contextlib.contextmanager
def small_file_system(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (root only; CI runs as root)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def grow(where: Path, size: str) -> None:
    """Clear the fault: the file system gets room again, under the open database."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


async def test_a_full_disk_is_503_nothing_half_written_and_service_resumes(
    aiohttp_client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_file_system(tmp_path / "small", "384k") as small:
        engine = open_engine(small / "full.db")
        try:
            client = await aiohttp_client(create_app(engine, ServerConfig()))
            acknowledged = []
            for n in range(2000):  # until the file system is really full
                status, body, _ = await start(client, f"w{n}")
                if status != 200:
                    break
                acknowledged.append(f"w{n}")
            assert status == 503 and body["code"] == "unavailable", body
            assert "full" in body["message"], body
            assert len(acknowledged) >= 5  # it filled up while serving, not at open
            refused = f"w{n}"
            await assert_refused(client, "during", "database or disk is full", caplog)
            await assert_not_ready(client, "full")
            grow(small, "64m")
            await ready_again(client)
            await assert_intact(client, acknowledged, refused=[refused, "during"])
            check = sqlite3.connect(small / "full.db")
            try:
                assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            finally:
                check.close()
        finally:
            engine.shutdown()


def test_the_write_timeout_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().engine.store_write_timeout == 10.0
    config = tmp_path / "aionactors.toml"
    config.write_text("[engine]\nstore_write_timeout = 2.5\n")
    assert load_settings(config).engine.store_write_timeout == 2.5
    monkeypatch.setenv("AIONACTORS_ENGINE__STORE_WRITE_TIMEOUT", "0.25")
    assert load_settings(config).engine.store_write_timeout == 0.25
    monkeypatch.setenv("AIONACTORS_ENGINE__STORE_WRITE_TIMEOUT", "0")
    with pytest.raises(Exception, match="store_write_timeout"):
        load_settings()


@pytest.mark.parametrize(
    "said",
    [
        "attempt to write a readonly database",
        "database or disk is full",
        "database is locked",
        "cannot execute INSERT in a read-only transaction",
        "canceling statement due to lock timeout",
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
