"""Seed 004's reload branches, on SQLite and PostgreSQL: a bad stored row is skipped loudly,
every other version and workflow comes up, and runs pinned to it say why in ``describe``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aionactors import Engine
from aionactors.engine.clock import ManualClock
from aionactors.store import EventStore
from aionactors.store.contract import PackageRecord
from aionactors.store.sqlite import SQLiteStore
from tests.engine.support import CommitWatch
from tests.engine.workflows import Parked
from tests.packages.support import TYPES, package_archive

OpenStore = Callable[[], EventStore]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    if request.param == "sqlite":
        yield lambda: SQLiteStore(tmp_path / "reload.db")
    else:
        from aionactors.store.postgres import PostgresStore

        dsn = request.getfixturevalue("postgres_dsn")
        schema = request.getfixturevalue("postgres_schema")
        yield lambda: PostgresStore(dsn, schema=schema)


def open_engine(open_store: OpenStore, clock: ManualClock | None = None) -> Engine:
    return Engine.open(open_store(), clock=clock or ManualClock(), workflows=[Parked])


def deploy_and_park(open_store: OpenStore) -> tuple[str, str]:
    """v1 with a pinned run "pinned", then v2 routed; an in-process run "plain" parked too."""
    clock = ManualClock()
    engine = open_engine(open_store, clock)
    try:
        v1 = engine.packages.deploy(package_archive(1)).content_hash
        engine.start_workflow("Greeter", "ada", workflow_id="pinned")
        CommitWatch(engine).has("pinned", "ActivityCompleted")
        clock.advance(60)  # v2 is deployed a minute later
        v2 = engine.packages.deploy(package_archive(2)).content_hash
        engine.start_workflow("parked", workflow_id="plain")
    finally:
        engine.shutdown()
    return v1, v2


def tamper(open_store: OpenStore, content_hash: str, archive: bytes, name: str = "greeter") -> None:
    store = open_store()
    try:
        store.put_package(PackageRecord(content_hash, name, archive, datetime.now(UTC)))
    finally:
        store.close()


def assert_others_come_up(engine: Engine, v2: str) -> None:
    engine.signal("plain", "put", "still here")
    assert engine.result("plain", timeout=20) == "still here"
    assert engine.packages.routes() == dict.fromkeys(TYPES, v2)
    engine.start_workflow("Greeter", "bob", workflow_id="fresh")
    CommitWatch(engine).has("fresh", "ActivityCompleted")
    engine.signal("fresh", "release")
    assert engine.result("fresh", timeout=20)["version"] == 2


def test_a_corrupt_stored_archive_is_skipped(open_store: OpenStore, caplog) -> None:
    v1, v2 = deploy_and_park(open_store)
    tamper(open_store, v1, b"this is not a zip any more")
    with caplog.at_level(logging.ERROR):
        engine = open_engine(open_store)
    try:
        assert "could not be reloaded and is skipped" in caplog.text
        problem = engine.describe("pinned").problem
        assert problem is not None and "not a zip" in problem and v1 in problem
        assert_others_come_up(engine, v2)
    finally:
        engine.shutdown()


def test_a_row_whose_hash_or_manifest_disagrees_with_its_key_is_skipped(
    open_store: OpenStore, caplog
) -> None:
    v1, v2 = deploy_and_park(open_store)
    tamper(open_store, v1, package_archive(3))  # a valid archive, but not the one keyed v1
    with caplog.at_level(logging.ERROR):
        engine = open_engine(open_store)
    try:
        assert "not its key" in caplog.text
        assert "not its key" in (engine.describe("pinned").problem or "")
        assert_others_come_up(engine, v2)
    finally:
        engine.shutdown()
    tamper(open_store, v1, package_archive(1), name="renamed")  # right bytes, wrong manifest name
    engine = open_engine(open_store)
    try:
        assert "not its key" in (engine.describe("pinned").problem or "")
    finally:
        engine.shutdown()


def test_a_route_to_a_missing_version_is_warned_and_skipped(open_store: OpenStore, caplog) -> None:
    _, v2 = deploy_and_park(open_store)
    store = open_store()
    try:
        store.put_package_route("Greeter", "sha256:" + "f" * 64)
        store.put_package_route("Ghost", v2)  # v2 does not define it
    finally:
        store.close()
    with caplog.at_level(logging.WARNING):
        engine = open_engine(open_store)
    try:
        assert caplog.text.count("skipping the route") == 2
        assert engine.packages.routes() == dict.fromkeys(TYPES, v2)  # its own reload re-pointed it
        assert engine.describe("pinned").problem is None
        engine.signal("pinned", "release")
        assert engine.result("pinned", timeout=20)["version"] == 1
    finally:
        engine.shutdown()
