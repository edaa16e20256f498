"""Waits for an activity attempt's outcome to be committed, so ``result_ack`` means durable.

The hub registers the attempt before handing the worker's result to the engine,
then waits (bounded) until the engine's commit listener sees that attempt's
ActivityCompleted or ActivityFailed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from aionactors.core import events as ev

AttemptKey = tuple[str, int, int]
"""(workflow_id, activity_id, attempt)."""


class OutcomeCommits:
    """A commit listener that wakes whoever waits for an attempt's recorded outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[AttemptKey, threading.Event] = {}

    def expect(self, key: AttemptKey) -> threading.Event:
        with self._lock:
            return self._waiting.setdefault(key, threading.Event())

    def forget(self, key: AttemptKey) -> None:
        with self._lock:
            self._waiting.pop(key, None)

    def on_commit(self, events: Sequence[ev.Event]) -> None:
        """The engine's commit listener (writer thread): quick, no engine calls."""
        if not self._waiting:
            return
        for event in events:
            if isinstance(event, ev.ActivityCompleted | ev.ActivityFailed):
                key = (event.workflow_id, event.activity_id, event.attempt)
                with self._lock:
                    waiter = self._waiting.get(key)
                if waiter is not None:
                    waiter.set()
