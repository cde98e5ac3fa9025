"""Supervised streams: every closed bar exactly once across drops, re-sync after reconnect,
a silent stream noticed. A fake transport stands in for the sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from tradeplay.domain.errors import VenueUnavailableError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.venues.bybit.client import Answer
from tradeplay.venues.bybit.config import BybitEnvironment, VenueConfig
from tradeplay.venues.bybit.limits import RateLimiter
from tradeplay.venues.bybit.market import Kline
from tradeplay.venues.bybit.streams import ClosedBars, StreamSpec, supervise
from tradeplay.venues.bybit.venue import BybitVenue

MINUTE = 60_000
T0 = 1_700_000_040_000 - 1_700_000_040_000 % MINUTE


def kline(start: int, confirm: bool) -> dict[str, Any]:
    item = {
        "start": start,
        "end": start + MINUTE - 1,
        "interval": "1",
        "open": "100",
        "close": "101",
        "high": "102",
        "low": "99",
        "volume": "5",
        "turnover": "500",
        "confirm": confirm,
        "timestamp": start + 1,
    }
    return {"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": start + 1, "data": [item]}


class FakeTransport:
    """Scripted socket: each receive pops the next step (messages, an error, or silence)."""

    def __init__(self, script: list[Any], server_ms: int) -> None:
        self.script = script
        self.server_ms = server_ms
        self.requests: list[Mapping[str, Any]] = []
        self.reconnects = 0

    async def request(self, method: str, path: str, params: Mapping[str, Any]) -> Answer:
        self.requests.append(params)
        start = int(params["start"])
        rows = [
            [str(t), "100", "102", "99", "101", "5", "500"]
            for t in range(start, self.server_ms, MINUTE)
        ]
        return Answer(0, "OK", {"list": rows[::-1]}, self.server_ms, None)  # newest first

    async def subscribe(self, topic: str, *, private: bool) -> None:
        return None

    async def receive(self, topic: str, *, private: bool) -> list[dict[str, Any]]:
        if not self.script:
            await asyncio.sleep(3600)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if step == "silence":
            await asyncio.sleep(3600)
        return list(step)

    async def reconnect(self, *, private: bool) -> None:
        self.reconnects += 1

    async def close(self) -> None:
        return None


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)


async def instant(_: float) -> None:
    await asyncio.sleep(0)


def venue_with(transport: FakeTransport) -> BybitVenue:
    config = VenueConfig(environment=BybitEnvironment.TESTNET)
    limiter = RateLimiter(monotonic=lambda: 0.0, sleep=instant)
    return BybitVenue(config, transport, limiter, Clock(), sleep=instant)


async def run_until_idle(venue: BybitVenue, spec: StreamSpec, transport: FakeTransport) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(supervise(venue, spec, sleep=instant, stop=stop))
    for _ in range(200):
        await asyncio.sleep(0)
        if not transport.script:
            break
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_only_confirmed_bars_are_emitted_once_each_and_a_gap_is_filled_from_rest() -> None:
    script = [
        [kline(T0, False), kline(T0, True)],
        [kline(T0, True)],  # a repeat after a reconnect: dropped
        VenueUnavailableError("socket closed"),
        [kline(T0 + 4 * MINUTE, True)],  # bars T0+1..T0+3 closed while we were away
    ]
    transport = FakeTransport(script, server_ms=T0 + 5 * MINUTE)
    venue = venue_with(transport)
    seen: list[Kline] = []
    bars = ClosedBars(
        venue, "BTCUSDT", Timeframe.parse("1m"), seen.append, last_start_ms=T0 - MINUTE
    )
    asyncio.run(run_until_idle(venue, bars.spec(), transport))
    starts = [bar.start_ms - T0 for bar in seen]
    assert starts == [0, MINUTE, 2 * MINUTE, 3 * MINUTE, 4 * MINUTE]
    assert all(bar.closed for bar in seen)
    assert transport.requests  # the re-sync asked REST for what the socket missed


def test_a_silent_stream_is_noticed_and_reconnected_then_resynced() -> None:
    transport = FakeTransport(["silence", [kline(T0, True)]], server_ms=T0 + MINUTE)
    venue = venue_with(transport)
    resyncs: list[int] = []
    got: list[int] = []

    async def on_messages(messages: list[dict[str, Any]]) -> None:
        got.append(len(messages))

    async def resync() -> None:
        resyncs.append(transport.reconnects)

    spec = StreamSpec(
        topic="kline.1.BTCUSDT",
        private=False,
        on_messages=on_messages,
        resync=resync,
        stale_after_s=0.01,
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(supervise(venue, spec, sleep=instant, stop=stop))
        for _ in range(100):
            await asyncio.sleep(0.005)
            if got:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert transport.reconnects == 1
    assert resyncs == [0, 1]  # synced on subscribing, and again after the reconnect
    assert got == [1]


def test_drops_back_off_exponentially() -> None:
    drops = [VenueUnavailableError(f"drop {i}") for i in range(4)]
    transport = FakeTransport([*drops, [kline(T0, True)]], server_ms=T0 + MINUTE)
    venue = venue_with(transport)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    async def ignore(_: object = None) -> None:
        return None

    spec = StreamSpec(topic="order", private=True, on_messages=ignore, resync=ignore)

    async def scenario() -> None:
        task = asyncio.create_task(supervise(venue, spec, sleep=sleep))
        for _ in range(100):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert waits == [0.5, 1.0, 2.0, 4.0]
