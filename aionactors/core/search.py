"""Search attributes: typed values, the name→type schema, and list predicates.

Values travel as ``{"type": "String", "data": "x"}`` so a Datetime and a String
that look alike never compare equal. The two reserved names are filled by the
engine: ``aion.namespace`` (the owning namespace) and ``aion.task_queue``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from aionactors.core.errors import InvalidInput
from aionactors.core.timestamps import UtcDatetime

NAMESPACE_ATTRIBUTE = "aion.namespace"
TASK_QUEUE_ATTRIBUTE = "aion.task_queue"
PACKAGE_VERSION_ATTRIBUTE = "aion.package_version"
"""The package version a run is pinned to (absent for in-process code): counts pinned runs."""
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "default"


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StringValue(_Value):
    type: Literal["String"] = "String"
    data: str


class IntValue(_Value):
    type: Literal["Int"] = "Int"
    data: int


class FloatValue(_Value):
    type: Literal["Float"] = "Float"
    # JSON cannot carry NaN/inf: they would be written as null and fail to read back.
    data: float = Field(allow_inf_nan=False)


class BoolValue(_Value):
    type: Literal["Bool"] = "Bool"
    data: bool


class DatetimeValue(_Value):
    type: Literal["Datetime"] = "Datetime"
    data: UtcDatetime


class KeywordListValue(_Value):
    type: Literal["KeywordList"] = "KeywordList"
    data: tuple[str, ...]


SearchAttributeValue = Annotated[
    StringValue | IntValue | FloatValue | BoolValue | DatetimeValue | KeywordListValue,
    Field(discriminator="type"),
]
SearchAttributes = dict[str, SearchAttributeValue]
SEARCH_ATTRIBUTES_ADAPTER: TypeAdapter[SearchAttributes] = TypeAdapter(SearchAttributes)


def namespace_of(attributes: SearchAttributes) -> str:
    """The owning namespace recorded in a workflow's attributes (``default`` if none)."""
    value = attributes.get(NAMESPACE_ATTRIBUTE)
    return value.data if isinstance(value, StringValue) else DEFAULT_NAMESPACE


class SearchAttributeType(StrEnum):
    STRING = "String"
    INT = "Int"
    FLOAT = "Float"
    BOOL = "Bool"
    DATETIME = "Datetime"
    KEYWORD_LIST = "KeywordList"


def value_of(raw: object) -> SearchAttributeValue:
    """Wrap a plain Python value in its typed form (bool before int: bool is an int)."""
    try:
        if isinstance(raw, bool):
            return BoolValue(data=raw)
        if isinstance(raw, int):
            return IntValue(data=raw)
        if isinstance(raw, float):
            return FloatValue(data=raw)
        if isinstance(raw, str):
            return StringValue(data=raw)
        if isinstance(raw, datetime):
            return DatetimeValue(data=raw)
        if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
            return KeywordListValue(data=tuple(raw))
    except ValidationError as exc:  # a naive datetime, a non-finite float
        raise InvalidInput(f"search attribute value {raw!r} is not valid: {exc}") from exc
    raise InvalidInput(f"search attribute value {raw!r} has no search attribute type")


class SearchAttributeSchema:
    """Which attribute names exist and their types; values are validated against it."""

    def __init__(self, types: dict[str, SearchAttributeType] | None = None) -> None:
        self._types: dict[str, SearchAttributeType] = {}
        for name, kind in (types or {}).items():
            self.register(name, kind)

    @classmethod
    def with_reserved(cls) -> SearchAttributeSchema:
        """A schema holding the engine-owned String attributes."""
        return cls(
            {
                NAMESPACE_ATTRIBUTE: SearchAttributeType.STRING,
                TASK_QUEUE_ATTRIBUTE: SearchAttributeType.STRING,
                PACKAGE_VERSION_ATTRIBUTE: SearchAttributeType.STRING,
            }
        )

    def register(self, name: str, kind: SearchAttributeType | str) -> None:
        try:
            kind = SearchAttributeType(kind)
        except ValueError as exc:
            raise InvalidInput(f"search attribute {name!r} has unknown type {kind!r}") from exc
        known = self._types.get(name)
        if known is not None and known != kind:
            raise InvalidInput(
                f"search attribute {name!r} is registered as {known}, cannot re-register as {kind}"
            )
        self._types[name] = kind

    def types(self) -> dict[str, SearchAttributeType]:
        return dict(self._types)

    def validate(self, attributes: SearchAttributes) -> None:
        for name, value in attributes.items():
            kind = self._types.get(name)
            if kind is None:
                raise InvalidInput(f"search attribute {name!r} is not registered in the schema")
            if value.type != kind:
                raise InvalidInput(f"search attribute {name!r} must be {kind}, got {value.type}")


class Equals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    op: Literal["equals"] = "equals"
    name: str
    value: SearchAttributeValue

    def matches(self, attributes: SearchAttributes) -> bool:
        return attributes.get(self.name) == self.value


class GreaterThan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    op: Literal["greater_than"] = "greater_than"
    name: str
    value: IntValue | FloatValue | DatetimeValue

    def matches(self, attributes: SearchAttributes) -> bool:
        found = attributes.get(self.name)
        return _ordered(found, self.value) and found.data > self.value.data  # type: ignore[union-attr,operator]


class LessThan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    op: Literal["less_than"] = "less_than"
    name: str
    value: IntValue | FloatValue | DatetimeValue

    def matches(self, attributes: SearchAttributes) -> bool:
        found = attributes.get(self.name)
        return _ordered(found, self.value) and found.data < self.value.data  # type: ignore[union-attr,operator]


class Contains(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    op: Literal["contains"] = "contains"
    name: str
    keyword: str

    def matches(self, attributes: SearchAttributes) -> bool:
        found = attributes.get(self.name)
        return isinstance(found, KeywordListValue) and self.keyword in found.data


def _ordered(found: SearchAttributeValue | None, bound: _Value) -> bool:
    """Order comparisons only between values of the same type: a mismatch never matches."""
    return found is not None and found.type == bound.type  # type: ignore[attr-defined]


Predicate = Annotated[Equals | GreaterThan | LessThan | Contains, Field(discriminator="op")]
