"""Pooled pykka actors: many actors share a fixed set of threads (an Akka-style dispatcher).

A :class:`pykka.ThreadingActor` owns a thread for its whole life. With one
actor per running workflow that means thousands of threads, a thread start per
workflow and a context switch for nearly every message, all under one GIL:
measured, a third of the engine's CPU went to thread handoffs. A
:class:`PooledActor` is the same pykka actor (ActorRef, tell/ask, proxies,
``on_start``/``on_stop``/``on_failure``, the supervision hooks) whose mailbox,
when it gets a message while idle, is queued on a :class:`Dispatcher`; one of
the dispatcher's threads then runs a slice of that actor's messages. An actor's
messages are still handled one at a time and in order: an actor is on at most
one dispatcher thread at once. A busy dispatcher thread moves from actor to
actor without sleeping, so a loaded engine switches threads far less often.

Handlers may block (the workflow actor waits for its group commit), which
holds that dispatcher thread; size the pool for the commits you want in flight.
"""

from __future__ import annotations

import collections
import logging
import queue
import sys
import threading
from typing import Any

import pykka
from pykka import ActorDeadError, ActorRegistry, messages
from pykka._envelope import Envelope

from supervision import LockFuture

_log = logging.getLogger(__name__)


class Dispatcher:
    """A fixed pool of daemon threads running the mailboxes of :class:`PooledActor` s."""

    def __init__(self, threads: int, *, name: str = "aionactors-dispatch", slice: int = 16) -> None:
        if threads < 1:
            raise ValueError(f"a dispatcher needs at least one thread, got {threads}")
        self.slice = slice
        """Messages an actor handles before its thread moves on to the next ready actor."""
        self._ready: queue.SimpleQueue[PooledActor | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def size(self) -> int:
        return len(self._threads)

    def schedule(self, actor: PooledActor) -> None:
        self._ready.put(actor)

    def _work(self) -> None:
        while (actor := self._ready.get()) is not None:
            try:
                actor._run_slice(self.slice)
            except BaseException:  # never lose a dispatcher thread to one actor
                _log.exception("pooled actor %s escaped its slice", actor)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the threads once the actors queued before this call have run."""
        for _ in self._threads:
            self._ready.put(None)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(timeout)


class _Mailbox:
    """pykka's inbox protocol; a message to an idle, started actor schedules it."""

    __slots__ = ("_actor", "_closed", "_items", "_lock", "_scheduled")

    def __init__(self) -> None:
        self._items: collections.deque[Envelope[Any]] = collections.deque()
        self._lock = threading.Lock()
        self._actor: PooledActor | None = None  # set when the actor starts
        self._scheduled = False
        self._closed = False

    def put(self, envelope: Envelope[Any], /) -> None:
        with self._lock:
            closed = self._closed
            actor = None
            if not closed:
                self._items.append(envelope)
                if not self._scheduled and self._actor is not None:
                    self._scheduled = True
                    actor = self._actor
        if closed:
            assert self._actor is not None  # closed only after it started
            self._actor._leftovers([envelope])
        elif actor is not None:
            actor.dispatcher().schedule(actor)

    def get(self) -> Envelope[Any]:
        with self._lock:
            return self._items.popleft()

    def empty(self) -> bool:
        return not self._items

    def start(self, actor: PooledActor) -> None:
        """The actor is registered: schedule its start (and anything sent before it)."""
        with self._lock:
            self._actor = actor
            self._scheduled = True
        actor.dispatcher().schedule(actor)

    def pending_or_release(self) -> bool:
        """True if a message waits (the actor stays scheduled), else the actor is released."""
        with self._lock:
            if self._items:
                return True
            self._scheduled = False
            return False

    def close(self) -> list[Envelope[Any]]:
        """No more messages: later puts are refused at once. Returns what was left."""
        with self._lock:
            self._closed = True
            left = list(self._items)
            self._items.clear()
            return left


def _refuse(envelope: Envelope[Any], why: str) -> None:
    if envelope.reply_to is None:
        return
    if isinstance(envelope.message, messages._ActorStop):
        envelope.reply_to.set(None)
        return
    error = ActorDeadError(f"actor {why}")
    envelope.reply_to.set_exception(exc_info=(ActorDeadError, error, None))


class PooledActor(pykka.Actor):
    """A pykka actor run on a :class:`Dispatcher` instead of a thread of its own.

    Subclasses say which dispatcher by overriding :meth:`dispatcher`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The real mailbox: a test harness may wrap ``actor_inbox`` (messages are read through it).
        self._box = self._mailbox_of(self.actor_inbox)
        self._set_up = False
        self._torn_down = False

    @staticmethod
    def _create_actor_inbox() -> _Mailbox:
        return _Mailbox()

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return LockFuture()

    def dispatcher(self) -> Dispatcher:
        raise NotImplementedError("a PooledActor subclass says which Dispatcher runs it")

    def on_undelivered(self, messages: list[Any]) -> None:
        """Tells that reached the mailbox behind the stop, never handled (pykka drops them).

        Called once the actor has stopped, from whichever thread found them: override to
        route them elsewhere without blocking. Asks left over fail with ActorDeadError.
        """

    def _start_actor_loop(self) -> None:
        self._box.start(self)

    @staticmethod
    def _mailbox_of(inbox: object) -> _Mailbox:
        assert isinstance(inbox, _Mailbox)
        return inbox

    def _run_slice(self, limit: int) -> None:
        """Run on a dispatcher thread: the start (once), then up to ``limit`` messages."""
        if self._torn_down:
            return
        if not self._set_up:
            self._set_up = True
            self._actor_loop_setup()
        for _ in range(limit):
            if self.actor_stopped.is_set():
                break
            if not self._box.pending_or_release():
                return
            # Only this thread takes from the mailbox now, so the get finds the message.
            self._handle_envelope(self.actor_inbox.get())
        if self.actor_stopped.is_set():
            self._teardown()
        elif self._box.pending_or_release():
            self.dispatcher().schedule(self)

    def _handle_envelope(self, envelope: Envelope[Any]) -> None:
        """One message, exactly as pykka's own actor loop handles it."""
        try:
            response = self._handle_receive(envelope.message)
            if envelope.reply_to is not None:
                envelope.reply_to.set(response)
        except Exception:
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception()
            else:
                self._handle_failure(*sys.exc_info())
                try:
                    self.on_failure(*sys.exc_info())
                except Exception:
                    self._handle_failure(*sys.exc_info())
        except BaseException:
            self._stop()
            ActorRegistry.stop_all(block=False)

    def _teardown(self) -> None:
        self._torn_down = True
        left = self._box.close()  # later puts come straight to _leftovers
        # pykka's teardown (an empty inbox now) fires supervision's exit hooks.
        self._actor_loop_teardown()
        self._leftovers(left)

    def _leftovers(self, envelopes: list[Envelope[Any]]) -> None:
        tells = [
            e.message
            for e in envelopes
            if e.reply_to is None and not isinstance(e.message, messages._ActorStop)
        ]
        if tells:
            try:
                self.on_undelivered(tells)
            except Exception:
                _log.exception("%s could not hand on %d undelivered messages", self, len(tells))
        for envelope in envelopes:
            _refuse(envelope, "stopped before handling the message")
