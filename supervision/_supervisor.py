"""The supervisor actor: starts children from specs, restarts them by strategy, fails upward."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import pykka

from supervision._child import Child, ChildExited, RestartDue, notify_exit, tell_quietly
from supervision._clock import SYSTEM_CLOCK, Cancellable, Clock
from supervision._errors import ChildAlreadyStarted, ChildNotFound, RestartIntensityExceeded
from supervision._events import EventBus, EventKind, SupervisionEvent
from supervision._hooks import ExitHooks, on_exit
from supervision._intensity import RestartWindow
from supervision._spawn import SpawnContext, SupervisedActor, spawn, spawning
from supervision._spec import ChildCounts, ChildInfo, ChildSpec, Restart, Strategy

if TYPE_CHECKING:
    from types import TracebackType

    from supervision._backoff import Backoff

logger = logging.getLogger("supervision")


def _is_supervisor_spec(spec: ChildSpec) -> bool:
    cls = spec.actor_class
    return cls is not None and issubclass(cls, Supervisor)


class Supervisor(SupervisedActor):
    """An actor that starts children from specs, restarts them, and fails upward when it must.

    Example::

        root = Supervisor.start(
            [ChildSpec("db", Database, args=(url,)), ChildSpec("api", Api)],
            strategy=Strategy.REST_FOR_ONE,
            max_restarts=3,
            period=5.0,
            events=EventBus(log_event),
            on_root_failure=lambda exc: os._exit(70),
        )
        root.proxy().which_children().get()
        root.stop()  # children stop in reverse start order

    A child that dies (a tell raised, ``on_start`` raised, or someone stopped
    it) is restarted by its ``restart`` type and the ``strategy``. More than
    ``max_restarts`` restarts within ``period`` seconds and the supervisor
    gives up: it stops its children and crashes, so its own supervisor handles
    it like any crashed child; the root reports to ``on_root_failure``.
    An exception raised back to an ``ask()`` caller is the caller's business:
    the child lives on and nothing is restarted.

    Call the public methods through ``ref.proxy()``; they run in the
    supervisor's thread. Nested supervisors inherit ``events`` and ``clock``.
    A child must not block on its supervisor (an ``ask``) while stopping: the
    supervisor is waiting for it, and only the shutdown timeout ends the wait.
    """

    keeps_exited_children: ClassVar[bool] = True
    """Keep a transient child's spec after it stops normally (``restart_child`` can revive it)."""

    def __init__(
        self,
        children: Sequence[ChildSpec] = (),
        *,
        strategy: Strategy = Strategy.ONE_FOR_ONE,
        max_restarts: int = 3,
        period: float = 5.0,
        backoff: Backoff | None = None,
        name: str | None = None,
        events: EventBus | None = None,
        clock: Clock | None = None,
        on_root_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__()
        parent = spawning()
        if name is None:
            name = f"{parent.supervisor}/{parent.child_id}" if parent else "root"
        self.name = name
        if events is None:
            events = parent.events if parent else EventBus()
        if clock is None:
            clock = parent.clock if parent else SYSTEM_CLOCK
        self.events = events
        self._clock = clock
        self._is_root = parent is None
        self._on_root_failure = on_root_failure
        self._strategy = Strategy(strategy)
        self._backoff = backoff
        self._window = RestartWindow(max_restarts, period, self._clock.now)
        self._children: dict[str, Child] = {}
        for spec in children:
            if spec.id in self._children:
                raise ChildAlreadyStarted(name, spec.id)
            self._children[spec.id] = Child(spec, is_supervisor=_is_supervisor_spec(spec))
        self._pending: dict[int, list[str]] = {}
        self._timers: dict[int, Cancellable] = {}
        self._tokens = itertools.count(1)
        self._shut_down = False

    @classmethod
    def child_spec(
        cls,
        id: str,
        *args: Any,
        restart: Restart = Restart.PERMANENT,
        shutdown: float | None = None,
        **options: Any,
    ) -> ChildSpec:
        """A spec that runs this supervisor under another; stopping it waits for its subtree."""
        return ChildSpec(id, cls, args=args, kwargs=options, restart=restart, shutdown=shutdown)

    # -- pykka hooks --------------------------------------------------------

    def on_start(self) -> None:
        try:
            for child in list(self._children.values()):
                if child.ref is None and child.pending is None:
                    self._start(child, EventKind.STARTED)
        except Exception as exc:
            # pykka calls neither on_stop nor on_failure now: clean up here.
            self._shutdown()
            self._report_if_root(exc)
            raise

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, ChildExited):
            return self._child_exited(message)
        if isinstance(message, RestartDue):
            return self._restart_due(message.token)
        return super().on_receive(message)

    def on_stop(self) -> None:
        self._shutdown()

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._shutdown()
        self._report_if_root(exception_value)

    # -- public API (through ref.proxy()) ----------------------------------

    def start_child(self, spec: ChildSpec) -> pykka.ActorRef[Any]:
        """Start and supervise one more child; an error starting it is raised to the caller."""
        if spec.id in self._children:
            raise ChildAlreadyStarted(self.name, spec.id)
        child = Child(spec, is_supervisor=_is_supervisor_spec(spec))
        ref = self._spawn(child)
        self._children[spec.id] = child
        self._started(child, ref, EventKind.STARTED)
        return ref

    def terminate_child(self, child_id: str) -> None:
        """Stop a child within its shutdown timeout and forget it; it is not restarted."""
        child = self._children.pop(child_id, None)
        if child is None:
            raise ChildNotFound(self.name, child_id)
        child.pending = None
        self._stop_children([child])

    def terminate_children(self, child_ids: Iterable[str]) -> list[str]:
        """Stop several children at once, as :meth:`terminate_child` each; returns unknown ids.

        One ask for many: every child is asked to stop, then each is waited on within its
        own shutdown timeout (a dynamic supervisor overlaps their stops).
        """
        found: list[Child] = []
        unknown: list[str] = []
        for child_id in child_ids:
            child = self._children.pop(child_id, None)
            if child is None:
                unknown.append(child_id)
                continue
            child.pending = None
            found.append(child)
        self._stop_children(found)
        return unknown

    def restart_child(self, child_id: str) -> pykka.ActorRef[Any]:
        """Start again a kept child that is not running (a transient that stopped normally)."""
        child = self._children.get(child_id)
        if child is None:
            raise ChildNotFound(self.name, child_id)
        if child.ref is not None or child.pending is not None:
            raise ChildAlreadyStarted(self.name, child_id)
        ref = self._spawn(child)
        self._started(child, ref, EventKind.STARTED)
        return ref

    def child_ref(self, child_id: str) -> pykka.ActorRef[Any] | None:
        """The running child's ref, or ``None`` (unknown, stopped, or waiting to restart)."""
        child = self._children.get(child_id)
        return None if child is None else child.ref

    def which_children(self) -> list[ChildInfo]:
        """Every child in start order: id, ref, restart type, alive, supervisor?, restarting?"""
        return [
            ChildInfo(
                id=child.spec.id,
                ref=child.ref,
                restart=child.spec.restart,
                alive=child.ref is not None and child.ref.is_alive(),
                is_supervisor=child.is_supervisor,
                restarting=child.pending is not None,
            )
            for child in self._children.values()
        ]

    def count_children(self) -> ChildCounts:
        children = self._children.values()
        supervisors = sum(1 for c in children if c.is_supervisor)
        return ChildCounts(
            specs=len(self._children),
            active=sum(1 for c in children if c.ref is not None and c.ref.is_alive()),
            supervisors=supervisors,
            workers=len(self._children) - supervisors,
            restarting=sum(1 for c in children if c.pending is not None),
        )

    # -- starting -----------------------------------------------------------

    def _spawn(self, child: Child) -> pykka.ActorRef[Any]:
        spec = child.spec
        supervisor = self.actor_ref

        def prepare(actor: pykka.Actor) -> ExitHooks:
            hooks = on_exit(actor, notify_exit(supervisor, spec.id, actor.actor_urn))
            if spec.instrument is not None:
                spec.instrument(actor)
            return hooks

        child.started_at = self._clock.now()
        return spawn(spec, SpawnContext(self.name, spec.id, self.events, self._clock), prepare)

    def _started(self, child: Child, ref: pykka.ActorRef[Any], kind: EventKind) -> None:
        child.ref = ref
        child.is_supervisor = issubclass(ref.actor_class, Supervisor)
        self._emit(kind, child.spec.id, ref=ref)

    def _start(self, child: Child, kind: EventKind) -> None:
        """Start one incarnation; a start that raises counts as a crash."""
        try:
            ref = self._spawn(child)
        except Exception as exc:
            self._emit(EventKind.CRASHED, child.spec.id, exception=exc)
            self._after_exit(child, exc, inline=False)
        else:
            self._started(child, ref, kind)

    # -- exits and restarts -------------------------------------------------

    def _child_exited(self, notice: ChildExited) -> None:
        child = self._children.get(notice.child_id)
        if child is None or child.ref is None or child.ref.actor_urn != notice.urn:
            return  # an incarnation we stopped or replaced ourselves
        child.ref = None
        kind = EventKind.EXITED if notice.exception is None else EventKind.CRASHED
        self._emit(kind, child.spec.id, exception=notice.exception)
        self._after_exit(child, notice.exception, inline=True)

    def _after_exit(self, child: Child, exception: BaseException | None, *, inline: bool) -> None:
        restart = child.spec.restart
        if restart is Restart.PERMANENT or (restart is Restart.TRANSIENT and exception is not None):
            self._restart(child, exception, inline=inline)
        elif restart is Restart.TEMPORARY or not self.keeps_exited_children:
            self._children.pop(child.spec.id, None)

    def _restart(self, child: Child, cause: BaseException | None, *, inline: bool) -> None:
        if not self._window.allow():
            self._give_up(child, cause)
        group = self._group(child)
        self._stop_children([m for m in reversed(group) if m is not child and m.ref is not None])
        for member in group:
            if member is not child and member.spec.restart is Restart.TEMPORARY:
                self._children.pop(member.spec.id, None)  # stopped for the group, never restarted
        group = [m for m in group if m.spec.id in self._children]
        token = next(self._tokens)
        for member in group:
            member.pending = token
        self._pending[token] = [m.spec.id for m in group]
        delay = self._delay(child)
        if delay > 0:
            self._emit(EventKind.RESTART_SCHEDULED, child.spec.id, delay=delay)
            due = partial(tell_quietly, self.actor_ref, RestartDue(token))
            self._timers[token] = self._clock.call_later(delay, due)
        elif inline:
            self._restart_due(token)
        else:
            # A start that just failed: go through the mailbox, not recursion.
            tell_quietly(self.actor_ref, RestartDue(token))

    def _group(self, child: Child) -> list[Child]:
        """The children restarted with ``child``, in start order."""
        if self._strategy is Strategy.ONE_FOR_ONE:
            return [child]
        members = list(self._children.values())
        if self._strategy is Strategy.REST_FOR_ONE:
            members = members[members.index(child) :]
        return [m for m in members if m is child or m.ref is not None or m.pending is not None]

    def _delay(self, child: Child) -> float:
        backoff = self._backoff
        if backoff is None:
            return 0.0
        if self._clock.now() - child.started_at >= backoff.healthy_after:
            child.failures = 0
        delay = backoff.delay(child.failures)
        child.failures += 1
        return delay

    def _restart_due(self, token: int) -> None:
        self._timers.pop(token, None)
        for child_id in self._pending.pop(token, ()):
            child = self._children.get(child_id)
            if child is not None and child.pending == token:
                child.pending = None
                self._start(child, EventKind.RESTARTED)

    def _give_up(self, child: Child, cause: BaseException | None) -> NoReturn:
        error = RestartIntensityExceeded(
            self.name, child.spec.id, self._window.max_restarts, self._window.period
        )
        error.__cause__ = cause
        self._emit(EventKind.ESCALATED, child.spec.id, exception=error)
        self._shutdown()
        raise error  # pykka now runs on_failure and the actor dies: our parent sees a crash

    # -- stopping -----------------------------------------------------------

    def _shutdown(self) -> None:
        """Stop every child in reverse start order; runs once, however the supervisor ends."""
        if self._shut_down:
            return
        self._shut_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._pending.clear()
        for child in self._children.values():
            child.pending = None
        self._stop_children([c for c in reversed(self._children.values()) if c.ref is not None])
        self._emit(EventKind.SHUTDOWN, None)

    def _stop_children(self, children: Iterable[Child]) -> None:
        """Stop children one after the other, in the order given, each within its timeout."""
        for child in children:
            ref, child.ref = child.ref, None
            if ref is None:
                continue
            try:
                ref.stop(timeout=child.spec.shutdown)
            except pykka.Timeout:
                self._emit(EventKind.STOP_TIMEOUT, child.spec.id, ref=ref)
            else:
                self._emit(EventKind.TERMINATED, child.spec.id, ref=ref)

    def _report_if_root(self, exception: BaseException | None) -> None:
        if not self._is_root or exception is None:
            return  # a parent supervisor hears of it through our exit hooks
        if self._on_root_failure is None:
            logger.critical(
                "root supervisor %r failed and nobody was told (pass on_root_failure)",
                self.name,
                exc_info=exception,
            )
        else:
            try:
                self._on_root_failure(exception)
            except Exception:
                logger.exception("on_root_failure of supervisor %r raised", self.name)
        self._emit(EventKind.ROOT_FAILED, None, exception=exception)  # after: the app knows

    def _emit(
        self,
        kind: EventKind,
        child_id: str | None,
        *,
        ref: pykka.ActorRef[Any] | None = None,
        exception: BaseException | None = None,
        delay: float | None = None,
    ) -> None:
        self.events.emit(SupervisionEvent(kind, self.name, child_id, exception, delay, ref))
