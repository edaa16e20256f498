"""Overlap decisions and catch-up plans: pure functions, every policy."""

from __future__ import annotations

import pytest

from aionactors.core.schedules import CatchUpPolicy, OverlapPolicy, SkipReason
from aionactors.schedule.policies import Fire, OverlapDecision, Skip, decide_overlap, plan_catch_up
from tests.schedule.support import at

D = OverlapDecision


@pytest.mark.parametrize(
    ("policy", "running", "buffered", "expected"),
    [
        *[(p, 0, 0, D.START) for p in OverlapPolicy],
        (OverlapPolicy.SKIP, 1, 0, D.SKIP),
        (OverlapPolicy.ALLOW_ALL, 3, 0, D.START),
        (OverlapPolicy.BUFFER_ONE, 1, 0, D.BUFFER),
        (OverlapPolicy.BUFFER_ONE, 1, 1, D.SKIP),
        (OverlapPolicy.BUFFER_ALL, 1, 5, D.BUFFER),
        (OverlapPolicy.CANCEL_PREVIOUS, 1, 0, D.CANCEL_THEN_START),
        (OverlapPolicy.TERMINATE_PREVIOUS, 2, 0, D.TERMINATE_THEN_START),
    ],
)
def test_decide_overlap(policy, running, buffered, expected) -> None:
    assert decide_overlap(policy, running, buffered) is expected


DUE = [at(60 * k) for k in range(1, 6)]
NOW = at(330)


def test_catch_up_all_fires_each() -> None:
    assert plan_catch_up(CatchUpPolicy.ALL, DUE, NOW, None) == [Fire(t) for t in DUE]


def test_catch_up_one_fires_the_first_and_skips_the_rest() -> None:
    assert plan_catch_up(CatchUpPolicy.ONE, DUE, NOW, None) == [
        Fire(DUE[0]),
        Skip(DUE[1], DUE[-1], SkipReason.CATCH_UP),
    ]
    assert plan_catch_up(CatchUpPolicy.ONE, DUE[:1], NOW, None) == [Fire(DUE[0])]


def test_catch_up_skip_fires_none() -> None:
    assert plan_catch_up(CatchUpPolicy.SKIP, DUE, NOW, None) == [
        Skip(DUE[0], DUE[-1], SkipReason.CATCH_UP)
    ]


def test_window_skips_late_ticks_whatever_the_policy() -> None:
    # window 100 s before 00:05:30 reaches back to 00:03:50: 00:04 and 00:05 are fresh
    late = Skip(DUE[0], DUE[2], SkipReason.LATE)
    assert plan_catch_up(CatchUpPolicy.ALL, DUE, NOW, 100) == [late, Fire(DUE[3]), Fire(DUE[4])]
    assert plan_catch_up(CatchUpPolicy.ONE, DUE, NOW, 100) == [
        late,
        Fire(DUE[3]),
        Skip(DUE[4], DUE[4], SkipReason.CATCH_UP),
    ]
    assert plan_catch_up(CatchUpPolicy.ALL, DUE, NOW, 1) == [Skip(DUE[0], DUE[-1], SkipReason.LATE)]


def test_nothing_due_plans_nothing() -> None:
    for policy in CatchUpPolicy:
        assert plan_catch_up(policy, [], NOW, 10) == []
