"""One environment of a deployment, connected: its venue session, bars and accounts.

Everything an environment has is its own: one :class:`VenueSession` (event loop, client, keys,
the account's one rate limiter), the streams of its pairs' bars and — for demo, testnet and
live — its account's private topics, whose fills are routed to the pair trading that symbol.
Shadow and paper environments read the venue's public data only; each of their pairs trades a
simulated account of its own, funded with the pair's capital.

Market data is not yet shared between environments reading the same source: each environment
streams its own bars (see the report of issue 7).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.events import FundingApplied, OrderEvent, OrderFilled
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import Symbol, to_decimal
from tradeplay.ports import Exchange
from tradeplay.runtime.deployment import EnvironmentSpec
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.preflight import run_preflight, warm_up_bars
from tradeplay.runtime.runner import Market
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.config import BybitCredentials, BybitEndpoints, VenueConfig
from tradeplay.venues.bybit.feed import BybitFeed
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport
from tradeplay.venues.bybit.streams import supervise

__all__ = ["EnvironmentConnection", "FillRouter"]

log = structlog.get_logger(__name__)

BarSink = Callable[[Pair, NDArray[np.float64]], None]


class FillRouter:
    """The account's reports from its private streams: each fill kept for the pair trading
    its symbol until that pair's next bar collects it."""

    def __init__(self, environment: str, forward: Callable[[Fill], None]) -> None:
        self._environment = environment
        self._forward = forward
        self._lock = threading.Lock()
        self._fills: dict[Symbol, list[Fill]] = {}

    def on_order(self, report: OrderReport) -> None:
        log.debug("venue_order", environment=self._environment, status=report.status)

    def on_fill(self, fill: Fill) -> None:
        with self._lock:
            self._fills.setdefault(fill.symbol, []).append(fill)
        self._forward(fill)  # the session's own inbox: it places an entry's protection

    def on_funding(self, funding: FundingApplied) -> None:
        log.info("funding_settled", environment=self._environment, symbol=funding.symbol)

    def on_position(self, report: PositionReport) -> None:
        log.debug("venue_position", environment=self._environment, symbol=report.symbol)

    def on_balance(self, report: BalanceReport) -> None:
        log.debug("venue_balance", environment=self._environment)

    def drain(self, symbol: Symbol) -> list[Fill]:
        with self._lock:
            return self._fills.pop(symbol, [])


class RoutedVenueMarket:
    """A venue pair's :class:`Market`: the venue matches; each bar collects the pair's fills."""

    def __init__(self, session: VenueSession, router: FillRouter, symbol: Symbol) -> None:
        self._session = session
        self._exchange: Exchange = session.exchange
        self._router = router
        self._symbol = symbol

    @property
    def exchange(self) -> Exchange:
        return self._exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        self._session.inbox.drain()  # its copies: this environment's fills go by the router
        return [
            OrderFilled(client_order_id=fill.client_order_id, time=fill.time, fill=fill)
            for fill in self._router.drain(self._symbol)
            if fill.client_order_id is not None
        ]


class EnvironmentConnection:
    """An environment's session with its venue: open it, take its pairs' markets and bars,
    close it. Used from the supervisor's thread; bars arrive on threads of their own."""

    def __init__(
        self,
        name: str,
        spec: EnvironmentSpec,
        pairs: Sequence[Pair],
        credentials: BybitCredentials | None,
    ) -> None:
        if not pairs:
            raise ConfigError(f"environment {name} runs no play")
        self.name = name
        self.kind = spec.kind
        self.pairs = tuple(pairs)
        endpoints = None if spec.emulator is None else BybitEndpoints.local(spec.emulator)
        config = VenueConfig(
            environment=spec.kind.venue, credentials=credentials, endpoints=endpoints
        )
        first = pairs[0]
        self.session = VenueSession(config, first.symbol, first.play.play.timeframe)
        self.router = FillRouter(name, self.session.inbox.on_fill)
        self._loop = self.session.run(_running_loop())
        self._stop = self.session.run(_new_event())
        self._feeds = {first.key: self.session.feed}
        self._tasks: list[concurrent.futures.Future[None]] = []
        self._pumps: list[threading.Thread] = []

    def check(self) -> None:
        """The preflight of the first pair (venue, clock, keys, balance); leverage of the rest.
        :class:`ConfigError` naming the item that failed."""
        first, *rest = self.pairs
        keyed = not self.kind.local_fills
        preflight = run_preflight(self.session, first.play, first.symbol, keys=keyed)
        if not preflight.passed:
            failed = preflight.failure
            detail = "" if failed is None else f"{failed.name}: {failed.detail}"
            raise ConfigError(f"environment {self.name} failed its preflight: {detail}")
        for pair in rest if keyed else ():
            leverage = to_decimal(pair.play.play.account.leverage, "account.leverage")
            self.session.run(self.session.venue.set_leverage(pair.symbol, leverage))

    def history(self, pair: Pair) -> NDArray[np.float64]:
        """The pair's warm-up bars; seeds its live stream so the first live bar follows."""
        feed = self._feeds.get(pair.key)
        if feed is None:
            feed = BybitFeed(self.session.venue, self._loop, pair.symbol, pair.play.play.timeframe)
            self._feeds[pair.key] = feed
        needed = warm_up_bars(pair.play)
        bars = feed.history(pair.symbol, pair.play.play.timeframe, needed)
        if len(bars) < needed:
            raise ConfigError(
                f"{pair.key}: only {len(bars)} closed bars of {pair.symbol} available, "
                f"the play needs {needed} to warm up"
            )
        return bars

    def market(self, pair: Pair, history: NDArray[np.float64]) -> Market:
        if not self.kind.local_fills:
            return RoutedVenueMarket(self.session, self.router, pair.symbol)
        instrument = self.session.run(self.session.venue.instrument(pair.symbol))
        kind = ShadowMarket if self.kind is RunEnvironment.SHADOW else PaperMarket
        return kind.for_play(
            pair.play, instrument, start_ms=int(history[0, 0]), capital=pair.capital
        )

    def equity(self) -> tuple[Decimal, Decimal, Decimal] | None:
        """The venue account's (equity, wallet balance, unrealized PnL); ``None`` for local
        environments, whose pairs each hold an account of their own."""
        if self.kind.local_fills:
            return None
        report = self.session.run(self.session.venue.balance())
        return report.equity, report.wallet_balance, report.unrealized_pnl

    def stream(self, sink: BarSink) -> None:
        """Start every stream: each pair's closed bars go to ``sink`` from a thread of their
        own; a venue account's private topics feed the fill router."""
        specs = [feed.stream.spec() for feed in self._feeds.values()]
        if not self.kind.local_fills:
            symbols = tuple(pair.symbol for pair in self.pairs)
            specs += AccountStreams(self.session.venue, self.router, symbols).specs()
        for spec in specs:
            task = asyncio.run_coroutine_threadsafe(
                supervise(self.session.venue, spec, stop=self._stop), self._loop
            )
            self._tasks.append(task)
        for pair in self.pairs:
            feed = self._feeds[pair.key]
            pump = threading.Thread(
                target=_pump, args=(feed, pair, sink), name=f"bars-{pair.key}", daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def close(self) -> None:
        """Stop the streams and close the session (orders and positions stay as they are)."""
        self._loop.call_soon_threadsafe(self._stop.set)
        for task in self._tasks:
            task.cancel()
        for feed in self._feeds.values():
            if feed is not self.session.feed:  # the session closes its own
                feed.close()
        self.session.close()
        for pump in self._pumps:
            pump.join(timeout=5.0)


def _pump(feed: BybitFeed, pair: Pair, sink: BarSink) -> None:
    for bar in feed.bars():
        sink(pair, bar.row)


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def _new_event() -> asyncio.Event:
    return asyncio.Event()
