"""Hooks on one pykka actor instance: what a supervisor needs and pykka does not offer.

pykka has no hook for "this actor's thread is ending": ``on_stop`` is skipped
when the actor crashes, and neither ``on_stop`` nor ``on_failure`` runs when
``on_start`` raises. But every way out of pykka's actor loop ends in
``_actor_loop_teardown``, and every failure passes ``_handle_failure``. So we
wrap those two on the instance (never on the class, never globally): the
wrappers run in the actor's own thread, after ``on_failure``/``on_stop``.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from types import MethodType
from typing import Any

import pykka

logger = logging.getLogger("supervision")

ExitCallback = Callable[[BaseException | None], None]
_HOOKS = "_supervision_exit_hooks"


def wrap_method(
    actor: pykka.Actor,
    name: str,
    wrapper: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    """Replace ``actor.<name>`` on the instance by ``wrapper(original)``.

    A bound method is re-bound through a weak reference, so the instance does
    not hold itself alive in a cycle (pykka frees an actor when its thread ends).
    """
    current = getattr(actor, name)
    original: Callable[..., Any]
    if isinstance(current, MethodType) and current.__self__ is actor:
        func = current.__func__
        owner = weakref.ref(actor)

        def original(*args: Any, **kwargs: Any) -> Any:
            return func(owner(), *args, **kwargs)

    else:
        original = current
    setattr(actor, name, wrapper(original))


class ExitHooks:
    """Callbacks run once when an actor's loop ends, with the exception that ended it."""

    __slots__ = (
        "_callbacks",
        "_clean_stop",
        "_exception",
        "_fired",
        "_lock",
        "_result",
        "_unclean",
    )

    def __init__(self, unclean: BaseException | None = None) -> None:
        self._callbacks: list[ExitCallback] = []
        self._exception: BaseException | None = None
        self._unclean = unclean  # reported when hooked late and no clean on_stop was seen
        self._clean_stop = False
        self._fired = False
        self._result: BaseException | None = None
        self._lock = threading.Lock()

    def add(self, callback: ExitCallback) -> None:
        """Register a callback; if the actor has already ended, it runs now."""
        with self._lock:
            if not self._fired:
                self._callbacks.append(callback)
                return
            result = self._result
        _run(callback, result)

    def record(self, exception: BaseException | None) -> None:
        if self._exception is None:
            self._exception = exception

    def stopped_cleanly(self) -> None:
        self._clean_stop = True

    def fire(self) -> None:
        """Run the callbacks unless they ran already."""
        with self._lock:
            if self._fired:
                return
            self._fired = True
            result = self._exception
            if result is None and not self._clean_stop:
                result = self._unclean
            self._result = result
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            _run(callback, result)


def _run(callback: ExitCallback, exception: BaseException | None) -> None:
    try:
        callback(exception)
    except Exception:
        logger.exception("supervision exit callback %r raised", callback)


def on_exit(actor: pykka.Actor, callback: ExitCallback) -> ExitHooks:
    """Call ``callback(exception or None)`` once the actor's loop has ended, however it ended."""
    hooks = _hooks_of(actor)
    hooks.add(callback)
    return hooks


def hook_late(actor: pykka.Actor, unobserved: BaseException) -> ExitHooks:
    """Hook an actor whose thread already runs: it may have failed before the hooks went in.

    Such an exit counts as normal only if the hooks saw ``on_stop`` complete;
    any other exit reports the real exception if seen, else ``unobserved``.
    """
    return _hooks_of(actor, unobserved)


def _hooks_of(actor: pykka.Actor, unobserved: BaseException | None = None) -> ExitHooks:
    hooks: ExitHooks | None = actor.__dict__.get(_HOOKS)
    if hooks is None:
        hooks = ExitHooks(unobserved)
        actor.__dict__[_HOOKS] = hooks
        if unobserved is not None:
            wrap_method(actor, "on_stop", lambda original: _marking(hooks, original))
        wrap_method(actor, "_handle_failure", lambda original: _recording(hooks, original))
        wrap_method(actor, "_actor_loop_teardown", lambda original: _firing(hooks, original))
    return hooks


def _marking(hooks: ExitHooks, on_stop: Callable[[], None]) -> Callable[[], None]:
    def _on_stop() -> None:
        on_stop()
        hooks.stopped_cleanly()

    return _on_stop


def _recording(hooks: ExitHooks, handle_failure: Callable[..., Any]) -> Callable[..., None]:
    def _handle_failure(
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: Any,
    ) -> None:
        hooks.record(exception)
        handle_failure(exception_type, exception, traceback)

    return _handle_failure


def _firing(hooks: ExitHooks, teardown: Callable[[], None]) -> Callable[[], None]:
    def _actor_loop_teardown() -> None:
        try:
            teardown()
        finally:
            hooks.fire()

    return _actor_loop_teardown
