"""Fault injection: make a pykka actor crash, fail, stall or lose messages on purpose."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import pykka
from pykka import messages

from supervision._hooks import wrap_method

Match = Callable[[Any], bool]
_SLOT = "_supervision_faults"


class InjectedFault(Exception):
    """Raised by fault injection, never by real code."""


class _Crash(NamedTuple):
    exception: BaseException


class _Sync:
    """A round trip that proves the actor's loop now reads through the hooks."""


class _Dropped:
    """The message that stands in for a dropped one: the actor's loop never waits for a message."""


class _DroppedEnvelope(NamedTuple):
    message: _Dropped
    reply_to: None = None


@dataclass
class _Rule:
    action: str  # "raise" | "delay" | "hold" | "drop"
    remaining: int
    when: Match | None
    exception: BaseException | None = None
    seconds: float = 0.0
    gate: threading.Event | None = None


class FaultInjector:
    """Faults for every actor it is attached to, consulted before each message.

    Give it to a child spec (``ChildSpec(..., instrument=faults)``) and it
    hooks every incarnation of that child before its thread starts; or
    ``attach()`` it to any running actor. Rules are shared: "the next 3
    messages" means the next 3 handled by any attached actor. pykka's own stop
    message is never touched.

    Example::

        faults = FaultInjector()
        sup = Supervisor.start([ChildSpec("db", Database, instrument=faults)])
        faults.fail_start(2)                  # the next two incarnations die in on_start
        faults.raise_next(1, when=lambda m: m == "write")
        gate = faults.hold_next()             # the next message waits for gate.set()
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._start_failures: list[BaseException | None] = []

    def raise_next(
        self, n: int = 1, exception: BaseException | None = None, *, when: Match | None = None
    ) -> None:
        """The next ``n`` messages raise: a tell then crashes the actor, an ask fails its caller."""
        self._add(_Rule("raise", n, when, exception=exception))

    def delay_next(self, n: int, seconds: float, *, when: Match | None = None) -> None:
        """The next ``n`` messages are handled ``seconds`` late (the actor is busy meanwhile)."""
        self._add(_Rule("delay", n, when, seconds=seconds))

    def hold_next(self, n: int = 1, *, when: Match | None = None) -> threading.Event:
        """The next ``n`` messages wait until the returned event is set."""
        gate = threading.Event()
        self._add(_Rule("hold", n, when, gate=gate))
        return gate

    def drop_next(self, n: int = 1, *, when: Match | None = None) -> None:
        """The next ``n`` messages vanish: a tell does nothing, an ask never gets a reply."""
        self._add(_Rule("drop", n, when))

    def fail_start(self, n: int = 1, exception: BaseException | None = None) -> None:
        """The next ``n`` attached actors to start raise in ``on_start``."""
        with self._lock:
            self._start_failures.extend([exception] * n)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._start_failures.clear()

    def attach(self, ref: pykka.ActorRef[Any], timeout: float | None = 5.0) -> None:
        """Consult this injector before each message of a running actor.

        Returns once the actor has handled the messages already in its inbox
        (one round trip), so every rule added afterwards applies to it.
        """
        actor = ref._actor_weakref()
        if actor is None or not ref.is_alive():
            raise pykka.ActorDeadError(f"{ref} not found")
        self(actor)
        ref.ask(_Sync(), timeout=timeout)

    def __call__(self, actor: pykka.Actor) -> None:
        """Instrument an actor (the ``ChildSpec.instrument`` seam)."""
        _instrument(actor).injector = self

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take(self, message: Any, *, drop: bool) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if (rule.action == "drop") != drop or (rule.when and not rule.when(message)):
                    continue
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def _take_start_failure(self) -> BaseException | None:
        with self._lock:
            if not self._start_failures:
                return None
            return self._start_failures.pop(0) or InjectedFault("injected on_start failure")


def crash(ref: pykka.ActorRef[Any], exception: BaseException | None = None) -> None:
    """Kill an actor as if a ``tell()`` it received raised ``exception``.

    The crash is queued behind the messages already in its inbox; pykka then
    runs ``on_failure`` and the actor is dead, exactly as for a real crash.
    Works on any pykka actor, supervised or not.
    """
    actor = ref._actor_weakref()
    if actor is None or not ref.is_alive():
        raise pykka.ActorDeadError(f"{ref} not found")
    _instrument(actor)
    ref.tell(_Crash(exception or InjectedFault(f"injected crash of {ref}")))


class _Slot:
    __slots__ = ("injector",)

    def __init__(self) -> None:
        self.injector: FaultInjector | None = None


class _DroppingInbox:
    """The actor's view of its inbox, minus the messages a drop rule takes."""

    def __init__(self, inbox: Any, slot: _Slot) -> None:
        self._inbox = inbox
        self._slot = slot

    def put(self, envelope: Any, /) -> None:
        self._inbox.put(envelope)

    def empty(self) -> bool:
        return bool(self._inbox.empty())

    def get(self) -> Any:
        envelope = self._inbox.get()
        injector = self._slot.injector
        message = envelope.message
        if injector is None or isinstance(message, (messages._ActorStop, _Crash, _Sync)):
            return envelope
        if injector._take(message, drop=True) is not None:
            return _DroppedEnvelope(_Dropped())
        return envelope


def _instrument(actor: pykka.Actor) -> _Slot:
    slot: _Slot | None = actor.__dict__.get(_SLOT)
    if slot is not None:
        return slot
    slot = _Slot()
    actor.__dict__[_SLOT] = slot
    wrap_method(actor, "_handle_receive", lambda original: _receiving(slot, original))
    wrap_method(actor, "on_start", lambda original: _starting(slot, original))
    actor.actor_inbox = _DroppingInbox(actor.actor_inbox, slot)
    return slot


def _receiving(slot: _Slot, handle: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _handle_receive(message: Any) -> Any:
        if isinstance(message, _Crash):
            raise message.exception
        if isinstance(message, (_Dropped, _Sync)):
            return None
        injector = slot.injector
        if injector is not None and not isinstance(message, messages._ActorStop):
            rule = injector._take(message, drop=False)
            if rule is not None:
                if rule.action == "raise":
                    raise rule.exception or InjectedFault(f"injected failure handling {message!r}")
                if rule.action == "delay":
                    time.sleep(rule.seconds)  # the fault itself: a slow handler
                elif rule.gate is not None:
                    rule.gate.wait()
        return handle(message)

    return _handle_receive


def _starting(slot: _Slot, on_start: Callable[[], None]) -> Callable[[], None]:
    def _on_start() -> None:
        injector = slot.injector
        if injector is not None and (failure := injector._take_start_failure()) is not None:
            raise failure
        on_start()

    return _on_start
