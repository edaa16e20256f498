"""Lease nodes in real processes: a fair split, expiry after SIGKILL, fencing after SIGSTOP."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from aionactors.cluster import FencedPostgresStore, LeaseManager
from tests.cluster.support import SHARDS, NodeProcess, owners, settings, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def spawn(postgres_dsn: str, postgres_schema: str) -> Iterator:
    nodes: list[NodeProcess] = []

    def start(node_id: str) -> NodeProcess:
        node = NodeProcess(postgres_dsn, postgres_schema, node_id)
        nodes.append(node)
        return node

    yield start
    for node in nodes:
        if node.proc.poll() is None:
            os.kill(node.proc.pid, signal.SIGCONT)
        node.close()


@pytest.fixture
def observer(postgres_dsn: str, postgres_schema: str) -> Iterator[LeaseManager]:
    """A manager in this process that is never ticked: it only reads the tables."""
    manager = LeaseManager(postgres_dsn, settings("observer", postgres_schema))
    yield manager
    manager.stop(release=False)


def split(nodes: list[NodeProcess]) -> list[int]:
    return sorted(len(node.shards or []) for node in nodes)


def test_three_processes_split_the_shards_and_survive_a_sigkill(spawn, observer) -> None:
    nodes = [spawn(name) for name in ("n1", "n2", "n3")]
    wait_for(lambda: split(nodes) == [2, 3, 3], what="a fair split")
    table = owners(observer)
    for node in nodes:
        assert all(table[shard] == node.node_id for shard in node.shards or [])
    victim, *survivors = nodes
    victim.proc.kill()
    wait_for(lambda: split(survivors) == [4, 4], what="the survivors take the victim's shards")
    assert {owner for owner in owners(observer).values()} == {"n2", "n3"}


def test_a_frozen_node_cannot_append_once_another_node_took_its_shards(
    spawn, postgres_dsn: str, postgres_schema: str
) -> None:
    frozen = spawn("frozen")
    wait_for(lambda: frozen.shards == list(range(SHARDS)), what="frozen owns everything")
    os.kill(frozen.proc.pid, signal.SIGSTOP)
    adopter = LeaseManager(postgres_dsn, settings("adopter", postgres_schema)).start()
    store = FencedPostgresStore(postgres_dsn, leases=adopter, schema=postgres_schema)
    try:
        assert adopter.wait_until(lambda m: len(m.owned_shards()) == SHARDS, timeout=15)
        assert adopter.takeovers == SHARDS
        frozen.send("append w-late")  # read first thing on waking, before any renewal
        os.kill(frozen.proc.pid, signal.SIGCONT)
        assert frozen.reply() == {"append": "w-late", "ok": False, "error": "LeaseLost"}
        assert store.read_history("w-late") == []
        wait_for(lambda: frozen.shards == [], what="the frozen node sees its leases are gone")
    finally:
        adopter.stop()
        store.close()
