"""Workflows the server tests (and the `serve` subprocess, via --load) run."""

from __future__ import annotations

import threading
from typing import Any

from aionactors import activity, workflow

RELEASE_SLOW_QUERY = threading.Event()


@activity.defn
def shout(text: str) -> str:
    return text.upper()


@workflow.defn(name="greeter")
class Greeter:
    """Finishes at once: the shape of a start + result round trip."""

    @workflow.run
    async def run(self, name: str) -> str:
        return f"hello, {name}"


@workflow.defn(name="shouter")
class Shouter:
    """One activity, then done."""

    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(shout, f"hello, {name}")


@workflow.defn(name="failing")
class Failing:
    @workflow.run
    async def run(self, reason: str) -> None:
        raise ValueError(reason)


def _collector(name: str) -> type:
    """Records every signal (one SignalReceived event each) until ``finish``."""

    @workflow.defn(name=name)
    class Collector:
        def __init__(self) -> None:
            self.notes: list[Any] = []
            self.done = False
            self.result: Any = None

        @workflow.run
        async def run(self, arg: Any = None) -> Any:
            await workflow.wait_condition(lambda: self.done)
            return self.result

        @workflow.signal
        def note(self, payload: Any) -> None:
            self.notes.append(payload)

        @workflow.signal
        def finish(self, payload: Any) -> None:
            self.done = True
            self.result = payload

        @workflow.query
        def notes_so_far(self) -> list[Any]:
            return list(self.notes)

        @workflow.query
        def explode(self) -> None:
            raise RuntimeError("the query handler broke")

        @workflow.query
        def slow(self) -> str:
            RELEASE_SLOW_QUERY.wait(10)
            return "late"

        @workflow.query
        def echo(self, *args: Any) -> list[Any]:
            return list(args)

    Collector.__qualname__ = Collector.__name__ = f"Collector_{name}"
    return Collector


Collector = _collector("collector")
Checkout = _collector("checkout")
Fulfillment = _collector("fulfillment")

WORKFLOWS = [Greeter, Shouter, Failing, Collector, Checkout, Fulfillment]
ACTIVITIES = [shout]
