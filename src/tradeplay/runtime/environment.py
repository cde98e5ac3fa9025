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

import functools
from collections.abc import Callable, Sequence
from decimal import Decimal

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import to_decimal
from tradeplay.runtime.deployment import EnvironmentSpec
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.market_data import MarketData, PublicSource, Reader, Subscription
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.preflight import run_preflight, warm_up_bars
from tradeplay.runtime.runner import Market
from tradeplay.runtime.venue_session import VenueMarket, VenueSession
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.config import BybitCredentials, BybitEndpoints, VenueConfig

__all__ = ["EnvironmentConnection"]

log = structlog.get_logger(__name__)

BarSink = Callable[[Pair, NDArray[np.float64]], None]


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
        self.session = VenueSession(config, first.symbol, first.play.play.timeframe, name)
        self.router = self.session.router
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

    def market(self, pair: Pair, history: NDArray[np.float64], run: str) -> Market:
        """The pair's account: the venue's, or a simulated one whose ids carry ``run`` (the
        runtime's run token: a restart starts it afresh)."""
        if not self.kind.local_fills:
            return VenueMarket(self.session, pair.symbol)
        instrument = self.session.run(self.session.venue.instrument(pair.symbol))
        kind = ShadowMarket if self.kind is RunEnvironment.SHADOW else PaperMarket
        return kind.for_play(
            pair.play,
            instrument,
            start_ms=int(history[0, 0]),
            capital=pair.capital,
            run=run,
            record=False,  # its orders and fills are stored as they happen; it runs for months
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

    def stream(self, sink: BarSink, *, enqueues: bool = False) -> None:
        """Start every stream: each pair's closed bars (shared) go to ``sink`` — from a thread
        of their own, or straight from the stream when ``sink`` only enqueues them; a venue
        account's private topics feed the fill router."""
        specs = []
        if not self.kind.local_fills:
            symbols = tuple(pair.symbol for pair in self.pairs)
            specs += AccountStreams(self.session.venue, self.router, symbols).specs()
        for spec in specs:
            self.session.supervise(spec)
        for pair, shared in self._bars.values():
            shared.start(functools.partial(sink, pair), enqueues=enqueues)

    def close(self) -> None:
        """Stop the streams and close the session (orders and positions stay as they are);
        the shared bars go on for the other environments reading them."""
        for _pair, shared in self._bars.values():
            shared.close()
        if self._own_market_data:
            self._market_data.close()
        self.session.close()
