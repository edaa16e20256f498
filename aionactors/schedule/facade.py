"""The public face of schedules: one supervised actor per schedule, over an engine.

>>> schedules = Schedules.start(engine)                            # doctest: +SKIP
>>> state = schedules.create({"spec": {"cron": "*/5 * * * *"},     # doctest: +SKIP
...                           "workflow_type": "report"})
>>> schedules.describe(state.schedule_id).next_fire_times          # doctest: +SKIP
>>> schedules.stop()                                               # before engine.shutdown()

Schedule ids are per namespace: a method naming a schedule looks it up in its
``namespace`` (``default`` unless given), so two namespaces may each have a
"nightly". Every method has an ``*_async`` twin that runs it off the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pykka
from pydantic import ValidationError

from aionactors.core.async_twin import AsyncTwin
from aionactors.core.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidState,
    ScheduleNotFound,
    StoreError,
    Unavailable,
)
from aionactors.core.events import Event
from aionactors.core.ids import new_id
from aionactors.core.schedules import OverlapPolicy, ScheduleConfig
from aionactors.core.search import DEFAULT_NAMESPACE, NAMESPACE_ATTRIBUTE, StringValue
from aionactors.core.timestamps import as_utc
from aionactors.core.workflow_keys import KEY_SEPARATOR, key_namespace, legacy_key, public_id
from aionactors.schedule import messages as msg
from aionactors.schedule.actor import ScheduleActor, ScheduleBroken, ScheduleRuntime, described
from aionactors.schedule.directory import Directory
from aionactors.schedule.seams import (
    ENDED_STATUSES,
    SCHEDULE_ID_ATTRIBUTE,
    EngineLike,
    Seams,
    engine_seams,
)
from aionactors.schedule.state import (
    DEFAULT_RECENT_LIMIT,
    ScheduleProjection,
    ScheduleState,
    history_id,
    schedule_key,
    schedule_of,
)
from aionactors.schedule.triggers import validate_spec
from supervision import (
    Backoff,
    ChildAlreadyStarted,
    ChildNotFound,
    ChildSpec,
    DynamicSupervisor,
    Restart,
)

_log = logging.getLogger(__name__)
_ENDING_STATUS = {f"Workflow{status}": status for status in ENDED_STATUSES}
_ASK_TIMEOUT = 60.0
_REBIND_WAIT = 10.0


Admit = Callable[[str], None]
"""Raises unless this process runs the schedule of that id (a cluster node's shard check)."""
Belongs = Callable[[str], bool]


class Schedules:
    """Cron and interval schedules that start workflows on an engine. Build with :meth:`start`.

    Stop it (``stop()``) before the engine shuts down. With ``admit`` (a cluster node),
    this process runs only the schedules ``admit`` lets through: :meth:`adopt` and
    :meth:`release` start and stop their actors as shards change hands, and a schedule
    of an owned shard that has no actor yet gets one when first asked.
    """

    def __init__(
        self,
        engine: EngineLike,
        *,
        seams: Seams | None = None,
        recent_limit: int = DEFAULT_RECENT_LIMIT,
        max_due: int = 10_000,
        max_backfill: int = 10_000,
        max_restarts: int = 100,
        restart_period: float = 10.0,
        admit: Admit | None = None,
        deposed: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.engine = engine
        self._seams = seams or engine_seams(engine)
        self._directory = Directory()
        self._admit = admit
        self._recent_limit = recent_limit
        self._runtime = ScheduleRuntime(
            seams=self._seams,
            directory=self._directory,
            recent_limit=recent_limit,
            max_due=max_due,
            max_backfill=max_backfill,
            deposed=deposed,
        )
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._supervisor = DynamicSupervisor.start(
            max_restarts=max_restarts,
            period=restart_period,
            backoff=Backoff(initial=0.01, maximum=1.0),
            name="schedules",
            on_root_failure=lambda exc: _log.critical("the schedule supervisor gave up: %s", exc),
        )
        _allow_schedule_attribute(engine)
        engine.add_commit_listener(self._on_commit)

    @classmethod
    def start(cls, engine: EngineLike, **options: Any) -> Schedules:
        """Start an actor for every schedule in the store; each catches up and re-arms.

        One evaluator per store: an engine opened with ``schedules=True`` (the default)
        already runs one as ``engine.schedules``.
        """
        if getattr(engine, "schedules", None) is not None:
            raise InvalidState(
                "this engine already runs its schedules: use engine.schedules, or open the"
                " engine with schedules=False to run them yourself"
            )
        schedules = cls(engine, **options)
        schedules.adopt(lambda _: True)
        return schedules

    def adopt(self, belongs: Belongs) -> int:
        """Start an actor for every stored schedule of ``belongs`` that has none (each
        catches up and re-arms); returns how many were started."""
        started = 0
        for schedule_id in self._seams.source.schedule_ids():
            if belongs(schedule_id):
                with contextlib.suppress(*self._runtime.deposed):  # lost again meanwhile
                    started += self._load(schedule_id)
        return started

    def release(self, belongs: Belongs) -> int:
        """Stop the actors of ``belongs`` (their schedules stay in the store, for whoever
        adopts them next); returns how many were stopped."""
        with self._lock:
            leaving = [schedule_id for schedule_id in self._known if belongs(schedule_id)]
        for schedule_id in leaving:
            self._terminate(schedule_id)
        return len(leaving)

    def stop(self) -> None:
        """Stop every schedule actor and its timer. Schedules resume on the next start."""
        self._stopped = True
        with contextlib.suppress(pykka.ActorDeadError):
            self._supervisor.stop(timeout=60)

    @property
    def alive(self) -> bool:
        """False once stopped or once the schedule supervisor gave up (readiness reads it)."""
        return not self._stopped and self._supervisor.is_alive()

    def __enter__(self) -> Schedules:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- operations ----------------------------------------------------------------------------
    def create(
        self, config: ScheduleConfig | dict[str, Any], schedule_id: str | None = None
    ) -> ScheduleState:
        """Record ScheduleCreated and arm the schedule in the config's namespace;
        AlreadyExists if that namespace has a schedule of this id."""
        config = self._validated(config)
        schedule_id = new_id() if schedule_id is None else schedule_id
        key = schedule_key(config.namespace, schedule_id)
        taken = AlreadyExists(f"schedule {schedule_id!r} already exists")
        if self._legacy_key(config.namespace, schedule_id) is not None:
            raise taken  # created under its bare id by an earlier version
        self._load(key)  # a cluster node may not have met it yet
        with self._lock:
            if key in self._known:
                raise taken
            self._spawn(key)
        try:
            state: ScheduleState = self._ask(key, msg.Create(config))
        except Exception:
            self._terminate(key)
            raise
        return state

    def update(self, schedule_id: str, config: ScheduleConfig | dict[str, Any]) -> ScheduleState:
        """Replace the whole config of the schedule of this id in the config's namespace
        (a schedule never changes namespace); ticks already due run under the old one first."""
        config = self._validated(config)
        key = self._resolve(config.namespace, schedule_id)
        state: ScheduleState = self._ask(key, msg.Update(config))
        return state

    def pause(self, schedule_id: str, *, namespace: str = DEFAULT_NAMESPACE) -> ScheduleState:
        """No new ticks until resumed (runs in progress go on; buffered ticks wait)."""
        state: ScheduleState = self._ask(self._resolve(namespace, schedule_id), msg.Pause())
        return state

    def resume(self, schedule_id: str, *, namespace: str = DEFAULT_NAMESPACE) -> ScheduleState:
        """Fire again from now on; ticks that fell while paused are not caught up."""
        state: ScheduleState = self._ask(self._resolve(namespace, schedule_id), msg.Resume())
        return state

    def delete(self, schedule_id: str, *, namespace: str = DEFAULT_NAMESPACE) -> None:
        """Record ScheduleDeleted and stop the schedule; its runs in progress go on."""
        key = self._resolve(namespace, schedule_id)
        self._ask(key, msg.Delete())
        self._terminate(key)

    def trigger(
        self,
        schedule_id: str,
        overlap_policy: OverlapPolicy | str | None = None,
        *,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> ScheduleState:
        """Fire now, under the schedule's overlap policy unless another is given."""
        policy = _parse(OverlapPolicy, overlap_policy, "overlap_policy")
        key = self._resolve(namespace, schedule_id)
        state: ScheduleState = self._ask(key, msg.TriggerNow(policy))
        return state

    def describe(
        self, schedule_id: str, fire_times: int = 5, *, namespace: str = DEFAULT_NAMESPACE
    ) -> ScheduleState:
        """The schedule's state with its next ``fire_times`` fire times (none while paused)."""
        if not 0 <= fire_times <= 1000:
            raise InvalidInput("fire_times must be between 0 and 1000")
        key = self._resolve(namespace, schedule_id)
        state: ScheduleState = self._ask(key, msg.Describe(fire_times))
        return state

    def list(self, namespace: str | None = None, fire_times: int = 1) -> list[ScheduleState]:
        """Every schedule (of ``namespace``), soonest next fire first; paused ones last.

        On a cluster node the schedules other nodes run are read from the store (their
        state as last recorded; a tick their owner has not handled yet is not in it).
        """
        with self._lock:
            known = sorted(key for key in self._known if _may_be_in(key, namespace))
        futures = []
        for key in known:
            ref = self._directory.wait_for(key, _REBIND_WAIT)
            if ref is not None:
                futures.append(ref.ask(msg.Describe(fire_times), block=False))
        states: list[ScheduleState] = []
        for future in futures:
            with contextlib.suppress(ScheduleNotFound, ScheduleBroken, pykka.ActorDeadError,
                                     *self._runtime.deposed):  # fmt: skip
                states.append(future.get(timeout=_ASK_TIMEOUT))
        if self._admit is not None:
            for key in self._seams.source.schedule_ids():
                if key not in known and _may_be_in(key, namespace):
                    states.extend(self._read_state(key, fire_times))
        if namespace is not None:
            states = [s for s in states if s.namespace == namespace]
        return sorted(states, key=_list_order)

    def backfill(
        self,
        schedule_id: str,
        start: datetime,
        end: datetime,
        *,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> msg.BackfillResult:
        """Run the ticks of ``[start, end]`` (past only) under the overlap policy.

        Idempotent: a tick whose run exists already is reported, not run again.
        """
        try:
            start, end = as_utc(start), as_utc(end)
        except ValueError as exc:
            raise InvalidInput(f"backfill: {exc}") from None
        key = self._resolve(namespace, schedule_id)
        result: msg.BackfillResult = self._ask(key, msg.Backfill(start, end))
        return result

    create_async = AsyncTwin()
    update_async = AsyncTwin()
    pause_async = AsyncTwin()
    resume_async = AsyncTwin()
    delete_async = AsyncTwin()
    trigger_async = AsyncTwin()
    describe_async = AsyncTwin()
    list_async = AsyncTwin()
    backfill_async = AsyncTwin()

    # ---- plumbing -----------------------------------------------------------------------------
    def _validated(self, config: ScheduleConfig | dict[str, Any]) -> ScheduleConfig:
        if not isinstance(config, ScheduleConfig):
            try:
                config = ScheduleConfig.model_validate(config)
            except ValidationError as exc:
                raise InvalidInput(_first_error(exc)) from None
        validate_spec(config.spec, self._seams.timer.now())
        self.engine.registry.workflow(config.workflow_type)  # WorkflowTypeNotFound if unknown
        attributes = dict(config.search_attributes)
        stamped = attributes.pop(NAMESPACE_ATTRIBUTE, None)
        if stamped is not None and stamped != StringValue(data=config.namespace):
            raise InvalidInput(
                f"search_attributes: {NAMESPACE_ATTRIBUTE!r} must equal the schedule's namespace"
            )
        if SCHEDULE_ID_ATTRIBUTE in attributes:
            raise InvalidInput(f"search_attributes: {SCHEDULE_ID_ATTRIBUTE!r} is set by schedules")
        schema = self.engine.schema
        if schema is not None:
            schema.validate(attributes)
        return config

    def _resolve(self, namespace: str, schedule_id: str) -> str:
        """The key of the schedule ``schedule_id`` of ``namespace``; ScheduleNotFound if it
        has none (whatever other namespaces have under that id)."""
        key = schedule_key(namespace, schedule_id)
        if self._namespace_of(key) == namespace:
            return key
        legacy = self._legacy_key(namespace, schedule_id)
        if legacy is not None:
            return legacy
        raise ScheduleNotFound(schedule_id)

    def _legacy_key(self, namespace: str, schedule_id: str) -> str | None:
        """The bare id, if a schedule of ``namespace`` (not ``default``) lives under it:
        created by a version from before schedule ids were per namespace."""
        bare = legacy_key(namespace, schedule_id)
        if bare is None:
            return None
        with contextlib.suppress(ScheduleBroken):  # unreadable: its namespace is unknown
            if self._namespace_of(bare) == namespace:
                return bare
        return None

    def _namespace_of(self, key: str) -> str | None:
        """The namespace of the live schedule stored under ``key`` (None if there is none).

        A key names its namespace, except a bare one: ``default``'s, or a schedule of
        another namespace that an earlier version stored under its bare id.
        """
        self._load(key)
        if key not in self._known:
            return None
        if KEY_SEPARATOR in key:
            return key_namespace(key)
        try:
            state: ScheduleState = self._ask(key, msg.Describe(0))
        except ScheduleNotFound:
            return None
        return state.namespace

    def _ask(self, key: str, message: Any) -> Any:
        if self._stopped:
            raise Unavailable("schedules are stopped")
        self._load(key)
        for _ in range(3):
            if key not in self._known:
                raise ScheduleNotFound(public_id(key))
            ref = self._directory.wait_for(key, _REBIND_WAIT)
            if ref is None:
                break
            try:
                return ref.ask(message, timeout=_ASK_TIMEOUT)
            except pykka.ActorDeadError:
                continue  # crashed before handling it: nothing happened, ask the next incarnation
        raise Unavailable(f"schedule {public_id(key)!r} could not be reached")

    def _spawn(self, key: str) -> None:
        """Start the schedule's actor (the caller holds ``_lock``)."""
        spec = ChildSpec(
            key,
            ScheduleActor,
            args=(self._runtime, key),
            restart=Restart.TRANSIENT,
            shutdown=30.0,
        )
        try:
            self._supervisor.proxy().start_child(spec).get()
        except ChildAlreadyStarted:
            raise AlreadyExists(f"schedule {public_id(key)!r} already exists") from None
        self._known.add(key)

    def _load(self, schedule_id: str) -> int:
        """Give a stored, live schedule of this process an actor if it has none (1 if so).

        A lone engine met every schedule at start; a cluster node meets those of a shard it
        adopted when asked about them first. ``admit`` raises for another node's schedule.
        """
        if schedule_id in self._known:
            return 0
        if self._admit is not None:
            self._admit(schedule_id)
        if self._is_deleted(schedule_id):
            return 0
        with self._lock:
            if schedule_id in self._known or self._stopped:
                return 0
            with contextlib.suppress(AlreadyExists):
                self._spawn(schedule_id)
                return 1
        return 0

    def _read_state(self, schedule_id: str, fire_times: int) -> list[ScheduleState]:
        """The stored state of a schedule another process runs ([] once deleted)."""
        projection = ScheduleProjection(schedule_id, self._recent_limit)
        try:
            for event in self._seams.source.read_history(history_id(schedule_id)):
                projection.apply(event)
        except Exception:  # unreadable: its owner reports it isolated
            _log.warning(
                "schedule %s: its history cannot be read", public_id(schedule_id), exc_info=True
            )
            return []
        return [described(projection, fire_times)] if projection.exists else []

    def _terminate(self, schedule_id: str) -> None:
        with self._lock:
            self._known.discard(schedule_id)
        with contextlib.suppress(ChildNotFound, pykka.ActorDeadError):
            self._supervisor.proxy().terminate_child(schedule_id).get()

    def _is_deleted(self, schedule_id: str) -> bool:
        """Cheap check on the last event only, so deleted schedules get no actor."""
        store = self.engine.store
        head = store.head_seq(history_id(schedule_id))
        try:
            last = store.read_history_from(history_id(schedule_id), head) if head else []
        except StoreError:  # unreadable: spawn it, and its actor reports it isolated
            return False
        return not last or last[-1].type == "ScheduleDeleted"

    def _on_commit(self, events: Sequence[Event]) -> None:
        """Writer thread: route run endings to their schedule's actor; only enqueue."""
        if self._stopped:
            return
        for event in events:
            status = _ENDING_STATUS.get(event.type)
            if status is None:
                continue
            key = schedule_of(event.workflow_id)
            if key is None:
                continue
            # A schedule an earlier version stored under its bare id has keyed runs too;
            # an actor ignores the ends of runs it does not hold.
            for candidate in {key, public_id(key)}:
                ref = self._directory.get(candidate)
                if ref is not None:
                    with contextlib.suppress(pykka.ActorDeadError):
                        ref.tell(msg.RunEnded(event.workflow_id, status))


def _allow_schedule_attribute(engine: EngineLike) -> None:
    """An engine with a search-attribute schema must know ``aion.schedule_id`` (String)."""
    schema = getattr(engine, "schema", None)
    if schema is not None and SCHEDULE_ID_ATTRIBUTE not in schema.types():
        schema.register(SCHEDULE_ID_ATTRIBUTE, "String")


def _may_be_in(key: str, namespace: str | None) -> bool:
    """Could the schedule of ``key`` be in ``namespace``? (A bare key may be anyone's.)"""
    if namespace is None or KEY_SEPARATOR not in key:
        return True
    return key_namespace(key) == namespace


def _list_order(state: ScheduleState) -> tuple[bool, datetime | str, str]:
    upcoming = state.next_fire_times[0] if state.next_fire_times else None
    return (upcoming is None, upcoming or "", state.schedule_id)


def _parse(kind: type[OverlapPolicy], value: OverlapPolicy | str | None, field: str) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not one of {[p.value for p in kind]}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"]) or "config"
    return f"{location}: {error['msg']}"
