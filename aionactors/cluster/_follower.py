"""The commit follower: every node's commits, in the store's global commit order.

A node's writer only sees its own appends; its event streams must carry every
node's. The follower reads the store's commit log (``read_committed``, the
truth) after the last position it handed on, and hands each batch to its
listeners in position order: the broadcaster subscribes to it exactly as it
subscribes to a lone engine's writer. PostgreSQL's NOTIFY on the events
channel (every append sends one) is only a wake-up: notifications arriving
within ``batch_seconds`` are served by one read, and without any the log is
read every ``poll_seconds`` anyway, so a lost notification delays, never drops.
Positions are assigned under the append's table lock, so the log never grows
a hole behind the follower's position.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from aionactors.cluster._schema import connect
from aionactors.core.events import Event
from aionactors.store.contract import CommittedEvent, EventStore
from aionactors.store.sql import EVENTS_TABLE

_log = logging.getLogger("aionactors.cluster")
_READ_LIMIT = 1000

CommitListener = Callable[[Sequence[Event]], None]
PositionedListener = Callable[[Sequence[CommittedEvent]], None]


class CommitFollower:
    """Follows ``store``'s commit log from its head at start; ``add_commit_listener`` as on
    an Engine, so ``Broadcaster.start(follower)`` streams every node's commits.

    >>> follower = CommitFollower(store, dsn).start()                   # doctest: +SKIP
    >>> broadcaster = Broadcaster.start(follower)                        # doctest: +SKIP
    """

    def __init__(
        self,
        store: EventStore,
        dsn: str,
        *,
        schema: str = "",
        batch_seconds: float = 0.01,
        poll_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self._dsn = dsn
        self._schema = schema
        self._batch_seconds = batch_seconds
        self._poll_seconds = poll_seconds
        self._listeners: list[CommitListener] = []
        self._positioned: list[PositionedListener] = []
        self.position = store.head_position()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aionactors-follower", daemon=True)

    def add_commit_listener(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    def add_positioned_commit_listener(self, listener: PositionedListener) -> None:
        """As on the Engine: each batch with its positions (what the broadcaster takes)."""
        self._positioned.append(listener)

    def start(self) -> CommitFollower:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self._dsn, self._schema) as conn:
                    conn.autocommit = True
                    conn.execute(f"LISTEN {EVENTS_TABLE}")
                    while not self._stop.is_set():
                        self.catch_up()
                        woken = any(True for _ in conn.notifies(timeout=self._poll_seconds,
                                                                stop_after=1))  # fmt: skip
                        if woken:
                            time.sleep(self._batch_seconds)  # let a burst gather: one read
            except Exception:
                _log.exception("the commit follower failed; reconnecting")
                self._stop.wait(self._poll_seconds)

    def catch_up(self) -> int:
        """Hand on everything committed after the position; returns how many events."""
        handed = 0
        while True:
            committed = self.store.read_committed(self.position, _READ_LIMIT)
            if not committed:
                return handed
            events = [entry.event for entry in committed]
            for listener in self._listeners:
                try:
                    listener(events)
                except Exception:
                    _log.exception("commit follower listener failed")
            for positioned in self._positioned:
                try:
                    positioned(committed)
                except Exception:
                    _log.exception("commit follower listener failed")
            self.position = committed[-1].position
            handed += len(events)
            if len(committed) < _READ_LIMIT:
                return handed
