"""A supervisor for many children of one kind, started and stopped at run time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pykka

from supervision._child import Child
from supervision._errors import TooManyChildren
from supervision._events import EventKind
from supervision._spec import ChildSpec, Strategy
from supervision._supervisor import Supervisor

if TYPE_CHECKING:
    from supervision._backoff import Backoff
    from supervision._clock import Clock
    from supervision._events import EventBus


class DynamicSupervisor(Supervisor):
    """A one_for_one supervisor for thousands of children started at run time.

    Children live in a dict by id: ``start_child``, ``terminate_child`` and
    ``child_ref`` are O(1), and a crash touches only the crashed child. A
    child that will not be restarted (temporary, or transient that stopped
    normally) is forgotten. Shutdown asks every child to stop at once, then
    waits on each within its own timeout, so a thousand children stop in
    about the time of the slowest, not of the sum.

    Example::

        workflows = DynamicSupervisor.start(max_children=10_000, max_restarts=100, period=1.0)
        spec = ChildSpec(wf_id, WorkflowActor, args=(wf_id,), restart=Restart.TRANSIENT)
        ref = workflows.proxy().start_child(spec).get()
        workflows.proxy().terminate_child(wf_id).get()
    """

    keeps_exited_children = False

    def __init__(
        self,
        *,
        max_children: int | None = None,
        max_restarts: int = 3,
        period: float = 5.0,
        backoff: Backoff | None = None,
        name: str | None = None,
        events: EventBus | None = None,
        clock: Clock | None = None,
        on_root_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__(
            (),
            strategy=Strategy.ONE_FOR_ONE,
            max_restarts=max_restarts,
            period=period,
            backoff=backoff,
            name=name,
            events=events,
            clock=clock,
            on_root_failure=on_root_failure,
        )
        self.max_children = max_children

    def start_child(self, spec: ChildSpec) -> pykka.ActorRef[Any]:
        limit = self.max_children
        if limit is not None and len(self._children) >= limit and spec.id not in self._children:
            raise TooManyChildren(self.name, limit)
        return super().start_child(spec)

    def _stop_children(self, children: Iterable[Child]) -> None:
        """Ask all to stop at once (in the order given), then wait on each within its timeout."""
        stopping: list[tuple[Child, pykka.ActorRef[Any], pykka.Future[bool], float | None]] = []
        now = time.monotonic()
        for child in children:
            ref, child.ref = child.ref, None
            if ref is None:
                continue
            shutdown = child.spec.shutdown
            deadline = None if shutdown is None else now + shutdown
            stopping.append((child, ref, ref.stop(block=False), deadline))
        for child, ref, future, deadline in stopping:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                future.get(timeout=timeout)
            except pykka.Timeout:
                self._emit(EventKind.STOP_TIMEOUT, child.spec.id, ref=ref)
            else:
                self._emit(EventKind.TERMINATED, child.spec.id, ref=ref)
