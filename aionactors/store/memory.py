"""InMemoryStore: the reference backend. Non-durable; every rule of the contract holds."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from datetime import datetime

from aionactors.core.errors import SequenceConflict
from aionactors.core.events import Event
from aionactors.core.ids import TimerId
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import WorkflowFilter, WorkflowSummary, apply_events, sort_key
from aionactors.store.contract import (
    AppendRequest,
    BatchOutcomes,
    CommittedEvent,
    EventStore,
    PackageRecord,
    PackageRouteRecord,
    TimerEntry,
)
from aionactors.store.indexes import IndexChanges, index_changes


class InMemoryStore(EventStore):
    """Dicts behind one lock. Use it in tests and to check a new backend's behaviour."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._histories: dict[str, list[Event]] = {}
        self._summaries: dict[str, WorkflowSummary] = {}
        self._log: list[Event] = []
        """Every committed event; an event's position is its index + 1."""
        self._positions: dict[str, list[int]] = {}
        self._timers: dict[tuple[str, str], TimerEntry] = {}
        self._packages: dict[str, PackageRecord] = {}
        self._routes: dict[str, str] = {}
        self._wake: set[str] = set()

    def _apply_indexes(self, changes: IndexChanges) -> None:
        for workflow_id in changes.timers_cleared:
            for key in [key for key in self._timers if key[0] == workflow_id]:
                del self._timers[key]
        for (workflow_id, timer_id), fire_at in changes.timers.items():
            if fire_at is None:
                self._timers.pop((workflow_id, str(timer_id)), None)
            else:
                entry = TimerEntry(workflow_id, timer_id, fire_at)
                self._timers[(workflow_id, str(timer_id))] = entry
        for workflow_id, wake in changes.wake.items():
            if wake:
                self._wake.add(workflow_id)
            else:
                self._wake.discard(workflow_id)

    def _append_batch(self, requests: list[AppendRequest]) -> BatchOutcomes:
        outcomes: list[SequenceConflict | None] = []
        committed: list[AppendRequest] = []
        positioned: list[CommittedEvent] = []
        with self._lock:
            for request in requests:
                head = len(self._histories.get(request.workflow_id, ()))
                if head != request.expected_seq:
                    conflict = SequenceConflict(request.workflow_id, request.expected_seq, head)
                    outcomes.append(conflict)
                    continue
                if request.events:
                    self._histories.setdefault(request.workflow_id, []).extend(request.events)
                first = len(self._log) + 1
                positions = range(first, first + len(request.events))
                self._positions.setdefault(request.workflow_id, []).extend(positions)
                positioned.extend(map(CommittedEvent, positions, request.events))
                self._log.extend(request.events)
                summary = apply_events(self._summaries.get(request.workflow_id), request.events)
                if summary is not None:
                    self._summaries[request.workflow_id] = summary
                committed.append(request)
                outcomes.append(None)
            self._apply_indexes(index_changes(committed))
        return BatchOutcomes(outcomes, positioned)

    def read_history_from(self, workflow_id: str, from_seq: int) -> list[Event]:
        with self._lock:
            history = self._histories.get(workflow_id, [])
            return history[max(from_seq, 1) - 1 :]

    def read_history_positioned(self, workflow_id: str, from_seq: int) -> list[CommittedEvent]:
        start = max(from_seq, 1) - 1
        with self._lock:
            events = self._histories.get(workflow_id, [])[start:]
            positions = self._positions.get(workflow_id, [])[start:]
        return list(map(CommittedEvent, positions, events))

    def head_seq(self, workflow_id: str) -> int:
        with self._lock:
            return len(self._histories.get(workflow_id, ()))

    def list_workflow_ids(self, prefix: str = "") -> list[str]:
        with self._lock:
            return sorted(w for w in self._histories if w.startswith(prefix))

    def get_summary(self, workflow_id: str) -> WorkflowSummary | None:
        with self._lock:
            return self._summaries.get(workflow_id)

    def list_wake(self) -> list[str]:
        with self._lock:
            running = WorkflowStatus.RUNNING
            summaries = [(w, self._summaries.get(w)) for w in self._wake]
            return sorted(w for w, s in summaries if s is not None and s.status == running)

    def _ids_with_status(self, status: WorkflowStatus) -> list[str]:
        with self._lock:
            return sorted(w for w, s in self._summaries.items() if s.status == status)

    def _put_summaries(self, summaries: list[WorkflowSummary]) -> None:
        with self._lock:
            self._summaries.update((s.workflow_id, s) for s in summaries)

    def _scan_summaries(
        self, flt: WorkflowFilter, cursor: tuple[datetime, str] | None, limit: int
    ) -> list[WorkflowSummary]:
        with self._lock:
            rows = sorted(self._summaries.values(), key=sort_key)
        keys = [sort_key(row) for row in rows]
        start = 0
        if cursor is not None:
            probe = WorkflowSummary(
                workflow_id=cursor[1], run_id="", workflow_type="", started_at=cursor[0]
            )
            start = bisect.bisect_right(keys, sort_key(probe))
        return [row for row in rows[start:] if flt.matches_columns(row)][:limit]

    def schedule_timer(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        with self._lock:
            self._timers[(workflow_id, str(timer_id))] = TimerEntry(workflow_id, timer_id, fire_at)

    def cancel_timer(self, workflow_id: str, timer_id: TimerId) -> None:
        with self._lock:
            self._timers.pop((workflow_id, str(timer_id)), None)

    def expired_timers(self, as_of: datetime) -> list[TimerEntry]:
        with self._lock:
            due = [t for t in self._timers.values() if t.fire_at <= as_of]
        return sorted(due, key=lambda t: (t.fire_at, t.workflow_id, str(t.timer_id)))

    def next_timer_at(self) -> datetime | None:
        with self._lock:
            return min((t.fire_at for t in self._timers.values()), default=None)

    def put_package(self, record: PackageRecord, route_types: Sequence[str] = ()) -> None:
        with self._lock:
            self._packages[record.content_hash] = record
            for workflow_type in route_types:
                self._routes[workflow_type] = record.content_hash

    def list_packages(self) -> list[PackageRecord]:
        with self._lock:
            records = list(self._packages.values())
        return sorted(records, key=lambda r: (r.deployed_at, r.content_hash))

    def delete_package(self, content_hash: str) -> None:
        with self._lock:
            self._packages.pop(content_hash, None)

    def put_package_route(self, workflow_type: str, content_hash: str) -> None:
        with self._lock:
            self._routes[workflow_type] = content_hash

    def list_package_routes(self) -> list[PackageRouteRecord]:
        with self._lock:
            return [PackageRouteRecord(t, h) for t, h in sorted(self._routes.items())]

    def read_committed(self, after_position: int, limit: int = 1000) -> list[CommittedEvent]:
        with self._lock:
            window = self._log[after_position : after_position + limit]
        return [
            CommittedEvent(position=after_position + i + 1, event=e) for i, e in enumerate(window)
        ]

    def read_committed_in(
        self,
        namespace: str,
        after_position: int,
        limit: int = 1000,
        workflow_type: str | None = None,
    ) -> list[CommittedEvent]:
        found: list[CommittedEvent] = []
        with self._lock:
            for index in range(max(after_position, 0), len(self._log)):
                event = self._log[index]
                summary = self._summaries.get(event.workflow_id)
                if summary is None or summary.namespace != namespace:
                    continue
                if workflow_type is not None and summary.workflow_type != workflow_type:
                    continue
                found.append(CommittedEvent(index + 1, event))
                if len(found) == limit:
                    break
        return found

    def head_position(self) -> int:
        with self._lock:
            return len(self._log)
