"""The event store contract every backend implements.

Histories are append-only and guarded by optimistic concurrency: an append
names the head it expects and fails with :class:`SequenceConflict` (writing
nothing) if someone else got there first. Appends need a :class:`WriteToken`,
which only the engine's recorder path asks for: holding a store is enough to
read, not to write.

Shared behaviour (validation, run chains, paging, counting) lives in
:class:`EventStore`; backends fill in the storage primitives.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from aionactors.core.errors import SequenceConflict, StoreError
from aionactors.core.events import Event
from aionactors.core.ids import TimerId
from aionactors.core.runs import RunSummary, run_chain_from_history
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import (
    WorkflowFilter,
    WorkflowPage,
    WorkflowSummary,
    decode_page_token,
    page_token_for,
    summary_from_history,
)

_SCAN_CHUNK = 500
_REBUILD_CHUNK = 500
"""Histories read (one query) and summaries written (one transaction) at a time."""


class WriteToken:
    """Capability to append history; obtain it with :meth:`recorder` on the recorder path only."""

    __slots__ = ()
    _issued: WriteToken | None = None
    _lock = threading.Lock()

    def __new__(cls) -> WriteToken:
        raise TypeError("WriteToken is a capability: obtain it with WriteToken.recorder()")

    @classmethod
    def recorder(cls) -> WriteToken:
        with cls._lock:
            if cls._issued is None:
                cls._issued = object.__new__(cls)
            return cls._issued


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One workflow's share of a grouped append: events seq expected_seq+1.. in order."""

    workflow_id: str
    events: Sequence[Event]
    expected_seq: int
    wake: bool | None = None
    """Whether recovery must boot this workflow after the append (``store.indexes``):
    None leaves the wake index to the events (a start sets it, an end clears it). With
    no events, a request only sets the flag (still checked against the head)."""


@dataclass(frozen=True, slots=True)
class CommittedEvent:
    """An event with its position in the store's global commit order."""

    position: int
    event: Event


class BatchOutcomes(list[SequenceConflict | None]):
    """One outcome per request of a grouped append (None = committed), and in
    ``committed`` the committed events with their positions, in commit order."""

    def __init__(
        self,
        outcomes: Iterable[SequenceConflict | None] = (),
        committed: Iterable[CommittedEvent] = (),
    ) -> None:
        super().__init__(outcomes)
        self.committed = list(committed)


@dataclass(frozen=True, slots=True)
class TimerEntry:
    workflow_id: str
    timer_id: TimerId
    fire_at: datetime


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """A deployed workflow package archive, immutable and identified by its content hash.

    ``name`` is the manifest's name: a package may define several workflow types, each
    routed on its own (:class:`PackageRouteRecord`).
    """

    content_hash: str
    name: str
    archive: bytes
    deployed_at: datetime


@dataclass(frozen=True, slots=True)
class PackageRouteRecord:
    """Which package version new starts of a workflow type use."""

    workflow_type: str
    content_hash: str


def validate_request(request: AppendRequest) -> None:
    """Refuse malformed appends before they reach storage (misuse, not a conflict)."""
    if request.expected_seq < 0:
        raise StoreError(f"expected_seq must be >= 0, got {request.expected_seq}")
    if not request.events and request.wake is None:
        raise StoreError(f"append to workflow {request.workflow_id!r} carries no events")
    for offset, event in enumerate(request.events, start=1):
        if event.workflow_id != request.workflow_id:
            raise StoreError(
                f"event seq {event.seq} belongs to workflow {event.workflow_id!r}, "
                f"not {request.workflow_id!r}"
            )
        if event.seq != request.expected_seq + offset:
            raise StoreError(
                f"events for workflow {request.workflow_id!r} must be contiguous from "
                f"seq {request.expected_seq + 1}; got seq {event.seq} at position {offset}"
            )


class EventStore(ABC):
    """Durable workflow histories, timers, visibility and packages behind one interface."""

    # ---- writes -------------------------------------------------------------------
    def append(
        self, token: WriteToken, workflow_id: str, events: Sequence[Event], expected_seq: int
    ) -> None:
        """Append ``events`` atomically if the head is ``expected_seq``; else SequenceConflict."""
        (outcome,) = self.append_batch(token, [AppendRequest(workflow_id, events, expected_seq)])
        if outcome is not None:
            raise outcome

    def append_batch(self, token: WriteToken, requests: Sequence[AppendRequest]) -> BatchOutcomes:
        """Group commit: apply many workflows' appends in as few transactions as possible.

        Each request succeeds or fails on its own head check; the outcome list is in
        request order (None = committed). Requests for the same workflow apply in order.
        Its ``committed`` tells where each committed event landed in the global commit
        order (what stream positions are made of).
        """
        if not isinstance(token, WriteToken):
            raise StoreError("append needs the recorder's WriteToken")
        for request in requests:
            validate_request(request)
        if not requests:
            return BatchOutcomes()
        return self._append_batch(list(requests))

    @abstractmethod
    def _append_batch(self, requests: list[AppendRequest]) -> BatchOutcomes: ...

    # ---- history reads ----------------------------------------------------------------
    def read_history(self, workflow_id: str) -> list[Event]:
        """The whole history in seq order; an unknown workflow is an empty history."""
        return self.read_history_from(workflow_id, 1)

    def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[Event]]:
        """Several whole histories at once (an unknown id maps to []); backends read them in
        one query where they can, which is what recovery does for thousands of workflows."""
        return {workflow_id: self.read_history(workflow_id) for workflow_id in workflow_ids}

    @abstractmethod
    def read_history_from(self, workflow_id: str, from_seq: int) -> list[Event]:
        """Events with seq >= from_seq (an indexed range read); beyond head is empty."""

    @abstractmethod
    def read_history_positioned(self, workflow_id: str, from_seq: int) -> list[CommittedEvent]:
        """:meth:`read_history_from` with each event's position in the global commit order."""

    @abstractmethod
    def head_seq(self, workflow_id: str) -> int:
        """The last seq of a history, 0 if it has none."""

    def read_run_chain(self, workflow_id: str) -> list[RunSummary]:
        """The runs of a workflow in continuation order (root first)."""
        return run_chain_from_history(self.read_history(workflow_id))

    @abstractmethod
    def list_workflow_ids(self, prefix: str = "") -> list[str]:
        """Every workflow with at least one event, terminal ones included, sorted; with
        ``prefix``, only the ids that start with it (e.g. ``schedule:`` histories)."""

    # ---- visibility -----------------------------------------------------------------
    @abstractmethod
    def get_summary(self, workflow_id: str) -> WorkflowSummary | None:
        """The visibility row of one workflow (None before its WorkflowStarted)."""

    @abstractmethod
    def _ids_with_status(self, status: WorkflowStatus) -> list[str]: ...

    @abstractmethod
    def _put_summaries(self, summaries: list[WorkflowSummary]) -> None:
        """Replace these visibility rows (used when rebuilding them from history)."""

    def rebuild_visibility(self) -> int:
        """Recompute every visibility row from its history (they are only a projection)."""
        rebuilt = 0
        ids = self.list_workflow_ids()
        for start in range(0, len(ids), _REBUILD_CHUNK):
            histories = self.read_histories(ids[start : start + _REBUILD_CHUNK])
            summaries = [
                summary
                for history in histories.values()
                if (summary := summary_from_history(history)) is not None
            ]
            self._put_summaries(summaries)
            rebuilt += len(summaries)
        return rebuilt

    def list_active(self) -> list[str]:
        """Workflows whose projected status is Running (Paused ones are not)."""
        return self._ids_with_status(WorkflowStatus.RUNNING)

    def list_paused(self) -> list[str]:
        return self._ids_with_status(WorkflowStatus.PAUSED)

    @abstractmethod
    def list_wake(self) -> list[str]:
        """Running workflows in the wake index (``store.indexes``), sorted: the ones
        recovery boots. Every other running workflow waits, with its timers in rows,
        until an event for it arrives."""

    @abstractmethod
    def _scan_summaries(
        self, flt: WorkflowFilter, cursor: tuple[datetime, str] | None, limit: int
    ) -> list[WorkflowSummary]:
        """Up to ``limit`` rows matching the filter's columns, in list order, after cursor."""

    def scan(self, flt: WorkflowFilter) -> Iterator[WorkflowSummary]:
        """Every summary matching ``flt`` from its page token on, in list order (no limit)."""
        cursor = decode_page_token(flt.page_token) if flt.page_token else None
        while True:
            chunk = self._scan_summaries(flt, cursor, _SCAN_CHUNK)
            for summary in chunk:  # the backend applied the cursor and the columns
                if flt.matches_attributes(summary):
                    yield summary
            if len(chunk) < _SCAN_CHUNK:
                return
            last = chunk[-1]
            cursor = (last.started_at, last.workflow_id)

    def query(self, flt: WorkflowFilter) -> WorkflowPage:
        """One page of summaries matching ``flt``, newest start first."""
        rows: list[WorkflowSummary] = []
        for summary in self.scan(flt):
            if len(rows) == flt.limit:
                return WorkflowPage(workflows=rows, next_page_token=page_token_for(rows[-1]))
            rows.append(summary)
        return WorkflowPage(workflows=rows, next_page_token=None)

    def count(self, flt: WorkflowFilter) -> int:
        """How many workflows match ``flt`` (paging fields ignored)."""
        return sum(1 for _ in self.scan(flt.model_copy(update={"page_token": None})))

    # ---- durable timers ------------------------------------------------------------
    @abstractmethod
    def schedule_timer(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        """Persist (or move) a timer; keyed by (workflow_id, timer_id)."""

    @abstractmethod
    def cancel_timer(self, workflow_id: str, timer_id: TimerId) -> None:
        """Forget a timer row; a no-op if there is none."""

    @abstractmethod
    def expired_timers(self, as_of: datetime) -> list[TimerEntry]:
        """Timers with fire_at <= as_of (inclusive), earliest first."""

    @abstractmethod
    def next_timer_at(self) -> datetime | None:
        """The earliest fire_at of any timer row, so a timer service knows how long to sleep."""

    # ---- packages -------------------------------------------------------------------
    @abstractmethod
    def put_package(self, record: PackageRecord, route_types: Sequence[str] = ()) -> None:
        """Persist an archive (replacing a row of the same hash) and, in the same
        transaction, point each of ``route_types`` at it."""

    @abstractmethod
    def list_packages(self) -> list[PackageRecord]:
        """Archives in deploy order (ties by hash)."""

    @abstractmethod
    def delete_package(self, content_hash: str) -> None:
        """Remove one archive; idempotent; routes are left alone."""

    @abstractmethod
    def put_package_route(self, workflow_type: str, content_hash: str) -> None:
        """Point a type's route at a version (rollback / roll-forward)."""

    @abstractmethod
    def list_package_routes(self) -> list[PackageRouteRecord]:
        """Routes ordered by workflow type."""

    # ---- global commit order -----------------------------------------------------------
    @abstractmethod
    def read_committed(self, after_position: int, limit: int = 1000) -> list[CommittedEvent]:
        """Events committed after a position, in commit order (for followers and projections)."""

    @abstractmethod
    def read_committed_in(
        self,
        namespace: str,
        after_position: int,
        limit: int = 1000,
        workflow_type: str | None = None,
    ) -> list[CommittedEvent]:
        """:meth:`read_committed` narrowed to the workflows of one namespace (and type) as
        their visibility rows name them; other histories (schedules') have none."""

    @abstractmethod
    def head_position(self) -> int:
        """The position of the last committed event (0 if none)."""

    def close(self) -> None:  # noqa: B027 - backends without connections need nothing
        """Release connections; the store is unusable afterwards."""

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
