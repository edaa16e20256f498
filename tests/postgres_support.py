"""A fresh PostgreSQL database per test run, on the real server of this machine.

Off CI the PostgreSQL tests skip (with the reason) when no server answers; with
CI=true they are required and a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ADMIN_DSN = os.environ.get(
    "AIONACTORS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _connect_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)


@contextmanager
def fresh_database(prefix: str = "aionactors_test") -> Iterator[str]:
    """Create ``<prefix>_<random>`` and drop it afterwards; yields its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _connect_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = ADMIN_DSN.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with _connect_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """Create ``aionactors_test_<random>`` for this run and drop it afterwards."""
    try:
        _connect_admin().close()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required on CI but {ADMIN_DSN} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server answers at {ADMIN_DSN}: {exc}")
    with fresh_database() as dsn:
        yield dsn


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> str:
    """A fresh schema inside the run's database: one clean store per test case."""
    import psycopg

    schema = f"s_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema
