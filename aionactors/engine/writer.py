"""Group commit: one writer thread turns concurrent appends into shared transactions.

Every workflow's recorder submits here and blocks until its own append has
committed (or conflicted). While a transaction is in flight, new submissions
queue up and go together in the next one, so throughput grows with
concurrency while each caller still only hears back after its commit.
Committed events are then handed to listeners in commit order.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from aionactors.core.errors import StoreError
from aionactors.core.events import Event
from aionactors.store.contract import AppendRequest, CommittedEvent, EventStore, WriteToken

_log = logging.getLogger(__name__)

CommitListener = Callable[[Sequence[Event]], None]
PositionedListener = Callable[[Sequence[CommittedEvent]], None]


class _Pending:
    """One caller's append, and a lock held until its commit (or failure) is known.

    Lighter than a ``concurrent.futures.Future`` (no Condition, no RLock): the writer
    settles thousands of these per second.
    """

    __slots__ = ("_done", "error", "request")

    def __init__(self, request: AppendRequest) -> None:
        self.request = request
        self.error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()

    def settle(self, error: BaseException | None) -> None:
        self.error = error
        self._done.release()

    def wait(self) -> None:
        self._done.acquire()
        if self.error is not None:
            raise self.error


class GroupCommitWriter:
    """The single path by which workflow events reach the store."""

    def __init__(self, store: EventStore, *, max_batch: int = 512) -> None:
        self._store = store
        self._token = WriteToken.recorder()
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._listeners: list[CommitListener] = []
        self._positioned: list[PositionedListener] = []
        self._closed = False
        self._gate = threading.Lock()
        self.batches = 0
        self.appends = 0
        self._thread = threading.Thread(target=self._loop, name="aionactors-writer", daemon=True)
        self._thread.start()

    def add_listener(self, listener: CommitListener) -> None:
        """Call ``listener`` with each committed batch's events, in commit order."""
        self._listeners.append(listener)

    def add_positioned_listener(self, listener: PositionedListener) -> None:
        """Call ``listener`` with each committed batch's events and their positions in the
        store's global commit order, in that order (what the event stream publishes)."""
        self._positioned.append(listener)

    def append(
        self,
        workflow_id: str,
        events: Sequence[Event],
        expected_seq: int,
        wake: bool | None = None,
    ) -> None:
        """Append and wait for the commit; raises SequenceConflict or StoreError.

        ``wake``: see :class:`~aionactors.store.contract.AppendRequest`.
        """
        pending = _Pending(AppendRequest(workflow_id, list(events), expected_seq, wake))
        with self._gate:  # nothing is queued behind close()'s stop, where it would hang
            if self._closed:
                raise StoreError("the engine's writer is closed")
            self._queue.put(pending)
        pending.wait()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                jobs.append(job)
            self._commit(jobs)

    def _commit(self, jobs: list[_Pending]) -> None:
        try:
            outcomes = self._store.append_batch(self._token, [job.request for job in jobs])
        except Exception as exc:  # the whole transaction failed: every caller hears it
            for job in jobs:
                job.settle(exc)
            return
        self.batches += 1
        self.appends += len(jobs)
        committed: list[Event] = []
        for job, outcome in zip(jobs, outcomes, strict=True):
            if outcome is None:
                committed.extend(job.request.events)
        for listener in self._listeners:
            try:
                listener(committed)
            except Exception:
                _log.exception("commit listener failed")
        if self._positioned:
            self._tell_positioned(getattr(outcomes, "committed", None))
        for job, outcome in zip(jobs, outcomes, strict=True):
            job.settle(outcome)

    def _tell_positioned(self, committed: list[CommittedEvent] | None) -> None:
        if committed is None:  # a store that does not report positions (a test double)
            _log.error("the store reported no commit positions: positioned listeners skipped")
            return
        for listener in self._positioned:
            try:
                listener(committed)
            except Exception:
                _log.exception("commit listener failed")

    def close(self) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._gate:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)
