"""Engine test plumbing: open engines on a temp SQLite file, wait on commits (never sleep)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from aionactors import Engine
from aionactors.core.events import Event
from aionactors.engine.clock import ManualClock
from aionactors.store import AppendRequest, SQLiteStore
from aionactors.store.sqlite import SQLiteStore as _SQLiteStore

WAIT = 20.0


class CommitWatch:
    """Wakes waiters on every commit so tests can wait for a history to reach a state."""

    def __init__(self, engine: Engine, abort: threading.Event | None = None) -> None:
        self.engine = engine
        self.abort = abort or threading.Event()
        self._changed = threading.Condition()
        engine.writer.add_listener(self._on_commit)

    def _on_commit(self, events: Sequence[Event]) -> None:
        self.poke()

    def poke(self) -> None:
        """Wake waiters to re-check (after a commit, or when ``abort`` is set)."""
        with self._changed:
            self._changed.notify_all()

    def until(
        self, workflow_id: str, done: Callable[[list[Event]], bool], timeout: float = WAIT
    ) -> list[Event]:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.abort.is_set() or done(self.engine.store.read_history(workflow_id)),
                timeout,
            )
        if self.abort.is_set():
            raise Aborted(f"waiting on {workflow_id} was aborted")
        history = self.engine.store.read_history(workflow_id)
        assert ok, f"history of {workflow_id} never got there: {[e.type for e in history]}"
        return history

    def has(self, workflow_id: str, event_type: str, count: int = 1) -> list[Event]:
        return self.until(workflow_id, lambda h: sum(e.type == event_type for e in h) >= count)


class Aborted(Exception):
    """The engine under test died (on purpose) while a test waited on it."""


def shape(history: Sequence[Event]) -> list[tuple[Any, ...]]:
    """What must be identical between a crashed and an uncrashed run: types and keys."""
    keys = []
    for event in history:
        key: tuple[Any, ...] = (event.type,)
        for field in ("activity_id", "timer_id", "name", "activity_type"):
            if hasattr(event, field):
                key += (str(getattr(event, field)),)
        keys.append(key)
    return keys


class CrashingStore(_SQLiteStore):
    """A SQLite store that "dies" at a chosen append: what a kill -9 leaves behind.

    ``after_commit`` decides whether the fatal append itself is durable (the
    process died after the commit) or not (it died before).
    """

    def __init__(self, path: Path, fail_at: int, *, after_commit: bool) -> None:
        super().__init__(path)
        self.fail_at = fail_at
        self.after_commit = after_commit
        self.appends = 0
        self.dead = threading.Event()
        self.on_death: Callable[[], None] = lambda: None

    def _append_batch(self, requests: list[AppendRequest]) -> list[Any]:
        if self.dead.is_set():
            raise OSError("injected crash: the store is gone")
        self.appends += 1
        if self.appends == self.fail_at:
            if self.after_commit:
                super()._append_batch(requests)
            self.dead.set()
            self.on_death()
            raise OSError("injected crash at this append")
        return super()._append_batch(requests)


def open_engine(path: Path, clock: ManualClock | None = None, **kwargs: Any) -> Engine:
    store = kwargs.pop("store", None) or SQLiteStore(path)
    return Engine.open(store, clock=clock or ManualClock(), **kwargs)


def checked(engine: Engine) -> Iterator[Engine]:
    """For a fixture (``yield from checked(...)``): after the test every history must
    replay through its code, then the engine shuts down."""
    yield engine
    try:
        assert_histories_replay(engine)
    finally:
        engine.shutdown()


def assert_histories_replay(engine: Engine) -> int:
    """Every run of every workflow in the store replays through its code without a
    non-determinism error, and a completed run replays to the same result."""
    from aionactors.core.runs import split_runs
    from aionactors.workflow.commands import CompleteWorkflow
    from aionactors.workflow.replayer import replay

    replayed = 0
    for workflow_id in engine.store.list_workflow_ids():
        for segment in split_runs(engine.store.read_history(workflow_id)):
            started = segment[0]
            definition = engine.registry.workflows.get(started.workflow_type)  # type: ignore[union-attr]
            if definition is None:
                continue
            driver = replay(definition, segment)
            completed = next((e for e in segment if e.type == "WorkflowCompleted"), None)
            if completed is not None:
                assert driver.terminal == CompleteWorkflow(completed.result), workflow_id
            driver.close()
            replayed += 1
    return replayed
