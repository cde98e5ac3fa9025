"""The Redis bus against the real Redis on 127.0.0.1:6379: several processes, one event stream.

Without a reachable server these tests skip saying why, except in CI (``CI=true``), where they
fail (the ``redis_url`` fixture of ``conftest.py``). Each test uses its own channel prefix, so
runs sharing the server never see each other.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.notify.samples import T0, every_event
from tradeplay.logs import configure_logging
from tradeplay.notify import DeploymentStarted, Event, EventBus, OrderFilled
from tradeplay.notify.redis_bus import RedisBus
from tradeplay.settings import LogFormat

WAIT_SECONDS = 5


@pytest.fixture
def prefix() -> str:
    return f"tradeplay-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def buses(redis_url: str, prefix: str) -> Iterator[tuple[RedisBus, RedisBus]]:
    """Two buses on separate connections: a publishing process and a listening one."""
    with (
        RedisBus.connect(redis_url, prefix=prefix) as publisher,
        RedisBus.connect(redis_url, prefix=prefix) as listener,
    ):
        yield publisher, listener


class Collector:
    """A handler that lets a test wait until a number of events arrived."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._arrived = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()

    def wait_for(self, count: int) -> list[Event]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.events) >= count, timeout=WAIT_SECONDS)
            return list(self.events)


def _started(number: int) -> DeploymentStarted:
    return DeploymentStarted(environment="demo", time=T0, deployment=f"d{number}")


def test_the_redis_bus_is_an_event_bus(buses: tuple[RedisBus, RedisBus]) -> None:
    assert isinstance(buses[0], EventBus)


def test_every_event_crosses_redis_exactly_and_in_order(buses: tuple[RedisBus, RedisBus]) -> None:
    publisher, listener = buses
    got = Collector()
    listener.subscribe(got)
    sent = every_event("demo") + every_event("live")
    for event in sent:
        publisher.publish(event)
    assert got.wait_for(len(sent)) == sent


def test_a_process_hears_its_own_events_once(buses: tuple[RedisBus, RedisBus]) -> None:
    _, listener = buses
    got = Collector()
    listener.subscribe(got)
    listener.publish(_started(1))
    listener.publish(_started(2))
    assert got.wait_for(2) == [_started(1), _started(2)]


def test_filters_and_a_failing_subscriber_behave_as_in_process(
    buses: tuple[RedisBus, RedisBus],
) -> None:
    publisher, listener = buses
    fills = Collector()
    everything = Collector()

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    listener.subscribe(broken)
    listener.subscribe(fills, OrderFilled)
    listener.subscribe(everything)
    for event in every_event():
        publisher.publish(event)
    assert len(everything.wait_for(len(every_event()))) == len(every_event())
    assert [type(event) for event in fills.events] == [OrderFilled]


def test_events_go_to_the_channel_of_their_environment(
    redis_url: str, prefix: str, buses: tuple[RedisBus, RedisBus]
) -> None:
    publisher, _ = buses
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe(f"{prefix}:events:live")
    assert pubsub.get_message(timeout=WAIT_SECONDS)["type"] == "subscribe"
    publisher.publish(_started(1))  # demo: another channel
    publisher.publish(DeploymentStarted(environment="live", time=T0, deployment="x"))
    message = pubsub.get_message(timeout=WAIT_SECONDS)
    assert message is not None
    assert b'"environment":"live"' in message["data"]
    pubsub.close()
    client.close()


def test_a_message_that_is_not_an_event_is_logged_and_skipped(
    redis_url: str, prefix: str, buses: tuple[RedisBus, RedisBus]
) -> None:
    stream = io.StringIO()
    configure_logging("info", LogFormat.json, stream)
    publisher, listener = buses
    got = Collector()
    listener.subscribe(got)
    client = redis.Redis.from_url(redis_url)
    client.publish(f"{prefix}:events:demo", "{not json")
    client.close()
    publisher.publish(_started(1))
    assert got.wait_for(1) == [_started(1)]
    assert "event_undecodable" in stream.getvalue()


def test_publishing_without_redis_is_logged_and_does_not_raise() -> None:
    stream = io.StringIO()
    configure_logging("info", LogFormat.json, stream)
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    with RedisBus.connect("redis://127.0.0.1:1/0") as bus:
        bus.publish(_started(1))
    assert "event_publish_failed" in stream.getvalue()


def test_a_closed_bus_delivers_nothing_more(redis_url: str, prefix: str) -> None:
    publisher = RedisBus.connect(redis_url, prefix=prefix)
    listener = RedisBus.connect(redis_url, prefix=prefix)
    got = Collector()
    listener.subscribe(got)
    publisher.publish(_started(1))
    got.wait_for(1)
    listener.close()
    publisher.publish(_started(2))
    publisher.close()
    assert got.events == [_started(1)]


_OTHER_PROCESS = """
import sys
from tests.notify.samples import every_event
from tradeplay.notify.redis_bus import RedisBus
with RedisBus.connect(sys.argv[1], prefix=sys.argv[2]) as bus:
    for event in every_event("live"):
        bus.publish(event)
"""


def test_events_from_another_process_arrive(
    redis_url: str, prefix: str, buses: tuple[RedisBus, RedisBus]
) -> None:
    _, listener = buses
    got = Collector()
    listener.subscribe(got)
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, redis_url, prefix],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=True,
        timeout=60,
    )
    assert got.wait_for(len(every_event())) == every_event("live")
