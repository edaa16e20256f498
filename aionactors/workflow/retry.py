"""RetryPolicy: how the engine retries a failed activity attempt.

Attempts are 1-based. The delay before attempt n+1 is
``initial_interval * backoff_coefficient ** (n - 1)``, capped at
``maximum_interval``. ``maximum_attempts`` counts every attempt including the
first; 0 means no limit. An activity with no policy runs exactly once.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    initial_interval: float = Field(default=1.0, ge=0, description="seconds before attempt 2")
    backoff_coefficient: float = Field(default=2.0, ge=1.0)
    maximum_interval: float | None = Field(default=None, ge=0, description="cap, in seconds")
    maximum_attempts: int = Field(default=3, ge=0, description="0 = unlimited")
    non_retryable_error_types: tuple[str, ...] = ()

    @field_validator("initial_interval", "maximum_interval", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        return value.total_seconds() if isinstance(value, timedelta) else value

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` before the next one."""
        delay = self.initial_interval * self.backoff_coefficient ** max(attempt - 1, 0)
        if self.maximum_interval is not None:
            delay = min(delay, self.maximum_interval)
        return delay

    def allows_retry(self, attempt: int, error_type: str | None) -> bool:
        """Whether failed attempt ``attempt`` (1-based) with ``error_type`` gets another try."""
        if error_type is not None and error_type in self.non_retryable_error_types:
            return False
        return self.maximum_attempts == 0 or attempt < self.maximum_attempts


NO_RETRY = RetryPolicy(maximum_attempts=1)
"""The policy of an activity started without one: exactly one attempt."""
