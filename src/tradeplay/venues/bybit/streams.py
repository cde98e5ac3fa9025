"""Supervised WebSocket loops: reconnect with backoff, re-sync over REST, notice silence.

ccxt does not reconnect in the background: a dropped socket fails the pending receive, and the
next receive reconnects and resubscribes (bybit_clients.md "WebSocket behaviour"). So each topic
runs in :func:`supervise`, which

* waits ``backoff`` after each failure (0.5 s doubling to 30 s, reset by the next message);
* subscribes (waiting for Bybit's acknowledgement), then calls ``resync`` after every
  (re)connection, before any new message is handled, so what happened while the socket was
  down is read over REST (orders, positions and wallet; missed bars). Re-syncing as soon as the
  subscription stands — not when the first message arrives — matters for a bar that closed
  while the socket was down: it is emitted at once, not only when the next bar closes;
* treats a topic that stays silent longer than ``stale_after_s`` as dead: it closes the socket
  and reconnects. ccxt's ping/pong (every ``VenueConfig.ping_interval_s``) catches a dead
  connection; this catches a live connection that stopped sending data. Klines arrive every
  1 to 60 s (bybit_v5.md §7.1), so two minutes of silence is a fault
  (``VenueConfig.kline_stale_after_s``); the private topics are silent while nothing trades
  and run without it.

:class:`ClosedBars` turns kline messages into closed bars with no bar missed or doubled: a bar
is closed by its ``confirm`` flag; a bar older than the last one emitted is dropped; a jump
(bars missed while disconnected) is filled from REST klines first. Each closed bar is also
shown to the account's view (:class:`~tradeplay.venues.bybit.account_view.AccountView`), which
judges whether the bar could have triggered anything it holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import structlog

from tradeplay.domain.errors import TemporaryError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol
from tradeplay.venues.bybit.account_view import BarRange
from tradeplay.venues.bybit.client import RECEIVED_NS
from tradeplay.venues.bybit.market import Kline, bybit_interval, klines_from_ws
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["DEFAULT_BACKOFF", "Backoff", "ClosedBars", "StreamSpec", "supervise"]

log = structlog.get_logger(__name__)

KLINE_STALE_AFTER_S: Final = 120.0

Messages = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between reconnection attempts: ``first_s`` doubling up to ``max_s``."""

    first_s: float = 0.5
    max_s: float = 30.0

    def wait(self, failures: int) -> float:
        return min(self.max_s, self.first_s * 2.0 ** max(0, failures - 1))


DEFAULT_BACKOFF: Final = Backoff()


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSpec:
    """One supervised topic: where it comes from and who handles what."""

    topic: str
    private: bool
    on_messages: Callable[[Messages], Awaitable[None]]
    resync: Callable[[], Awaitable[None]]
    stale_after_s: float | None = None
    backoff: Backoff = DEFAULT_BACKOFF
    on_lost: Callable[[], None] = lambda: None
    """Told when the topic failed (dropped, silent, or not re-subscribed): what it would have
    said is unknown until the next ``resync``."""


async def supervise(
    venue: BybitVenue,
    spec: StreamSpec,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    stop: asyncio.Event | None = None,
) -> None:
    """Run ``spec``'s topic until ``stop`` is set (or the task is cancelled)."""
    failures, fresh = 0, True
    while stop is None or not stop.is_set():
        if fresh:
            try:
                await venue.transport.subscribe(spec.topic, private=spec.private)
                await spec.resync()  # REST truth first; the messages that follow are newer
            except TemporaryError as error:
                failures += 1
                spec.on_lost()
                wait = spec.backoff.wait(failures)
                log.warning("stream_resubscribe_failed", topic=spec.topic, error=str(error))
                await sleep(wait)
                continue
            log.info("stream_synced", topic=spec.topic, after_failures=failures)
            fresh = False
        try:
            receive = venue.transport.receive(spec.topic, private=spec.private)
            messages = await asyncio.wait_for(receive, spec.stale_after_s)
        except TimeoutError:
            failures, fresh = failures + 1, True
            spec.on_lost()
            log.warning("stream_stale", topic=spec.topic, silent_s=spec.stale_after_s)
            await venue.transport.reconnect(private=spec.private)
            continue
        except TemporaryError as error:
            failures, fresh = failures + 1, True
            spec.on_lost()
            wait = spec.backoff.wait(failures)
            log.warning("stream_dropped", topic=spec.topic, error=str(error), wait_s=wait)
            await sleep(wait)
            continue
        failures = 0
        await spec.on_messages(messages)


class ClosedBars:
    """Closed bars of one symbol and timeframe, in order, each exactly once.

    ``emit`` receives every closed bar; ``last_start_ms`` is the open time of the last one
    emitted (start it at the last warm-up bar so the live stream continues the history).
    """

    def __init__(
        self,
        venue: BybitVenue,
        symbol: Symbol,
        timeframe: Timeframe,
        emit: Callable[[Kline], None],
        last_start_ms: int | None = None,
    ) -> None:
        self._venue = venue
        self.symbol = symbol
        self.timeframe = timeframe
        self._emit = emit
        self.last_start_ms = last_start_ms

    @property
    def topic(self) -> str:
        return f"kline.{bybit_interval(self.timeframe)}.{self.symbol}"

    def spec(
        self, backoff: Backoff = DEFAULT_BACKOFF, stale_after_s: float = KLINE_STALE_AFTER_S
    ) -> StreamSpec:
        return StreamSpec(
            topic=self.topic,
            private=False,
            on_messages=self.on_messages,
            resync=self.resync,
            stale_after_s=stale_after_s,
            backoff=backoff,
        )

    async def on_messages(self, messages: Messages) -> None:
        for message in messages:
            _, bars = klines_from_ws(message)
            for bar in bars:
                if bar.closed:
                    probe = self._venue.probe
                    if probe is not None and RECEIVED_NS in message:
                        probe("bar", int(message[RECEIVED_NS]))
                    await self._closed(bar)

    async def resync(self) -> None:
        """Emit the bars that closed while we were away (REST klines since the last one)."""
        if self.last_start_ms is None:
            return
        await self._fill_until(None)

    async def _closed(self, bar: Kline) -> None:
        last = self.last_start_ms
        if last is not None and bar.start_ms <= last:
            return  # a repeat (Bybit re-sends after a reconnect) or a bar REST already gave
        if last is not None and bar.start_ms > last + self.timeframe.ms:
            await self._fill_until(bar.start_ms - 1)
            if self.last_start_ms is not None and bar.start_ms <= self.last_start_ms:
                return
        self._accept(bar)

    async def _fill_until(self, end_ms: int | None) -> None:
        assert self.last_start_ms is not None
        start = self.last_start_ms + self.timeframe.ms
        bars = await self._venue.klines(self.symbol, self.timeframe, start, end_ms)
        for bar in bars:
            if bar.closed and bar.start_ms > (self.last_start_ms or 0):
                self._accept(bar)
        log.info("bars_filled", symbol=self.symbol, count=len(bars), since_ms=start)

    def _accept(self, bar: Kline) -> None:
        self.last_start_ms = bar.start_ms
        end_ms = bar.start_ms + self.timeframe.ms
        self._venue.view.bar_closed(self.symbol, BarRange(bar.start_ms, end_ms, bar.low, bar.high))
        self._emit(bar)
