"""Starting one incarnation of a child so that its supervisor sees it die, however it dies."""

from __future__ import annotations

import queue
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import pykka

from supervision._errors import ExitUnobserved
from supervision._future import LockFuture
from supervision._hooks import ExitHooks, hook_late

if TYPE_CHECKING:
    from supervision._clock import Clock
    from supervision._events import EventBus
    from supervision._spec import ChildSpec, Factory

Prepare = Callable[[pykka.Actor], ExitHooks]


@dataclass(frozen=True, slots=True)
class SpawnContext:
    """What a supervisor tells the actor it is starting; nested supervisors inherit from it."""

    supervisor: str
    child_id: str
    events: EventBus
    clock: Clock
    claim: Callable[[pykka.Actor], None] | None = None


_current: ContextVar[SpawnContext | None] = ContextVar("supervision_spawn", default=None)


def spawning() -> SpawnContext | None:
    """The context of the supervisor starting the actor now being built, if any."""
    return _current.get()


class SupervisedActor(pykka.ThreadingActor):
    """A ThreadingActor a supervisor watches from its first instant, even when a factory starts it.

    Only child specs with a factory need it: a class spec watches any pykka
    actor from birth. Its thread is a daemon thread.

    Example::

        class Cache(SupervisedActor):
            def on_start(self) -> None: ...

        ChildSpec("cache", lambda: Cache.start(size=100))
    """

    use_daemon_thread = True

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return LockFuture()

    @staticmethod
    def _create_actor_inbox() -> Any:
        # pykka's inbox protocol is put/get/empty: the C SimpleQueue has them, without the
        # three Conditions a queue.Queue takes on every put and get.
        return queue.SimpleQueue()

    def _start_actor_loop(self) -> None:
        context = _current.get()
        if context is not None and context.claim is not None:
            context.claim(self)
        super()._start_actor_loop()


def spawn(spec: ChildSpec, context: SpawnContext, prepare: Prepare) -> pykka.ActorRef[Any]:
    """Start the child of ``spec``; ``prepare`` hooks the actor before its thread runs."""
    if spec.actor_class is not None:
        token = _current.set(context)
        try:
            return _start_class(spec, spec.actor_class, prepare)
        finally:
            _current.reset(token)
    return _start_factory(spec, context, prepare)


def _start_class(
    spec: ChildSpec, actor_class: type[pykka.Actor], prepare: Prepare
) -> pykka.ActorRef[Any]:
    # pykka's Actor.start(), split so the hooks go in before the thread starts.
    actor = actor_class(*spec.args, **spec.kwargs)
    if spec.daemon:
        actor.use_daemon_thread = True  # type: ignore[attr-defined]
    prepare(actor)
    ref = actor.actor_ref
    pykka.ActorRegistry.register(ref)
    try:
        actor._start_actor_loop()
    except BaseException:
        pykka.ActorRegistry.unregister(ref)
        raise
    return ref


def _start_factory(spec: ChildSpec, context: SpawnContext, prepare: Prepare) -> pykka.ActorRef[Any]:
    claimed: set[str] = set()

    def claim(actor: pykka.Actor) -> None:
        # Every SupervisedActor the factory starts is hooked; the supervisor
        # ignores exits of any but the one whose ref the factory returns.
        prepare(actor)
        claimed.add(actor.actor_urn)

    token = _current.set(replace(context, claim=claim))
    try:
        ref = cast("Factory", spec.start)()
    finally:
        _current.reset(token)
    if not isinstance(ref, pykka.ActorRef):
        msg = f"child {spec.id!r}: the factory returned {ref!r}, not a pykka ActorRef"
        raise TypeError(msg)
    if ref.actor_urn not in claimed:
        _watch_late(ref, prepare)
    return ref


def _watch_late(ref: pykka.ActorRef[Any], prepare: Prepare) -> None:
    """Hook an actor that is already running; if it is already dead, report that now."""
    actor = ref._actor_weakref()
    if actor is None:
        raise ExitUnobserved(str(ref))
    hook_late(actor, ExitUnobserved(str(ref)))
    hooks = prepare(actor)
    if not ref.is_alive():
        # It may have ended before the hooks went in; ExitHooks fires only once.
        hooks.fire()
