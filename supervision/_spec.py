"""What a child is (its spec) and what a supervisor reports about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pykka


class Restart(StrEnum):
    """When a child that ended is started again."""

    PERMANENT = "permanent"
    """Always, whether it crashed or stopped normally."""
    TRANSIENT = "transient"
    """Only after a crash; a normal stop (e.g. ``ref.stop()``) is the end of it."""
    TEMPORARY = "temporary"
    """Never; the child is forgotten when it ends."""


class Strategy(StrEnum):
    """Which children a supervisor restarts when one crashes."""

    ONE_FOR_ONE = "one_for_one"
    """Only the crashed child."""
    ONE_FOR_ALL = "one_for_all"
    """All children: the others stop in reverse start order, then all start in order."""
    REST_FOR_ONE = "rest_for_one"
    """The crashed child and those started after it, the same way."""


Factory = Callable[[], pykka.ActorRef[Any]]
Instrument = Callable[[pykka.Actor], None]


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How to start one child and what to do when it ends.

    ``start`` is a pykka actor class (started with ``args``/``kwargs``, watched
    from its first instant, whatever its base class) or a factory returning an
    ``ActorRef`` (close over your arguments; make the actor a
    ``SupervisedActor`` so an ``on_start`` crash keeps its exception).

    Example::

        ChildSpec("db", Database, args=(url,), restart=Restart.PERMANENT, shutdown=5.0)
        ChildSpec("cache", lambda: Cache.start(size=100))
    """

    id: str
    start: type[pykka.Actor] | Factory
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    restart: Restart = Restart.PERMANENT
    shutdown: float | None = 5.0
    """Seconds to wait for the child to stop; ``None`` waits as long as it takes."""
    daemon: bool = True
    """Run a class spec's thread as a daemon, so it never keeps the process alive."""
    instrument: Instrument | None = None
    """Called with each new actor before its thread starts (fault injection, tracing)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "restart", Restart(self.restart))
        if isinstance(self.start, type):
            if not issubclass(self.start, pykka.Actor):
                msg = f"child {self.id!r}: start must be a pykka actor class or a factory"
                raise TypeError(msg)
        elif not callable(self.start):
            msg = f"child {self.id!r}: start must be a pykka actor class or a factory"
            raise TypeError(msg)
        elif self.args or self.kwargs:
            msg = f"child {self.id!r}: args/kwargs are for actor classes; close over them instead"
            raise ValueError(msg)
        if self.shutdown is not None and self.shutdown < 0:
            msg = f"child {self.id!r}: shutdown must be >= 0 seconds or None"
            raise ValueError(msg)

    @property
    def actor_class(self) -> type[pykka.Actor] | None:
        """The actor class of a class spec; ``None`` for a factory."""
        return self.start if isinstance(self.start, type) else None


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """One row of ``which_children()``."""

    id: str
    ref: pykka.ActorRef[Any] | None
    restart: Restart
    alive: bool
    is_supervisor: bool
    restarting: bool
    """Waiting for a delayed (backoff) restart."""


@dataclass(frozen=True, slots=True)
class ChildCounts:
    """The result of ``count_children()``."""

    specs: int
    active: int
    supervisors: int
    workers: int
    restarting: int
