"""Overlap and catch-up policies as pure decisions (no clock, no store, no engine).

The evaluator asks ``decide_overlap`` what to do with one tick, and
``plan_catch_up`` what to do with a run of due ticks; both answer with data
that the evaluator then records and acts on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aionactors.core.schedules import CatchUpPolicy, OverlapPolicy, SkipReason


class OverlapDecision(StrEnum):
    START = "start"
    SKIP = "skip"
    BUFFER = "buffer"
    CANCEL_THEN_START = "cancel_then_start"
    TERMINATE_THEN_START = "terminate_then_start"


def decide_overlap(policy: OverlapPolicy, running: int, buffered: int) -> OverlapDecision:
    """What one tick does, given how many runs are in progress and ticks are buffered."""
    if running == 0:
        return OverlapDecision.START
    match policy:
        case OverlapPolicy.ALLOW_ALL:
            return OverlapDecision.START
        case OverlapPolicy.SKIP:
            return OverlapDecision.SKIP
        case OverlapPolicy.BUFFER_ONE:
            return OverlapDecision.BUFFER if buffered == 0 else OverlapDecision.SKIP
        case OverlapPolicy.BUFFER_ALL:
            return OverlapDecision.BUFFER
        case OverlapPolicy.CANCEL_PREVIOUS:
            return OverlapDecision.CANCEL_THEN_START
        case OverlapPolicy.TERMINATE_PREVIOUS:
            return OverlapDecision.TERMINATE_THEN_START
    raise ValueError(f"unknown overlap policy {policy!r}")


@dataclass(frozen=True, slots=True)
class Fire:
    """Handle this tick under the overlap policy."""

    fire_at: datetime


@dataclass(frozen=True, slots=True)
class Skip:
    """Let ticks ``first``..``last`` pass without a run."""

    first: datetime
    last: datetime
    reason: SkipReason


Step = Fire | Skip


def plan_catch_up(
    policy: CatchUpPolicy,
    due: list[datetime],
    now: datetime,
    window_seconds: float | None,
) -> list[Step]:
    """Steps for ticks that came due, oldest first; together they cover every tick in ``due``.

    Ticks older than the window are skipped as late whatever the policy. Of the
    rest, ``all`` fires each, ``one`` fires the first and skips the others (as
    the reference does), ``skip`` fires none. The evaluator plans live ticks with
    ``all`` and ticks missed while it was down with the schedule's own policy.
    """
    if not due:
        return []
    steps: list[Step] = []
    fresh = due
    if window_seconds is not None:
        horizon = now - timedelta(seconds=window_seconds)
        late = [t for t in due if t < horizon]
        fresh = due[len(late) :]
        if late:
            steps.append(Skip(late[0], late[-1], SkipReason.LATE))
    if not fresh:
        return steps
    match policy:
        case CatchUpPolicy.ALL:
            steps.extend(Fire(t) for t in fresh)
        case CatchUpPolicy.ONE:
            steps.append(Fire(fresh[0]))
            if len(fresh) > 1:
                steps.append(Skip(fresh[1], fresh[-1], SkipReason.CATCH_UP))
        case CatchUpPolicy.SKIP:
            steps.append(Skip(fresh[0], fresh[-1], SkipReason.CATCH_UP))
    return steps
