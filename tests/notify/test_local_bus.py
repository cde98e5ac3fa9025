"""The in-process bus: ordered synchronous delivery, filters, isolation of failing handlers,
thread safety, and a non-blocking hand-off to asyncio consumers."""

from __future__ import annotations

import asyncio
import io
import json
import threading

from tests.notify.samples import T0, every_event
from tradeplay.logs import configure_logging
from tradeplay.notify import (
    DeploymentStarted,
    Event,
    EventBus,
    EventQueue,
    LocalBus,
    OrderFilled,
    OrderPlaced,
)
from tradeplay.settings import LogFormat


def _started(number: int, environment: str = "demo") -> DeploymentStarted:
    return DeploymentStarted(environment=environment, time=T0, deployment=f"d{number}")


def test_the_local_bus_is_an_event_bus() -> None:
    assert isinstance(LocalBus(), EventBus)


def test_each_subscriber_gets_every_event_in_publish_order() -> None:
    bus = LocalBus()
    first: list[Event] = []
    second: list[Event] = []
    bus.subscribe(first.append)
    bus.subscribe(second.append)
    for event in every_event():
        bus.publish(event)
    assert first == second == every_event()


def test_a_subscriber_gets_only_the_kinds_it_asked_for() -> None:
    bus = LocalBus()
    orders: list[Event] = []
    bus.subscribe(orders.append, OrderPlaced, OrderFilled)
    for event in every_event():
        bus.publish(event)
    assert [type(event) for event in orders] == [OrderPlaced, OrderFilled]


def test_a_cancelled_subscription_gets_nothing_more() -> None:
    bus = LocalBus()
    got: list[Event] = []
    subscription = bus.subscribe(got.append)
    bus.publish(_started(1))
    subscription.cancel()
    subscription.cancel()  # idempotent
    bus.publish(_started(2))
    assert got == [_started(1)]


def test_a_failing_subscriber_is_logged_and_the_others_still_get_the_event() -> None:
    stream = io.StringIO()
    configure_logging("info", LogFormat.json, stream)
    bus = LocalBus()
    before: list[Event] = []
    after: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(before.append)
    bus.subscribe(broken)
    bus.subscribe(after.append)
    bus.publish(_started(1))  # does not raise
    assert before == after == [_started(1)]
    logged = json.loads(stream.getvalue().splitlines()[0])
    assert logged["event"] == "event_handler_failed"
    assert logged["environment"] == "demo"
    assert "subscriber bug" in logged["exception"]


def test_a_subscriber_may_subscribe_and_cancel_while_being_called() -> None:
    bus = LocalBus()
    late: list[Event] = []

    def once(event: Event) -> None:
        subscription.cancel()
        bus.subscribe(late.append)

    subscription = bus.subscribe(once)
    bus.publish(_started(1))
    bus.publish(_started(2))
    assert late == [_started(2)]


def test_publishing_from_many_threads_delivers_every_event() -> None:
    bus = LocalBus()
    got: list[Event] = []
    lock = threading.Lock()

    def record(event: Event) -> None:
        with lock:
            got.append(event)

    bus.subscribe(record)
    threads = [
        threading.Thread(
            target=lambda n=n: [bus.publish(_started(n * 100 + i)) for i in range(100)]
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 800
    assert len(set(got)) == 800


def test_an_asyncio_consumer_receives_events_published_from_a_worker_thread() -> None:
    async def consume() -> list[Event]:
        bus = LocalBus()
        queue = EventQueue(asyncio.get_running_loop())
        bus.subscribe(queue)
        worker = threading.Thread(target=lambda: [bus.publish(_started(n)) for n in range(3)])
        worker.start()
        received = [await asyncio.wait_for(queue.get(), 5) for _ in range(3)]
        worker.join()
        return received

    assert asyncio.run(consume()) == [_started(0), _started(1), _started(2)]


def test_a_consumer_that_falls_behind_loses_events_not_the_publisher_time() -> None:
    async def overflow() -> tuple[int, list[Event]]:
        bus = LocalBus()
        queue = EventQueue(asyncio.get_running_loop(), maxsize=2)
        bus.subscribe(queue)
        for number in range(5):
            bus.publish(_started(number))
        await asyncio.sleep(0)  # let the loop run the scheduled hand-offs
        received = [event async for event in _take(queue, 2)]
        return queue.dropped, received

    dropped, received = asyncio.run(overflow())
    assert dropped == 3
    assert received == [_started(0), _started(1)]


async def _take(queue: EventQueue, count: int):  # type: ignore[no-untyped-def]
    for _ in range(count):
        yield await queue.get()
