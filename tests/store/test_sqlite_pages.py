"""SQLite keeps the wake index and the timer rows in their key's B-tree (WITHOUT ROWID).

Each commit is fsynced with every page it changed: a rowid table with a TEXT primary key
changes two B-trees per row (the rows and their key index), a WITHOUT ROWID table one.
Stores created before keep their rowid tables, which must go on working.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from aionactors.core.ids import TimerId
from aionactors.store import SQLiteStore
from aionactors.store.conformance import T0, TOKEN, HistoryBuilder
from aionactors.store.contract import AppendRequest

_OLD_TABLES = (
    "CREATE TABLE aion_timers (workflow_id TEXT NOT NULL, timer_id TEXT NOT NULL,"
    " fire_at BIGINT NOT NULL, PRIMARY KEY (workflow_id, timer_id))",
    "CREATE TABLE aion_wake (workflow_id TEXT PRIMARY KEY)",
)


def _table_sql(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        return {name: sql for name, sql in rows}


def _use(store: SQLiteStore) -> None:
    """Start a workflow (it enters the wake index), arm and fire-check a timer, end it."""
    builder = HistoryBuilder("wf")
    store.append_batch(TOKEN, [AppendRequest("wf", [builder.started()], 0, True)])
    assert store.list_wake() == ["wf"]
    store.schedule_timer("wf", TimerId.named("t"), T0)
    assert [str(t.timer_id) for t in store.expired_timers(T0 + timedelta(seconds=1))] == ["named:t"]
    store.cancel_timer("wf", TimerId.named("t"))
    assert store.expired_timers(T0 + timedelta(seconds=1)) == []
    store.append_batch(TOKEN, [AppendRequest("wf", [builder.signal()], 1, False)])
    assert store.list_wake() == []


def test_a_new_store_keeps_wake_and_timer_rows_in_their_key(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with SQLiteStore(path) as store:
        _use(store)
    tables = _table_sql(path)
    assert tables["aion_wake"].endswith("WITHOUT ROWID")
    assert tables["aion_timers"].endswith("WITHOUT ROWID")
    assert not tables["aion_visibility"].endswith("WITHOUT ROWID")


def test_a_store_created_with_rowid_tables_still_works(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        for statement in _OLD_TABLES:
            connection.execute(statement)
    with SQLiteStore(path) as store:
        _use(store)
    tables = _table_sql(path)
    assert "WITHOUT ROWID" not in tables["aion_wake"] + tables["aion_timers"]
