"""The group-commit writer: shared commits, per-caller outcomes, a close nobody hangs on."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from aionactors.core.errors import SequenceConflict, StoreError
from aionactors.core.events import Event
from aionactors.engine.writer import GroupCommitWriter
from aionactors.store.conformance import HistoryBuilder
from aionactors.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "writer.db")
    yield store
    store.close()


def test_concurrent_appends_share_commits_and_each_returns_after_its_own(store) -> None:
    writer = GroupCommitWriter(store)
    committed: list[Sequence[Event]] = []
    writer.add_listener(committed.append)
    barrier = threading.Barrier(16)

    def append(n: int) -> None:
        builder = HistoryBuilder(f"w{n}")
        events = [builder.started(), builder.signal()]
        barrier.wait()
        writer.append(f"w{n}", events, 0)
        assert store.head_seq(f"w{n}") == 2  # durable when append returns

    threads = [threading.Thread(target=append, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    writer.close()
    assert writer.appends == 16 and writer.batches <= 16
    assert sorted(e.workflow_id for batch in committed for e in batch if e.seq == 1) == sorted(
        f"w{n}" for n in range(16)
    )


def test_a_conflict_fails_only_its_own_caller(store) -> None:
    writer = GroupCommitWriter(store)
    builder = HistoryBuilder("taken")
    writer.append("taken", [builder.started()], 0)
    with pytest.raises(SequenceConflict):
        writer.append("taken", [HistoryBuilder("taken").started()], 0)
    writer.append("taken", [builder.signal()], 1)
    writer.close()
    assert store.head_seq("taken") == 2


def test_appends_racing_close_either_commit_or_are_refused_never_hang(store) -> None:
    writer = GroupCommitWriter(store)
    outcomes: dict[str, str] = {}
    start = threading.Event()

    def append(n: int) -> None:
        builder = HistoryBuilder(f"r{n}")
        start.wait()
        try:
            writer.append(f"r{n}", [builder.started()], 0)
            outcomes[f"r{n}"] = "committed"
        except StoreError:
            outcomes[f"r{n}"] = "refused"

    threads = [threading.Thread(target=append, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    start.set()
    writer.close()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive(), "an append hung on a closed writer"
    assert len(outcomes) == 32
    for workflow_id, outcome in outcomes.items():
        assert store.head_seq(workflow_id) == (1 if outcome == "committed" else 0)
    with pytest.raises(StoreError, match="closed"):
        writer.append("late", [HistoryBuilder("late").started()], 0)
