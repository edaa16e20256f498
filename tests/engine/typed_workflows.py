"""Workflows and activities with typed payloads and updates, for the engine and server tests."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from aionactors import Engine, activity, workflow
from aionactors.engine.clock import ManualClock
from aionactors.store import SQLiteStore

SEEN_TYPES: list[str] = []
"""Type names the code saw its payloads as (appended live and on replay)."""


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


class Line(BaseModel):
    sku: str
    qty: int = Field(ge=1)


class Order(BaseModel):
    id: int
    lines: list[Line]
    note: str | None = None
    due: datetime | None = None


class Receipt(BaseModel):
    order_id: int
    total_qty: int
    size: Size


@dataclasses.dataclass
class Address:
    street: str
    city: str


@dataclasses.dataclass
class Shipment:
    order_id: int
    to: Address


@activity.defn
def price(order: Order) -> Receipt:
    SEEN_TYPES.append(f"price:{type(order).__name__}:{type(order.lines[0]).__name__}")
    total = sum(line.qty for line in order.lines)
    return Receipt(order_id=order.id, total_qty=total, size=Size.LARGE if total > 5 else Size.SMALL)


@activity.defn
def ship(shipment: Shipment) -> Shipment:
    SEEN_TYPES.append(f"ship:{type(shipment).__name__}:{type(shipment.to).__name__}")
    return dataclasses.replace(shipment, to=Address(shipment.to.street.upper(), shipment.to.city))


@activity.defn
def echo(value: dict[str, Any]) -> dict[str, Any]:
    SEEN_TYPES.append(f"echo:{type(value).__name__}")
    return value


@workflow.defn(name="typed-checkout")
class TypedCheckout:
    """Typed run input, activity input and result, signal payload, query, update."""

    def __init__(self) -> None:
        self.address: Address | None = None
        self.extra: list[Line] = []

    @workflow.run
    async def run(self, order: Order) -> Receipt:
        SEEN_TYPES.append(f"run:{type(order).__name__}")
        receipt = await workflow.execute_activity(price, order)
        SEEN_TYPES.append(f"activity-result:{type(receipt).__name__}:{type(receipt.size).__name__}")
        await workflow.wait_condition(lambda: self.address is not None)
        assert self.address is not None
        shipped = await workflow.execute_activity(ship, Shipment(order.id, self.address))
        SEEN_TYPES.append(f"shipped:{type(shipped).__name__}:{shipped.to.street}")
        extra = sum(line.qty for line in self.extra)
        return receipt.model_copy(update={"total_qty": receipt.total_qty + extra})

    @workflow.signal
    def address_known(self, address: Address) -> None:
        SEEN_TYPES.append(f"signal:{type(address).__name__}")
        self.address = address

    @workflow.query
    def lines_for(self, sku: str | None = None) -> list[Line]:
        return [line for line in self.extra if sku is None or line.sku == sku]

    @workflow.query
    def has_line(self, line: Line) -> bool:
        return line in self.extra

    @workflow.update
    def add_lines(self, lines: list[Line], note: Line | None = None) -> int:
        SEEN_TYPES.append(f"update:{type(lines[0]).__name__}:{type(note).__name__}")
        self.extra.extend(lines)
        return len(self.extra)


@workflow.defn(name="plain-echo")
class PlainEcho:
    """Unannotated and dict payloads pass through as they always did."""

    @workflow.run
    async def run(self, value):  # type: ignore[no-untyped-def]
        SEEN_TYPES.append(f"plain-run:{type(value).__name__}")
        echoed = await workflow.execute_activity(echo, value)
        SEEN_TYPES.append(f"plain-result:{type(echoed).__name__}")
        return echoed


@activity.defn
def reserve(item: str) -> str:
    return f"reserved:{item}"


@workflow.defn(name="cart")
class Cart:
    """Updates: sync with a validator, async awaiting an activity and a timer, failing."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.closed = False

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.closed)
        return self.items

    @workflow.update
    def add(self, item: str) -> int:
        self.items.append(item)
        return len(self.items)

    @add.validator
    def validate_add(self, item: str) -> None:
        if not item:
            raise ValueError("item must not be empty")
        if item in self.items:
            raise ValueError(f"{item!r} is already in the cart")

    @workflow.update(name="reserve")
    async def reserve_item(self, item: str) -> str:
        receipt = await workflow.execute_activity(reserve, item)
        await workflow.sleep(timedelta(minutes=1))
        self.items.append(receipt)
        return receipt

    @workflow.update
    def explode(self) -> None:
        raise RuntimeError("the handler failed on purpose")

    @workflow.update
    def start_over(self) -> None:
        workflow.continue_as_new()  # not an update's to do: the update fails, the run goes on

    @workflow.update
    def close(self) -> int:
        self.closed = True
        return len(self.items)

    @workflow.signal
    def add_silently(self, item: str) -> None:
        self.items.append(item)

    @workflow.query
    def count(self) -> int:
        return len(self.items)


@workflow.defn(name="inbox")
class Inbox:
    """Collects signals until it has ``expected`` of them (signal-with-start)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    @workflow.run
    async def run(self, expected: int) -> list[Any]:
        await workflow.wait_condition(lambda: len(self.messages) >= expected)
        return self.messages

    @workflow.signal
    def message(self, payload: Any) -> None:
        self.messages.append(payload)


@workflow.defn(name="typed-inbox")
class TypedInbox:
    def __init__(self) -> None:
        self.lines: list[Line] = []

    @workflow.run
    async def run(self, expected: int) -> list[Line]:
        await workflow.wait_condition(lambda: len(self.lines) >= expected)
        return self.lines

    @workflow.signal
    def line(self, line: Line) -> None:
        self.lines.append(line)


@workflow.defn(name="first-look")
class FirstLook:
    """Reports what had arrived before its first line, then waits for a signal."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    @workflow.run
    async def run(self) -> dict[str, list[Any]]:
        at_start = list(self.seen)
        await workflow.wait_condition(lambda: bool(self.seen))
        return {"at_start": at_start, "all": self.seen}

    @workflow.signal
    def note(self, payload: Any) -> None:
        self.seen.append(payload)


WORKFLOWS = [TypedCheckout, PlainEcho, Cart, Inbox, TypedInbox, FirstLook]
ACTIVITIES = [price, ship, echo, reserve]


def open_typed_engine(path: Path, clock: ManualClock) -> Engine:
    """An engine on a SQLite file running every workflow and activity above."""
    return Engine.open(SQLiteStore(path), workflows=WORKFLOWS, activities=ACTIVITIES, clock=clock)
