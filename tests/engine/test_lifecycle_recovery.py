"""Recovery of the lifecycle: parents and children crashed or restarted, stranded chains,
and visibility rows that agree with a replay of every history."""

from __future__ import annotations

import threading

import pytest

from aionactors.core import events as ev
from aionactors.core.errors import SequenceConflict
from aionactors.core.status import WorkflowStatus
from aionactors.core.visibility import summary_from_history
from aionactors.engine.clock import ManualClock
from aionactors.engine.recovery import StrandedContinueAsNew, sweep_continued_as_new
from aionactors.store import InMemoryStore
from aionactors.store.conformance import HistoryBuilder
from supervision.testing import crash
from tests.engine import lifecycle_workflows as lw
from tests.engine.support import CommitWatch, open_engine

EXPECTED = {"reservation": "reservation-c1", "shipped": "shipped c1 fast"}


@pytest.fixture(autouse=True)
def _reset() -> None:
    lw.CALLS.clear()


def lifecycle_engine(path, clock, **kwargs):
    return open_engine(
        path, clock, workflows=lw.LIFECYCLE_WORKFLOWS, activities=lw.LIFECYCLE_ACTIVITIES, **kwargs
    )


def crash_when(engine, workflow_id: str, event_type: str, victim: str) -> threading.Event:
    """Crash ``victim``'s actor as soon as ``workflow_id`` commits an ``event_type``."""
    done = threading.Event()

    def listener(events) -> None:
        if not done.is_set() and any(
            e.workflow_id == workflow_id and e.type == event_type for e in events
        ):
            done.set()
            threading.Thread(target=kill).start()

    def kill() -> None:
        ref = engine.residency.ref_for(victim)
        crash(ref)

    engine.add_commit_listener(listener)
    return done


@pytest.mark.parametrize(
    ("trigger", "event_type", "victim"),
    [
        ("order-c1", "ChildWorkflowStarted", "order-c1"),  # parent, mid-await
        ("ship-c1", "TimerStarted", "ship-c1"),  # the child, parked
        ("order-c1", "SignalSent", "ship-c1"),  # the child, as its signal arrives
        ("ship-c1", "WorkflowCompleted", "order-c1"),  # parent, as its child ends
    ],
)
def test_crashed_parent_or_child_ends_like_the_control(
    tmp_path, trigger, event_type, victim
) -> None:
    with lifecycle_engine(tmp_path / "control.db", ManualClock()) as control:
        control.start_workflow(lw.Order, {"id": "c1", "hurry": True}, workflow_id="order-c1")
        assert control.result("order-c1", timeout=20) == EXPECTED
        control_types = [e.type for e in control.history("order-c1")]
    with lifecycle_engine(tmp_path / "crashed.db", ManualClock()) as engine:
        crashed = crash_when(engine, trigger, event_type, victim)
        engine.start_workflow(lw.Order, {"id": "c1", "hurry": True}, workflow_id="order-c1")
        assert engine.result("order-c1", timeout=20) == EXPECTED
        assert crashed.is_set()
        assert [e.type for e in engine.history("order-c1")] == control_types
        child = engine.history("ship-c1")
        assert [e.type for e in child].count("WorkflowStarted") == 1  # started exactly once
        assert lw.CALLS["reserve:c1"] == 2  # once per run: control and crashed


def test_parent_and_child_resume_after_a_whole_engine_restart(tmp_path) -> None:
    clock, path = ManualClock(), tmp_path / "family.db"
    with lifecycle_engine(path, clock) as first:
        first.start_workflow(lw.Order, {"id": "c2"}, workflow_id="order-c2")
        CommitWatch(first).has("ship-c2", "TimerStarted")
    with lifecycle_engine(path, clock) as second:
        second.signal("ship-c2", "hurry")
        assert second.result("order-c2", timeout=20) == {
            "reservation": "reservation-c2",
            "shipped": "shipped c2 fast",
        }


def test_recorded_but_never_started_child_is_started_exactly_once_on_recovery(tmp_path) -> None:
    """The parent recorded ChildWorkflowStarted, then the engine died before the child began."""
    clock, path = ManualClock(), tmp_path / "sweep.db"
    with lifecycle_engine(path, clock) as first:
        first.ops.ensure_child = lambda *args: None  # type: ignore[method-assign] - the crash
        first.start_workflow(lw.Order, {"id": "c3", "hurry": False}, workflow_id="order-c3")
        CommitWatch(first).has("order-c3", "ChildWorkflowStarted")
        assert first.store.head_seq("ship-c3") == 0
    with lifecycle_engine(path, clock) as second:
        watch = CommitWatch(second)
        watch.has("ship-c3", "TimerStarted")
        second.signal("ship-c3", "hurry")
        assert second.result("order-c3", timeout=20)["shipped"] == "shipped c3 fast"
        assert [e.type for e in second.history("ship-c3")].count("WorkflowStarted") == 1


class RacingSuccessorStore(InMemoryStore):
    """The seed's store double: a stranded continue-as-new whose successor may appear
    (started by a racing exit path) only after the sweep's first read; appends conflict."""

    def __init__(self, *, appears: bool) -> None:
        super().__init__()
        self.appears = appears
        builder = HistoryBuilder("chain")
        self.base = [
            builder.started(run_id="run-1", workflow_type="counter", input={"n": 0, "until": 1}),
            builder.make(
                ev.WorkflowContinuedAsNew, input={"n": 1, "until": 1}, parent_run_id="run-1"
            ),
        ]
        self.full = [
            *self.base,
            builder.started(run_id="run-2", parent_run_id="run-1", workflow_type="counter"),
        ]
        super()._append_batch([_request("chain", self.base)])
        self.reads = 0

    def read_history_from(self, workflow_id: str, from_seq: int) -> list:
        if workflow_id != "chain":
            return super().read_history_from(workflow_id, from_seq)
        self.reads += 1
        history = self.full if self.appears and self.reads > 1 else self.base
        return history[max(from_seq, 1) - 1 :]

    def _append_batch(self, requests):
        return [
            SequenceConflict(r.workflow_id, r.expected_seq, r.expected_seq + 1) for r in requests
        ]


def _request(workflow_id, events):
    from aionactors.store import AppendRequest

    return AppendRequest(workflow_id, events, 0)


def test_sweep_start_race_lost_to_the_exit_path_is_benign() -> None:
    store = RacingSuccessorStore(appears=True)

    def start(workflow_id, history) -> None:  # the loser of the race
        raise SequenceConflict(workflow_id, len(history), len(history) + 1)

    assert sweep_continued_as_new(store, start) == []
    assert store.reads == 2  # the pre-start read, then the re-read that found the successor


def test_sweep_start_failure_without_a_successor_fails_the_engine_build(tmp_path) -> None:
    with pytest.raises(StrandedContinueAsNew) as failed:
        open_engine(
            tmp_path / "unused.db",
            ManualClock(),
            store=RacingSuccessorStore(appears=False),
            workflows=lw.LIFECYCLE_WORKFLOWS,
        )
    assert failed.value.code == "not_found"
    assert "continued as new" in failed.value.message


def test_visibility_of_thousands_agrees_with_a_replay_of_their_histories(tmp_path) -> None:
    clock = ManualClock()
    with lifecycle_engine(tmp_path / "vis.db", clock) as engine:
        keys = [
            engine.start_workflow(
                lw.Tagger if index % 3 else lw.Booking,
                index if index % 3 else f"b{index}",
                workflow_id=f"v-{index:04d}",
                namespace="tenant-a" if index % 2 else "tenant-b",
            ).workflow_id
            for index in range(1500)
        ]
        for index in range(0, 1500, 7):
            if index % 3:
                engine.signal(keys[index], "set_tier", "gold")
        for index in range(0, 1500, 7):
            if index % 3:
                engine.result(keys[index], timeout=30)
        for index in range(0, 1500, 3):
            engine.result(keys[index], timeout=30)
        store = engine.store
        ids = store.list_workflow_ids()
        assert len(ids) == 1500
        replayed = {wid: summary_from_history(store.read_history(wid)) for wid in ids}
        assert all(store.get_summary(wid) == replayed[wid] for wid in ids)
        for status in (WorkflowStatus.RUNNING, WorkflowStatus.COMPLETED):
            expected = sorted(
                w for w, s in replayed.items() if s.status == status and s.namespace == "tenant-a"
            )
            seen, token = [], None
            while True:
                page = engine.list_workflows(
                    namespace="tenant-a", status=status, limit=100, page_token=token
                )
                seen += [s.workflow_id for s in page.workflows]
                token = page.next_page_token
                if token is None:
                    break
            assert sorted(seen) == expected and len(seen) == len(set(seen))
            assert engine.count_workflows(namespace="tenant-a", status=status) == len(expected)
