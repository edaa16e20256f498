"""A fresh PostgreSQL database per cluster-of-servers test (their nodes share it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_support import fresh_database


@pytest.fixture
def cluster_database(postgres_dsn: str) -> Iterator[str]:
    """``aionactors serve --cluster`` takes a URL, not a schema: give it a database
    (``postgres_dsn`` first, so the test skips, or fails on CI, without a server)."""
    with fresh_database("aionactors_cluster") as dsn:
        yield dsn
