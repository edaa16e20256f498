"""The activity worker pool: bare calls on lazily started threads, and a clean shutdown."""

from __future__ import annotations

import threading

import pytest

from aionactors.engine.workers import WorkerPool


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        WorkerPool(0, "none")


def test_calls_run_on_at_most_size_threads_started_as_work_arrives() -> None:
    pool = WorkerPool(3, "test-workers")
    assert not [t for t in threading.enumerate() if t.name.startswith("test-workers")]
    gate, names, lock = threading.Event(), set(), threading.Lock()
    done = threading.Semaphore(0)

    def call() -> None:
        gate.wait(5)
        with lock:
            names.add(threading.current_thread().name)
        done.release()

    for _ in range(10):
        pool.submit(call)
    gate.set()
    for _ in range(10):
        assert done.acquire(timeout=5)
    assert names <= {"test-workers-0", "test-workers-1", "test-workers-2"} and len(names) == 3
    pool.shutdown()


def test_a_failing_call_does_not_take_its_thread_down() -> None:
    pool = WorkerPool(1, "test-failing")
    ran = threading.Event()
    pool.submit(lambda: 1 / 0)
    pool.submit(ran.set)
    assert ran.wait(5)
    pool.shutdown()


def test_shutdown_drops_calls_not_started_and_refuses_new_ones() -> None:
    pool = WorkerPool(1, "test-shutdown")
    started, release = threading.Event(), threading.Event()
    later: list[int] = []

    def blocking() -> None:
        started.set()
        release.wait(5)

    pool.submit(blocking)
    assert started.wait(5)
    pool.submit(later.append, 1)  # queued behind the running call
    pool.shutdown(wait=False)  # drops it at once, before the running call can reach it
    release.set()
    for thread in [t for t in threading.enumerate() if t.name.startswith("test-shutdown")]:
        thread.join(5)
        assert not thread.is_alive()
    assert later == []
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(later.append, 2)
