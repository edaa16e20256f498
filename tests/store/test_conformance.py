"""The store conformance suite, unchanged, on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from aionactors.store import EventStore, InMemoryStore, SQLiteStore
from aionactors.store.conformance import EventStoreConformance
from aionactors.store.conformance_indexes import IndexConformance
from aionactors.store.postgres import PostgresStore


class TestInMemoryStore(EventStoreConformance, IndexConformance):
    def make_store(self) -> EventStore:
        return InMemoryStore()


class TestSQLiteStore(EventStoreConformance, IndexConformance):
    @pytest.fixture(autouse=True)
    def _db_path(self, tmp_path: Path) -> None:
        self.path = tmp_path / "store.db"

    def make_store(self) -> EventStore:
        return SQLiteStore(self.path)


@pytest.mark.postgres
class TestPostgresStore(EventStoreConformance, IndexConformance):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_dsn: str, postgres_schema: str) -> None:
        self.dsn = postgres_dsn
        self.schema = postgres_schema

    def make_store(self) -> EventStore:
        return PostgresStore(self.dsn, schema=self.schema)
