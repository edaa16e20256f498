"""A pool of threads for calls whose results nobody waits on (activity attempts).

``concurrent.futures.ThreadPoolExecutor`` builds a Future, with its Condition
and RLock, for every call. The activity executor never reads those futures (an
attempt reports through its own callback) and submits several calls per
workflow, so this pool hands bare calls to its threads instead.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

_log = logging.getLogger(__name__)

_Job = tuple[Callable[..., Any], tuple[Any, ...]]


class WorkerPool:
    """Runs submitted calls on up to ``size`` daemon threads, started as work arrives."""

    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError(f"a worker pool needs at least one thread, got {size}")
        self._size = size
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        """Threads waiting for a call that no submitted call has been counted against."""
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on a pool thread; raises RuntimeError once shut down."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is shut down")
            self._jobs.put((fn, args))
            if self._idle:  # a waiting thread will take it
                self._idle -= 1
            elif len(self._threads) < self._size:  # every thread is busy: one more
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args = job
            try:
                fn(*args)
            except BaseException:  # a call must never take its thread down
                _log.exception("worker call %r failed", fn)
            with self._lock:
                self._idle += 1  # free for the next call submitted

    def shutdown(self, *, wait: bool = True) -> None:
        """Drop calls not yet started, let running ones finish, stop the threads."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        while True:  # calls that never started are abandoned
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            self._jobs.put(None)
        if wait:
            current = threading.current_thread()
            for thread in threads:
                if thread is not current:
                    thread.join()
