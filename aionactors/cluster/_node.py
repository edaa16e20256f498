"""A cluster node: an engine that runs only the workflows of the shards it leases.

The engine opens with nothing to recover; each adoption then runs the engine's own
recovery with the store's reads narrowed to the adopted shards (their active
workflows boot, their timer rows are armed, their schedules get an actor each). A
release stops the shard's schedule actors, disarms its timers (their rows stay) and
evicts its workflow actors, each after the messages it already holds. Activation of a
workflow (or schedule) of a shard this node does not own is refused (NotOwner);
appends are fenced in the store whatever the engine does, schedule appends included
(a schedule's history ``schedule:{id}`` and its runs share one shard), so each tick
fires once cluster-wide.

>>> settings = ClusterSettings(node_id="a")
>>> node = ClusterNode.open(dsn, settings, load_modules=["shop"])  # doctest: +SKIP
>>> node.engine.start_workflow("Checkout", {})  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aionactors.cluster._fence import LeaseLost
from aionactors.cluster._follower import CommitFollower
from aionactors.cluster._manager import LeaseManager
from aionactors.cluster._settings import ClusterSettings
from aionactors.cluster._store import FencedPostgresStore
from aionactors.core.errors import Unavailable
from aionactors.engine import Engine
from aionactors.schedule import Schedules, history_id

_log = logging.getLogger("aionactors.cluster")
_FIRST_ADOPTION_WAIT = 120.0


class NotOwner(Unavailable):
    """This node does not own the workflow's shard: its owner runs it."""

    error_type = "NotOwner"

    def __init__(self, node_id: str, workflow_id: str, shard: int) -> None:
        super().__init__(
            f"node {node_id!r} does not own shard {shard} of workflow {workflow_id!r}:"
            " send the request to the shard's owner (any node's HTTP API forwards it)"
        )


class ClusterNode:
    """One node: lease manager, fenced store, engine. Build it with :meth:`open`."""

    def __init__(self, dsn: str, settings: ClusterSettings) -> None:
        self.settings = settings
        self.leases = LeaseManager(dsn, settings, on_adopt=self._adopt, on_release=self._release)
        self.store = FencedPostgresStore(dsn, leases=self.leases, schema=settings.schema_name)
        self.engine: Engine | None = None
        self._follower: CommitFollower | None = None
        self._closing = False
        self.adoption_seconds: list[float] = []
        """How long each adoption's recovery took (the failover path's own share)."""

    @classmethod
    def open(
        cls,
        dsn: str,
        settings: ClusterSettings,
        *,
        engine_class: type[Engine] = Engine,
        **engine_options: Any,
    ) -> ClusterNode:
        """Open the engine (recovering nothing), then lease a fair share and recover it.

        ``schedules`` (default True) runs the schedules of the shards this node owns;
        ``engine_class`` is the Engine (sub)class to open (an embedded node's forwards).
        """
        node = cls(dsn, settings)
        run_schedules = engine_options.pop("schedules", True)
        try:
            with node.store.recovering([]):
                node.engine = engine_class.open(node.store, schedules=False, **engine_options)
        except BaseException:
            node.leases.stop(release=False)
            node.store.close()
            raise
        node.engine.residency.admit = node._admit
        if run_schedules:
            node.engine.schedules = Schedules(
                node.engine, admit=node._admit_schedule, deposed=(LeaseLost, NotOwner)
            )
        node.leases.start()
        node.leases.flush_callbacks(_FIRST_ADOPTION_WAIT)  # serve only once it is recovered
        return node

    def _admit(self, workflow_id: str) -> None:
        if not self.leases.owns(workflow_id):
            shard = self.leases.shard_map.shard_of(workflow_id)
            raise NotOwner(self.settings.node_id, workflow_id, shard)

    def _admit_schedule(self, schedule_id: str) -> None:
        self._admit(history_id(schedule_id))

    def _schedule_in(self, shards: set[int]) -> Any:
        shard_of = self.leases.shard_map.shard_of
        return lambda schedule_id: shard_of(history_id(schedule_id)) in shards

    def _adopt(self, shards: list[int]) -> None:
        engine = self.engine
        if engine is None or self._closing:
            return
        started = time.perf_counter()
        with self.store.recovering(shards):
            booted = engine.recover()
        schedules = 0
        if engine.schedules is not None:  # after the runs they watch are back
            schedules = engine.schedules.adopt(self._schedule_in(set(shards)))
        seconds = time.perf_counter() - started
        self.adoption_seconds.append(seconds)
        _log.info(
            "node %s adopted shards %s: %d active workflow(s) recovered, %d schedule(s)"
            " started in %.3f s",
            self.settings.node_id, shards, booted, schedules, seconds,
        )  # fmt: skip

    def _release(self, shards: list[int]) -> None:
        engine = self.engine
        if engine is None or self._closing:
            return
        released = set(shards)
        shard_of = self.leases.shard_map.shard_of

        def in_released(workflow_id: str) -> bool:
            return shard_of(workflow_id) in released

        if engine.schedules is not None:  # first: no tick may start a run being evicted
            engine.schedules.release(self._schedule_in(released))
        disarmed = engine.timers.disarm_where(in_released)
        evicted = [w for w in engine.residency.resident_ids() if in_released(w)]
        for workflow_id in evicted:
            engine.residency.evict(workflow_id)
        _log.info(
            "node %s released shards %s: %d actor(s) evicted, %d timer(s) disarmed",
            self.settings.node_id, shards, len(evicted), disarmed,
        )  # fmt: skip

    def commit_follower(self) -> CommitFollower:
        """Every node's commits in the store's order (started on first use): what this
        node's event streams carry, via ``Broadcaster.start(node.commit_follower())``."""
        if self._follower is None:
            self._follower = CommitFollower(
                self.store, self.leases.dsn, schema=self.settings.schema_name
            ).start()
        return self._follower

    def shutdown(self) -> None:
        """Drain the engine while the leases still fence its last appends, then hand
        every shard back so the others adopt them without waiting for expiry."""
        self._closing = True
        if self._follower is not None:
            self._follower.close()
        if self.engine is not None:
            self.engine.shutdown()
        self.leases.stop(release=True)
