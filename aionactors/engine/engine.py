"""The Engine facade: open a store, register workflows and activities, run them.

>>> with Engine.open("sqlite:///orders.db", workflows=[Checkout], activities=[charge]) as engine:
...     handle = engine.start_workflow(Checkout, {"id": 42})           # doctest: +SKIP
...     engine.signal(handle.workflow_id, "approve", {})               # doctest: +SKIP
...     engine.result(handle.workflow_id, timeout=60)                  # doctest: +SKIP

Every operation has an ``*_async`` twin that runs it off the event loop.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pykka

from aionactors import tracing
from aionactors.core import events as ev
from aionactors.core.async_twin import AsyncTwin
from aionactors.core.errors import (
    AionError,
    AlreadyExists,
    InvalidInput,
    InvalidState,
    NotRunning,
    SequenceConflict,
    Unavailable,
    WorkflowNotFound,
)
from aionactors.core.ids import WORKFLOW_ID_MAX_LENGTH, TimerId, new_id
from aionactors.core.search import (
    BoolValue,
    Equals,
    SearchAttributes,
    SearchAttributeSchema,
)
from aionactors.core.status import WorkflowStatus, current_lease_terminal
from aionactors.core.visibility import (
    WorkflowFilter,
    WorkflowPage,
    WorkflowSummary,
)
from aionactors.core.workflow_keys import legacy_key, public_id, workflow_key
from aionactors.engine import messages as msg
from aionactors.engine import oplog
from aionactors.engine.activities import ActivityExecutor, ActivityOutcome
from aionactors.engine.clock import Clock, SystemClock
from aionactors.engine.deployments import PackageService
from aionactors.engine.describe import pending_work
from aionactors.engine.dispatcher import Dispatcher
from aionactors.engine.engine_events import (
    reopen_event,
    start_attributes,
    start_events,
    successor_events,
)
from aionactors.engine.interactions import WorkflowInteractions
from aionactors.engine.models import EngineSettings, WorkflowDescription, WorkflowHandle
from aionactors.engine.ops import EngineOps
from aionactors.engine.outcomes import ResultTimeout, TerminalWaiters, outcome_of
from aionactors.engine.payload_checks import check_signal_payload, check_start_input
from aionactors.engine.recovery import sweep_continued_as_new
from aionactors.engine.registry import Registry
from aionactors.engine.residency import Residency
from aionactors.engine.runtime import Runtime
from aionactors.engine.task_queues import RoutedExecutor, TaskQueues
from aionactors.engine.timers import TimerService
from aionactors.engine.updates import UpdateWaiters
from aionactors.engine.workflow_actor import COMPENSATING_ATTRIBUTE, WorkflowActor
from aionactors.engine.writer import GroupCommitWriter
from aionactors.schedule import Schedules
from aionactors.store.contract import CommittedEvent, EventStore
from aionactors.store.urls import is_postgres_url, open_store
from aionactors.workflow.payloads import to_json
from aionactors.workflow.state import ensure_json
from supervision import Backoff, ChildSpec, DynamicSupervisor, Restart

_log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aionactors.cluster._settings import ClusterSettings
    from aionactors.cluster._tenancy import DatabaseClaim

_DELIVERY_ATTEMPTS = 100
_RECOVERY_BATCH = 32
"""Workflows replaying at once during recovery: enough to overlap I/O, few enough that
thousands of them never queue for store connections or threads all at once."""


def _await_booted(refs: list[pykka.ActorRef[Any]]) -> None:
    """Wait until each actor has replayed (its first message is handled after its boot)."""
    for ref in refs:
        with contextlib.suppress(pykka.ActorDeadError, pykka.Timeout):
            ref.ask(msg.Ping(), timeout=120)
    refs.clear()


class Engine(WorkflowInteractions):
    """A running engine over one store. Build it with :meth:`open`."""

    def __init__(
        self,
        store: EventStore,
        registry: Registry,
        clock: Clock,
        settings: EngineSettings,
        schema: SearchAttributeSchema | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.settings = settings
        self.schema = schema
        self._closed = False
        self._draining = False
        self._claim: DatabaseClaim | None = None
        """A PostgreSQL store's lock saying which engines may share it (Engine.open)."""
        self._drained: set[str] = set()
        """Workflows told of an activity outcome while draining: shutdown waits for them."""
        self.schedules: Schedules | None = None
        """Cron and interval schedules (``aionactors.schedule``), started by :meth:`open`."""
        self.writer = GroupCommitWriter(store)
        self.waiters = TerminalWaiters()
        self.writer.add_listener(self.waiters.on_commit)
        self.update_waiters = UpdateWaiters()
        self.writer.add_listener(self.update_waiters.on_commit)
        self.task_queues = TaskQueues(clock)
        """Activities bound for remote workers (``task_queue`` other than "default")."""
        self.executor = RoutedExecutor(
            ActivityExecutor(registry.activity, clock, max_workers=settings.activity_workers),
            self.task_queues,
        )
        self.packages = PackageService(store, registry, settings.package_limits, clock.now)
        """Versioned workflow packages: deploy, route, unload (``aionactors.packages``)."""
        self.timers = TimerService(store, clock, self._deliver_timer, settings.timer_horizon)
        self.supervisor = DynamicSupervisor.start(
            max_restarts=settings.max_restarts,
            period=settings.restart_period,
            backoff=Backoff(initial=0.01, maximum=2.0),
            name="workflows",
            on_root_failure=self._on_supervisor_failure,
        )
        self.residency = Residency(
            self.supervisor.proxy(),
            self._child_spec,
            max_resident=settings.max_resident,
            idle_seconds=settings.idle_seconds,
        )
        self.ops = EngineOps(self)
        self.writer.add_listener(self.ops.on_commit)
        self.dispatcher = Dispatcher(settings.actor_threads, name="aionactors-workflows")
        self.runtime = Runtime(
            store=store,
            writer=self.writer,
            clock=clock,
            registry=registry,
            executor=self.executor,
            timers=self.timers,
            residency=self.residency,
            on_activity_outcome=self._deliver_activity,
            ops=self.ops,
            dispatcher=self.dispatcher,
            schema=schema,
        )
        self.residency.read_ahead = self.runtime.read_ahead  # a start's actor reads nothing
        self._sweeper = clock.call_later(settings.sweep_interval, self._sweep)

    @classmethod
    def open(
        cls,
        store: str | EventStore = "sqlite:///aionactors.db",
        *,
        workflows: Iterable[type] = (),
        activities: Iterable[Callable[..., Any]] = (),
        load_modules: Iterable[str] = (),
        packages: Iterable[str | Path] = (),
        clock: Clock | None = None,
        search_attributes: dict[str, str] | None = None,
        cluster: bool | ClusterSettings = True,
        listen: str = "127.0.0.1:0",
        **settings: Any,
    ) -> Engine:
        """Open a store (URL or instance), register code, recover, and start running.

        Stored package versions are reloaded before recovery; ``packages`` are trusted
        operator package files, loaded (and routed) every open and never stored.

        A ``postgresql://`` URL opens a node of the cluster on that database (``cluster``:
        True, or the node's ClusterSettings); it listens on ``listen`` (HOST:PORT) for the
        requests the other nodes forward to it. ``cluster=False``, or a store instance,
        opens an engine of its own, which must then be the only one on its database.
        """
        engine_settings = EngineSettings(**settings)  # refused before anything is opened
        url = store if isinstance(store, str) else ""
        if cluster not in (True, False) and not is_postgres_url(url):
            raise InvalidInput("cluster settings need a postgresql:// store URL")
        if cluster is not False and is_postgres_url(url):
            from transports.embedded_node import open_node_engine  # the peers talk HTTP

            return open_node_engine(
                url,
                settings=None if cluster is True else cluster,
                listen=listen,
                engine_options={
                    "workflows": workflows, "activities": activities,
                    "load_modules": load_modules, "packages": packages, "clock": clock,
                    "search_attributes": search_attributes, **settings,
                },
            )  # fmt: skip
        registry = Registry()
        for workflow_class in workflows:
            registry.add_workflow(workflow_class)
        for activity_fn in activities:
            registry.add_activity(activity_fn)
        registry.load_modules(load_modules)
        schema = None
        if search_attributes is not None:
            schema = SearchAttributeSchema.with_reserved()
            for name, kind in search_attributes.items():
                schema.register(name, kind)
        opened = (
            open_store(store, write_timeout=engine_settings.store_write_timeout)
            if isinstance(store, str)
            else store
        )
        claim = _claim_database(opened, close_on_refusal=isinstance(store, str))
        try:
            engine = cls(opened, registry, clock or SystemClock(), engine_settings, schema)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        engine._claim = claim
        try:
            engine.packages.reload_stored()
            engine.packages.load_operator_files(packages)
        except BaseException:
            engine.shutdown()
            raise
        oplog.timed_recovery(engine.recover)
        if engine.settings.schedules:
            engine.schedules = Schedules.start(engine)
        return engine

    # ---- wiring ------------------------------------------------------------------------
    def _child_spec(self, workflow_id: str) -> ChildSpec:
        return ChildSpec(
            workflow_id,
            WorkflowActor,
            args=(self.runtime, workflow_id),
            restart=Restart.TRANSIENT,
            shutdown=30.0,
        )

    def _on_supervisor_failure(self, error: BaseException) -> None:
        _log.critical("the workflow supervisor gave up: %s", error)

    def tell(self, workflow_id: str, message: Any) -> None:
        """Deliver a message to a workflow's actor, rehydrating it if needed (engine use)."""
        for _ in range(_DELIVERY_ATTEMPTS):
            if self._closed:
                return
            try:
                self.residency.ref_for(workflow_id).tell(message)
                return
            except pykka.ActorDeadError:
                continue
            except Unavailable as exc:  # refused here (a cluster node that does not own it)
                _log.debug("not delivering %r to workflow %s: %s", message, workflow_id, exc)
                return
        _log.error("could not deliver %r to workflow %s", message, workflow_id)

    def _ask(
        self, workflow_id: str, message: Any, timeout: float | None = None, *, fresh: bool = False
    ) -> Any:
        for _ in range(_DELIVERY_ATTEMPTS):
            self._check_open()
            try:
                ref = self.residency.ref_for(workflow_id, fresh=fresh)
                return ref.ask(message, timeout=timeout)
            except pykka.ActorDeadError:
                continue  # evicted or crashed before handling it: nothing happened, retry
        raise Unavailable(f"workflow {workflow_id!r} could not be reached")

    def _deliver_activity(self, outcome: ActivityOutcome) -> None:
        if self._draining:
            self._drained.add(outcome.task.workflow_id)
        self.tell(outcome.task.workflow_id, msg.ActivityDone(outcome))

    def _deliver_timer(self, workflow_id: str, timer_id: TimerId, fire_at: datetime) -> None:
        self.tell(workflow_id, msg.TimerDue(timer_id, fire_at))

    def _sweep(self) -> None:
        if self._closed:
            return
        try:
            self.residency.sweep()
        finally:
            if not self._closed:
                self._sweeper = self.clock.call_later(self.settings.sweep_interval, self._sweep)

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("the engine is shut down")

    def recover(self) -> int:
        """Re-arm stored timers, repair stranded chains, boot the workflows that need it.

        Only workflows in the store's wake index are booted (an activity in flight, a child
        to watch, input not reacted to: ``store.indexes``); the others wait, with their
        timers armed from rows, until an event for them rehydrates them. Returns how many
        were booted. Raises StrandedContinueAsNew if a continued-as-new run's successor
        cannot be started.
        """
        self.timers.load()
        sweep_continued_as_new(self.store, self._start_successor)
        active = self.store.list_wake()
        compensating = self.store.scan(
            WorkflowFilter(
                status=WorkflowStatus.CANCELLED,
                search_attributes=(
                    Equals(name=COMPENSATING_ATTRIBUTE, value=BoolValue(data=True)),
                ),
            )
        )
        ids = [*active, *(s.workflow_id for s in compensating)]
        self.runtime.woken.update(active)
        booting: list[pykka.ActorRef[Any]] = []
        for start in range(0, len(ids), _RECOVERY_BATCH):
            batch = ids[start : start + _RECOVERY_BATCH]
            self.runtime.read_ahead.update(self.store.read_histories(batch))  # one query
            for workflow_id in batch:
                try:
                    booting.append(self.residency.ref_for(workflow_id))
                except Exception:
                    _log.exception("recovery of workflow %s failed; the others go on", workflow_id)
            _await_booted(booting)
            for workflow_id in batch:  # already resident (a due timer woke it): not needed
                self.runtime.read_ahead.pop(workflow_id, None)
        return len(active)

    def _start_successor(self, workflow_id: str, history: list[ev.Event]) -> None:
        events = successor_events(workflow_id, history, self.clock.now(), self.registry.version_for)
        started = events[0]
        assert isinstance(started, ev.WorkflowStarted)
        self.registry.workflow(started.workflow_type, started.package_version)
        self.writer.append(workflow_id, events, len(history))

    # ---- operations ----------------------------------------------------------------------
    def start_workflow(
        self,
        workflow: str | type,
        arg: Any = None,
        *,
        workflow_id: str | None = None,
        namespace: str = "default",
        search_attributes: dict[str, Any] | None = None,
        execution_timeout: float | None = None,
        parent_workflow_id: str | None = None,
        package_version: str | None = None,
    ) -> WorkflowHandle:
        """Record WorkflowStarted (durable before this returns), then run the workflow.

        ``execution_timeout`` (seconds; default: the workflow's ``defn(timeout=)``) ends the
        run as TimedOut; it is a durable timer recorded with the start. ``arg`` may be a
        pydantic model or a dataclass (recorded as JSON); it must fit the run method's
        annotation, or the start is refused with InvalidInput naming the field. The run is
        pinned to ``package_version`` if given (a loaded version), else to its type's route.
        """
        return self._start(
            workflow,
            arg,
            workflow_id=workflow_id,
            namespace=namespace,
            search_attributes=search_attributes,
            execution_timeout=execution_timeout,
            parent_workflow_id=parent_workflow_id,
            package_version=package_version,
        )

    def _start(
        self,
        workflow: str | type,
        arg: Any,
        *,
        workflow_id: str | None,
        namespace: str,
        search_attributes: dict[str, Any] | None,
        execution_timeout: float | None = None,
        parent_workflow_id: str | None = None,
        signal: tuple[str, Any] | None = None,
        package_version: str | None = None,
    ) -> WorkflowHandle:
        """start_workflow, and signal_with_start's start: ``signal`` goes in the same append."""
        self._check_open()
        if self._draining:
            raise Unavailable("the engine is draining: new starts are refused")
        workflow_type = self.registry.workflow_name(workflow)
        if package_version is None:
            package_version = self.registry.route_of(workflow_type)
        definition = self.registry.workflow(workflow_type, package_version)
        timeout = execution_timeout or definition.timeout_seconds
        try:
            arg = ensure_json(to_json(arg), "workflow input")
        except TypeError as exc:
            raise InvalidInput(str(exc)) from None
        check_start_input(definition, arg)
        if workflow_id is None:
            workflow_id = new_id()  # only when none is given: an empty id is an error
        if not 0 < len(workflow_id) <= WORKFLOW_ID_MAX_LENGTH:
            raise InvalidInput(
                f"workflow_id must be 1 to {WORKFLOW_ID_MAX_LENGTH} characters,"
                f" got {len(workflow_id)}"
            )
        workflow_id = workflow_key(namespace, workflow_id)  # ids are per namespace
        self._refuse_legacy_holder(namespace, workflow_id)
        attributes = start_attributes(
            namespace, search_attributes or {}, self.schema, package_version
        )
        started = {
            "workflow_type": workflow_type,
            "package_version": package_version,
            "input": arg,
            "parent_run_id": None,
            "parent_workflow_id": parent_workflow_id,
            "trace_context": tracing.current_carrier(),  # the caller's span, if one is recorded
        }
        # Most ids are new: the actor runs the code's first step on the start and appends
        # both as seq 1...; only if the id has a history does the start look at it.
        run_id = new_id()
        events = self._start_events(workflow_id, 0, run_id, started, attributes, timeout, signal)
        try:
            self._ask(workflow_id, msg.BeginRun(events), fresh=True)
        except SequenceConflict:
            head = self.store.head_seq(workflow_id)
            started["parent_run_id"] = self._reusable_run(workflow_id, namespace)
            events = self._start_events(
                workflow_id, head, run_id, started, attributes, timeout, signal
            )
            try:
                self.writer.append(workflow_id, events, head)
            except SequenceConflict:
                raise AlreadyExists(f"workflow {workflow_id!r} was started concurrently") from None
            self.runtime.woken.add(workflow_id)  # the start set its wake flag
            for deadline in events[2:]:
                if isinstance(deadline, ev.TimerStarted):
                    self.timers.arm(
                        workflow_id, deadline.timer_id, deadline.fire_at
                    )  # row: appended
            self.residency.ref_for(workflow_id)  # its actor boots the new run
        return WorkflowHandle(workflow_id, run_id, engine=self, workflow_type=workflow_type)

    def _refuse_legacy_holder(self, namespace: str, key: str) -> None:
        """A store from before per-namespace ids may run this id of ``namespace`` under
        its bare id: one id names one running workflow per namespace, old or new."""
        bare = legacy_key(namespace, public_id(key))
        if bare is None:
            return
        held = self.store.get_summary(bare)
        if held is not None and held.namespace == namespace and not held.status.is_terminal:
            raise AlreadyExists(f"workflow {bare!r} is already running")

    def _reusable_run(self, workflow_id: str, namespace: str) -> str:
        """The finished run a new start of ``workflow_id`` follows; refuses a live or foreign id."""
        summary = self.store.get_summary(workflow_id)
        if summary is None or not summary.status.is_terminal:
            raise AlreadyExists(f"workflow {workflow_id!r} is already running")
        if summary.namespace != namespace:
            # A finished id may start again, but never into another namespace's history.
            raise AlreadyExists(f"workflow id {workflow_id!r} is taken in another namespace")
        self.residency.evict(workflow_id)
        return summary.run_id

    def _start_events(
        self,
        workflow_id: str,
        head: int,
        run_id: str,
        started: dict[str, Any],
        attributes: SearchAttributes,
        timeout: float | None,
        signal: tuple[str, Any] | None = None,
    ) -> list[ev.Event]:
        """A new run's start events after ``head``, stamped now."""
        return start_events(
            workflow_id,
            head,
            self.clock.now(),
            started={**started, "run_id": run_id},
            attributes=attributes,
            timeout=timeout,
            signal=signal,
        )

    def signal(self, workflow_id: str, name: str, payload: Any = None) -> None:
        """Record a signal (durable before this returns) and deliver it."""
        try:
            payload = ensure_json(to_json(payload), f"payload of signal {name!r}")
        except TypeError as exc:
            raise InvalidInput(str(exc)) from None
        summary = self._require_running(workflow_id)
        check_signal_payload(self.registry, summary.workflow_type, name, payload)
        self._ask(workflow_id, msg.DeliverSignal(name, payload))

    def query(self, workflow_id: str, name: str, *args: Any) -> Any:
        """Answer a query from the live workflow's state; history is not touched."""
        self._require_running(workflow_id)
        args = tuple(to_json(arg) for arg in args)
        return self._ask(workflow_id, msg.RunQuery(name, args), timeout=self.settings.query_timeout)

    def cancel(
        self, workflow_id: str, reason: str | None = None, *, terminate: bool = False
    ) -> None:
        """Request a cancel: record WorkflowCancelRequested and stop its timers and activities.

        The workflow code then sees ``workflow.CancelledError`` where it waits and may run
        compensation; the run ends when the code does: Cancelled if the cancellation
        propagates out of it, Completed if it returns. ``terminate=True`` records
        WorkflowCancelled at once and gives the code no further step.
        """
        self._require_running(workflow_id)
        self._ask(workflow_id, msg.CancelRun(reason or "cancelled", terminate))

    def pause(
        self, workflow_id: str, reason: str | None = None, operator: str | None = None
    ) -> dict[str, str]:
        """Hold new activity dispatch (timers, signals and completions still record)."""
        self._require_running(workflow_id)
        return self._ask(workflow_id, msg.PauseRun(reason, operator))

    def resume(self, workflow_id: str, operator: str | None = None) -> dict[str, str]:
        """Release a paused workflow's held activity dispatch."""
        self._require_running(workflow_id)
        return self._ask(workflow_id, msg.ResumeRun(operator))

    def reopen(self, workflow_id: str) -> dict[str, str]:
        """Run a Failed or Cancelled run again from where it stopped, by replay.

        Activities that failed for good are retried (their attempt trail goes on);
        timers and activities retired by a cancel are armed and dispatched again.
        """
        summary = self._require(workflow_id)
        if summary.status not in (WorkflowStatus.FAILED, WorkflowStatus.CANCELLED):
            raise InvalidState(
                f"only Failed or Cancelled workflows can be reopened; {workflow_id!r} is"
                f" {summary.status.value}"
            )
        history = self.store.read_history(workflow_id)
        reopened = reopen_event(workflow_id, history, summary.run_id, self.clock.now())
        self.residency.evict(workflow_id)
        try:
            self.writer.append(workflow_id, [reopened], len(history))
        except SequenceConflict:
            raise InvalidState(f"workflow {workflow_id!r} changed while reopening") from None
        self.runtime.woken.add(workflow_id)
        self.residency.ref_for(workflow_id)
        return {"workflow_id": workflow_id, "run_id": summary.run_id, "status": "Running"}

    def result(self, workflow_id: str, timeout: float | None = None) -> Any:
        """Wait for the workflow to end: its result, or a typed error for how it ended."""
        slot = self.waiters.register(workflow_id)
        try:
            terminal = None
            # The summary commits with the events: a running workflow needs no history read.
            if self._require(workflow_id).status.is_terminal:
                terminal = current_lease_terminal(self.store.read_history(workflow_id))
            if terminal is None:
                flag, box = slot
                if not flag.wait(timeout):
                    raise ResultTimeout(f"workflow {workflow_id!r} did not finish in {timeout} s")
                terminal = box[0]
            return outcome_of(terminal)
        finally:
            self.waiters.unregister(workflow_id, slot)

    def describe(self, workflow_id: str) -> WorkflowDescription:
        summary = self._require(workflow_id)
        history = self.store.read_history(workflow_id)
        activities, timers = pending_work(history)
        for pending in activities:  # which remote worker holds it (None: in-process or queued)
            pending["worker"] = self.task_queues.holder(workflow_id, pending["activity_id"])
        return WorkflowDescription(
            summary=summary,
            pending_activities=activities,
            pending_timers=timers,
            runs=self.store.read_run_chain(workflow_id),
            resident=self.residency.is_resident(workflow_id),
            problem=None if summary.status.is_terminal else self._code_problem(history),
        )

    def _code_problem(self, history: list[ev.Event]) -> str | None:
        """Why the latest run's code cannot be found here, if it cannot."""
        started = next((e for e in reversed(history) if isinstance(e, ev.WorkflowStarted)), None)
        if started is None:
            return "history has no WorkflowStarted"
        try:
            self.registry.workflow(started.workflow_type, started.package_version)
        except AionError as exc:
            return exc.message
        return None

    def history(self, workflow_id: str, from_seq: int = 1) -> list[ev.Event]:
        return self.store.read_history_from(workflow_id, from_seq)

    def list_workflows(self, **filter_fields: Any) -> WorkflowPage:
        return self.store.query(WorkflowFilter(**filter_fields))

    def count_workflows(self, **filter_fields: Any) -> int:
        return self.store.count(WorkflowFilter(**filter_fields))

    def summary(self, workflow_id: str) -> WorkflowSummary | None:
        """The workflow's visibility row (status, type, namespace...), read without replay."""
        return self.store.get_summary(workflow_id)

    def head_seq(self, workflow_id: str) -> int:
        """The seq of the workflow's last recorded event (0 if it has none)."""
        return self.store.head_seq(workflow_id)

    def _require(self, workflow_id: str) -> WorkflowSummary:
        summary = self.store.get_summary(workflow_id)
        if summary is None:
            raise WorkflowNotFound(workflow_id)
        return summary

    def _require_running(self, workflow_id: str) -> WorkflowSummary:
        """Refuse terminal workflows up front: no actor, nothing appended."""
        summary = self._require(workflow_id)
        if summary.status.is_terminal:
            raise NotRunning(f"workflow {workflow_id!r} is {summary.status.value}")
        return summary

    def add_commit_listener(self, listener: Callable[[Sequence[ev.Event]], None]) -> None:
        """Call ``listener`` with every committed batch of events, in commit order, after commit.

        It runs on the writer thread: it must be quick and must not call the engine.
        """
        self.writer.add_listener(listener)

    def add_positioned_commit_listener(
        self, listener: Callable[[Sequence[CommittedEvent]], None]
    ) -> None:
        """:meth:`add_commit_listener` with each event's position in the store's global
        commit order, events in that order (the event stream's feed)."""
        self.writer.add_positioned_listener(listener)

    def workflow_types(self) -> list[str]:
        return sorted(self.registry.workflows)

    def drain(self) -> None:
        """Refuse new starts (Unavailable) while work in flight reaches a durable point."""
        self._draining = True

    @property
    def draining(self) -> bool:
        return self._draining

    def evict_idle(self) -> int:
        """Evict idle and finished workflows now (the sweeper does it every sweep_interval)."""
        return self.residency.sweep()

    # ---- lifecycle -------------------------------------------------------------------------
    def shutdown(self, drain_seconds: float | None = None) -> None:
        """Drain, then stop everything.

        New starts are refused and no new activity attempt begins; attempts already
        running get ``drain_seconds`` (default: the ``drain_seconds`` setting, 30 s) to
        finish, and their outcomes are recorded before the workflows stop. An attempt
        still running after that is abandoned: its outcome is not recorded and recovery
        runs it again. Its thread (Python cannot kill one) is the only one that may
        outlive this call.
        """
        if self._closed:
            return
        self._draining = True
        if self.schedules is not None:
            self.schedules.stop()  # no new ticks while the rest winds down
        self.timers.close()  # rows stay in the store: the next engine arms them
        window = self.settings.drain_seconds if drain_seconds is None else drain_seconds
        drained = self.executor.drain(window)
        self._await_recorded(self._drained)
        self._closed = True
        self._sweeper.cancel()
        self.ops.close()
        self.executor.shutdown(wait=drained)
        with contextlib.suppress(pykka.ActorDeadError):
            self.supervisor.stop(timeout=60)
        self.dispatcher.close()
        self.writer.close()
        self.clock.close()
        self.store.close()
        if self._claim is not None:  # last: the lock outlives every write of this engine
            self._claim.release()

    def _await_recorded(self, workflow_ids: set[str]) -> None:
        """Wait until each workflow has handled the outcomes it was told of (they come
        before a Ping in its mailbox, and an actor records an outcome before it goes on)."""
        for workflow_id in list(workflow_ids):
            with contextlib.suppress(pykka.ActorDeadError, pykka.Timeout, Unavailable):
                self.residency.ref_for(workflow_id).ask(msg.Ping(), timeout=30)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    start_workflow_async = AsyncTwin()
    signal_async = AsyncTwin()
    query_async = AsyncTwin()
    cancel_async = AsyncTwin()
    pause_async = AsyncTwin()
    resume_async = AsyncTwin()
    reopen_async = AsyncTwin()
    result_async = AsyncTwin()
    describe_async = AsyncTwin()
    history_async = AsyncTwin()
    summary_async = AsyncTwin()
    head_seq_async = AsyncTwin()
    list_workflows_async = AsyncTwin()
    count_workflows_async = AsyncTwin()
    shutdown_async = AsyncTwin()


def _claim_database(store: EventStore, *, close_on_refusal: bool) -> DatabaseClaim | None:
    """A PostgreSQL store's engine lock (exclusive for a lone engine, shared for a cluster
    node: aionactors.cluster._tenancy); DatabaseInUse when another engine excludes us."""
    from aionactors.cluster._tenancy import claim_database  # the cluster package imports us

    try:
        return claim_database(store)
    except BaseException:
        if close_on_refusal:
            store.close()
        raise
