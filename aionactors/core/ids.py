"""Identifiers: workflow, run and schedule ids, activity ordinals and timer ids.

Workflow ids may be any non-empty string up to 255 characters (users choose
them); ids we mint are UUID4 strings. Timer ids have one canonical text form,
``named:<name>`` or ``anonymous:<ordinal>``, used in events and as store keys.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, PlainSerializer, PlainValidator, WithJsonSchema

WORKFLOW_ID_MAX_LENGTH = 255

WorkflowId = Annotated[str, Field(min_length=1, max_length=WORKFLOW_ID_MAX_LENGTH)]
"""A workflow id: minted UUID4 text, or any non-empty user-supplied string."""


ActivityId = Annotated[int, Field(ge=0)]
"""An activity's ordinal within its run: the n-th activity the run scheduled, from 0."""

RESERVED_TIMER_PREFIXES = ("deadline:", "schedule:")
"""Named-timer prefixes that only the engine may mint (run deadlines, schedule ticks)."""


def new_id() -> str:
    """Mint a fresh UUID4 id as text."""
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class TimerId:
    """A durable timer's id: a user/engine-chosen name, or the run's n-th anonymous sleep."""

    name: str | None = None
    ordinal: int | None = None

    def __post_init__(self) -> None:
        if (self.name is None) == (self.ordinal is None):
            raise ValueError("TimerId needs exactly one of name or ordinal")
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise ValueError("a named TimerId needs a non-empty string name")
        if self.ordinal is not None and (
            isinstance(self.ordinal, bool) or not isinstance(self.ordinal, int) or self.ordinal < 0
        ):
            raise ValueError("an anonymous TimerId needs an integer ordinal >= 0")

    @classmethod
    def named(cls, name: str) -> TimerId:
        return cls(name=name)

    @classmethod
    def anonymous(cls, ordinal: int) -> TimerId:
        return cls(ordinal=ordinal)

    @property
    def is_named(self) -> bool:
        return self.name is not None

    @property
    def is_reserved(self) -> bool:
        """True for engine-owned timers (run deadlines, schedule ticks)."""
        return self.name is not None and self.name.startswith(RESERVED_TIMER_PREFIXES)

    def __str__(self) -> str:
        if self.name is not None:
            return f"named:{self.name}"
        return f"anonymous:{self.ordinal}"

    @classmethod
    def parse(cls, text: str) -> TimerId:
        """Parse the canonical text form; raise ValueError naming what is wrong."""
        kind, sep, rest = text.partition(":")
        if sep and kind == "named" and rest:
            return cls(name=rest)
        # Canonical digits only: "٣" or "007" would alias "anonymous:3" / "anonymous:7".
        canonical = rest.isascii() and rest.isdigit() and str(int(rest)) == rest
        if sep and kind == "anonymous" and canonical:
            return cls(ordinal=int(rest))
        raise ValueError(f"timer id {text!r} is neither 'named:<name>' nor 'anonymous:<n>'")


def _timer_id_from_json(value: object) -> TimerId:
    if isinstance(value, TimerId):
        return value
    if isinstance(value, str):
        return TimerId.parse(value)
    raise ValueError(f"timer id must be a string, got {type(value).__name__}")


TimerIdField = Annotated[
    TimerId,
    PlainValidator(_timer_id_from_json),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^(named:.+|anonymous:(0|[1-9][0-9]*))$"}),
]
"""A TimerId as a pydantic field: text in JSON, a TimerId in Python."""
