"""The engine end to end on PostgreSQL: a real run, a restart that recovers it, many at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from aionactors import Engine, WorkflowStatus
from aionactors.engine.clock import ManualClock
from aionactors.store.postgres import PostgresStore
from tests.engine import workflows as w
from tests.engine.conftest import ALL_ACTIVITIES, ALL_WORKFLOWS
from tests.engine.support import CommitWatch, assert_histories_replay

pytestmark = pytest.mark.postgres


def open_pg(dsn: str, schema: str, clock: ManualClock, **settings: object) -> Engine:
    return Engine.open(
        PostgresStore(dsn, schema=schema),
        clock=clock,
        workflows=ALL_WORKFLOWS,
        activities=ALL_ACTIVITIES,
        **settings,
    )


def test_a_workflow_runs_and_survives_a_restart_on_postgres(postgres_dsn, postgres_schema) -> None:
    clock = ManualClock()
    first = open_pg(postgres_dsn, postgres_schema, clock)
    try:
        first.start_workflow(w.Mixed, 3, workflow_id="pg-mixed")
        CommitWatch(first).has("pg-mixed", "TimerStarted")
    finally:
        first.shutdown()  # the run is parked on its durable timer

    second = open_pg(postgres_dsn, postgres_schema, clock)
    try:
        watch = CommitWatch(second)
        clock.advance(timedelta(minutes=5))
        watch.has("pg-mixed", "TimerFired")
        second.signal("pg-mixed", "proceed", {"from": "pg"})
        result = second.result("pg-mixed", timeout=20)
        assert result == {"first": 6, "pair": [12, 7], "seen": [{"from": "pg"}], "token_len": 36}
        assert second.describe("pg-mixed").summary.status == WorkflowStatus.COMPLETED
        assert_histories_replay(second)
    finally:
        second.shutdown()


def test_many_concurrent_workflows_under_a_small_cap_on_postgres(
    postgres_dsn, postgres_schema
) -> None:
    engine = open_pg(postgres_dsn, postgres_schema, ManualClock(), max_resident=50)
    ids = [f"pg-{n}" for n in range(200)]
    try:
        with ThreadPoolExecutor(16) as pool:  # evictions and rehydrations by replay from PG
            list(pool.map(lambda wid: engine.start_workflow(w.Parked, workflow_id=wid), ids))
            list(pool.map(lambda wid: engine.signal(wid, "put", wid), ids))
        assert [engine.result(wid, timeout=20) for wid in ids] == ids
        assert engine.count_workflows(status=WorkflowStatus.COMPLETED) == 200
        assert engine.residency.resident_count() <= 50
    finally:
        engine.shutdown()
