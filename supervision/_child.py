"""A supervisor's bookkeeping for one child, and the messages its children send it."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any, NamedTuple

import pykka

if TYPE_CHECKING:
    from supervision._hooks import ExitCallback
    from supervision._spec import ChildSpec


class ChildExited(NamedTuple):
    """Told to a supervisor by a child's exit hook: which incarnation ended, and why."""

    child_id: str
    urn: str
    exception: BaseException | None


class RestartDue(NamedTuple):
    token: int


class Child:
    """A supervisor's record of one child across its incarnations."""

    __slots__ = ("failures", "is_supervisor", "pending", "ref", "spec", "started_at")

    def __init__(self, spec: ChildSpec, *, is_supervisor: bool) -> None:
        self.spec = spec
        self.ref: pykka.ActorRef[Any] | None = None
        self.pending: int | None = None  # the restart token it waits for, if any
        self.started_at = 0.0
        self.failures = 0  # consecutive restarts, for backoff
        self.is_supervisor = is_supervisor


def tell_quietly(ref: pykka.ActorRef[Any], message: Any) -> None:
    with suppress(pykka.ActorDeadError):  # a dead supervisor has no use for it
        ref.tell(message)


def notify_exit(supervisor: pykka.ActorRef[Any], child_id: str, urn: str) -> ExitCallback:
    def notify(exception: BaseException | None) -> None:
        tell_quietly(supervisor, ChildExited(child_id, urn, exception))

    return notify
