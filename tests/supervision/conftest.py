"""Shared fixtures for the supervision tests: an event recorder, a journal, a worker actor.

This directory is the package ``tests.supervision`` (``tests`` has an
``__init__.py``), so it never shadows the real ``supervision`` package.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pykka
import pytest

from supervision import EventBus
from supervision.testing import EventRecorder


class Boom(Exception):
    pass


class Worker(pykka.ThreadingActor):
    """Counts messages; "boom" raises; writes on_start/on_stop/on_failure to a journal."""

    def __init__(self, name: str = "w", journal: list[Any] | None = None) -> None:
        super().__init__()
        self.name = name
        self.journal = journal if journal is not None else []
        self.count = 0

    def on_start(self) -> None:
        self.journal.append(("start", self.name))

    def on_stop(self) -> None:
        self.journal.append(("stop", self.name))

    def on_failure(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.journal.append(("failure", self.name))

    def on_receive(self, message: Any) -> Any:
        if message == "boom":
            raise Boom(f"{self.name} boom")
        if message == "count":
            return self.count
        self.count += 1
        return self.count


def join_new_threads(before: set[threading.Thread], timeout: float = 10.0) -> None:
    """Wait (by joining, not sleeping) for every thread started since ``before`` to end."""
    for thread in threading.enumerate():
        if thread not in before and thread is not threading.current_thread():
            thread.join(timeout)


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def bus(recorder: EventRecorder) -> EventBus:
    return EventBus(recorder)


@pytest.fixture
def journal() -> list[Any]:
    return []


@pytest.fixture
def worker() -> type[Worker]:
    return Worker


@pytest.fixture
def no_thread_leak() -> Any:
    """Call it at the end of a test: every thread started since the test began has ended."""
    before = set(threading.enumerate())
    count = threading.active_count()

    def check() -> None:
        join_new_threads(before)
        leaked = [t.name for t in threading.enumerate() if t not in before]
        assert threading.active_count() == count, leaked

    return check


@pytest.fixture(autouse=True)
def _no_actor_outlives_its_test() -> Any:
    before = set(threading.enumerate())
    yield
    for ref in reversed(pykka.ActorRegistry.get_all()):
        with contextlib.suppress(pykka.Timeout):
            ref.stop(timeout=2.0)
    join_new_threads(before, timeout=5.0)
