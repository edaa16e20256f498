"""A fresh PostgreSQL database per cluster-of-servers test (their nodes share it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.postgres_support import ADMIN_DSN, _connect_admin


@pytest.fixture
def cluster_database(postgres_dsn: str) -> Iterator[str]:
    """``aionactors serve --cluster`` takes a URL, not a schema: give it a database."""
    name = f"aionactors_cluster_{uuid.uuid4().hex[:12]}"
    with _connect_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = ADMIN_DSN.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with _connect_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
