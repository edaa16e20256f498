"""Exponential backoff with jitter between restarts of one child."""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field

_MAX_EXPONENT = 200  # keeps multiplier ** attempt finite; maximum caps the delay long before


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a supervisor waits before restarting a child that keeps crashing.

    Like Akka's BackoffSupervisor: the n-th consecutive restart (n from 0)
    waits ``min(maximum, initial * multiplier ** n)``, shortened by up to
    ``jitter`` (a fraction) at random so that children that crashed together
    (say, against a database that went down) do not retry in lockstep. A child
    that ran ``reset_after`` seconds (default ``maximum``) before crashing
    starts again from ``initial``. Restarts still count toward the
    supervisor's restart intensity. The wait happens on the supervisor's clock,
    never in its mailbox.

    Example::

        Supervisor.start(children, backoff=Backoff(initial=0.5, maximum=30.0, jitter=0.2))
    """

    initial: float = 0.1
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    reset_after: float | None = None
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)
    """Uniform numbers in [0, 1); inject one to make delays reproducible."""

    def __post_init__(self) -> None:
        if not 0 <= self.initial <= self.maximum:
            msg = "Backoff needs 0 <= initial <= maximum"
            raise ValueError(msg)
        if self.multiplier < 1:
            msg = "Backoff needs multiplier >= 1"
            raise ValueError(msg)
        if not 0 <= self.jitter <= 1:
            msg = "Backoff needs 0 <= jitter <= 1"
            raise ValueError(msg)

    def base_delay(self, attempt: int) -> float:
        """The delay before jitter for the ``attempt``-th consecutive restart (from 0)."""
        return min(self.maximum, self.initial * self.multiplier ** min(attempt, _MAX_EXPONENT))

    def delay(self, attempt: int) -> float:
        """A delay in ``[base * (1 - jitter), base]``."""
        return self.base_delay(attempt) * (1.0 - self.jitter * self.random())

    @property
    def healthy_after(self) -> float:
        """Run time after which a child's crash counts as the first again."""
        return self.maximum if self.reset_after is None else self.reset_after
