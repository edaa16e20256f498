"""LockFuture keeps pykka's future semantics with one lock instead of a Condition."""

from __future__ import annotations

import queue
import threading

import pykka
import pytest

from supervision import LockFuture, SupervisedActor


def test_value_is_read_many_times() -> None:
    future: LockFuture[int] = LockFuture()
    future.set(7)
    assert future.get() == 7
    assert future.get(timeout=0) == 7


def test_a_second_set_is_refused() -> None:
    future: LockFuture[int] = LockFuture()
    future.set(1)
    with pytest.raises(queue.Full):
        future.set(2)
    with pytest.raises(queue.Full):
        future.set_exception((ValueError, ValueError("late"), None))
    assert future.get() == 1


def test_an_exception_is_raised_to_every_reader() -> None:
    future: LockFuture[int] = LockFuture()
    try:
        raise KeyError("missing")
    except KeyError:
        future.set_exception()
    for _ in range(2):
        with pytest.raises(KeyError, match="missing"):
            future.get()


def test_get_times_out_when_nothing_is_set() -> None:
    future: LockFuture[int] = LockFuture()
    with pytest.raises(pykka.Timeout):
        future.get(timeout=0.01)
    future.set(3)  # still settable after a reader gave up
    assert future.get(timeout=0) == 3


def test_every_waiting_thread_gets_the_value() -> None:
    future: LockFuture[str] = LockFuture()
    seen: list[str] = []
    ready = threading.Barrier(9)

    def read() -> None:
        ready.wait()
        seen.append(future.get(timeout=10))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    ready.wait()
    future.set("done")
    for reader in readers:
        reader.join(10)
    assert seen == ["done"] * 8


def test_map_join_and_get_hooks_work() -> None:
    first: LockFuture[int] = LockFuture()
    second: LockFuture[int] = LockFuture()
    mapped = first.map(lambda value: value + 10)
    joined = first.join(second)
    first.set(1)
    second.set(2)
    assert mapped.get(timeout=1) == 11
    assert list(joined.get(timeout=1)) == [1, 2]
    hooked: LockFuture[int] = LockFuture()
    hooked.set_get_hook(lambda timeout: 42)
    with pytest.raises(queue.Full):
        hooked.set(1)
    assert hooked.get() == 42


class _Echo(SupervisedActor):
    def on_receive(self, message: object) -> object:
        if message == "boom":
            raise RuntimeError("asked to fail")
        return message


def test_asks_to_a_supervised_actor_use_it() -> None:
    ref = _Echo.start()
    try:
        answer = ref.ask("hi", block=False)
        assert isinstance(answer, LockFuture)
        assert answer.get(timeout=5) == "hi"
        with pytest.raises(RuntimeError, match="asked to fail"):
            ref.ask("boom", timeout=5)
        assert ref.proxy().on_receive("via proxy").get(timeout=5) == "via proxy"
    finally:
        ref.stop()
