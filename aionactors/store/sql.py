"""What the SQLite and PostgreSQL stores share: schema, group commit, visibility, timers.

Events live in eventsourcing's application-recorder table (originator = workflow
id as text, version = seq, topic = event type, state = the event's JSON); its
unique (originator, version) key is the last line of defence against two
writers. Visibility rows, timers and packages are our own tables in the same
database, written in the same transaction as the events they follow.
Subclasses supply the dialect: the transaction, the insert and the placeholder.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, ClassVar

from eventsourcing.persistence import (
    ApplicationRecorder,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
)
from pydantic import ValidationError

from aionactors.core.errors import CorruptHistory, SequenceConflict, StoreError
from aionactors.core.events import (
    Event,
    build_trusted,
    decode_rows,
    event_json,
    parse_event,
    trusted_event,
)
from aionactors.core.ids import TimerId
from aionactors.core.status import LIFECYCLE_STATUS, WorkflowStatus
from aionactors.core.timestamps import from_micros, to_micros
from aionactors.core.visibility import WorkflowFilter, WorkflowSummary, apply_events
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
from aionactors.store.outage import StoreUnavailable, is_outage

EVENTS_TABLE = "aion_events"
_IDS_PER_QUERY = 500
"""Workflow ids per ``IN (...)`` list: well under SQLite's limit on bound parameters."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS aion_visibility ("
    " workflow_id TEXT PRIMARY KEY, namespace TEXT NOT NULL, workflow_type TEXT NOT NULL,"
    " status TEXT NOT NULL, started_at BIGINT NOT NULL, ended_at BIGINT, parent TEXT,"
    " summary TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS aion_visibility_status ON aion_visibility (status)",
    "CREATE INDEX IF NOT EXISTS aion_visibility_order"
    " ON aion_visibility (started_at DESC, workflow_id)",
    "CREATE TABLE IF NOT EXISTS aion_timers ("
    " workflow_id TEXT NOT NULL, timer_id TEXT NOT NULL, fire_at BIGINT NOT NULL,"
    " PRIMARY KEY (workflow_id, timer_id)){clustered}",
    "CREATE INDEX IF NOT EXISTS aion_timers_fire_at ON aion_timers (fire_at)",
    "CREATE TABLE IF NOT EXISTS aion_package_archives ("
    " content_hash TEXT PRIMARY KEY, name TEXT NOT NULL, archive {blob} NOT NULL,"
    " deployed_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aion_package_routes ("
    " workflow_type TEXT PRIMARY KEY, content_hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS aion_wake (workflow_id TEXT PRIMARY KEY){clustered}",
    "CREATE TABLE IF NOT EXISTS aion_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_WAKE_INDEX_KEY = "wake_index"
"""Set in aion_meta once the wake index is maintained; a store from before it gets every
running workflow in the index once (so its first recovery boots them all, as it used to)."""

_PROBE_KEY = "readiness_probe"
_PROBE_BYTES = 32 * 1024

_UPSERT_TIMER = (
    "INSERT INTO aion_timers (workflow_id, timer_id, fire_at) VALUES (?, ?, ?)"
    " ON CONFLICT (workflow_id, timer_id) DO UPDATE SET fire_at = excluded.fire_at"
)

_UPSERT_VISIBILITY = (
    "INSERT INTO aion_visibility (workflow_id, namespace, workflow_type, status, started_at,"
    " ended_at, parent, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (workflow_id) DO UPDATE SET namespace = excluded.namespace,"
    " workflow_type = excluded.workflow_type, status = excluded.status,"
    " started_at = excluded.started_at, ended_at = excluded.ended_at,"
    " parent = excluded.parent, summary = excluded.summary"
)

_VISIBLE_TYPES = frozenset(LIFECYCLE_STATUS) | {"SearchAttributesUpdated"}
"""Event types that can change a visibility row; appends of others skip the row."""


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Turn the driver's and eventsourcing's errors into StoreError naming the action."""
    try:
        yield
    except PersistenceError as exc:
        if is_outage(exc):
            raise StoreUnavailable(f"{action} failed, the store is unavailable: {exc}") from exc
        raise StoreError(f"{action} failed: {exc}") from exc


class SqlEventStore(EventStore):
    """An EventStore over an eventsourcing application recorder and a few tables of ours."""

    placeholder: ClassVar[str] = "?"
    blob_type: ClassVar[str] = "BLOB"
    clustered: ClassVar[str] = " WITHOUT ROWID"
    """Table option that keeps a table's rows in its primary key's B-tree: one page per
    row change instead of two (the row and its key index), which every fsynced commit
    writes. Only new tables get it; an existing table works the same either way."""
    position_column: ClassVar[str] = "rowid"
    """The events table's column of eventsourcing notification ids (the commit order)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self._recorder = recorder
        with storage_errors("creating tables"):
            recorder.create_table()
            with self._transaction(commit=True) as cursor:
                for statement in _SCHEMA:
                    cursor.execute(statement.format(blob=self.blob_type, clustered=self.clustered))
                self._start_wake_index(cursor)

    def _start_wake_index(self, cursor: Any) -> None:
        self._execute(cursor, "SELECT value FROM aion_meta WHERE key = ?", (_WAKE_INDEX_KEY,))
        if cursor.fetchall():
            return
        self._execute(
            cursor,
            "INSERT INTO aion_wake (workflow_id) SELECT workflow_id FROM aion_visibility"
            " WHERE status = ? ON CONFLICT (workflow_id) DO NOTHING",
            (WorkflowStatus.RUNNING.value,),
        )
        self._execute(
            cursor,
            "INSERT INTO aion_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (_WAKE_INDEX_KEY, "1"),
        )

    # ---- dialect --------------------------------------------------------------------
    @abstractmethod
    def _transaction(self, *, commit: bool) -> AbstractContextManager[Any]:
        """A cursor inside one transaction (committed on success if ``commit``)."""

    @abstractmethod
    def _insert_stored(self, cursor: Any, stored: list[StoredEvent]) -> list[int]:
        """Insert events inside the open transaction; their notification ids, in order.

        It takes the append lock (``_lock_for_append``) itself, last in the append:
        everything else an append writes (visibility, indexes) and checks (the fence, the
        heads) is row-level and needs no global order, and the lock is held until commit,
        so every round trip before it would hold every other writer's appends too. A head
        read before the lock that a racing writer outdated ends in the events' unique key
        refusing the insert: RecordConflictError."""

    def _lock_for_append(self, cursor: Any) -> None:
        """Serialise appenders, so that commit order is position order (a no-op where the
        driver already does)."""

    def _fence(self, cursor: Any, workflow_ids: set[str]) -> None:
        """Refuse the whole append inside its transaction, before anything is written (a
        cluster node checks its shard leases here; a no-op on a store of its own)."""

    def _dialect(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _execute(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> None:
        cursor.execute(self._dialect(sql), tuple(params))

    def _reading(self) -> AbstractContextManager[Any]:
        """A cursor for reads (a read-only transaction unless the backend has better)."""
        return self._transaction(commit=False)

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with storage_errors("reading"), self._reading() as cursor:
            self._execute(cursor, sql, params)
            return list(cursor.fetchall())

    def _write(self, action: str, sql: str, params: Sequence[Any] = ()) -> None:
        with storage_errors(action), self._transaction(commit=True) as cursor:
            self._execute(cursor, sql, params)

    def probe_write(self) -> None:
        """Readiness: commit what an append needs (its lock, bounded by the write timeout,
        then a row as big as a real append, so a store with room for a tiny row but not for
        an append, a nearly full disk, is not ready), leaving nothing behind: the row is
        deleted in the same commit."""
        with storage_errors("probing a write"), self._transaction(commit=True) as cursor:
            self._lock_for_append(cursor)
            self._execute(
                cursor,
                "INSERT INTO aion_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_PROBE_KEY, "x" * _PROBE_BYTES),
            )
            self._execute(cursor, "DELETE FROM aion_meta WHERE key = ?", (_PROBE_KEY,))

    # ---- appends --------------------------------------------------------------------
    def _append_batch(self, requests: list[AppendRequest]) -> BatchOutcomes:
        try:
            with storage_errors("appending events"), self._transaction(commit=True) as cursor:
                return self._apply_batch(cursor, requests)
        except RecordConflictError:
            pass  # the events' unique key refused a (workflow, seq) another writer took
        except StoreError as exc:
            if not isinstance(exc.__cause__, RecordConflictError):
                raise
        # Another writer (process or node) won a race on some (workflow, seq): retry
        # each request alone so that only the losers fail.
        if len(requests) > 1:
            alone = [self._append_batch([request]) for request in requests]
            return BatchOutcomes(
                [result[0] for result in alone],
                [event for result in alone for event in result.committed],
            )
        request = requests[0]
        head = self.head_seq(request.workflow_id)
        return BatchOutcomes([SequenceConflict(request.workflow_id, request.expected_seq, head)])

    def _apply_batch(self, cursor: Any, requests: list[AppendRequest]) -> BatchOutcomes:
        # A handful of statements per batch, however many workflows it holds: every
        # statement releases the GIL, and under load getting it back is what costs.
        self._fence(cursor, {r.workflow_id for r in requests})
        heads = self._heads_in(cursor, {r.workflow_id for r in requests})
        outcomes: list[SequenceConflict | None] = []
        accepted: dict[str, list[Event]] = {}
        committed: list[AppendRequest] = []
        for request in requests:
            workflow_id = request.workflow_id
            head = heads.get(workflow_id, 0)
            if head != request.expected_seq:
                outcomes.append(SequenceConflict(workflow_id, request.expected_seq, head))
                continue
            if request.events:
                heads[workflow_id] = request.events[-1].seq
            accepted.setdefault(workflow_id, []).extend(request.events)
            committed.append(request)
            outcomes.append(None)
        stored = [
            StoredEvent(
                originator_id=e.workflow_id,
                originator_version=e.seq,
                topic=e.type,
                state=event_json(e),
            )
            for events in accepted.values()
            for e in events
        ]
        visible = {
            workflow_id: events
            for workflow_id, events in accepted.items()
            if any(e.type in _VISIBLE_TYPES for e in events)
        }
        if visible:
            self._update_visibility(cursor, visible)
        self._update_indexes(cursor, index_changes(committed))
        positions = self._insert_stored(cursor, stored) if stored else []
        in_commit_order = [e for events in accepted.values() for e in events]
        return BatchOutcomes(outcomes, _positioned(positions, in_commit_order))

    def _update_indexes(self, cursor: Any, changes: IndexChanges) -> None:
        """Timer rows and the wake index, in the append's transaction (``store.indexes``)."""
        if changes.timers_cleared:
            self._delete_in(cursor, "aion_timers", sorted(changes.timers_cleared))
        if deletes := changes.timer_deletes():
            cursor.executemany(
                self._dialect("DELETE FROM aion_timers WHERE workflow_id = ? AND timer_id = ?"),
                [(workflow_id, str(timer_id)) for workflow_id, timer_id in deletes],
            )
        if rows := changes.timer_rows():
            cursor.executemany(
                self._dialect(_UPSERT_TIMER),
                [(w, str(timer_id), to_micros(fire_at)) for w, timer_id, fire_at in rows],
            )
        if woken := sorted(w for w, wake in changes.wake.items() if wake):
            cursor.executemany(
                self._dialect(
                    "INSERT INTO aion_wake (workflow_id) VALUES (?)"
                    " ON CONFLICT (workflow_id) DO NOTHING"
                ),
                [(workflow_id,) for workflow_id in woken],
            )
        if settled := sorted(w for w, wake in changes.wake.items() if not wake):
            self._delete_in(cursor, "aion_wake", settled)

    def _delete_in(self, cursor: Any, table: str, workflow_ids: list[str]) -> None:
        for start in range(0, len(workflow_ids), _IDS_PER_QUERY):
            chunk = workflow_ids[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            self._execute(cursor, f"DELETE FROM {table} WHERE workflow_id IN ({marks})", chunk)

    def _heads_in(self, cursor: Any, workflow_ids: set[str]) -> dict[str, int]:
        ids = sorted(workflow_ids)
        marks = ", ".join("?" for _ in ids)
        self._execute(
            cursor,
            f"SELECT originator_id AS id, MAX(originator_version) AS head FROM {EVENTS_TABLE}"
            f" WHERE originator_id IN ({marks}) GROUP BY originator_id",
            ids,
        )
        return {str(row["id"]): int(row["head"]) for row in cursor.fetchall()}

    def _head_in(self, cursor: Any, workflow_id: str) -> int:
        return self._heads_in(cursor, {workflow_id}).get(workflow_id, 0)

    def _update_visibility(self, cursor: Any, appended: dict[str, list[Event]]) -> None:
        ids = sorted(appended)
        marks = ", ".join("?" for _ in ids)
        self._execute(
            cursor,
            f"SELECT workflow_id, summary FROM aion_visibility WHERE workflow_id IN ({marks})",
            ids,
        )
        previous = {row["workflow_id"]: _summary_from_row(row) for row in cursor.fetchall()}
        summaries = [
            summary
            for workflow_id, events in appended.items()
            if (summary := apply_events(previous.get(workflow_id), events)) is not None
        ]
        if summaries:
            self._upsert_summaries(cursor, summaries)

    def _put_summaries(self, summaries: list[WorkflowSummary]) -> None:
        if not summaries:
            return
        with storage_errors("rebuilding visibility"), self._transaction(commit=True) as cursor:
            self._upsert_summaries(cursor, summaries)

    def _upsert_summaries(self, cursor: Any, summaries: list[WorkflowSummary]) -> None:
        rows = [
            (
                summary.workflow_id,
                summary.namespace,
                summary.workflow_type,
                summary.status.value,
                to_micros(summary.started_at),
                to_micros(summary.ended_at) if summary.ended_at else None,
                summary.parent,
                summary.model_dump_json(),
            )
            for summary in summaries
        ]
        cursor.executemany(self._dialect(_UPSERT_VISIBILITY), rows)

    # ---- history reads ----------------------------------------------------------------
    def read_history_from(self, workflow_id: str, from_seq: int) -> list[Event]:
        with storage_errors(f"reading history of {workflow_id!r}"), self._reading() as cursor:
            # Our own SELECT: the recorder's would build a StoredEvent per row first.
            self._execute(
                cursor,
                f"SELECT originator_version, state FROM {EVENTS_TABLE}"
                " WHERE originator_id = ? AND originator_version >= ?"
                " ORDER BY originator_version",
                (workflow_id, max(from_seq, 1)),
            )
            rows = cursor.fetchall()
        return _to_events([(workflow_id, row["originator_version"], row["state"]) for row in rows])

    def read_history_positioned(self, workflow_id: str, from_seq: int) -> list[CommittedEvent]:
        rows = self._fetchall(
            f"SELECT {self.position_column} AS position, originator_version, state"
            f" FROM {EVENTS_TABLE} WHERE originator_id = ? AND originator_version >= ?"
            " ORDER BY originator_version",
            (workflow_id, max(from_seq, 1)),
        )
        events = _to_events(
            [(workflow_id, row["originator_version"], row["state"]) for row in rows]
        )
        return [
            CommittedEvent(int(row["position"]), e) for row, e in zip(rows, events, strict=True)
        ]

    def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[Event]]:
        histories: dict[str, list[Event]] = {workflow_id: [] for workflow_id in workflow_ids}
        ids = sorted(histories)
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start : start + _IDS_PER_QUERY]
            marks = ", ".join("?" for _ in chunk)
            with storage_errors("reading histories"), self._reading() as cursor:
                self._execute(
                    cursor,
                    f"SELECT originator_id, originator_version, state FROM {EVENTS_TABLE}"
                    f" WHERE originator_id IN ({marks})"
                    " ORDER BY originator_id, originator_version",
                    chunk,
                )
                rows = cursor.fetchall()
            decoded = _to_events(
                [(row["originator_id"], row["originator_version"], row["state"]) for row in rows]
            )
            for event in decoded:
                histories[event.workflow_id].append(event)
        return histories

    def head_seq(self, workflow_id: str) -> int:
        with storage_errors("reading head"), self._reading() as cursor:
            return self._head_in(cursor, workflow_id)

    def list_workflow_ids(self, prefix: str = "") -> list[str]:
        sql = f"SELECT DISTINCT originator_id AS id FROM {EVENTS_TABLE}"
        params: list[Any] = []
        if prefix:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            sql += " WHERE originator_id LIKE ? ESCAPE '\\'"
            params.append(escaped + "%")
        rows = self._fetchall(sql + " ORDER BY originator_id", params)
        # LIKE ignores ASCII case in SQLite: keep exactly the ids with the prefix.
        return [str(row["id"]) for row in rows if str(row["id"]).startswith(prefix)]

    # ---- visibility -------------------------------------------------------------------
    def get_summary(self, workflow_id: str) -> WorkflowSummary | None:
        rows = self._fetchall(
            "SELECT summary FROM aion_visibility WHERE workflow_id = ?", (workflow_id,)
        )
        return _summary_from_row(rows[0]) if rows else None

    def list_wake(self) -> list[str]:
        rows = self._fetchall(
            "SELECT w.workflow_id AS id FROM aion_wake w JOIN aion_visibility v"
            " ON v.workflow_id = w.workflow_id WHERE v.status = ? ORDER BY w.workflow_id",
            (WorkflowStatus.RUNNING.value,),
        )
        return [str(row["id"]) for row in rows]

    def _ids_with_status(self, status: WorkflowStatus) -> list[str]:
        rows = self._fetchall(
            "SELECT workflow_id FROM aion_visibility WHERE status = ? ORDER BY workflow_id",
            (status.value,),
        )
        return [row["workflow_id"] for row in rows]

    def _scan_summaries(
        self, flt: WorkflowFilter, cursor: tuple[datetime, str] | None, limit: int
    ) -> list[WorkflowSummary]:
        where, params = _column_conditions(flt)
        if cursor is not None:
            started = to_micros(cursor[0])
            where.append("(started_at < ? OR (started_at = ? AND workflow_id > ?))")
            params += [started, started, cursor[1]]
        sql = "SELECT summary FROM aion_visibility"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, workflow_id ASC LIMIT ?"
        return [_summary_from_row(row) for row in self._fetchall(sql, [*params, limit])]

    def count(self, flt: WorkflowFilter) -> int:
        if flt.search_attributes:
            return super().count(flt)
        where, params = _column_conditions(flt)
        sql = "SELECT COUNT(*) AS n FROM aion_visibility"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return int(self._fetchall(sql, params)[0]["n"])

    # ---- durable timers -------------------------------------------------------------
    def schedule_timer(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        self._write(
            "scheduling a timer", _UPSERT_TIMER, (workflow_id, str(timer_id), to_micros(fire_at))
        )

    def cancel_timer(self, workflow_id: str, timer_id: TimerId) -> None:
        self._write(
            "cancelling a timer",
            "DELETE FROM aion_timers WHERE workflow_id = ? AND timer_id = ?",
            (workflow_id, str(timer_id)),
        )

    def expired_timers(self, as_of: datetime) -> list[TimerEntry]:
        rows = self._fetchall(
            "SELECT workflow_id, timer_id, fire_at FROM aion_timers WHERE fire_at <= ?"
            " ORDER BY fire_at, workflow_id, timer_id",
            (to_micros(as_of),),
        )
        return [
            TimerEntry(
                row["workflow_id"], TimerId.parse(row["timer_id"]), from_micros(row["fire_at"])
            )
            for row in rows
        ]

    def next_timer_at(self) -> datetime | None:
        rows = self._fetchall("SELECT MIN(fire_at) AS due FROM aion_timers")
        due = rows[0]["due"] if rows else None
        return from_micros(due) if due is not None else None

    # ---- packages ---------------------------------------------------------------------
    def put_package(self, record: PackageRecord, route_types: Sequence[str] = ()) -> None:
        with storage_errors("storing a package"), self._transaction(commit=True) as cursor:
            self._execute(
                cursor,
                "INSERT INTO aion_package_archives (content_hash, name, archive, deployed_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (content_hash) DO UPDATE SET"
                " name = excluded.name, archive = excluded.archive,"
                " deployed_at = excluded.deployed_at",
                (record.content_hash, record.name, record.archive, to_micros(record.deployed_at)),
            )
            for workflow_type in route_types:
                self._upsert_route(cursor, workflow_type, record.content_hash)

    def _upsert_route(self, cursor: Any, workflow_type: str, content_hash: str) -> None:
        self._execute(
            cursor,
            "INSERT INTO aion_package_routes (workflow_type, content_hash) VALUES (?, ?)"
            " ON CONFLICT (workflow_type) DO UPDATE SET content_hash = excluded.content_hash",
            (workflow_type, content_hash),
        )

    def list_packages(self) -> list[PackageRecord]:
        rows = self._fetchall(
            "SELECT content_hash, name, archive, deployed_at FROM aion_package_archives"
            " ORDER BY deployed_at, content_hash"
        )
        return [
            PackageRecord(
                row["content_hash"],
                row["name"],
                bytes(row["archive"]),
                from_micros(row["deployed_at"]),
            )
            for row in rows
        ]

    def delete_package(self, content_hash: str) -> None:
        self._write(
            "deleting a package",
            "DELETE FROM aion_package_archives WHERE content_hash = ?",
            (content_hash,),
        )

    def put_package_route(self, workflow_type: str, content_hash: str) -> None:
        with storage_errors("routing a package"), self._transaction(commit=True) as cursor:
            self._upsert_route(cursor, workflow_type, content_hash)

    def list_package_routes(self) -> list[PackageRouteRecord]:
        rows = self._fetchall(
            "SELECT workflow_type, content_hash FROM aion_package_routes ORDER BY workflow_type"
        )
        return [PackageRouteRecord(row["workflow_type"], row["content_hash"]) for row in rows]

    # ---- global commit order -----------------------------------------------------------
    # Our own SELECTs, not the recorder's select_notifications / max_notification_id:
    # eventsourcing retries those ten times on any operational error, so a read under a
    # held lock waited ten lock timeouts (and backoff) instead of failing after one.
    def read_committed(self, after_position: int, limit: int = 1000) -> list[CommittedEvent]:
        position = self.position_column
        rows = self._fetchall(
            f"SELECT {position} AS position, originator_id, originator_version, state"
            f" FROM {EVENTS_TABLE} WHERE {position} > ? ORDER BY {position} LIMIT ?",
            (after_position, limit),
        )
        return _committed(rows)

    def read_committed_in(
        self,
        namespace: str,
        after_position: int,
        limit: int = 1000,
        workflow_type: str | None = None,
    ) -> list[CommittedEvent]:
        position = f"e.{self.position_column}"
        sql = (
            f"SELECT {position} AS position, e.originator_id, e.originator_version, e.state"
            f" FROM {EVENTS_TABLE} e JOIN aion_visibility v ON v.workflow_id = e.originator_id"
            f" WHERE v.namespace = ? AND {position} > ?"
        )
        params: list[Any] = [namespace, after_position]
        if workflow_type is not None:
            sql += " AND v.workflow_type = ?"
            params.append(workflow_type)
        rows = self._fetchall(f"{sql} ORDER BY {position} LIMIT ?", [*params, limit])
        return _committed(rows)

    def head_position(self) -> int:
        rows = self._fetchall(f"SELECT MAX({self.position_column}) AS head FROM {EVENTS_TABLE}")
        return int(rows[0]["head"] or 0)


def _column_conditions(flt: WorkflowFilter) -> tuple[list[str], list[Any]]:
    """The WHERE clauses for the filter's column fields (predicates run in Python)."""
    where: list[str] = []
    params: list[Any] = []
    equalities = (
        ("namespace", flt.namespace),
        ("workflow_type", flt.workflow_type),
        ("status", flt.status.value if flt.status else None),
        ("parent", flt.parent),
    )
    for column, value in equalities:
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    bounds = (
        ("started_at >= ?", flt.started_after),
        ("started_at <= ?", flt.started_before),
        ("ended_at >= ?", flt.closed_after),
        ("ended_at <= ?", flt.closed_before),
    )
    for clause, bound in bounds:
        if bound is not None:
            where.append(clause)
            params.append(to_micros(bound))
    return where, params


def _committed(rows: Sequence[Any]) -> list[CommittedEvent]:
    """Rows of (position, originator_id, originator_version, state), decoded."""
    events = _to_events(
        [(row["originator_id"], row["originator_version"], row["state"]) for row in rows]
    )
    return [CommittedEvent(int(row["position"]), e) for row, e in zip(rows, events, strict=True)]


def _positioned(positions: list[int], events: list[Event]) -> list[CommittedEvent]:
    """Events in insert order with the ids their insert returned, sorted into commit order."""
    if len(positions) != len(events):
        raise StoreError(f"the insert returned {len(positions)} ids for {len(events)} events")
    return sorted(map(CommittedEvent, positions, events), key=lambda c: c.position)


StoredRow = tuple[str, int, bytes]
"""(originator id, version, state) of one row of the events table."""

_UNFIT = (ValueError, TypeError, KeyError, AttributeError)
"""What trusted decoding raises for a row it cannot build (a JSON error is a ValueError)."""


def _to_events(rows: Sequence[StoredRow]) -> list[Event]:
    """Decode stored rows in bulk, refusing any that is not its workflow's event at its seq.

    The store is the only writer of these rows and wrote them from validated events, so
    they are decoded without validation, all in one ``json.loads``. Any row that does not
    fit (or holds another row's event) sends the batch through :func:`_to_event` row by
    row, which validates what trusted decoding cannot build and names the bad row.
    """
    states = [bytes(state) for _, _, state in rows]
    try:
        decoded = decode_rows(states)
        if all(
            data["workflow_id"] == workflow_id and data["seq"] == seq
            for (workflow_id, seq, _), data in zip(rows, decoded, strict=True)
        ):
            return build_trusted(decoded)
    except _UNFIT:
        pass
    pairs = zip(rows, states, strict=True)
    return [_to_event(str(w), int(seq), state) for (w, seq, _), state in pairs]


def _to_event(workflow_id: str, seq: int, state: bytes) -> Event:
    """Decode one stored row (trusted when it fits, validated when not), refusing rows
    that are not this workflow's event at this seq."""
    try:
        event = trusted_event(json.loads(state))
    except _UNFIT:
        try:
            event = parse_event(state)
        except (ValidationError, ValueError) as exc:
            raise CorruptHistory(
                f"stored row {workflow_id!r}#{seq} is not a valid event: {_first_line(exc)}"
            ) from exc
    if event.workflow_id != workflow_id or event.seq != seq:
        _mismatch(workflow_id, seq, event)
    return event


def _mismatch(workflow_id: str, seq: int, event: Event) -> None:
    raise CorruptHistory(
        f"stored row {workflow_id!r}#{seq} holds event {event.workflow_id!r}#{event.seq}"
    )


def _summary_from_row(row: Any) -> WorkflowSummary:
    try:
        return WorkflowSummary.model_validate(json.loads(row["summary"]))
    except (ValidationError, ValueError) as exc:
        raise CorruptHistory(f"visibility row is not a valid summary: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
