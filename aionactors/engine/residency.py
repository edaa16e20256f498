"""Residency: which workflows hold an actor right now.

A workflow is resident while it has work in hand. Idle ones (parked on a timer,
a signal or a long activity) are evicted after ``idle_seconds``, finished ones
at the next sweep, and when ``max_resident`` is reached the least recently used
are evicted to make room. Eviction is an orderly stop: the actor handles every
message already queued, so nothing is lost; the next message rehydrates the
workflow by replay.

Actor threads only call the lock-free methods (``bind``, ``touch``, ``retire``);
finding a resident actor takes no lock either; activation and eviction take the
lock and may wait on an actor to stop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pykka

from supervision import ChildAlreadyStarted, ChildNotFound, ChildSpec

_REBIND_WAIT = 10.0


class Residency:
    def __init__(
        self,
        supervisor: pykka.ActorProxy[Any],
        make_spec: Callable[[str], ChildSpec],
        *,
        max_resident: int,
        idle_seconds: float,
    ) -> None:
        self._supervisor = supervisor
        self._make_spec = make_spec
        self.max_resident = max_resident
        self.idle_seconds = idle_seconds
        self._lock = threading.RLock()
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._last_used: dict[str, float] = {}
        self._retired: set[str] = set()
        self._bound = threading.Condition()
        self.evictions = 0
        self.read_ahead: dict[str, list[Any]] = {}
        """Histories an activation boots from instead of the store (the runtime's)."""
        self.admit: Callable[[str], None] | None = None
        """Called before a workflow is activated; raises (e.g. Unavailable) to refuse it
        (a cluster node refuses workflows of shards it does not own)."""

    # ---- called from actor threads (never block) ---------------------------------------------
    def bind(self, workflow_id: str, ref: pykka.ActorRef[Any]) -> None:
        """A workflow actor announces itself (first start or restart after a crash)."""
        with self._bound:
            self._refs[workflow_id] = ref
            self._last_used[workflow_id] = time.monotonic()
            self._retired.discard(workflow_id)
            self._bound.notify_all()

    def touch(self, workflow_id: str) -> None:
        self._last_used[workflow_id] = time.monotonic()

    def retire(self, workflow_id: str) -> None:
        """The workflow finished: evict it at the next sweep."""
        self._retired.add(workflow_id)

    # ---- activation and eviction -----------------------------------------------------------
    def resident_count(self) -> int:
        return len(self._refs)

    def is_resident(self, workflow_id: str) -> bool:
        return workflow_id in self._refs

    def resident_ids(self) -> list[str]:
        return list(self._refs)

    def ref_for(self, workflow_id: str, *, fresh: bool = False) -> pykka.ActorRef[Any]:
        """The workflow's live actor, activating (replaying) it if needed.

        ``fresh``: the caller knows the id has no history yet (a start): an actor this call
        creates boots without reading the store.
        """
        ref = self._refs.get(workflow_id)
        if ref is not None and ref.is_alive():
            # Resident: no lock. Should an eviction stop it meanwhile, an ask fails with
            # ActorDeadError (callers retry) and a tell is handed on to the next incarnation.
            self.touch(workflow_id)
            return ref
        with self._lock:
            ref = self._refs.get(workflow_id)
            if ref is not None and ref.is_alive():
                self.touch(workflow_id)
                return ref
            if ref is None:
                if self.admit is not None:
                    self.admit(workflow_id)
                self._make_room(exclude=workflow_id)
                if fresh:
                    self.read_ahead[workflow_id] = []
                try:
                    ref = self._supervisor.start_child(self._make_spec(workflow_id)).get()
                except ChildAlreadyStarted:
                    self.read_ahead.pop(workflow_id, None)
                    ref = None
                else:
                    self._refs.setdefault(workflow_id, ref)
                    self.touch(workflow_id)
                    return self._refs[workflow_id]
        return self._await_rebind(workflow_id, ref)

    def _await_rebind(
        self, workflow_id: str, dead: pykka.ActorRef[Any] | None
    ) -> pykka.ActorRef[Any]:
        """The actor crashed: its supervisor restarts it; wait until the new one binds."""
        deadline = time.monotonic() + _REBIND_WAIT
        with self._bound:
            while True:
                ref = self._refs.get(workflow_id)
                if ref is not None and ref is not dead and ref.is_alive():
                    return ref
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._bound.wait(min(remaining, 0.05))
        # Not restarted (the supervisor gave up on it): start it afresh.
        with self._lock:
            self._refs.pop(workflow_id, None)
            with contextlib.suppress(ChildNotFound):
                self._supervisor.terminate_child(workflow_id).get()
        return self.ref_for(workflow_id)

    def evict(self, workflow_id: str) -> bool:
        """Stop a workflow's actor (after it handles what is queued); False if not resident."""
        with self._lock:
            if workflow_id not in self._refs:
                return False
            self._stop(workflow_id)
            return True

    def _stop(self, workflow_id: str) -> None:
        self._stop_all([workflow_id])

    def _stop_all(self, workflow_ids: list[str]) -> None:
        """Stop these actors with one ask to the supervisor (their stops overlap)."""
        if not workflow_ids:
            return
        self._supervisor.terminate_children(workflow_ids).get()
        # Forget them only now: an actor still booting binds before it handles the stop.
        for workflow_id in workflow_ids:
            self._refs.pop(workflow_id, None)
            self._last_used.pop(workflow_id, None)
            self._retired.discard(workflow_id)
        self.evictions += len(workflow_ids)

    def _make_room(self, exclude: str) -> None:
        """At the cap: evict the retired, then the least recently used tenth."""
        if len(self._refs) < self.max_resident:
            return
        self._stop_all([w for w in list(self._retired) if w in self._refs and w != exclude])
        if len(self._refs) < self.max_resident:
            return
        candidates = sorted(
            (w for w in self._refs if w != exclude), key=lambda w: self._last_used.get(w, 0.0)
        )
        excess = len(self._refs) - self.max_resident + 1
        self._stop_all(candidates[: max(excess, self.max_resident // 10, 1)])

    def sweep(self) -> int:
        """Evict finished workflows and those idle longer than ``idle_seconds``."""
        cutoff = time.monotonic() - self.idle_seconds
        with self._lock:
            idle = [
                w
                for w in list(self._refs)
                if w in self._retired or self._last_used.get(w, 0.0) <= cutoff
            ]
            self._stop_all(idle)
        return len(idle)
