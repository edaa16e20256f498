"""A lone node's fenced store passes the whole store contract, unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aionactors.cluster import FencedPostgresStore, LeaseManager
from aionactors.store import EventStore
from aionactors.store.conformance import EventStoreConformance
from tests.cluster.support import SHARDS, settings


@pytest.mark.postgres
class TestFencedPostgresStore(EventStoreConformance):
    @pytest.fixture(autouse=True)
    def _node(self, postgres_dsn: str, postgres_schema: str) -> Iterator[None]:
        self.dsn = postgres_dsn
        self.schema = postgres_schema
        self.leases = LeaseManager(postgres_dsn, settings("solo", postgres_schema))
        self.leases.tick()
        assert len(self.leases.owned_shards()) == SHARDS
        yield
        self.leases.stop()

    def make_store(self) -> EventStore:
        return FencedPostgresStore(self.dsn, leases=self.leases, schema=self.schema)
