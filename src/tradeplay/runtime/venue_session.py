"""One Bybit account in one environment, running: its event loop, client, streams and ports.

A :class:`VenueSession` owns an asyncio loop in a thread of its own. On it live the ccxt.pro
client, the account's one rate limiter and the supervised streams (the closed bars of the
play's symbol and the account's private topics). The engine runs in the caller's thread and
reaches the venue through the synchronous ports (:class:`BybitExchange`, :class:`BybitFeed`),
which hand each request to the loop and wait for its answer — except the account reads,
answered from the venue's stream-fed :class:`~tradeplay.venues.bybit.account_view.AccountView`
while it is fresh, without a trip to the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog

from tradeplay.domain.errors import TradeplayError
from tradeplay.domain.events import FundingApplied, OrderEvent, OrderFilled
from tradeplay.domain.fill import Fill
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Symbol, utc_from_ms
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.client import CcxtTransport
from tradeplay.venues.bybit.config import VenueConfig
from tradeplay.venues.bybit.exchange import DEFAULT_TIMEOUT_S, BybitExchange, run_on_loop
from tradeplay.venues.bybit.feed import BybitFeed
from tradeplay.venues.bybit.limits import RateLimiter
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport
from tradeplay.venues.bybit.streams import supervise
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["FillInbox", "VenueClock", "VenueMarket", "VenueSession"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


class VenueClock:
    """The venue's time: the local clock corrected by the offset measured against the venue
    (the preflight's drift check sets it). Against the emulator this is the replay's time."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now(self) -> datetime:
        return utc_from_ms(int(time.time() * 1000) + self.offset_ms)


class FillInbox:
    """The account's reports as the private streams deliver them: fills are kept until the
    runner collects them at the next closed bar (for its action log)."""

    def __init__(self, on_fill: Callable[[Fill], None] = lambda _: None) -> None:
        self._lock = threading.Lock()
        self._fills: list[Fill] = []
        self._on_fill = on_fill

    def on_order(self, report: OrderReport) -> None:
        log.debug("venue_order", client_order_id=report.client_order_id, status=report.status)

    def on_fill(self, fill: Fill) -> None:
        with self._lock:
            self._fills.append(fill)
        self._on_fill(fill)

    def on_funding(self, funding: FundingApplied) -> None:
        log.info("funding_settled", symbol=funding.symbol, payment=str(funding.payment))

    def on_position(self, report: PositionReport) -> None:
        log.debug("venue_position", symbol=report.symbol)

    def on_balance(self, report: BalanceReport) -> None:
        log.debug("venue_balance")

    def drain(self) -> list[Fill]:
        with self._lock:
            fills, self._fills = self._fills, []
        return fills


class VenueSession:
    """A running connection to one account: start it, use its ports, close it."""

    def __init__(self, config: VenueConfig, symbol: Symbol, timeframe: Timeframe) -> None:
        self.config = config
        self.symbol = symbol
        self.clock = VenueClock()
        self.inbox = FillInbox(on_fill=self._fill_seen)
        self._protecting: set[asyncio.Task[None]] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"venue-{config.environment}", daemon=True
        )
        self._thread.start()
        self.venue = self.run(self._connect())
        self.exchange = BybitExchange(self.venue, self._loop)
        self.feed = BybitFeed(self.venue, self._loop, symbol, timeframe)
        self._stop = asyncio.Event()
        self._tasks: list[concurrent.futures.Future[None]] = []

    async def _connect(self) -> BybitVenue:
        # Built on the loop: aiohttp sessions bind to the loop that creates them.
        limiter = RateLimiter(monotonic=time.monotonic, sleep=asyncio.sleep)
        return BybitVenue(self.config, CcxtTransport(self.config), limiter, self.clock)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = DEFAULT_TIMEOUT_S) -> T:
        """Run ``coroutine`` on the session's loop and wait for it (from any other thread)."""
        return run_on_loop(self._loop, coroutine, timeout_s)

    def start_streams(self) -> None:
        """Supervise the closed bars and, with keys, the account's private topics (each
        re-synced over REST after every (re)connection). Shadow and paper have no account at
        the venue: only its public bars."""
        bars = self.feed.stream.spec(stale_after_s=self.config.kline_stale_after_s)
        specs = [bars]
        if self.config.credentials is not None:
            specs += AccountStreams(self.venue, self.inbox, (self.symbol,)).specs()
        for spec in specs:
            task = asyncio.run_coroutine_threadsafe(
                supervise(self.venue, spec, stop=self._stop), self._loop
            )
            self._tasks.append(task)

    def _fill_seen(self, fill: Fill) -> None:
        """On the loop: a fill of an entry whose protection waits for it places it now."""
        if fill.client_order_id in self.venue.unprotected:
            task = self._loop.create_task(self._protect())
            self._protecting.add(task)
            task.add_done_callback(self._protecting.discard)

    async def _protect(self) -> None:
        try:
            await self.venue.protect_filled()
        except TradeplayError as error:  # tried again at the next closed bar
            log.warning("protection_not_placed_yet", error=str(error))

    def protect_filled(self) -> None:
        """From the engine's thread: place the protection of entries filled since they were
        sent (a safety net under the stream trigger, e.g. when the execution message was lost
        with a dropped socket). A position must never stay unprotected."""
        if self.venue.unprotected:
            self.run(self._protect())

    def close(self) -> None:
        """Stop the streams, close the client and the loop (open orders and positions stay)."""
        self.feed.close()
        self._loop.call_soon_threadsafe(self._stop.set)
        for task in self._tasks:
            task.cancel()
        try:
            self.run(self.venue.close(), timeout_s=10.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10.0)
            if not self._thread.is_alive():
                self._loop.close()


class VenueMarket:
    """The :class:`~tradeplay.runtime.runner.Market` of a venue account: the venue matches the
    orders; at each closed bar the runner collects the fills its streams reported."""

    def __init__(self, session: VenueSession) -> None:
        self._session = session

    @property
    def exchange(self) -> BybitExchange:
        return self._session.exchange

    def on_bar(self, row: object) -> Sequence[OrderEvent]:
        self._session.protect_filled()
        return [
            OrderFilled(client_order_id=fill.client_order_id, time=fill.time, fill=fill)
            for fill in self._session.inbox.drain()
            if fill.client_order_id is not None
        ]
