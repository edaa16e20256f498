"""The lease manager: one thread per node that keeps its leases and its fair share.

Each tick is one transaction under a cluster-wide advisory lock (ticks of all
nodes take turns; each lasts a few milliseconds): heartbeat, give back shards
whose release the engine has finished, renew the rest, then either take free or
expired shards up to this node's fair share or mark the excess for release.
Ownership changes reach the engine through ``on_adopt`` / ``on_release``, run
in order on a thread of their own so that a long recovery never delays a
renewal. A shard marked for release stays leased (its actors may still commit)
until ``on_release`` returns; only then is it handed back, so a node joining
gets its share without anyone losing a write.

>>> manager = LeaseManager(dsn, ClusterSettings(node_id="a"), on_adopt=print)  # doctest: +SKIP
>>> manager.start()                                                             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aionactors.cluster import _leases, _liveness, _membership
from aionactors.cluster._leases import Held
from aionactors.cluster._models import ClusterView
from aionactors.cluster._schema import connect, ensure_cluster
from aionactors.cluster._settings import ClusterSettings
from aionactors.cluster._shards import ShardMap

_log = logging.getLogger("aionactors.cluster")
_LEASE_LOCK = 0x61696F6E_6C656173  # "aionleas": one node's tick at a time, cluster-wide

ShardsCallback = Callable[[list[int]], None]


class LeaseManager:
    """Holds this node's shard leases; ``held()`` is what the append fence checks."""

    def __init__(
        self,
        dsn: str,
        settings: ClusterSettings,
        *,
        on_adopt: ShardsCallback | None = None,
        on_release: ShardsCallback | None = None,
    ) -> None:
        self.dsn = dsn
        self.settings = settings
        self.node_id = settings.node_id
        self._on_adopt = on_adopt or _nothing
        self._on_release = on_release or _nothing
        self._conn: Any = None
        self._tick_lock = threading.Lock()
        self._state = threading.Condition()
        self._held: Held = {}
        self._releasing: set[int] = set()
        """Marked as excess: on_release is running; still leased, no longer owned."""
        self._handed_back: set[int] = set()
        """on_release finished: give these back at the next tick."""
        self._valid_until = 0.0
        self._view: ClusterView | None = None
        self._callbacks = ThreadPoolExecutor(1, thread_name_prefix="aionactors-cluster-cb")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._renew_listeners: list[Callable[[float], None]] = []
        self.ticks = 0
        self.adoptions = 0
        self.takeovers = 0
        """Shards taken from another node whose lease had expired (failovers)."""
        self.shard_map = ShardMap(settings.shard_count)
        with self._tick_lock:
            count = ensure_cluster(self._connection(), settings.shard_count)
        if count != settings.shard_count:
            _log.info("the cluster has %d shards (fixed at its creation)", count)
        self.shard_map = ShardMap(count)

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> LeaseManager:
        """Tick once now (so ownership is known on return), then every ``renew_seconds``."""
        self.tick()
        self._thread = threading.Thread(
            target=self._loop, name=f"aionactors-leases-{self.node_id}", daemon=True
        )
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.settings.renew_seconds)
            self._wake.clear()
            if not self._stop.is_set():
                self.tick()

    def stop(self, *, release: bool = True) -> None:
        """Stop ticking; with ``release``, hand every shard back and leave the cluster
        (the engine is told first), so the others take over without waiting for expiry."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._callbacks.shutdown(wait=True)
        with self._state:
            held, self._held = dict(self._held), {}
            self._releasing.clear()
        if release:
            if held:
                _call(self._on_release, sorted(held))
            try:
                with self._tick_lock, self._connection().transaction():
                    _leases.release(self._conn, self.node_id, held)
                    _membership.leave(self._conn, self.node_id)
            except Exception:
                _log.exception("node %s could not hand its shards back", self.node_id)
        self._close_connection()

    # ---- what the engine and the fence read ------------------------------------------------
    def held(self) -> Held:
        """Shards leased to this node (epoch included), those being released too."""
        with self._state:
            return dict(self._held)

    def owned_shards(self) -> list[int]:
        """Shards this node runs: leased and not being released."""
        with self._state:
            return sorted(s for s in self._held if s not in self._releasing)

    def owns(self, workflow_id: str) -> bool:
        shard = self.shard_map.shard_of(workflow_id)
        with self._state:
            return shard in self._held and shard not in self._releasing

    def view(self) -> ClusterView | None:
        """Nodes and leases as the last tick read them (None before the first tick)."""
        return self._view

    def wait_until(self, predicate: Callable[[LeaseManager], bool], timeout: float) -> bool:
        """Wait (ticks notify) until ``predicate(self)`` holds; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._state:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.wait(min(remaining, 0.1))
        return True

    def add_renew_listener(self, listener: Callable[[float], None]) -> None:
        """Called with each successful tick's duration in seconds (a metrics hook)."""
        self._renew_listeners.append(listener)

    def flush_callbacks(self, timeout: float | None = None) -> None:
        """Wait until every ownership callback queued so far has run."""
        self._callbacks.submit(_nothing, []).result(timeout)

    def wake(self) -> None:
        """Tick now rather than at the next interval."""
        self._wake.set()

    # ---- one tick ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Heartbeat, hand back, renew, acquire or mark excess; then tell the engine."""
        started_mono = time.monotonic()
        started = time.perf_counter()
        try:
            with self._tick_lock:
                outcome = self._tick_transaction()
        except Exception as exc:
            if self._conn is not None and (self._conn.closed or self._conn.broken):
                self._close_connection()  # its session (and this node's lock) is gone anyway
            self._on_tick_failed(exc, started_mono)
            return
        renewed, acquired, excess, handed = outcome
        with self._state:
            lost = sorted(set(self._held) - set(renewed) - set(handed))
            self._held = {**renewed, **acquired.held}
            self._releasing = (self._releasing - set(handed) - set(lost)) | set(excess)
            self._handed_back -= set(handed)
            self._valid_until = started_mono + self.settings.lease_seconds
            self.ticks += 1
            self.adoptions += len(acquired.held)
            self.takeovers += acquired.takeovers
            self._state.notify_all()
        seconds = time.perf_counter() - started
        for listener in self._renew_listeners:
            _call(listener, seconds)
        if lost:
            _log.warning("node %s lost shards %s (another node holds them now)", self.node_id, lost)
            self._callbacks.submit(_call, self._on_release, lost)
        if excess:
            self._callbacks.submit(self._release_excess, excess)
        if acquired.held:
            self._callbacks.submit(_call, self._on_adopt, sorted(acquired.held))

    def _tick_transaction(self) -> tuple[Held, _leases.Acquired, list[int], list[int]]:
        settings = self.settings
        conn = self._connection()
        with self._state:
            held = dict(self._held)
            handed = {s: held[s] for s in self._handed_back if s in held}
            releasing = set(self._releasing)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LEASE_LOCK,))
            _membership.heartbeat(conn, self.node_id, settings.advertise_url)
            _leases.release(conn, self.node_id, handed)
            keep = {s: e for s, e in held.items() if s not in handed}
            renewed = _leases.renew(conn, self.node_id, keep, settings.lease_seconds)
            others = {*_membership.live_node_ids(conn, settings.lease_seconds),
                      *_leases.live_owners(conn)} - {self.node_id}  # fmt: skip
            gone = _liveness.gone(conn, settings.schema_name, sorted(others))
            live = sorted((others - gone) | {self.node_id})
            target = _membership.fair_share(self.shard_map.count, live, self.node_id)
            staying = [s for s in renewed if s not in releasing]
            acquired = _leases.Acquired({}, 0)
            excess: list[int] = []
            if len(renewed) < target:
                acquired = _leases.acquire(
                    conn, self.node_id, target - len(renewed), settings.lease_seconds, renewed,
                    gone | {self.node_id},  # ours but not held: an earlier process's, now dead
                )  # fmt: skip
            elif len(staying) > target:
                excess = sorted(staying, reverse=True)[: len(staying) - target]
            _membership.forget_silent(conn, settings.forget_seconds)
            self._view = _read_view(conn, self.node_id, self.shard_map.count)
        return renewed, acquired, excess, sorted(handed)

    def _release_excess(self, shards: list[int]) -> None:
        _call(self._on_release, shards)
        with self._state:
            self._handed_back |= set(shards)
        self._wake.set()

    def _on_tick_failed(self, exc: Exception, started_mono: float) -> None:
        _log.warning("node %s: lease tick failed: %s", self.node_id, exc)
        with self._state:
            if not self._held or started_mono < self._valid_until:
                return
            # Unrenewed for a whole lease: the others may hold these shards by now.
            lost, self._held = sorted(self._held), {}
            self._releasing.clear()
            self._state.notify_all()
        _log.warning("node %s: leases expired unrenewed, releasing %s", self.node_id, lost)
        self._callbacks.submit(_call, self._on_release, lost)

    # ---- connection ------------------------------------------------------------------------
    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = connect(self.dsn, self.settings.schema_name)
            conn.autocommit = True  # transactions are explicit (conn.transaction())
            try:
                # Held while this session lives: the others learn at once when it ends.
                _liveness.hold(conn, self.settings.schema_name, self.node_id)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing to release
                _log.debug("closing a broken cluster connection", exc_info=True)


def read_view(dsn: str, settings: ClusterSettings) -> ClusterView:
    """Nodes and leases read now from the database (``aionactors cluster status`` offline)."""
    with connect(dsn, settings.schema_name) as conn:
        row = conn.execute("SELECT shard_count FROM aion_cluster WHERE id = 1").fetchone()
        return _read_view(conn, settings.node_id, int(row["shard_count"]) if row else 0)


def _read_view(conn: Any, node_id: str, shard_count: int) -> ClusterView:
    now = conn.execute("SELECT now() AS now").fetchone()["now"]
    return ClusterView(
        node_id=node_id,
        shard_count=shard_count,
        nodes=_membership.list_nodes(conn),
        leases=_leases.read_leases(conn),
        read_at=now,
    )


def _call(callback: Callable[[Any], None], value: Any) -> None:
    try:
        callback(value)
    except Exception:
        _log.exception("cluster callback %r failed", callback)


def _nothing(_: Iterable[int]) -> None:
    """The default ownership callback."""
