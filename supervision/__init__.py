"""OTP-style supervision trees for pykka actors.

A ``Supervisor`` is a pykka actor that starts children from ``ChildSpec``s,
learns of every way a child dies, and restarts it by its ``Restart`` type and
the supervisor's ``Strategy``, optionally after a ``Backoff``. Too many
restarts within a period and the supervisor gives up and fails to its own
supervisor; the root reports to a callback. Every start, crash, restart,
escalation and shutdown is a ``SupervisionEvent`` on an ``EventBus``.

Example::

    from supervision import ChildSpec, EventBus, Supervisor, Strategy, log_event

    root = Supervisor.start(
        [ChildSpec("db", Database, args=(url,)), ChildSpec("api", Api)],
        strategy=Strategy.REST_FOR_ONE,
        events=EventBus(log_event),
        on_root_failure=report_and_exit,
    )
    ...
    root.stop()

What counts as a crash (restarted unless the child is ``temporary``): an
exception while handling a ``tell`` (pykka runs ``on_failure``, then the actor
is dead), an exception in ``on_start`` (pykka calls no hook at all), in the
constructor, or in ``on_stop``. A normal stop by anyone but the supervisor
(``ref.stop()``) is an exit: ``permanent`` children come back, ``transient``
and ``temporary`` ones do not. An exception raised back to an ``ask()``
caller is the caller's business: the actor lives on and nothing happens.
Children report their own death from hooks put on the actor instance before
its thread starts, so any pykka actor class works; an actor returned by a
factory is hooked after it started (make it a ``SupervisedActor`` to be
hooked from birth). A ``BaseException`` in an actor makes pykka stop every
actor (``ActorRegistry.stop_all``); supervision does not fight that.

This package imports only pykka and the standard library. Fault injection
and event recording for tests live in ``supervision.testing``.
"""

from supervision._backoff import Backoff
from supervision._clock import SYSTEM_CLOCK, Cancellable, Clock, SystemClock
from supervision._dynamic import DynamicSupervisor
from supervision._errors import (
    ChildAlreadyStarted,
    ChildNotFound,
    ExitUnobserved,
    RestartIntensityExceeded,
    SupervisionError,
    TooManyChildren,
)
from supervision._events import EventBus, EventKind, SupervisionEvent, log_event
from supervision._future import LockFuture
from supervision._spawn import SupervisedActor
from supervision._spec import ChildCounts, ChildInfo, ChildSpec, Restart, Strategy
from supervision._supervisor import Supervisor

__all__ = [
    "SYSTEM_CLOCK",
    "Backoff",
    "Cancellable",
    "ChildAlreadyStarted",
    "ChildCounts",
    "ChildInfo",
    "ChildNotFound",
    "ChildSpec",
    "Clock",
    "DynamicSupervisor",
    "EventBus",
    "EventKind",
    "ExitUnobserved",
    "LockFuture",
    "Restart",
    "RestartIntensityExceeded",
    "Strategy",
    "SupervisedActor",
    "SupervisionError",
    "SupervisionEvent",
    "Supervisor",
    "SystemClock",
    "TooManyChildren",
    "log_event",
]
