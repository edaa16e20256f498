"""A lone engine owns its PostgreSQL store; cluster nodes share theirs; never a mix.

Lone engines hold the store's engine lock exclusively, nodes hold it shared, each on a
connection of its own: a second lone engine, a lone engine beside nodes and a node
beside a lone engine are refused at open (DatabaseInUse, nothing run); nodes coexist;
the lock goes with the engine's shutdown and with its process (SIGKILL ends the session).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import psycopg
import pytest

from aionactors import Engine
from aionactors.cluster import ClusterNode, DatabaseInUse
from aionactors.cluster._tenancy import tenancy_key
from aionactors.store.postgres import PostgresStore
from tests.cluster.flows import ClusterFlow, step
from tests.cluster.servers import serve_process, start_node
from tests.cluster.support import settings, wait_for

pytestmark = pytest.mark.postgres
Opened = Engine | ClusterNode


@pytest.fixture
def opened() -> Iterator[list[Opened]]:
    held: list[Opened] = []
    yield held
    for item in reversed(held):
        item.shutdown()


@pytest.fixture
def lone(postgres_dsn: str, postgres_schema: str, opened: list[Opened]) -> Callable[[], Engine]:
    def build() -> Engine:
        store = PostgresStore(postgres_dsn, schema=postgres_schema)
        try:
            engine = Engine.open(store, workflows=[ClusterFlow], activities=[step])
        except BaseException:
            store.close()
            raise
        opened.append(engine)
        return engine

    return build


@pytest.fixture
def node(
    postgres_dsn: str, postgres_schema: str, opened: list[Opened]
) -> Callable[[str], ClusterNode]:
    def build(node_id: str) -> ClusterNode:
        built = ClusterNode.open(
            postgres_dsn, settings(node_id, postgres_schema),
            workflows=[ClusterFlow], activities=[step], schedules=False,
        )  # fmt: skip
        opened.append(built)
        return built

    return build


def holders(dsn: str, schema: str = "") -> int:
    """Sessions holding the store's engine lock now (pg_locks splits the 64-bit key)."""
    key = tenancy_key(schema) & 0xFFFFFFFFFFFFFFFF
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = %s AND objid = %s AND objsubid = 1",
            (key >> 32, key & 0xFFFFFFFF),
        ).fetchone()
        return int(row[0])


def test_a_second_lone_engine_is_refused_until_the_first_closes(
    lone, opened, postgres_dsn: str, postgres_schema: str
) -> None:
    first = lone()
    first.start_workflow(ClusterFlow, 0, workflow_id="kept")
    with pytest.raises(DatabaseInUse, match="must be the only one") as refused:
        lone()
    assert refused.value.to_wire()["error_type"] == "DatabaseInUse"
    assert refused.value.code == "invalid_state"
    assert first.describe("kept").summary.status.value == "Running"  # untouched
    opened.remove(first)
    first.shutdown()
    assert holders(postgres_dsn, postgres_schema) == 0
    assert lone().describe("kept").summary.status.value == "Running"


def test_a_node_is_refused_beside_a_lone_engine(lone, node) -> None:
    lone()
    with pytest.raises(DatabaseInUse, match="a cluster node cannot share it"):
        node("a")


def test_a_lone_engine_is_refused_beside_a_node_and_nodes_coexist(
    lone, node, opened, postgres_dsn: str, postgres_schema: str
) -> None:
    a = node("a")
    b = node("b")
    assert b.leases.wait_until(lambda m: bool(m.owned_shards()), timeout=15)
    with pytest.raises(DatabaseInUse, match="another engine or cluster node"):
        lone()
    assert holders(postgres_dsn, postgres_schema) == 2  # one shared hold per node
    for n in (a, b):
        opened.remove(n)
        n.shutdown()
    assert holders(postgres_dsn, postgres_schema) == 0
    lone()  # the shared holds went with the nodes


def test_serve_no_cluster_beside_a_node_exits_2_and_sigkill_frees_the_database(
    cluster_database: str,
) -> None:
    running = start_node(cluster_database, "a")
    try:
        process, url = serve_process(cluster_database, "--no-cluster", stderr=subprocess.PIPE)
        _, stderr = process.communicate(timeout=60)
        assert url is None and process.returncode == 2, stderr
        [line] = stderr.splitlines()  # one line says why and what to do
        assert line.startswith("aionactors serve: another engine or cluster node runs on"), line
        assert holders(cluster_database) == 1
    finally:
        running.kill()  # SIGKILL: its session ends, and its shared hold with it
    wait_for(lambda: holders(cluster_database) == 0, 15, "the killed node's session ended")
    lone_server, url = serve_process(cluster_database, "--no-cluster")
    try:
        assert url is not None
        second, url2 = serve_process(cluster_database, stderr=subprocess.PIPE)
        _, stderr = second.communicate(timeout=60)
        assert url2 is None and second.returncode == 2, stderr
        assert "a cluster node cannot share it" in stderr, stderr
    finally:
        lone_server.kill()
    wait_for(lambda: holders(cluster_database) == 0, 15, "the killed server's session ended")
    engine = Engine.open(cluster_database)  # the killed lone server held nothing any more
    engine.shutdown()
