"""Which nodes a worker keeps sessions with, from successive ``GET /cluster`` answers."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from transports.worker_membership import Membership

SEED = "http://seed:8080"


def node(node_id: str, shards: list[int], address: str | None = None) -> dict[str, Any]:
    return {"node_id": node_id, "address": address or f"http://{node_id}:8080",
            "owned_shards": shards, "last_seen": "2026-01-01T00:00:00Z"}  # fmt: skip


def reply(answering: str, *nodes: dict[str, Any]) -> dict[str, Any]:
    return {"node_id": answering, "shard_count": 4, "nodes": list(nodes)}


def test_before_any_answer_the_seed_alone() -> None:
    membership = Membership(SEED + "/")
    assert membership.targets() == {SEED: ""}
    assert membership.discovery_urls() == [SEED]


def test_a_lone_server_is_one_session_at_the_url_given() -> None:
    membership = Membership(SEED)
    lone = {"node_id": "0.0.0.0:8080", "shard_count": 1,
            "nodes": [node("0.0.0.0:8080", [0], "http://0.0.0.0:8080")]}  # fmt: skip
    assert membership.update(lone, answered_at=SEED) == {SEED: "0.0.0.0:8080"}


def test_the_seed_node_keeps_the_seed_url_the_others_their_advertise_url() -> None:
    membership = Membership(SEED)
    targets = membership.update(
        reply("a", node("a", [0, 1], "http://10.0.0.1:8080"), node("b", [2, 3])), answered_at=SEED
    )
    assert targets == {SEED: "a", "http://b:8080": "b"}
    assert membership.discovery_urls() == [SEED, "http://b:8080"]
    # asked through b (the seed did not answer): a is still dialled at the seed URL
    again = membership.update(
        reply("b", node("a", [0, 1], "http://10.0.0.1:8080"), node("b", [2, 3])),
        answered_at="http://b:8080",
    )
    assert again == targets


def test_a_joining_node_is_added_once_it_owns_shards() -> None:
    membership = Membership(SEED)
    membership.update(reply("a", node("a", [0, 1, 2, 3])), answered_at=SEED)
    assert membership.update(reply("a", node("a", [0, 1, 2, 3]), node("c", [])),
                             answered_at=SEED) == {SEED: "a"}  # fmt: skip
    assert membership.update(reply("a", node("a", [0, 1]), node("c", [2, 3])),
                             answered_at=SEED) == {SEED: "a", "http://c:8080": "c"}  # fmt: skip


def test_a_dead_node_is_dropped_when_its_shards_are_adopted() -> None:
    membership = Membership(SEED)
    membership.update(reply("a", node("a", [0, 1]), node("b", [2, 3])), answered_at=SEED)
    # b's row stays listed (until forget_seconds) but its leases lapsed: it owns nothing
    assert membership.update(reply("a", node("a", [0, 1, 2, 3]), node("b", [])),
                             answered_at=SEED) == {SEED: "a"}  # fmt: skip


def test_a_dead_seed_is_dropped_and_a_restarted_one_comes_back_at_the_seed_url() -> None:
    membership = Membership(SEED)
    membership.update(reply("a", node("a", [0, 1]), node("b", [2, 3])), answered_at=SEED)
    after = membership.update(reply("b", node("a", []), node("b", [0, 1, 2, 3])),
                              answered_at="http://b:8080")  # fmt: skip
    assert after == {"http://b:8080": "b"}
    assert membership.discovery_urls() == [SEED, "http://b:8080"]
    # restarted under a new node id (the default id holds the pid); not yet owning shards
    back = membership.update(reply("a2", node("a2", []), node("b", [0, 1, 2, 3])),
                             answered_at=SEED)  # fmt: skip
    assert back == {SEED: "a2", "http://b:8080": "b"}


def test_a_server_without_get_cluster_is_the_seed_alone() -> None:
    membership = Membership(SEED)
    membership.update(reply("a", node("a", [0]), node("b", [1])), answered_at=SEED)
    assert membership.seed_only() == {SEED: "a"}


def test_a_malformed_answer_is_refused_and_changes_nothing() -> None:
    membership = Membership(SEED)
    membership.update(reply("a", node("a", [0]), node("b", [1])), answered_at=SEED)
    with pytest.raises(pydantic.ValidationError):
        membership.update({"nodes": "x"}, answered_at=SEED)
    assert membership.targets() == {SEED: "a", "http://b:8080": "b"}
