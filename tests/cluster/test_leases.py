"""Shard leases on the real PostgreSQL: acquire, rebalance on join and leave, expiry, fencing.

Managers here are ticked by hand (``tick()``), never by their thread, so each step is
deterministic; only lease expiry waits, on the database's clock, by polling.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aionactors.cluster import (
    FencedPostgresStore,
    LeaseLost,
    LeaseManager,
    NodeIdInUse,
    ShardMap,
)
from aionactors.cluster._schema import connect
from aionactors.store.contract import AppendRequest, WriteToken
from tests.cluster.support import SHARDS, owners, settings, started_event, wait_for

pytestmark = pytest.mark.postgres
PINNED = [47, 51, 56]


class Recorder:
    """Collects a manager's ownership callbacks."""

    def __init__(self) -> None:
        self.adopted: list[int] = []
        self.released: list[int] = []

    def adopt(self, shards: list[int]) -> None:
        self.adopted.extend(shards)

    def release(self, shards: list[int]) -> None:
        self.released.extend(shards)


@pytest.fixture
def make(postgres_dsn: str, postgres_schema: str) -> Iterator:
    made: list[LeaseManager] = []

    def build(node_id: str, recorder: Recorder | None = None, **overrides: object):
        recorder = recorder or Recorder()
        manager = LeaseManager(
            postgres_dsn,
            settings(node_id, postgres_schema, **overrides),
            on_adopt=recorder.adopt,
            on_release=recorder.release,
        )
        made.append(manager)
        return manager

    yield build
    for manager in made:
        manager.stop(release=False)


def die(manager: LeaseManager, dsn: str) -> None:
    """As a process's death does: close its session, and wait until PostgreSQL has ended
    it (the server drops the session's advisory locks a moment after the client goes)."""
    backend = manager._conn.info.backend_pid
    manager._conn.close()
    with connect(dsn, "") as conn:
        conn.autocommit = True  # each look a fresh snapshot of pg_stat_activity
        wait_for(
            lambda: not conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)
            ).fetchall(),
            10, "the closed session ended",
        )  # fmt: skip


def settle(*managers: LeaseManager, rounds: int = 6) -> None:
    """Tick every manager in turn, letting released shards be handed back and taken."""
    for _ in range(rounds):
        for manager in managers:
            manager.tick()
            manager.flush_callbacks()


def test_shard_of_is_stable_across_processes() -> None:
    # Pinned values: a change of hash would move every stored workflow to another shard.
    assert [ShardMap(64).shard_of(w) for w in ("a", "order-42", "wf-1")] == PINNED
    assert {ShardMap(8).shard_of(f"w{i}") for i in range(200)} == set(range(8))


def test_a_lone_node_owns_every_shard(make) -> None:
    recorder = Recorder()
    alone = make("a", recorder)
    settle(alone)
    assert alone.owned_shards() == list(range(SHARDS))
    assert sorted(recorder.adopted) == list(range(SHARDS))
    assert set(owners(alone).values()) == {"a"}
    assert alone.takeovers == 0


def test_the_first_node_fixes_the_shard_count(make) -> None:
    make("a")
    later = make("b", shard_count=SHARDS * 4)
    assert later.shard_map.count == SHARDS


def test_a_joining_node_gets_its_share_after_a_clean_hand_over(make) -> None:
    a_calls, b_calls = Recorder(), Recorder()
    a = make("a", a_calls)
    settle(a)
    b = make("b", b_calls)
    settle(a, b)
    assert len(a.owned_shards()) == len(b.owned_shards()) == SHARDS // 2
    assert sorted(a_calls.released) == b.owned_shards()  # told before handing them over
    assert sorted(b_calls.adopted) == b.owned_shards()
    table = owners(a)
    assert all(table[s] == "a" for s in a.owned_shards())
    assert all(table[s] == "b" for s in b.owned_shards())
    assert b.takeovers == 0  # handed over, not taken from a dead node


def test_a_leaving_node_hands_its_shards_to_the_others_at_once(make) -> None:
    a, b, c = make("a"), make("b"), make("c")
    settle(a, b, c)
    assert sorted(len(m.owned_shards()) for m in (a, b, c)) == [2, 3, 3]
    c.stop()
    settle(a, b)
    assert sorted(a.owned_shards() + b.owned_shards()) == list(range(SHARDS))
    assert len(a.owned_shards()) == len(b.owned_shards()) == SHARDS // 2


def test_the_shards_of_a_silent_node_are_taken_once_its_lease_expires(make) -> None:
    a, b = make("a"), make("b")
    settle(a, b)
    silent = a.owned_shards()
    # a stops ticking (a frozen process); b takes its shards when its lease runs out.
    wait_for(lambda: (b.tick(), len(b.owned_shards()) == SHARDS)[1], what="b takes over")
    assert b.takeovers == len(silent)
    a.tick()  # a wakes up: its renewals find another owner
    assert a.owned_shards() == []


def test_an_append_after_the_lease_was_taken_is_refused_and_writes_nothing(
    make, postgres_dsn: str, postgres_schema: str
) -> None:
    a, b = make("a"), make("b")
    settle(a)
    store_a = FencedPostgresStore(postgres_dsn, leases=a, schema=postgres_schema, pool_size=1)
    store_b = FencedPostgresStore(postgres_dsn, leases=b, schema=postgres_schema, pool_size=1)
    token = WriteToken.recorder()
    store_a.append(token, "before", [started_event("before")], 0)
    # a is frozen (no ticks): it still believes it holds every shard, with its old epoch.
    wait_for(lambda: (b.tick(), len(b.owned_shards()) == SHARDS)[1], what="b takes over")
    assert len(a.held()) == SHARDS
    with pytest.raises(LeaseLost) as refused:
        store_a.append(token, "after", [started_event("after")], 0)
    assert refused.value.code == "unavailable"
    assert store_b.read_history("after") == []
    assert [e.workflow_id for e in store_b.read_history("before")] == ["before"]
    store_b.append(token, "after", [started_event("after")], 0)  # the owner may
    store_a.close()
    store_b.close()


def test_an_append_to_a_shard_never_held_is_refused(
    make, postgres_dsn: str, postgres_schema: str
) -> None:
    idle = make("idle")  # never ticked: holds nothing
    store = FencedPostgresStore(postgres_dsn, leases=idle, schema=postgres_schema, pool_size=1)
    with pytest.raises(LeaseLost):
        store.append(WriteToken.recorder(), "w", [started_event("w")], 0)
    assert store.read_history("w") == []
    store.close()


def test_a_batch_with_a_lost_shard_commits_the_requests_of_the_others(
    make, postgres_dsn: str, postgres_schema: str
) -> None:
    a = make("a")
    settle(a)
    store = FencedPostgresStore(postgres_dsn, leases=a, schema=postgres_schema, pool_size=1)
    lost_id, kept_id = "w-lost", "w-kept"
    lost_shard = a.shard_map.shard_of(lost_id)
    assert a.shard_map.shard_of(kept_id) != lost_shard
    # Injected: another node took that shard while a (not ticking) still believes it holds it.
    with connect(postgres_dsn, postgres_schema) as conn:
        conn.execute(
            "UPDATE aion_shard_leases SET owner = 'b', epoch = epoch + 1 WHERE shard = %s",
            (lost_shard,),
        )
    outcomes = store.append_batch(WriteToken.recorder(), [
        AppendRequest(lost_id, [started_event(lost_id)], 0),
        AppendRequest(kept_id, [started_event(kept_id)], 0),
    ])  # fmt: skip
    refused, committed = outcomes
    assert isinstance(refused, LeaseLost) and refused.shards == [lost_shard]
    assert committed is None
    assert [entry.event.workflow_id for entry in outcomes.committed] == [kept_id]
    assert store.read_history(lost_id) == []
    assert [e.workflow_id for e in store.read_history(kept_id)] == [kept_id]
    with pytest.raises(LeaseLost):  # alone in its batch, it fails just the same
        store.append(WriteToken.recorder(), lost_id, [started_event(lost_id)], 0)
    store.close()


LONG_LEASE = {"lease_seconds": 600.0}
"""Leases that cannot run out during a test: a takeover then proves the session check."""


def test_the_shards_of_a_node_whose_session_ended_are_taken_before_its_lease_expires(
    make, postgres_dsn: str
) -> None:
    a, b = make("a", **LONG_LEASE), make("b", **LONG_LEASE)
    settle(a)
    b.tick()
    assert b.owned_shards() == []  # a lives (its session holds its lock): nothing to take
    die(a, postgres_dsn)  # a's process dies: PostgreSQL ends its session and drops its lock
    b.tick()
    assert b.owned_shards() == list(range(SHARDS))
    assert b.takeovers == SHARDS


def test_a_restarted_node_takes_its_predecessors_shards_back_at_once(
    make, postgres_dsn: str
) -> None:
    first = make("a", **LONG_LEASE)
    settle(first)
    die(first, postgres_dsn)  # SIGKILL: the leases stay, unexpired, in the table
    again = make("a", **LONG_LEASE)
    again.tick()
    assert again.owned_shards() == list(range(SHARDS))


def test_a_second_live_process_under_one_node_id_is_refused(make) -> None:
    make("a").tick()
    with pytest.raises(NodeIdInUse):
        make("a")
