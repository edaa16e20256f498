"""Which actor runs each schedule right now, for the commit listener and the facade.

Actors bind themselves in ``on_start`` (first start or restart after a crash)
and unbind when they stop, so lookups never need to ask the supervisor, and the
commit listener (on the writer thread) only reads a dict and enqueues.
"""

from __future__ import annotations

import threading
from typing import Any

import pykka


class Directory:
    def __init__(self) -> None:
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._changed = threading.Condition()

    def bind(self, schedule_id: str, ref: pykka.ActorRef[Any]) -> None:
        with self._changed:
            self._refs[schedule_id] = ref
            self._changed.notify_all()

    def unbind(self, schedule_id: str, ref: pykka.ActorRef[Any]) -> None:
        with self._changed:
            if self._refs.get(schedule_id) is ref:
                del self._refs[schedule_id]

    def get(self, schedule_id: str) -> pykka.ActorRef[Any] | None:
        return self._refs.get(schedule_id)

    def wait_for(self, schedule_id: str, timeout: float) -> pykka.ActorRef[Any] | None:
        """The live ref, waiting up to ``timeout`` s for a restarting actor to bind again."""
        with self._changed:
            self._changed.wait_for(
                lambda: (ref := self._refs.get(schedule_id)) is not None and ref.is_alive(),
                timeout,
            )
            return self._refs.get(schedule_id)
