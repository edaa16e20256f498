"""A pykka future on one plain lock, for the asks a busy actor system makes by the thousand.

pykka's ``ThreadingFuture`` waits on a ``threading.Condition``: an RLock per future, a
fresh waiter lock per wait, and a notify that walks the waiters, all in Python. An ask
has exactly one answer, so a lock held from birth and released by ``set`` says the
same thing: ``benchmarks/floor.py`` measured the start-ask-stop of a supervised actor
(three futures) at about 300 µs of CPU with pykka's and counts the difference.
Semantics are pykka's: the value may be read many times, a second ``set`` raises
``queue.Full``, an exception is re-raised with its traceback, get hooks (``map``,
``filter``, ``join``) work, and ``get(timeout=…)`` raises ``pykka.Timeout``.
"""

from __future__ import annotations

import _thread
import queue
import sys
from typing import TYPE_CHECKING, Any, TypeVar

import pykka

if TYPE_CHECKING:
    from pykka._future import GetHookFunc
    from pykka._types import OptExcInfo

T = TypeVar("T")


class LockFuture(pykka.Future[T]):
    """``pykka.ThreadingFuture`` with the Condition replaced by one lock held until set.

    Example::

        class Fast(pykka.ThreadingActor):
            @staticmethod
            def _create_future() -> pykka.Future[Any]:
                return LockFuture()
    """

    __slots__ = ("_done", "_exc_info", "_settled", "_value")

    def __init__(self) -> None:
        super().__init__()
        self._done = _thread.allocate_lock()
        self._done.acquire()
        self._settled = False
        self._value: Any = None
        self._exc_info: OptExcInfo | None = None

    def get(self, *, timeout: float | None = None) -> Any:
        if self._get_hook is not None:
            return super().get(timeout=timeout)
        if not self._settled:
            if not self._done.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
                raise pykka.Timeout(f"{timeout} seconds")
            self._done.release()  # open for every later reader, and for other waiters
        if self._exc_info is not None:
            exc_type, exc_value, exc_traceback = self._exc_info
            assert exc_type is not None
            if exc_value is None:
                exc_value = exc_type()
            if exc_value.__traceback__ is not exc_traceback:
                raise exc_value.with_traceback(exc_traceback)
            raise exc_value
        return self._value

    def set(self, value: Any | None = None) -> None:
        self._settle(value, None)

    def set_exception(self, exc_info: OptExcInfo | None = None) -> None:
        assert exc_info is None or len(exc_info) == 3
        self._settle(None, exc_info if exc_info is not None else sys.exc_info())

    def _settle(self, value: Any, exc_info: OptExcInfo | None) -> None:
        if self._settled or self._get_hook is not None:
            raise queue.Full
        self._value, self._exc_info = value, exc_info
        self._settled = True  # after the value: a reader that sees it set reads the value
        self._done.release()

    def set_get_hook(self, func: GetHookFunc[T]) -> None:
        if self._settled:
            raise queue.Full
        super().set_get_hook(func)
