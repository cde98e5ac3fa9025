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
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog

from tradeplay.domain.errors import TradeplayError
from tradeplay.domain.events import OrderEvent, OrderFilled
from tradeplay.domain.fill import Fill
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, Symbol, utc_from_ms
from tradeplay.runtime.venue_fills import FillRouter, ended_event
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.client import CcxtTransport
from tradeplay.venues.bybit.config import VenueConfig
from tradeplay.venues.bybit.exchange import DEFAULT_TIMEOUT_S, BybitExchange, run_on_loop
from tradeplay.venues.bybit.feed import BybitFeed
from tradeplay.venues.bybit.limits import RateLimiter
from tradeplay.venues.bybit.streams import StreamSpec, supervise
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["VenueClock", "VenueMarket", "VenueSession"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

FILL_CATCH_UP_S = 0.05
"""How long a closed bar waits for the outcome of our market orders surely on their way (sent
at the last close, they met this bar): a bar's fills are taken with that bar. Only a bar with
such an order waits, and only until its messages arrive."""


class VenueClock:
    """The venue's time: the local clock corrected by the offset measured against the venue
    (the preflight's drift check sets it). Against the emulator this is the replay's time."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now(self) -> datetime:
        return utc_from_ms(int(time.time() * 1000) + self.offset_ms)


class VenueSession:
    """A running connection to one account: start it, use its ports, close it."""

    def __init__(
        self, config: VenueConfig, symbol: Symbol, timeframe: Timeframe, name: str = ""
    ) -> None:
        """``name``: the environment's, for the logs (the venue's by default)."""
        self.config = config
        self.symbol = symbol
        self.clock = VenueClock()
        self.router = FillRouter(name or str(config.environment), forward=self._fill_seen)
        """The account's reports (private streams only with keys), for its pairs' markets."""
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

    def exchange_of(self, symbol: Symbol) -> BybitExchange:
        """The exchange port of the pair trading ``symbol`` on this account (its reads wait
        for its own orders in flight only, see :class:`BybitExchange`)."""
        return BybitExchange(self.venue, self._loop, trading=symbol)

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
            specs += AccountStreams(self.venue, self.router, (self.symbol,)).specs()
        for spec in specs:
            self.supervise(spec)

    def supervise(self, spec: StreamSpec) -> None:
        """Keep ``spec``'s stream up on the session's loop until the session closes."""
        task = asyncio.run_coroutine_threadsafe(
            supervise(self.venue, spec, stop=self._stop), self._loop
        )
        self._tasks.append(task)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def stopping(self) -> asyncio.Event:
        """Set (on the loop) when the session closes: what its supervised work waits on."""
        return self._stop

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
    """The :class:`~tradeplay.runtime.runner.Market` of one symbol on a venue account: the
    venue matches; each bar first places any protection still missing (the safety net under
    the stream's trigger), then collects the symbol's fills — an order without our id, a
    position's take-profit or stop-loss, named by the venue's id as
    :meth:`~tradeplay.venues.bybit.reports.OrderReport.to_order` names it — and the orders of
    ours the venue ended unfilled."""

    def __init__(self, session: VenueSession, symbol: Symbol) -> None:
        self._session = session
        self._symbol = symbol
        self._exchange = session.exchange_of(symbol)

    @property
    def exchange(self) -> BybitExchange:
        return self._exchange

    def on_bar(self, row: object) -> Sequence[OrderEvent]:
        self._session.venue.view.settle(self._symbol, FILL_CATCH_UP_S)
        self._session.protect_filled()
        fills, ended = self._session.router.drain(self._symbol)
        events: list[OrderEvent] = [
            OrderFilled(
                client_order_id=fill.client_order_id or ClientOrderId(fill.order_id),
                time=fill.time,
                fill=fill,
            )
            for fill in fills
        ]
        return events + [ended_event(report) for report in ended]
