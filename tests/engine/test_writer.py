"""The group-commit writer: shared commits, per-caller outcomes, a close nobody hangs on."""

from __future__ import annotations

import threading
import time
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


class GatedStore(SQLiteStore):
    """Holds its first append_batch until ``gate`` is set, so later appends queue up."""

    def __init__(self, path, gate: threading.Event) -> None:
        super().__init__(path)
        self.gate = gate
        self.held = threading.Event()

    def append_batch(self, token, requests):  # type: ignore[no-untyped-def]
        if not self.held.is_set():
            self.held.set()
            assert self.gate.wait(10)
        return super().append_batch(token, requests)


def test_concurrent_appends_share_commits_and_each_returns_after_its_own(tmp_path) -> None:
    gate = threading.Event()
    store = GatedStore(tmp_path / "gated.db", gate)
    writer = GroupCommitWriter(store)
    committed: list[Sequence[Event]] = []
    writer.add_listener(committed.append)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        builder = HistoryBuilder(f"w{n}")
        try:
            writer.append(f"w{n}", [builder.started(), builder.signal()], 0)
            assert store.head_seq(f"w{n}") == 2  # durable when append returns
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(16)]
    threads[0].start()
    assert store.held.wait(10)  # the first append's commit is in progress, held
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    while writer._queue.qsize() < 15 and time.monotonic() < deadline:
        time.sleep(0.001)  # until the other 15 wait behind it
    gate.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    writer.close()
    store.close()
    assert errors == []
    assert (writer.appends, writer.batches) == (16, 2)  # the 15 shared one transaction
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
