"""One environment of a deployment, connected: its venue session, bars and accounts.

Everything an environment has is its own: one :class:`VenueSession` (event loop, client, keys,
the account's one rate limiter) and — for demo, testnet and live — its account's private
topics, whose fills are routed to the pair trading that symbol.
Shadow and paper environments read the venue's public data only; each of their pairs trades a
simulated account of its own, funded with the pair's capital.

Market data is the exception: bars come from the process's :class:`~tradeplay.runtime.
market_data.MarketData`, which opens one stream per public source, symbol and timeframe and
shares it read-only with every environment reading the same source (demo, live, shadow and
paper read mainnet's; testnet its own).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Final

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.events import (
    FundingApplied,
    OrderCancelled,
    OrderDeactivated,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import ClientOrderId, OrderId, Symbol, to_decimal
from tradeplay.ports import Exchange
from tradeplay.runtime.deployment import EnvironmentSpec
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.market_data import MarketData, PublicSource, Reader, Subscription
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.preflight import run_preflight, warm_up_bars
from tradeplay.runtime.runner import Market
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.config import BybitCredentials, BybitEndpoints, VenueConfig
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport
from tradeplay.venues.bybit.streams import supervise

__all__ = ["EnvironmentConnection", "FillRouter"]

log = structlog.get_logger(__name__)

BarSink = Callable[[Pair, NDArray[np.float64]], None]


class FillRouter:
    """The account's reports from its private streams: each fill, and each of our orders the
    venue ended without filling it, kept for the pair trading its symbol until that pair's
    next bar collects them.

    A fill without our ``orderLinkId`` is the venue's own order: a position's take-profit or
    stop-loss (or a liquidation, a manual order). Bybit's execution row says which in its
    ``stopOrderType``, but the parsed :class:`Fill` does not carry it; the ``order`` topic
    does, so the router remembers the ``stopOrderType`` of each such order it reports.
    """

    def __init__(self, environment: str, forward: Callable[[Fill], None]) -> None:
        self._environment = environment
        self._forward = forward
        self._lock = threading.Lock()
        self._fills: dict[Symbol, list[Fill]] = {}
        self._ended: dict[Symbol, list[OrderReport]] = {}
        self._stop_types: dict[OrderId, str] = {}

    def on_order(self, report: OrderReport) -> None:
        log.debug("venue_order", environment=self._environment, status=report.status)
        with self._lock:
            if report.client_order_id is None:
                if report.stop_order_type:
                    self._stop_types[report.order_id] = report.stop_order_type
                    while len(self._stop_types) > _STOP_TYPES_KEPT:  # the oldest first
                        del self._stop_types[next(iter(self._stop_types))]
            elif report.status in _ENDED_UNFILLED:
                self._ended.setdefault(report.symbol, []).append(report)

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

    def drain(self, symbol: Symbol) -> tuple[list[Fill], list[OrderReport]]:
        """The fills of ``symbol`` and the orders ended unfilled since the last drain."""
        with self._lock:
            return self._fills.pop(symbol, []), self._ended.pop(symbol, [])

    def origin(self, fill: Fill) -> Origin | None:
        """Who placed the order ``fill`` executes; ``None`` when not known (yet)."""
        if fill.client_order_id is not None:
            return Origin.USER
        with self._lock:
            stop_type = self._stop_types.get(fill.order_id, "")
        return _ORIGINS.get(stop_type)


class RoutedVenueMarket:
    """A venue pair's :class:`Market`: the venue matches; each bar collects the pair's fills
    (an order without our id is named by the venue's, as :meth:`OrderReport.to_order` names
    it) and then the orders the venue ended unfilled."""

    def __init__(self, session: VenueSession, router: FillRouter, symbol: Symbol) -> None:
        self._session = session
        self._exchange: Exchange = session.exchange
        self._router = router
        self._symbol = symbol

    @property
    def exchange(self) -> Exchange:
        return self._exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        self._session.protect_filled()  # the safety net under the stream's trigger
        self._session.inbox.drain()  # its copies: this environment's fills go by the router
        fills, ended = self._router.drain(self._symbol)
        events: list[OrderEvent] = [
            OrderFilled(
                client_order_id=fill.client_order_id or ClientOrderId(fill.order_id),
                time=fill.time,
                fill=fill,
            )
            for fill in fills
        ]
        return events + [_ended(report) for report in ended]


def _ended(report: OrderReport) -> OrderEvent:
    """The event that ends our order as the venue reports it ended (not filled)."""
    link, time, reason = report.to_order().client_order_id, report.updated_at, report.reason
    if report.status is OrderStatus.REJECTED:
        return OrderRejected(client_order_id=link, time=time, reason=reason or "rejected by Bybit")
    if report.status is OrderStatus.EXPIRED:
        return OrderExpired(client_order_id=link, time=time, reason=reason)
    if report.status is OrderStatus.DEACTIVATED:
        return OrderDeactivated(client_order_id=link, time=time, reason=reason)
    return OrderCancelled(client_order_id=link, time=time, reason=reason)


_ENDED_UNFILLED: Final = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.DEACTIVATED, OrderStatus.REJECTED}
)
_STOP_TYPES_KEPT: Final = 1000
"""Venue orders whose ``stopOrderType`` the router remembers (their fills come within a bar)."""
_ORIGINS: Final = {
    "TakeProfit": Origin.TAKE_PROFIT,
    "PartialTakeProfit": Origin.TAKE_PROFIT,
    "StopLoss": Origin.STOP_LOSS,
    "PartialStopLoss": Origin.STOP_LOSS,
    "TrailingStop": Origin.TRAILING_STOP,
}


class EnvironmentConnection:
    """An environment's session with its venue: open it, take its pairs' markets and bars,
    close it. Used from the supervisor's thread; bars arrive on threads of their own."""

    def __init__(
        self,
        name: str,
        spec: EnvironmentSpec,
        pairs: Sequence[Pair],
        credentials: BybitCredentials | None,
        market_data: MarketData | None = None,
    ) -> None:
        """``market_data``: the process's shared bars (by default a hub of this environment's
        own, closed with it)."""
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
        self._tasks: list[concurrent.futures.Future[None]] = []
        self._own_market_data = market_data is None
        self._market_data = MarketData() if market_data is None else market_data
        self._source = PublicSource.of(config)
        self._bars: dict[PairKey, tuple[Pair, Subscription]] = {}

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
        if pair.key not in self._bars:
            reader = Reader(environment=self.name, name=str(pair.key), venue=self.session.venue)
            timeframe = pair.play.play.timeframe
            shared = self._market_data.subscribe(self._source, pair.symbol, timeframe, reader)
            self._bars[pair.key] = (pair, shared)
        needed = warm_up_bars(pair.play)
        bars = self._bars[pair.key][1].history(needed)
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

    def origin(self, fill: Fill) -> Origin | None:
        """Who placed the order a pair's ``fill`` executes (the recorder tells a stop-loss or
        take-profit hit by it); ``None`` when not known."""
        if self.kind.local_fills:
            return Origin.of(fill.client_order_id)  # the simulator's own ids say it
        return self.router.origin(fill)

    def equity(self) -> tuple[Decimal, Decimal, Decimal] | None:
        """The venue account's (equity, wallet balance, unrealized PnL); ``None`` for local
        environments, whose pairs each hold an account of their own."""
        if self.kind.local_fills:
            return None
        report = self.session.run(self.session.venue.balance())
        return report.equity, report.wallet_balance, report.unrealized_pnl

    def stream(self, sink: BarSink) -> None:
        """Start every stream: each pair's closed bars (shared) go to ``sink`` from a thread
        of their own; a venue account's private topics feed the fill router."""
        specs = []
        if not self.kind.local_fills:
            symbols = tuple(pair.symbol for pair in self.pairs)
            specs += AccountStreams(self.session.venue, self.router, symbols).specs()
        for spec in specs:
            task = asyncio.run_coroutine_threadsafe(
                supervise(self.session.venue, spec, stop=self._stop), self._loop
            )
            self._tasks.append(task)
        for pair, shared in self._bars.values():
            shared.start(functools.partial(sink, pair))

    def close(self) -> None:
        """Stop the streams and close the session (orders and positions stay as they are);
        the shared bars go on for the other environments reading them."""
        self._loop.call_soon_threadsafe(self._stop.set)
        for task in self._tasks:
            task.cancel()
        for _pair, shared in self._bars.values():
            shared.close()
        if self._own_market_data:
            self._market_data.close()
        self.session.close()


async def _running_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


async def _new_event() -> asyncio.Event:
    return asyncio.Event()
