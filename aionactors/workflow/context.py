"""Which driver is running workflow code on this thread (each workflow actor has its own)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from aionactors.workflow.errors import FOREIGN_AWAIT_ADVICE, ForeignAwaitError, NotInWorkflowError

if TYPE_CHECKING:
    from aionactors.workflow.driver import WorkflowDriver

_local = threading.local()


@contextmanager
def running(driver: WorkflowDriver, *, read_only: bool = False) -> Iterator[None]:
    """Make ``driver`` current while its code runs; queries run read-only."""
    previous = getattr(_local, "frame", None)
    previous_loop = asyncio.events._get_running_loop()
    _local.frame = (driver, read_only)
    asyncio.events._set_running_loop(_NO_LOOP)
    try:
        yield
    finally:
        asyncio.events._set_running_loop(previous_loop)
        _local.frame = previous


class _NoEventLoop:
    """The "running loop" while workflow code runs: any use of it is a ForeignAwaitError.

    Workflow code runs under the deterministic driver, not asyncio. Without this,
    ``asyncio.sleep`` fails with asyncio's "no running event loop" (or, replayed inside
    a caller's loop, silently schedules on that loop); with it, the first touch of the
    loop (``asyncio.sleep``, ``asyncio.Future()``, ``create_task``...) says what to use.
    """

    def __getattr__(self, name: str) -> NoReturn:
        raise ForeignAwaitError(
            f"workflow code used asyncio (loop.{name}), which the deterministic driver"
            f" cannot run; {FOREIGN_AWAIT_ADVICE}"
        )


_NO_LOOP = _NoEventLoop()


def current(*, for_command: bool = True) -> WorkflowDriver:
    """The driver running workflow code here; refuses outside workflows and in queries."""
    frame = getattr(_local, "frame", None)
    if frame is None:
        raise NotInWorkflowError("this workflow API can only be called from workflow code")
    driver, read_only = frame
    if read_only and for_command:
        raise NotInWorkflowError("query handlers are read-only: they cannot start work")
    return driver
