"""Pooled pykka actors: many actors on a few dispatcher threads, with pykka's semantics intact."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
from pykka._envelope import Envelope

from aionactors.engine.dispatcher import Dispatcher, PooledActor
from supervision import ChildSpec, DynamicSupervisor, EventBus, EventKind, Restart
from supervision.testing import EventRecorder, FaultInjector


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    pool = Dispatcher(2, name="test-dispatch", slice=4)
    yield pool
    pykka.ActorRegistry.stop_all(timeout=10)
    pool.close()


class Counter(PooledActor):
    """Records what it handles; checks it never runs on two threads at once."""

    def __init__(self, pool: Dispatcher, journal: list[Any] | None = None) -> None:
        super().__init__()
        self.pool = pool
        self.journal: list[Any] = journal if journal is not None else []
        self.seen: list[Any] = []
        self.busy = False
        self.overlaps = 0
        self.threads: set[str] = set()

    def dispatcher(self) -> Dispatcher:
        return self.pool

    def on_start(self) -> None:
        self.journal.append("start")

    def on_stop(self) -> None:
        self.journal.append("stop")

    def on_failure(self, *exc: object) -> None:
        self.journal.append("failure")

    def on_receive(self, message: Any) -> Any:
        if self.busy:
            self.overlaps += 1
        self.busy = True
        try:
            self.threads.add(threading.current_thread().name)
            match message:
                case ("raise", text):
                    raise ValueError(text)
                case ("wait", gate):
                    gate.wait(10)
                case "report":
                    return list(self.seen), self.overlaps, set(self.threads)
            self.seen.append(message)
            return len(self.seen)
        finally:
            self.busy = False


def test_a_dispatcher_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        Dispatcher(0)


def test_each_senders_messages_arrive_in_order_and_one_at_a_time(dispatcher: Dispatcher) -> None:
    ref = Counter.start(dispatcher)

    def send(sender: int) -> None:
        for n in range(300):
            ref.tell((sender, n))

    senders = [threading.Thread(target=send, args=(s,)) for s in range(4)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    seen, overlaps, threads = ref.ask("report", timeout=10)
    assert len(seen) == 1_200
    for sender in range(4):
        assert [n for s, n in seen if s == sender] == list(range(300))
    assert overlaps == 0
    assert threads <= {"test-dispatch-0", "test-dispatch-1"}


def test_hundreds_of_actors_share_two_threads(dispatcher: Dispatcher) -> None:
    before = threading.active_count()
    refs = [Counter.start(dispatcher) for _ in range(500)]
    futures = [ref.ask(("hello", i), block=False) for i, ref in enumerate(refs)]
    assert [f.get(timeout=10) for f in futures] == [1] * 500
    assert threading.active_count() == before  # no thread per actor
    for ref in refs:
        ref.stop()
    assert not any(ref.is_alive() for ref in refs)


def test_a_blocked_handler_holds_one_thread_not_the_others(dispatcher: Dispatcher) -> None:
    gate = threading.Event()
    slow, quick = Counter.start(dispatcher), Counter.start(dispatcher)
    slow.tell(("wait", gate))
    assert quick.ask("ping", timeout=5) == 1
    gate.set()
    assert slow.ask("ping", timeout=5) == 2  # the wait counted too


def test_an_ask_that_raises_answers_the_caller_and_the_actor_lives(dispatcher: Dispatcher) -> None:
    ref = Counter.start(dispatcher)
    with pytest.raises(ValueError, match="nope"):
        ref.ask(("raise", "nope"), timeout=5)
    assert ref.ask("after", timeout=5) == 1


def test_a_tell_that_raises_kills_the_actor_and_later_asks_fail_fast(
    dispatcher: Dispatcher,
) -> None:
    journal: list[Any] = []
    ref = Counter.start(dispatcher, journal)
    ref.tell(("raise", "crash"))
    queued = ref.ask("never handled", block=False)
    with pytest.raises(pykka.ActorDeadError):
        queued.get(timeout=5)
    assert not ref.is_alive()
    assert journal == ["start", "failure"]
    with pytest.raises(pykka.ActorDeadError):
        ref.ask("later", timeout=5)


def test_stop_handles_what_was_queued_first_and_runs_on_stop(dispatcher: Dispatcher) -> None:
    journal: list[Any] = []
    ref = Counter.start(dispatcher, journal)
    pending = [ref.ask(n, block=False) for n in range(50)]
    assert ref.stop(timeout=5) is True
    assert [f.get(timeout=5) for f in pending] == list(range(1, 51))
    assert journal == ["start", "stop"]


def test_a_failing_on_start_stops_the_actor(dispatcher: Dispatcher) -> None:
    class BadStart(Counter):
        def on_start(self) -> None:
            raise RuntimeError("cannot start")

    ref = BadStart.start(dispatcher)
    with pytest.raises(pykka.ActorDeadError):
        ref.ask("hello", timeout=5)


def test_a_supervisor_restarts_a_crashed_pooled_actor(dispatcher: Dispatcher) -> None:
    bus = EventBus()
    recorder = EventRecorder()
    bus.subscribe(recorder)
    sup = DynamicSupervisor.start(events=bus).proxy()
    spec = ChildSpec("c", Counter, args=(dispatcher,), restart=Restart.PERMANENT)
    first = sup.start_child(spec).get()
    first.tell(("raise", "crash"))
    assert recorder.wait_for(EventKind.RESTARTED).child_id == "c"
    second = sup.child_ref("c").get()
    assert second is not first and second.ask("ping", timeout=5) == 1


def test_fault_injection_reaches_pooled_actors(dispatcher: Dispatcher) -> None:
    ref = Counter.start(dispatcher)
    faults = FaultInjector()
    faults.attach(ref)
    faults.drop_next(when=lambda message: message == "dropped")
    faults.raise_next(when=lambda message: message == "boom")
    ref.tell("dropped")
    ref.tell("kept")
    with pytest.raises(Exception, match="injected"):
        ref.ask("boom", timeout=5)
    seen, _, _ = ref.ask("report", timeout=5)
    assert seen == ["kept"]


def test_tells_queued_behind_a_stop_go_to_on_undelivered(dispatcher: Dispatcher) -> None:
    handed_on: list[Any] = []

    class Keeper(Counter):
        def on_undelivered(self, messages: list[Any]) -> None:
            handed_on.extend(messages)

    gate = threading.Event()
    ref = Keeper.start(dispatcher)
    ref.tell(("wait", gate))  # busy, so what follows queues behind the stop
    stopping = ref.stop(block=False)
    ref.tell("late")
    late_ask = ref.ask("late ask", block=False)
    gate.set()
    stopping.get(timeout=5)
    with pytest.raises(pykka.ActorDeadError):
        late_ask.get(timeout=5)
    ref.actor_inbox.put(Envelope("after teardown"))  # a sender that raced the stop
    assert handed_on == ["late", "after teardown"]
