"""The chaos harness, short: 10 SIGKILLs each on SQLite and PostgreSQL, then the invariants
(``python -m tests.chaos.harness --kills N`` runs a long one)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import run
from tests.postgres_support import ADMIN_DSN

KILLS = 10


def _assert_clean(report) -> None:  # type: ignore[no-untyped-def]
    assert report.kills == KILLS
    assert report.acknowledged_starts > 0 and report.acknowledged_signals > 0, report
    assert (report.lost, report.duplicated, report.violations) == (0, 0, []), report


async def test_chaos_on_sqlite(tmp_path: Path) -> None:
    _assert_clean(await run(f"sqlite:///{tmp_path / 'chaos.db'}", KILLS, seed=1, workdir=tmp_path))


@pytest.fixture
def chaos_database(postgres_dsn: str) -> Iterator[str]:
    """A database of its own: ``serve --db`` takes a URL, which names no schema."""
    import psycopg

    name = f"aionactors_chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_chaos_on_postgres(chaos_database: str, tmp_path: Path) -> None:
    _assert_clean(await run(chaos_database, KILLS, seed=2, workdir=tmp_path))
