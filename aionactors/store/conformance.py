"""The store contract as a reusable pytest suite: subclass it once per backend.

>>> class TestMyStore(EventStoreConformance):      # doctest: +SKIP
...     def make_store(self) -> EventStore:
...         return MyStore(...)

Every case gets a fresh store from ``make_store``. Importing this module needs pytest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aionactors.core.errors import InvalidInput, SequenceConflict, StoreError
from aionactors.core.events import (
    ActivityFailed,
    ActivityScheduled,
    Event,
    SearchAttributesUpdated,
    SignalReceived,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowPaused,
    WorkflowReopened,
    WorkflowStarted,
)
from aionactors.core.ids import TimerId
from aionactors.core.payload import ActivityError, ActivityErrorKind, WorkflowError
from aionactors.core.search import NAMESPACE_ATTRIBUTE, Equals, StringValue, value_of
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import WorkflowFilter
from aionactors.store.contract import AppendRequest, EventStore, PackageRecord, WriteToken

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TOKEN = WriteToken.recorder()


class HistoryBuilder:
    """Builds contiguous events for one workflow; ``seq`` advances as events are made."""

    def __init__(self, workflow_id: str, start: datetime = T0) -> None:
        self.workflow_id = workflow_id
        self.seq = 0
        self.clock = start

    def make(self, cls: type[Any], **fields: Any) -> Event:
        self.seq += 1
        self.clock += timedelta(seconds=1)
        return cls(seq=self.seq, recorded_at=self.clock, workflow_id=self.workflow_id, **fields)

    def started(self, run_id: str = "run-1", workflow_type: str = "demo", **fields: Any) -> Event:
        return self.make(WorkflowStarted, workflow_type=workflow_type, run_id=run_id, **fields)

    def signal(self, name: str = "ping", payload: Any = None) -> Event:
        return self.make(SignalReceived, name=name, payload=payload)


def append_all(store: EventStore, builder: HistoryBuilder, events: list[Event]) -> None:
    store.append(TOKEN, builder.workflow_id, events, events[0].seq - 1)


class EventStoreConformance:
    """Every rule of the EventStore contract. Backends subclass and define ``make_store``."""

    def make_store(self) -> EventStore:
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[EventStore]:
        store = self.make_store()
        try:
            yield store
        finally:
            store.close()

    def started_workflow(
        self, store: EventStore, workflow_id: str, *extra: str, **started: Any
    ) -> HistoryBuilder:
        builder = HistoryBuilder(workflow_id)
        events = [builder.started(**started)]
        for kind in extra:
            events.append(builder.signal(kind))
        append_all(store, builder, events)
        return builder

    # ---- append and read (aion-spec §2.7 cases 1-11) ------------------------------------
    def test_append_and_read_history_round_trip(self, store: EventStore) -> None:
        assert store.read_history("unknown") == []
        builder = HistoryBuilder("wf-1")
        events = [builder.started(input={"n": 1}), builder.signal("go", {"ok": True})]
        store.append(TOKEN, "wf-1", events, 0)
        assert store.read_history("wf-1") == events
        assert store.head_seq("wf-1") == 2
        assert store.head_seq("unknown") == 0

    def test_read_histories_matches_reading_each(self, store: EventStore) -> None:
        self.started_workflow(store, "long", *[f"s{n}" for n in range(12)])
        self.started_workflow(store, "short")
        got = store.read_histories(["short", "ghost", "long"])
        assert set(got) == {"short", "ghost", "long"}
        assert got["ghost"] == []
        for workflow_id in ("short", "long"):
            assert got[workflow_id] == store.read_history(workflow_id)
        assert store.read_histories([]) == {}

    def test_read_histories_of_more_ids_than_one_query_holds(self, store: EventStore) -> None:
        builders = [HistoryBuilder(f"many-{n:04}") for n in range(1_100)]
        requests = [AppendRequest(b.workflow_id, [b.started()], 0) for b in builders]
        store.append_batch(TOKEN, requests)
        got = store.read_histories([b.workflow_id for b in builders])
        assert len(got) == 1_100
        assert all([e.seq for e in events] == [1] for events in got.values())
        assert got["many-0777"][0].workflow_id == "many-0777"

    def test_range_read_middle_of_history_returns_ordered_suffix(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf", "a", "b", "c", "d")
        assert [e.seq for e in store.read_history_from("wf", 3)] == [3, 4, 5]
        assert builder.seq == 5

    def test_range_read_from_seq_one_matches_full_read(self, store: EventStore) -> None:
        self.started_workflow(store, "wf", "a", "b")
        assert store.read_history_from("wf", 1) == store.read_history("wf")
        assert store.read_history_from("wf", 0) == store.read_history("wf")

    def test_range_read_beyond_head_returns_empty_not_error(self, store: EventStore) -> None:
        self.started_workflow(store, "wf", "a")
        assert store.read_history_from("wf", 3) == []
        assert store.read_history_from("wf", 1000) == []

    def test_range_read_unknown_workflow_matches_full_read(self, store: EventStore) -> None:
        assert store.read_history_from("ghost", 1) == []
        assert store.read_history_from("ghost", 5) == []

    def test_range_read_single_event_history_boundaries(self, store: EventStore) -> None:
        self.started_workflow(store, "wf")
        assert [e.seq for e in store.read_history_from("wf", 1)] == [1]
        assert store.read_history_from("wf", 2) == []

    def test_range_read_from_seq_at_head_returns_only_head_event(self, store: EventStore) -> None:
        self.started_workflow(store, "wf", "a", "b")
        assert [e.seq for e in store.read_history_from("wf", 3)] == [3]

    def test_multi_batch_append_advances_sequence(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        store.append(TOKEN, "wf", [builder.signal()], 1)
        store.append(TOKEN, "wf", [builder.signal(), builder.signal()], 2)
        assert [e.seq for e in store.read_history("wf")] == [1, 2, 3, 4]

    def test_stale_expected_sequence_writes_nothing(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        original = store.read_history("wf")
        stale = HistoryBuilder("wf")
        with pytest.raises(SequenceConflict) as caught:
            store.append(TOKEN, "wf", [stale.started(run_id="other"), stale.signal()], 0)
        assert (caught.value.expected, caught.value.found) == (0, 1)
        assert store.read_history("wf") == original  # not replaced, not extended
        assert builder.seq == 1 and store.head_seq("wf") == 1

    def test_expected_sequence_ahead_of_head_is_a_conflict(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        builder.seq = 5
        with pytest.raises(SequenceConflict) as caught:
            store.append(TOKEN, "wf", [builder.signal()], 5)
        assert (caught.value.expected, caught.value.found) == (5, 1)

    def test_concurrent_appends_on_same_expected_sequence_has_one_winner(
        self, store: EventStore
    ) -> None:
        self.started_workflow(store, "wf")
        contenders = 8
        barrier = threading.Barrier(contenders)
        outcomes: list[str] = []

        def contend(index: int) -> None:
            builder = HistoryBuilder("wf")
            builder.seq = 1
            event = builder.signal(f"writer-{index}")
            barrier.wait()
            try:
                store.append(TOKEN, "wf", [event], 1)
                outcomes.append("won")
            except SequenceConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * (contenders - 1) + ["won"]
        assert store.head_seq("wf") == 2

    def test_large_history_round_trip(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        for _ in range(5):
            batch = [builder.signal(payload={"i": builder.seq}) for _ in range(25)]
            append_all(store, builder, batch)
        history = store.read_history("wf")
        assert [e.seq for e in history] == list(range(1, 127))

    def test_atomic_multi_event_batch(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        batch = [builder.signal(), builder.signal(), builder.signal()]
        store.append(TOKEN, "wf", batch, 1)
        with pytest.raises(SequenceConflict):
            store.append(TOKEN, "wf", batch, 1)
        assert store.head_seq("wf") == 4

    def test_non_contiguous_or_foreign_events_are_refused(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        first, second = builder.signal(), builder.signal()
        with pytest.raises(StoreError, match="contiguous"):
            store.append(TOKEN, "wf", [second, first], 1)
        with pytest.raises(StoreError, match="belongs to workflow"):
            store.append(TOKEN, "other", [first], 1)
        with pytest.raises(StoreError, match="no events"):
            store.append(TOKEN, "wf", [], 1)
        with pytest.raises(StoreError, match="WriteToken"):
            store.append(object(), "wf", [first], 1)  # type: ignore[arg-type]
        assert store.head_seq("wf") == 1

    def test_grouped_append_isolates_conflicts(self, store: EventStore) -> None:
        a = self.started_workflow(store, "a")
        b = self.started_workflow(store, "b")
        fresh = HistoryBuilder("c")
        stale = HistoryBuilder("b")
        outcomes = store.append_batch(
            TOKEN,
            [
                AppendRequest("a", [a.signal()], 1),
                AppendRequest("b", [stale.started(run_id="dup")], 0),
                AppendRequest("c", [fresh.started()], 0),
                AppendRequest("a", [a.signal()], 2),
            ],
        )
        assert outcomes[0] is None and outcomes[2] is None and outcomes[3] is None
        assert isinstance(outcomes[1], SequenceConflict) and outcomes[1].found == 1
        assert (store.head_seq("a"), store.head_seq("b"), store.head_seq("c")) == (3, 1, 1)
        assert b.seq == 1

    # ---- projections (cases 12-18) -----------------------------------------------------
    def test_list_active_reflects_projected_status(self, store: EventStore) -> None:
        running = self.started_workflow(store, "running")
        done = self.started_workflow(store, "done")
        append_all(store, done, [done.make(WorkflowCompleted, result=1)])
        chained = self.started_workflow(store, "chained")
        append_all(
            store, chained, [chained.make(WorkflowContinuedAsNew, input=2, parent_run_id="run-1")]
        )
        paused = self.started_workflow(store, "paused")
        append_all(store, paused, [paused.make(WorkflowPaused, run_id="run-1")])
        assert store.list_active() == ["running"]
        assert store.list_paused() == ["paused"]
        assert running.seq == 1

    def test_reopen_returns_failed_workflow_to_active(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        error = WorkflowError(message="boom")
        append_all(store, builder, [builder.make(WorkflowFailed, error=error)])
        assert store.list_active() == []
        append_all(store, builder, [builder.make(WorkflowReopened, run_id="run-1")])
        assert store.list_active() == ["wf"]
        summary = store.get_summary("wf")
        assert summary is not None and summary.ended_at is None and summary.failure_reason is None

    def test_list_workflow_ids_includes_running_and_terminal_histories(
        self, store: EventStore
    ) -> None:
        self.started_workflow(store, "b-running")
        done = self.started_workflow(store, "a-done")
        append_all(store, done, [done.make(WorkflowCompleted)])
        assert store.list_workflow_ids() == ["a-done", "b-running"]
        self.started_workflow(store, "B_%x")
        assert store.list_workflow_ids("a-") == ["a-done"]
        assert store.list_workflow_ids("b") == ["b-running"]  # not "B_%x": exact prefix
        assert store.list_workflow_ids("B_%") == ["B_%x"]  # LIKE wildcards are plain text

    def test_query_applies_all_filters(self, store: EventStore) -> None:
        for index in range(6):
            builder = HistoryBuilder(f"wf-{index}", T0 + timedelta(hours=index))
            events = [builder.started(workflow_type="even" if index % 2 == 0 else "odd")]
            events.append(
                builder.make(
                    SearchAttributesUpdated,
                    attributes={
                        NAMESPACE_ATTRIBUTE: value_of("tenant-a" if index < 4 else "tenant-b"),
                        "priority": value_of(index),
                    },
                )
            )
            if index in (0, 3):
                events.append(builder.make(WorkflowCompleted, result=index))
            append_all(store, builder, events)

        def ids(**fields: Any) -> list[str]:
            return [s.workflow_id for s in store.query(WorkflowFilter(**fields)).workflows]

        assert ids() == [f"wf-{i}" for i in (5, 4, 3, 2, 1, 0)]
        assert ids(workflow_type="even") == ["wf-4", "wf-2", "wf-0"]
        assert ids(status=WorkflowStatus.COMPLETED) == ["wf-3", "wf-0"]
        assert ids(namespace="tenant-b") == ["wf-5", "wf-4"]
        assert ids(
            started_after=T0 + timedelta(hours=2), started_before=T0 + timedelta(hours=4)
        ) == [
            "wf-3",
            "wf-2",
        ]
        assert ids(closed_after=T0) == ["wf-3", "wf-0"]
        assert ids(closed_before=T0 + timedelta(hours=1)) == ["wf-0"]
        predicate = Equals(name="priority", value=value_of(2))
        assert ids(search_attributes=(predicate,)) == ["wf-2"]
        assert ids(workflow_type="even", namespace="tenant-a", status=WorkflowStatus.RUNNING) == [
            "wf-2"
        ]
        assert store.count(WorkflowFilter(namespace="tenant-a")) == 4
        assert store.count(WorkflowFilter(search_attributes=(predicate,))) == 1

    def test_query_pages_are_disjoint_and_complete(self, store: EventStore) -> None:
        for index in range(7):
            builder = HistoryBuilder(f"wf-{index}", T0 + timedelta(minutes=index // 2))
            append_all(store, builder, [builder.started()])
        seen: list[str] = []
        token: str | None = None
        while True:
            page = store.query(WorkflowFilter(limit=3, page_token=token))
            seen += [s.workflow_id for s in page.workflows]
            token = page.next_page_token
            if token is None:
                break
        assert sorted(seen) == [f"wf-{i}" for i in range(7)]
        assert len(seen) == len(set(seen))
        with pytest.raises(InvalidInput):
            store.query(WorkflowFilter(page_token="not-a-token"))

    def test_continued_as_new_query_returns_correct_status_and_ended_at(
        self, store: EventStore
    ) -> None:
        builder = self.started_workflow(store, "wf")
        can = builder.make(WorkflowContinuedAsNew, input=1, parent_run_id="run-1")
        append_all(store, builder, [can])
        summary = store.query(WorkflowFilter(status=WorkflowStatus.CONTINUED_AS_NEW)).workflows
        assert [s.workflow_id for s in summary] == ["wf"]
        assert summary[0].ended_at == can.recorded_at
        append_all(store, builder, [builder.started(run_id="run-2", parent_run_id="run-1")])
        summary = store.get_summary("wf")
        assert summary is not None
        assert (summary.status, summary.run_id, summary.ended_at) == (
            WorkflowStatus.RUNNING,
            "run-2",
            None,
        )

    def test_read_run_chain_orders_continuations(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        events = []
        for run in range(1, 4):
            events.append(builder.make(WorkflowContinuedAsNew, parent_run_id=f"run-{run}"))
            events.append(builder.started(run_id=f"run-{run + 1}", parent_run_id=f"run-{run}"))
        append_all(store, builder, events)
        chain = store.read_run_chain("wf")
        assert [r.run_id for r in chain] == ["run-1", "run-2", "run-3", "run-4"]
        assert [r.parent_run_id for r in chain] == [None, "run-1", "run-2", "run-3"]
        assert [r.status for r in chain] == [WorkflowStatus.CONTINUED_AS_NEW] * 3 + [
            WorkflowStatus.RUNNING
        ]
        assert chain[0].closed_at is not None and chain[-1].closed_at is None

    def test_read_run_chain_single_run(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf")
        append_all(store, builder, [builder.make(WorkflowCompleted)])
        (only,) = store.read_run_chain("wf")
        assert (only.run_id, only.status) == ("run-1", WorkflowStatus.COMPLETED)
        assert store.read_run_chain("ghost") == []

    # ---- durable timers (cases 19-20) ---------------------------------------------------
    def test_expired_timers_include_due_boundary_and_exclude_future(
        self, store: EventStore
    ) -> None:
        store.schedule_timer("wf", TimerId.named("past"), T0 - timedelta(seconds=1))
        store.schedule_timer("wf", TimerId.anonymous(0), T0)
        store.schedule_timer("wf", TimerId.named("future"), T0 + timedelta(microseconds=1))
        due = store.expired_timers(T0)
        assert [(t.workflow_id, str(t.timer_id)) for t in due] == [
            ("wf", "named:past"),
            ("wf", "anonymous:0"),
        ]
        assert due[1].fire_at == T0
        assert store.next_timer_at() == T0 - timedelta(seconds=1)

    def test_rescheduling_same_timer_replaces_prior_fire_at(self, store: EventStore) -> None:
        timer = TimerId.named("t")
        store.schedule_timer("wf", timer, T0)
        store.schedule_timer("wf", timer, T0 + timedelta(hours=1))
        assert store.expired_timers(T0) == []
        assert [t.fire_at for t in store.expired_timers(T0 + timedelta(hours=1))] == [
            T0 + timedelta(hours=1)
        ]

    def test_cancelled_timer_is_not_expired(self, store: EventStore) -> None:
        store.schedule_timer("wf", TimerId.named("t"), T0)
        store.cancel_timer("wf", TimerId.named("t"))
        store.cancel_timer("wf", TimerId.named("never-set"))
        assert store.expired_timers(T0) == []
        assert store.next_timer_at() is None

    # ---- packages (cases 21-27) -------------------------------------------------------
    def package(self, content_hash: str, minute: int, name: str = "orders") -> PackageRecord:
        archive = f"{name}:{content_hash}".encode()
        return PackageRecord(content_hash, name, archive, T0 + timedelta(minutes=minute))

    def routes(self, store: EventStore) -> list[tuple[str, str]]:
        return [(r.workflow_type, r.content_hash) for r in store.list_package_routes()]

    def test_put_and_list_packages_round_trip_in_deploy_order(self, store: EventStore) -> None:
        second, first = self.package("h2", 2), self.package("h1", 1)
        store.put_package(second)
        store.put_package(first)
        assert store.list_packages() == [first, second]

    def test_put_package_replaces_existing_row(self, store: EventStore) -> None:
        store.put_package(self.package("h1", 1))
        replacement = PackageRecord("h1", "orders", b"new", T0 + timedelta(minutes=5))
        store.put_package(replacement)
        assert store.list_packages() == [replacement]

    def test_put_package_points_each_routed_type_at_it(self, store: EventStore) -> None:
        store.put_package(self.package("h1", 1), ["a", "b"])
        store.put_package(self.package("h2", 2), ["a"])
        assert self.routes(store) == [("a", "h2"), ("b", "h1")]

    def test_put_package_without_routes_leaves_routes_alone(self, store: EventStore) -> None:
        store.put_package(self.package("h1", 1), ["a"])
        store.put_package(self.package("h2", 2))
        assert self.routes(store) == [("a", "h1")]
        assert [p.content_hash for p in store.list_packages()] == ["h1", "h2"]

    def test_put_package_route_repoints_without_touching_archives(self, store: EventStore) -> None:
        store.put_package(self.package("h1", 1), ["a"])
        store.put_package(self.package("h2", 2), ["a"])
        before = store.list_packages()
        store.put_package_route("a", "h1")
        assert self.routes(store) == [("a", "h1")]
        assert store.list_packages() == before

    def test_delete_package_removes_only_target_and_is_idempotent(self, store: EventStore) -> None:
        keep = self.package("h1", 1)
        store.put_package(keep, ["a"])
        store.put_package(self.package("h2", 2))
        store.delete_package("h2")
        store.delete_package("h2")
        assert store.list_packages() == [keep]
        assert self.routes(store) == [("a", "h1")]

    def test_routes_list_in_workflow_type_order(self, store: EventStore) -> None:
        store.put_package(self.package("h", 1), ["c", "a", "b"])
        assert [r.workflow_type for r in store.list_package_routes()] == ["a", "b", "c"]

    def test_archive_bytes_survive_exactly(self, store: EventStore) -> None:
        every_byte = bytes(range(256)) * 64
        record = PackageRecord("h", "orders", every_byte, T0)
        store.put_package(record, ["a"])
        assert store.list_packages()[0].archive == every_byte

    # ---- global commit order -----------------------------------------------------------
    def test_committed_events_follow_commit_order(self, store: EventStore) -> None:
        assert store.head_position() == 0
        a = self.started_workflow(store, "a")
        b = self.started_workflow(store, "b", "x")
        append_all(store, a, [a.signal()])
        committed = store.read_committed(0)
        assert [(c.event.workflow_id, c.event.seq) for c in committed] == [
            ("a", 1),
            ("b", 1),
            ("b", 2),
            ("a", 2),
        ]
        positions = [c.position for c in committed]
        assert positions == sorted(positions) and len(set(positions)) == 4
        assert store.head_position() == positions[-1]
        tail = store.read_committed(positions[1], limit=2)
        assert [c.position for c in tail] == positions[2:4]
        assert store.read_committed(positions[-1]) == []
        assert b.seq == 2

    def in_namespace(
        self, store: EventStore, workflow_id: str, namespace: str, workflow_type: str = "demo"
    ) -> HistoryBuilder:
        builder = HistoryBuilder(workflow_id)
        attributes = {NAMESPACE_ATTRIBUTE: StringValue(data=namespace)}
        events = [
            builder.started(workflow_type=workflow_type),
            builder.make(SearchAttributesUpdated, attributes=attributes),
        ]
        append_all(store, builder, events)
        return builder

    def test_a_grouped_append_tells_each_committed_events_position(self, store: EventStore) -> None:
        a, b = HistoryBuilder("a"), HistoryBuilder("b")
        a1, b1, a2 = a.started(), b.started(), a.signal()
        outcomes = store.append_batch(
            TOKEN,
            [
                AppendRequest("a", [a1], 0),
                AppendRequest("b", [b1], 0),
                AppendRequest("b", [HistoryBuilder("b").started()], 0),  # a conflict
                AppendRequest("a", [a2], 1),
            ],
        )
        assert [o is None for o in outcomes] == [True, True, False, True]
        committed = store.read_committed(0)
        assert outcomes.committed == committed  # commit order, the positions reads give
        assert {c.event for c in committed} == {a1, b1, a2}
        assert store.append_batch(TOKEN, []).committed == []

    def test_history_reads_carry_positions(self, store: EventStore) -> None:
        a = self.started_workflow(store, "a", "x")
        self.started_workflow(store, "b")
        append_all(store, a, [a.signal()])
        by_event = {(c.event.workflow_id, c.event.seq): c for c in store.read_committed(0)}
        positioned = store.read_history_positioned("a", 2)
        assert positioned == [by_event[("a", 2)], by_event[("a", 3)]]
        assert [c.event for c in store.read_history_positioned("a", 1)] == store.read_history("a")
        assert store.read_history_positioned("a", 4) == []
        assert store.read_history_positioned("missing", 1) == []

    def test_committed_reads_narrow_to_a_namespace_and_type(self, store: EventStore) -> None:
        a = self.in_namespace(store, "a", "tenant-a", "orders")
        self.in_namespace(store, "b", "tenant-b", "orders")
        c = self.in_namespace(store, "c", "tenant-a", "billing")
        schedule = HistoryBuilder("schedule:s")  # no visibility row: in no namespace
        append_all(store, schedule, [schedule.signal()])
        append_all(store, a, [a.signal()])
        append_all(store, c, [c.signal()])
        everything = store.read_committed(0)
        tenant_a = [e for e in everything if e.event.workflow_id in ("a", "c")]
        assert store.read_committed_in("tenant-a", 0) == tenant_a
        assert store.read_committed_in("tenant-a", 0, workflow_type="orders") == [
            e for e in tenant_a if e.event.workflow_id == "a"
        ]
        after = tenant_a[2].position
        assert store.read_committed_in("tenant-a", after, limit=2) == tenant_a[3:5]
        assert store.read_committed_in("tenant-a", everything[-1].position) == []
        assert store.read_committed_in("nobody", 0) == []

    def test_activity_failure_and_search_attributes_survive_storage(
        self, store: EventStore
    ) -> None:
        builder = self.started_workflow(store, "wf")
        error = ActivityError(kind=ActivityErrorKind.RETRYABLE, message="flaky", type="IOError")
        events = [
            builder.make(ActivityScheduled, activity_id=0, activity_type="charge", input=[1]),
            builder.make(ActivityFailed, activity_id=0, error=error, attempt=1),
            builder.make(SearchAttributesUpdated, attributes={"label": StringValue(data="vip")}),
        ]
        append_all(store, builder, events)
        assert store.read_history("wf")[1:] == events
        summary = store.get_summary("wf")
        assert summary is not None and summary.search_attributes["label"] == StringValue(data="vip")

    def test_visibility_rebuilds_from_history(self, store: EventStore) -> None:
        builder = self.started_workflow(store, "wf", "a")
        append_all(store, builder, [builder.make(WorkflowCompleted, result=1)])
        self.started_workflow(store, "other")
        before = [store.get_summary("wf"), store.get_summary("other")]
        assert store.rebuild_visibility() == 2
        assert [store.get_summary("wf"), store.get_summary("other")] == before
