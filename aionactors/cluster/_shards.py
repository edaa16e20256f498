"""Workflow id → shard: a stable hash, the same in every process and every release."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from aionactors.schedule.state import run_history_id


class ShardMap:
    """Maps workflow ids onto ``count`` shards (blake2b of the UTF-8 id, modulo count).

    Python's ``hash()`` is salted per process, so it cannot be used: every node must
    agree on a workflow's shard forever. A schedule's run (``nightly/2026-12-03T03:00:00Z``)
    is placed with the schedule's own history (``schedule:nightly``), so the node that
    evaluates a schedule also starts, cancels and sees the end of each of its runs.

    >>> ShardMap(64).shard_of("order-42") == ShardMap(64).shard_of("order-42")
    True
    """

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"a shard map needs at least one shard, got {count}")
        self.count = count

    def shard_of(self, workflow_id: str) -> int:
        key = run_history_id(workflow_id) or workflow_id
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count

    def shards_of(self, workflow_ids: Iterable[str]) -> dict[str, int]:
        return {workflow_id: self.shard_of(workflow_id) for workflow_id in workflow_ids}
