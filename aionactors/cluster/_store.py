"""The store of a cluster node: PostgreSQL, with every append fenced by this node's leases.

An append batch (the group commit of many workflows) whose fence refuses some shards is
applied again without their requests, so only the workflows of a lost shard get
``LeaseLost``; the others commit.

The recovery reads (active and woken workflows, timer rows) see only the shards this node
owns, or, while :meth:`FencedPostgresStore.recovering` is in effect on the calling
thread, only the shards being adopted: so the engine's own recovery boots exactly
an adopted shard's workflows and arms exactly its timers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aionactors.cluster._fence import LeaseLost, check_fence
from aionactors.cluster._manager import LeaseManager
from aionactors.cluster._schema import connect
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import WorkflowFilter, WorkflowSummary
from aionactors.store.contract import AppendRequest, BatchOutcomes, TimerEntry
from aionactors.store.postgres import PostgresStore

_STORE_SCHEMA_LOCK = 0x61696F6E_73746F72  # "aionstor"


class FencedPostgresStore(PostgresStore):
    """A PostgresStore that refuses (LeaseLost) appends to shards ``leases`` does not hold.

    >>> store = FencedPostgresStore(dsn, leases=LeaseManager(dsn, settings))  # doctest: +SKIP
    """

    cluster_member = True
    """Its engine takes the shared engine lock (aionactors.cluster._tenancy), not the
    exclusive one of a lone engine: nodes share a store, a lone engine owns its own."""

    def __init__(self, dsn: str, *, leases: LeaseManager, schema: str = "", **kwargs: Any) -> None:
        self.leases = leases
        self._scope = threading.local()
        # Nodes starting together would race on the store's CREATE TABLE IF NOT EXISTS
        # (PostgreSQL's is not safe against a concurrent twin): create them one at a time.
        with connect(dsn, schema) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_STORE_SCHEMA_LOCK,))
            try:
                super().__init__(dsn, schema=schema, **kwargs)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_STORE_SCHEMA_LOCK,))

    def _fence(self, cursor: Any, workflow_ids: set[str]) -> None:
        check_fence(cursor, self.leases, workflow_ids)

    def _append_batch(self, requests: list[AppendRequest]) -> BatchOutcomes:
        try:
            return super()._append_batch(requests)
        except LeaseLost as refused:
            lost = set(refused.shards)
        # Nothing was written: the lost shards' requests fail alone, the others go again.
        shard_of = self.leases.shard_map.shard_of
        kept = [
            i for i, request in enumerate(requests) if shard_of(request.workflow_id) not in lost
        ]
        if len(kept) == len(requests):  # a refusal always names a shard of the batch
            raise LeaseLost(self.leases.node_id, lost)
        rest = self._append_batch([requests[i] for i in kept]) if kept else BatchOutcomes()
        outcomes: list[Any] = [
            LeaseLost(self.leases.node_id, [shard_of(request.workflow_id)]) for request in requests
        ]
        for index, outcome in zip(kept, rest, strict=True):
            outcomes[index] = outcome
        return BatchOutcomes(outcomes, rest.committed)

    @contextmanager
    def recovering(self, shards: list[int]) -> Iterator[None]:
        """On this thread, recovery reads see only ``shards``."""
        self._scope.shards = frozenset(shards)
        try:
            yield
        finally:
            self._scope.shards = None

    def _in_scope(self, workflow_id: str) -> bool:
        scope = getattr(self._scope, "shards", None)
        if scope is None:
            return self.leases.owns(workflow_id)
        return self.leases.shard_map.shard_of(workflow_id) in scope

    def _ids_with_status(self, status: WorkflowStatus) -> list[str]:
        return [w for w in super()._ids_with_status(status) if self._in_scope(w)]

    def list_wake(self) -> list[str]:
        return [w for w in super().list_wake() if self._in_scope(w)]

    def expired_timers(self, as_of: datetime) -> list[TimerEntry]:
        return [t for t in super().expired_timers(as_of) if self._in_scope(t.workflow_id)]

    def scan(self, flt: WorkflowFilter) -> Iterator[WorkflowSummary]:
        scoped = getattr(self._scope, "shards", None) is not None
        for summary in super().scan(flt):  # listing for the API sees the whole cluster
            if not scoped or self._in_scope(summary.workflow_id):
                yield summary
