"""Which driver is running workflow code on this thread (each workflow actor has its own)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from aionactors.workflow.errors import NotInWorkflowError

if TYPE_CHECKING:
    from aionactors.workflow.driver import WorkflowDriver

_local = threading.local()


@contextmanager
def running(driver: WorkflowDriver, *, read_only: bool = False) -> Iterator[None]:
    """Make ``driver`` current while its code runs; queries run read-only."""
    previous = getattr(_local, "frame", None)
    _local.frame = (driver, read_only)
    try:
        yield
    finally:
        _local.frame = previous


def current(*, for_command: bool = True) -> WorkflowDriver:
    """The driver running workflow code here; refuses outside workflows and in queries."""
    frame = getattr(_local, "frame", None)
    if frame is None:
        raise NotInWorkflowError("this workflow API can only be called from workflow code")
    driver, read_only = frame
    if read_only and for_command:
        raise NotInWorkflowError("query handlers are read-only: they cannot start work")
    return driver
