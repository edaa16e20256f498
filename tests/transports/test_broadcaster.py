"""The broadcaster on its own: commit order, labels, bounded buffers, isolation, restarts."""

from __future__ import annotations

import asyncio
import threading

import pytest

from aionactors.core import Unavailable
from aionactors.engine.broadcaster import Broadcaster, Lagged, Published


@pytest.fixture
async def broadcaster(engine):
    broadcaster = Broadcaster.start(engine)
    yield broadcaster
    broadcaster.close()


def everything(_: Published) -> bool:
    return True


async def collect(subscription, count: int) -> list[Published]:
    return [await asyncio.wait_for(subscription.get(), 10) for _ in range(count)]


async def test_batches_arrive_in_commit_order_labelled_with_namespace_and_type(
    engine, broadcaster
) -> None:
    loop = asyncio.get_running_loop()
    subscription = broadcaster.subscribe(loop, everything, bound=1000)
    handle = await engine.start_workflow_async("collector", namespace="tenant-x")
    for n in range(20):
        await engine.signal_async(handle.workflow_id, "note", n)
    items = await collect(subscription, 22)
    assert [p.event.seq for p in items] == list(range(1, 23))
    assert {(p.namespace, p.workflow_type) for p in items} == {("tenant-x", "collector")}
    assert [p.event.payload for p in items[2:]] == list(range(20))
    subscription.close()


async def test_workflows_started_before_the_broadcaster_are_labelled_from_the_store(
    engine,
) -> None:
    handle = await engine.start_workflow_async("checkout", namespace="early")
    broadcaster = Broadcaster.start(engine)
    try:
        subscription = broadcaster.subscribe(asyncio.get_running_loop(), everything, bound=10)
        await engine.signal_async(handle.workflow_id, "note", 1)
        (item,) = await collect(subscription, 1)
        assert (item.namespace, item.workflow_type) == ("early", "checkout")
    finally:
        broadcaster.close()


async def test_a_full_buffer_is_cut_off_after_what_it_holds(engine, broadcaster) -> None:
    loop = asyncio.get_running_loop()
    subscription = broadcaster.subscribe(loop, everything, bound=3)
    probe = broadcaster.subscribe(loop, everything, bound=100)
    handle = await engine.start_workflow_async("collector")  # 2 events
    await engine.signal_async(handle.workflow_id, "note", 1)  # 3
    await engine.signal_async(handle.workflow_id, "note", 2)  # 4: 3 still unread, so cut
    # Both subscriptions are offered each batch in one callback on this loop: once the
    # probe has seq 4, the bounded one has been offered it too.
    await collect(probe, 4)
    items = await collect(subscription, 3)
    assert [p.event.seq for p in items] == [1, 2, 3]
    with pytest.raises(Lagged):
        await asyncio.wait_for(subscription.get(), 10)
    assert broadcaster.lagged_total == 1
    assert broadcaster.subscriber_counts() == {"stream": 1}  # the probe


async def test_the_writer_never_waits_for_the_broadcast(engine, broadcaster) -> None:
    """With the actor stuck in a subscriber's filter, commits still complete; the stuck
    subscriber's buffer overflows and only it is cut off."""
    release = threading.Event()
    stuck_once = threading.Event()

    def stuck(_: Published) -> bool:
        if not stuck_once.is_set():
            stuck_once.set()
            release.wait(10)
        return True

    loop = asyncio.get_running_loop()
    slow = broadcaster.subscribe(loop, stuck, bound=5, kind="slow")
    fast = broadcaster.subscribe(loop, everything, bound=1000, kind="fast")
    handle = await engine.start_workflow_async("collector")
    await asyncio.to_thread(stuck_once.wait, 10)
    for n in range(30):  # each signal is acknowledged only after its commit
        await asyncio.wait_for(engine.signal_async(handle.workflow_id, "note", n), 5)
    release.set()
    assert [p.event.seq for p in await collect(fast, 32)] == list(range(1, 33))
    got = []
    with pytest.raises(Lagged):
        while True:
            got.append((await asyncio.wait_for(slow.get(), 10)).event.seq)
    assert got == list(range(1, len(got) + 1)) and len(got) <= 5


async def test_a_failing_filter_ends_only_its_own_subscription(engine, broadcaster) -> None:
    def broken(_: Published) -> bool:
        raise RuntimeError("boom")

    loop = asyncio.get_running_loop()
    bad = broadcaster.subscribe(loop, broken, bound=10)
    good = broadcaster.subscribe(loop, everything, bound=10)
    await engine.start_workflow_async("collector")
    assert len(await collect(good, 2)) == 2
    with pytest.raises(Exception, match="subscription filter failed"):
        await asyncio.wait_for(bad.get(), 10)


async def test_a_crash_cuts_every_subscriber_and_the_restarted_actor_serves_new_ones(
    engine, broadcaster
) -> None:
    loop = asyncio.get_running_loop()
    before = broadcaster.subscribe(loop, everything, bound=10)
    broadcaster.actor_ref.tell("poison")
    with pytest.raises(Lagged, match="restarted"):
        await asyncio.wait_for(before.get(), 10)
    after = broadcaster.subscribe(loop, everything, bound=10)
    await engine.start_workflow_async("collector")
    items = await collect(after, 2)
    assert [p.event.seq for p in items] == [1, 2]
    assert broadcaster.restarts == 1


async def test_closing_ends_subscriptions_and_refuses_new_ones(engine) -> None:
    broadcaster = Broadcaster.start(engine)
    loop = asyncio.get_running_loop()
    subscription = broadcaster.subscribe(loop, everything, bound=10)
    broadcaster.close()
    with pytest.raises(Unavailable):
        await asyncio.wait_for(subscription.get(), 10)
    with pytest.raises(Unavailable):
        broadcaster.subscribe(loop, everything, bound=10)
    await engine.start_workflow_async("collector")  # publishing after close is a no-op


async def test_a_buffer_is_bounded_in_bytes_as_well(engine, broadcaster) -> None:
    loop = asyncio.get_running_loop()
    subscription = broadcaster.subscribe(loop, everything, bound=1000, bound_bytes=1)
    probe = broadcaster.subscribe(loop, everything, bound=1000)
    handle = await engine.start_workflow_async("collector")  # one batch of 2: taken whole
    await engine.signal_async(handle.workflow_id, "note", 1)  # 2 frames' bytes unread: cut
    await collect(probe, 3)
    assert [p.event.seq for p in await collect(subscription, 2)] == [1, 2]
    with pytest.raises(Lagged, match="bytes unread"):
        await asyncio.wait_for(subscription.get(), 10)


async def test_subscriptions_that_share_a_key_are_filtered_once(engine, broadcaster) -> None:
    calls: list[int] = []

    def counted(published: Published) -> bool:
        calls.append(published.position)
        return True

    loop = asyncio.get_running_loop()
    shared = [broadcaster.subscribe(loop, counted, bound=100, key="one") for _ in range(50)]
    await engine.start_workflow_async("collector")
    batches = [await asyncio.wait_for(s.get_many(), 10) for s in shared]
    assert len(calls) == 2  # once per event, not once per subscriber
    assert all([p.event.seq for p in batch] == [1, 2] for batch in batches)
    assert len({id(p) for batch in batches for p in batch}) == 2  # the same frames, shared


async def test_a_direct_reader_takes_batches_at_once_and_refused_ones_are_buffered(
    engine, broadcaster
) -> None:
    """``direct`` runs instead of buffering while nothing is buffered; a refused batch is
    buffered, and later batches queue behind it (never overtake it) until it is read."""
    loop = asyncio.get_running_loop()
    subscription = broadcaster.subscribe(loop, everything, bound=1000)
    taken: list[int] = []
    accept = True

    def direct(items) -> bool:
        if not accept:
            return False
        taken.extend(p.event.seq for p in items)
        return True

    subscription.direct = direct
    handle = await engine.start_workflow_async("collector")
    while len(taken) < 2:  # WorkflowStarted and its namespace attribute
        await asyncio.sleep(0.01)
    assert taken == [1, 2]
    accept = False
    await engine.signal_async(handle.workflow_id, "note", 1)
    while subscription.first_position() is None:  # seq 3 refused, so buffered
        await asyncio.sleep(0.01)
    accept = True  # but something is buffered: the next batch must queue behind it
    await engine.signal_async(handle.workflow_id, "note", 2)
    while len(subscription._buffer) < 2 and len(taken) == 2:  # until seq 4 is delivered
        await asyncio.sleep(0.01)
    items = await collect(subscription, 2)
    assert [p.event.seq for p in items] == [3, 4] and taken == [1, 2]
    await engine.signal_async(handle.workflow_id, "note", 3)
    while len(taken) < 3:
        await asyncio.sleep(0.01)
    assert taken == [1, 2, 5]
    subscription.close()
