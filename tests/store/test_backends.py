"""What only some backends can show: durability across reopen, corrupt rows, URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from aionactors.core.errors import CorruptHistory, InvalidInput, StoreError
from aionactors.core.ids import TimerId
from aionactors.store import InMemoryStore, SQLiteStore, open_store
from aionactors.store.conformance import T0, TOKEN, HistoryBuilder
from aionactors.store.postgres import PostgresStore
from aionactors.store.sql import SqlEventStore


def test_reopened_sqlite_file_shows_the_same_data(tmp_path: Path) -> None:
    path = tmp_path / "durable.db"
    builder = HistoryBuilder("wf")
    events = [builder.started(), builder.signal("go", [1, 2])]
    with SQLiteStore(path) as store:
        store.append(TOKEN, "wf", events, 0)
        store.schedule_timer("wf", TimerId.named("t"), T0)
        summary = store.get_summary("wf")
        position = store.head_position()
    with SQLiteStore(path) as reopened:
        assert reopened.read_history("wf") == events
        assert reopened.get_summary("wf") == summary
        assert [str(t.timer_id) for t in reopened.expired_timers(T0)] == ["named:t"]
        assert reopened.head_position() == position
        assert reopened.list_active() == ["wf"]


def _plant_row(store: SqlEventStore, workflow_id: str, seq: int, state: bytes) -> None:
    """Write a row behind the store's back, as a foreign writer or a bad disk would."""
    store._recorder.insert_events(  # type: ignore[attr-defined]
        [StoredEvent(originator_id=workflow_id, originator_version=seq, topic="X", state=state)]
    )


def _assert_corruption_is_reported(store: SqlEventStore) -> None:
    builder = HistoryBuilder("wf")
    store.append(TOKEN, "wf", [builder.started()], 0)
    _plant_row(store, "wf", 2, b"{not json")
    with pytest.raises(CorruptHistory, match=r"'wf'#2 is not a valid event"):
        store.read_history("wf")
    foreign = HistoryBuilder("elsewhere").started().model_dump_json().encode()
    _plant_row(store, "victim", 1, foreign)
    with pytest.raises(CorruptHistory, match="holds event 'elsewhere'#1"):
        store.read_history("victim")
    assert isinstance(CorruptHistory("x"), StoreError)


def test_sqlite_corrupt_and_foreign_rows_raise_store_error(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "corrupt.db") as store:
        _assert_corruption_is_reported(store)


@pytest.mark.postgres
def test_postgres_corrupt_and_foreign_rows_raise_store_error(
    postgres_dsn: str, postgres_schema: str
) -> None:
    with PostgresStore(postgres_dsn, schema=postgres_schema) as store:
        _assert_corruption_is_reported(store)


@pytest.mark.postgres
def test_two_postgres_stores_share_one_database(postgres_dsn: str, postgres_schema: str) -> None:
    """Two nodes' stores over one database see each other's commits and conflicts."""
    with (
        PostgresStore(postgres_dsn, schema=postgres_schema) as node_a,
        PostgresStore(postgres_dsn, schema=postgres_schema) as node_b,
    ):
        builder = HistoryBuilder("wf")
        node_a.append(TOKEN, "wf", [builder.started()], 0)
        assert node_b.read_history("wf") == node_a.read_history("wf")
        assert node_b.read_committed(0)[0].event.workflow_id == "wf"


def test_open_store_by_url(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), InMemoryStore)
    store = open_store(f"sqlite:///{tmp_path}/by-url.db")
    assert isinstance(store, SQLiteStore) and store.path == tmp_path / "by-url.db"
    store.close()
    with pytest.raises(InvalidInput, match="unknown scheme 'mysql'"):
        open_store("mysql://x")
    with pytest.raises(InvalidInput, match="names no file"):
        open_store("sqlite://")


def test_postgres_store_refuses_a_bad_schema_name() -> None:
    with pytest.raises(StoreError, match="plain SQL identifier"):
        PostgresStore("postgresql://postgres@127.0.0.1/x", schema='x"; DROP')


def test_write_token_is_a_capability() -> None:
    from aionactors.store import WriteToken

    with pytest.raises(TypeError):
        WriteToken()
    assert WriteToken.recorder() is WriteToken.recorder()
