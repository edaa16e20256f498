"""When a schedule fires: cron (croniter, in an IANA time zone) and fixed intervals.

Cron expressions are walked in *local wall-clock* time (naive datetimes) and
each wall-clock match is then placed on the UTC line by hand, because croniter
over an aware datetime fires an ambiguous local time twice. The rules:

- a local time skipped by a DST jump fires once, at the first valid instant
  after the gap (``30 2 * * *`` on a spring-forward night fires at 03:00);
- an ambiguous local time (the repeated hour when clocks go back) fires once,
  at its first occurrence.

Intervals are anchored on the Unix epoch plus a phase offset, in whole
microseconds, so they never drift. ``start_at``/``end_at`` bound both kinds.
Jitter is a pure function of (schedule id, fire time): recovery recomputes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice, takewhile
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from aionactors.core.errors import InvalidInput
from aionactors.core.schedules import ScheduleSpec
from aionactors.core.timestamps import from_micros, to_micros

_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_TINY = timedelta(microseconds=1)
_MAX_SKIPS = 100_000
"""Cron matches that may map before ``after`` in one query (a repeated hour of seconds)."""


@dataclass(frozen=True, slots=True)
class _Cron:
    expression: str
    seconds_first: bool
    zone: ZoneInfo

    def walker(self, local_start: datetime) -> croniter:
        return croniter(self.expression, local_start, second_at_beginning=self.seconds_first)


@dataclass(frozen=True, slots=True)
class _Interval:
    every_us: int
    offset_us: int


@dataclass(frozen=True, slots=True)
class _Trigger:
    rule: _Cron | _Interval
    start_at: datetime | None
    end_at: datetime | None


def validate_spec(spec: ScheduleSpec, now: datetime | None = None) -> None:
    """Raise InvalidInput naming the field if the spec cannot fire as written: it must
    compile, and its next fire time (from ``now``) must be a representable datetime."""
    _compile(spec)
    try:
        next_fire_times(spec, now or datetime.now(UTC), 1)
    except (OverflowError, OSError, ValueError) as exc:
        field = "spec.every_seconds" if spec.every_seconds is not None else "spec"
        raise InvalidInput(f"{field}: its fire times are out of range ({exc})") from None


def next_fire_times(spec: ScheduleSpec, after: datetime, n: int = 1) -> list[datetime]:
    """Up to ``n`` fire times strictly after ``after`` (UTC, ascending, no duplicates)."""
    return list(islice(_bounded_forward(spec, after), n))


def previous_fire_times(
    spec: ScheduleSpec, at_or_before: datetime, n: int = 1, *, after: datetime | None = None
) -> list[datetime]:
    """Up to ``n`` fire times at or before ``at_or_before`` (and strictly after ``after``),
    newest first."""
    trigger = _compile(spec)
    if trigger.end_at is not None and at_or_before > trigger.end_at:
        at_or_before = trigger.end_at
    floor = trigger.start_at - _TINY if trigger.start_at is not None else None
    if after is not None:
        floor = after if floor is None else max(floor, after)
    times: list[datetime] = []
    if floor is not None and at_or_before <= floor:
        return times
    for fire_at in _backward(trigger.rule, at_or_before):
        if len(times) >= n or (floor is not None and fire_at <= floor):
            break
        times.append(fire_at)
    return times


def fire_times_between(
    spec: ScheduleSpec, after: datetime, until: datetime, limit: int
) -> list[datetime]:
    """Fire times in ``(after, until]``, ascending, at most ``limit`` of them (the earliest)."""
    if until <= after:
        return []
    return list(islice(takewhile(lambda t: t <= until, _bounded_forward(spec, after)), limit))


@dataclass(frozen=True, slots=True)
class DueTicks:
    due: list[datetime]
    """Ticks whose (jittered) time has come, oldest first; a tick still waiting on its
    jitter holds back the ticks after it."""
    dropped: tuple[datetime, datetime] | None = None
    """The first and last of older due ticks beyond the limit, if there were any."""


def due_ticks(
    spec: ScheduleSpec, schedule_id: str, after: datetime, now: datetime, limit: int
) -> DueTicks:
    """The ticks after ``after`` that are due at ``now``: at most the ``limit`` newest."""
    upcoming = next_fire_times(spec, after, 1)
    if not upcoming or upcoming[0] + jitter(schedule_id, upcoming[0], spec) > now:
        return DueTicks([])
    ticks = previous_fire_times(spec, now, limit, after=after)[::-1]
    dropped = None
    if ticks[0] > upcoming[0]:
        dropped = (upcoming[0], previous_fire_times(spec, ticks[0] - _TINY, 1)[0])
    due: list[datetime] = []
    for tick in ticks:
        if tick + jitter(schedule_id, tick, spec) > now:
            break
        due.append(tick)
    return DueTicks(due, dropped)


def backfill_ticks(
    spec: ScheduleSpec, start: datetime, end: datetime, limit: int
) -> list[datetime]:
    """The fire times of ``[start, end]``; InvalidInput if the range is empty or too long."""
    if end <= start:
        raise InvalidInput("backfill: 'end' must be after 'start'")
    ticks = fire_times_between(spec, start - _TINY, end, limit + 1)
    if len(ticks) > limit:
        raise InvalidInput(
            f"backfill: the range holds more than {limit} fire times; split it into smaller ranges"
        )
    return ticks


def jitter(schedule_id: str, fire_at: datetime, spec: ScheduleSpec) -> timedelta:
    """A delay in ``[0, jitter_seconds)`` derived from (schedule id, fire time) by hashing."""
    if not spec.jitter_seconds:
        return timedelta(0)
    digest = hashlib.sha256(f"{schedule_id}|{to_micros(fire_at)}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(microseconds=int(fraction * spec.jitter_seconds * 1_000_000))


def _bounded_forward(spec: ScheduleSpec, after: datetime) -> Iterator[datetime]:
    trigger = _compile(spec)
    if trigger.start_at is not None and after < trigger.start_at:
        after = trigger.start_at - _TINY
    for fire_at in _forward(trigger.rule, after):
        if trigger.end_at is not None and fire_at > trigger.end_at:
            return
        yield fire_at


# ---- compiling a spec ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _compile(spec: ScheduleSpec) -> _Trigger:
    zone = _zone(spec.timezone)
    rule: _Cron | _Interval
    if spec.cron is not None:
        rule = _compile_cron(spec.cron, zone)
    else:
        assert spec.every_seconds is not None  # the model guarantees one of the two
        rule = _compile_interval(spec.every_seconds, spec.offset_seconds)
    trigger = _Trigger(rule, spec.start_at, spec.end_at)
    if isinstance(rule, _Cron):
        try:  # an expression like "0 0 30 2 *" parses but never matches
            next(_forward(rule, spec.start_at or datetime(2000, 1, 1, tzinfo=UTC)))
        except (CroniterBadDateError, StopIteration):
            raise InvalidInput(f"spec.cron: {spec.cron!r} never fires") from None
    return trigger


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"spec.timezone: {name!r} is not an IANA time zone (e.g. 'Europe/Berlin', 'UTC')"
        ) from None


def _compile_cron(expression: str, zone: ZoneInfo) -> _Cron:
    text = " ".join(expression.split())
    if text.startswith("@"):
        if text.lower() not in _ALIASES:
            raise InvalidInput(
                f"spec.cron: unknown alias {expression!r}; use one of {', '.join(sorted(_ALIASES))}"
            )
        return _Cron(text.lower(), False, zone)
    fields = len(text.split(" "))
    if fields not in (5, 6):
        raise InvalidInput(
            f"spec.cron: {expression!r} has {fields} fields; use 5 (minute hour day month"
            " weekday) or 6 (second first, then those five)"
        )
    cron = _Cron(text, fields == 6, zone)
    try:
        cron.walker(datetime(2000, 1, 1))
    except (CroniterError, ValueError, KeyError) as exc:
        raise InvalidInput(f"spec.cron: {expression!r} is not a valid expression: {exc}") from None
    return cron


def _compile_interval(every_seconds: float, offset_seconds: float) -> _Interval:
    every_us = round(every_seconds * 1_000_000)
    offset_us = round(offset_seconds * 1_000_000)
    if every_us < 1:
        raise InvalidInput("spec.every_seconds must be at least one microsecond")
    if offset_us >= every_us:
        raise InvalidInput(
            f"spec.offset_seconds ({offset_seconds}) must be less than spec.every_seconds"
            f" ({every_seconds})"
        )
    return _Interval(every_us, offset_us)


# ---- walking the time line -------------------------------------------------------------------


def _forward(rule: _Cron | _Interval, after: datetime) -> Iterator[datetime]:
    if isinstance(rule, _Interval):
        k = (to_micros(after) - rule.offset_us) // rule.every_us + 1
        while True:
            yield from_micros(rule.offset_us + k * rule.every_us)
            k += 1
    last = after
    skips = 0
    walker = rule.walker(_local(after, rule.zone))
    while True:
        wall = walker.get_next(datetime)
        instant = _instant(wall, rule.zone)
        if instant > last:
            last = instant
            skips = 0
            yield instant
            continue
        skips += 1  # a first occurrence before `after`, or a gap collapsing onto one instant
        if skips > _MAX_SKIPS:
            raise CroniterBadDateError("no fire time found")
        if _is_ambiguous(wall, rule.zone):
            walker = rule.walker(_fold_end(wall, rule.zone) - _TINY)


def _backward(rule: _Cron | _Interval, at_or_before: datetime) -> Iterator[datetime]:
    if isinstance(rule, _Interval):
        k = (to_micros(at_or_before) - rule.offset_us) // rule.every_us
        while True:
            yield from_micros(rule.offset_us + k * rule.every_us)
            k -= 1
    wall_start = _local(at_or_before, rule.zone)
    if _is_ambiguous(wall_start, rule.zone):
        # Matches later in the repeated hour fired at their first occurrence, before now.
        wall_start = _fold_end(wall_start, rule.zone)
    walker = rule.walker(wall_start + _TINY)
    last: datetime | None = None
    while True:
        instant = _instant(walker.get_prev(datetime), rule.zone)
        if instant <= at_or_before and (last is None or instant < last):
            last = instant
            yield instant


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """Where a wall-clock time lands in UTC: its first occurrence, or the end of its gap."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first == second or _local(first, zone) == wall:
        return min(first, second)
    # Skipped by a DST jump: the first instant whose wall-clock time is past `wall`.
    low, high = (
        to_micros(min(first, second)) // 1_000_000,
        to_micros(max(first, second)) // 1_000_000,
    )
    while low < high:
        middle = (low + high) // 2
        if _local(from_micros(middle * 1_000_000), zone) >= wall:
            high = middle
        else:
            low = middle + 1
    return from_micros(low * 1_000_000)


def _is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset() and _local(first.astimezone(UTC), zone) == wall


def _fold_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first wall-clock time after the repeated interval that contains ``wall``."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    # The clocks went back at some instant in (first, second]; the repeat ends `second - first`
    # of wall-clock time after the wall time at that instant.
    low, high = to_micros(first) // 1_000_000 + 1, to_micros(second) // 1_000_000
    offset = second.astimezone(zone).utcoffset()
    while low < high:
        middle = (low + high) // 2
        if from_micros(middle * 1_000_000).astimezone(zone).utcoffset() == offset:
            high = middle
        else:
            low = middle + 1
    switch = from_micros(low * 1_000_000)
    return _local(switch, zone) + (second - first)
