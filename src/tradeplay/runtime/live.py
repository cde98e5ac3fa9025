"""``tradeplay run``: a play on live bars in one environment of the ladder.

=========  ======================================  ==================================
env        market data                             orders
=========  ======================================  ==================================
shadow     the venue's public stream (no keys)     recorded, never sent (would-be)
paper      the venue's public stream (no keys)     filled by the local simulator
demo       Bybit demo (mainnet public stream)      Bybit demo account
testnet    Bybit testnet                           Bybit testnet account
live       Bybit mainnet                           real money — needs two confirmations
=========  ======================================  ==================================

``--emulator URL`` puts the local Bybit V5 emulator in place of Bybit for every environment.
Each run: preflight checklist, warm-up from the venue's history, then one engine step per
closed bar until stopped. On stop (Ctrl-C) open orders and positions are left as they are and
reported (or closed, when asked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.values import Symbol, to_decimal
from tradeplay.engine.engine import EngineConfig
from tradeplay.engine.risk import RiskLimits
from tradeplay.play.compiler import CompiledPlay
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.preflight import Preflight, run_preflight
from tradeplay.runtime.runner import DECISIONS_KEPT, BarStep, Market, PlayRunner
from tradeplay.runtime.venue_session import VenueMarket, VenueSession
from tradeplay.venues.bybit.config import (
    BybitCredentials,
    BybitEndpoints,
    BybitEnvironment,
    VenueConfig,
    credentials_from,
)

__all__ = [
    "LiveRun",
    "RunEnvironment",
    "RunOutcome",
    "VenueTiming",
    "confirm_live",
    "credentials_for",
    "run_play_live",
]


class RunEnvironment(StrEnum):
    SHADOW = "shadow"
    PAPER = "paper"
    DEMO = "demo"
    TESTNET = "testnet"
    LIVE = "live"

    @property
    def venue(self) -> BybitEnvironment:
        """Whose hosts serve it: shadow and paper read mainnet's public data."""
        return {
            RunEnvironment.DEMO: BybitEnvironment.DEMO,
            RunEnvironment.TESTNET: BybitEnvironment.TESTNET,
        }.get(self, BybitEnvironment.MAINNET)

    @property
    def local_fills(self) -> bool:
        """Whether orders stay on this machine (no keys needed)."""
        return self in (RunEnvironment.SHADOW, RunEnvironment.PAPER)


@dataclass(frozen=True, slots=True)
class VenueTiming:
    """How long the adapter waits: a request, a silent kline stream."""

    request_timeout_s: float = 10.0
    kline_stale_after_s: float = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveRun:
    """One play in one environment."""

    play: CompiledPlay
    environment: RunEnvironment
    symbol: Symbol
    emulator_url: str | None = None
    credentials: BybitCredentials | None = None
    limits: RiskLimits = field(default_factory=RiskLimits)
    order_prefix: str = "tpl"
    max_bars: int | None = None
    """Stop after this many live bars (``None``: until stopped)."""
    timing: VenueTiming = field(default_factory=VenueTiming)
    """The adapter's timeouts (defaults suit Bybit; tests shorten them)."""
    record: bool = False
    """A paper or shadow run keeps its simulated account's record of orders and fills, to be
    read from :attr:`RunOutcome.market` at its end (a comparison with a backtest). Off by
    default: nothing else reads it, and a run may last months (see :attr:`SimConfig.record`)."""


@dataclass(frozen=True, slots=True)
class RunOutcome:
    preflight: Preflight
    bars: int
    open_orders: tuple[Order, ...] = ()
    position: Position | None = None
    market: Market | None = None
    """Where the orders went: a shadow run's :class:`ShadowMarket` holds its would-be orders,
    a paper run's :class:`PaperMarket` its simulated account (``None``: no run)."""


def confirm_live(environment: RunEnvironment, *, confirm: bool, env: Mapping[str, str]) -> None:
    """Live trading needs ``--confirm`` **and** ``CONFIRM_LIVE_TRADING=true``."""
    if environment is not RunEnvironment.LIVE:
        return
    if not confirm or env.get("CONFIRM_LIVE_TRADING", "").strip().lower() != "true":
        raise ConfigError(
            "live trading uses real money: pass --confirm and set CONFIRM_LIVE_TRADING=true "
            "in the environment to start it"
        )


def credentials_for(run_env: RunEnvironment, environ: Mapping[str, str]) -> BybitCredentials:
    """The keys of ``run_env`` (``BYBIT_DEMO_API_KEY`` …); a clear error when missing."""
    found = credentials_from(environ, run_env.venue)
    if found is None:
        prefix = run_env.venue.key_prefix
        raise ConfigError(f"{run_env} needs {prefix}_API_KEY and {prefix}_API_SECRET to be set")
    return found


def venue_config(run: LiveRun) -> VenueConfig:
    endpoints = None if run.emulator_url is None else BybitEndpoints.local(run.emulator_url)
    keys = None if run.environment.local_fills else run.credentials
    return VenueConfig(
        environment=run.environment.venue,
        credentials=keys,
        endpoints=endpoints,
        request_timeout_s=run.timing.request_timeout_s,
        kline_stale_after_s=run.timing.kline_stale_after_s,
    )


def run_play_live(
    run: LiveRun,
    *,
    on_preflight: Callable[[Preflight], None] = lambda _: None,
    on_step: Callable[[BarStep], None] = lambda _: None,
    stop: threading.Event | None = None,
    probe: Callable[[str, int], None] | None = None,
) -> RunOutcome:
    """Preflight, warm up, then one engine step per closed bar until ``stop`` or ``max_bars``.
    ``probe``: the adapter's latency probe (``BybitVenue.probe``), for the benchmark."""
    session = VenueSession(venue_config(run), run.symbol, run.play.play.timeframe)
    session.venue.probe = probe
    try:
        preflight = run_preflight(
            session, run.play, run.symbol, keys=not run.environment.local_fills
        )
        on_preflight(preflight)
        if not preflight.passed:
            return RunOutcome(preflight, 0)
        instrument = session.run(session.venue.instrument(run.symbol))
        market = _market(run, session, instrument, preflight)
        runner = PlayRunner(
            run.play,
            market,
            EngineConfig(
                symbol=run.symbol,
                leverage=to_decimal(run.play.play.account.leverage, "account.leverage"),
                limits=run.limits,
                order_prefix=run.order_prefix,
                keep_decisions=DECISIONS_KEPT,
            ),
            start_ms=int(preflight.warm_up[0, 0]),
        )
        runner.warm(preflight.warm_up)
        session.start_streams()
        bars = _loop(session, runner, run.max_bars, stop, on_step)
        exchange = market.exchange
        return RunOutcome(
            preflight,
            bars,
            tuple(exchange.open_orders(run.symbol)),
            exchange.position(run.symbol),
            market,
        )
    finally:
        session.close()


def _market(
    run: LiveRun, session: VenueSession, instrument: Instrument, preflight: Preflight
) -> Market:
    if not run.environment.local_fills:
        return VenueMarket(session, run.symbol)
    kind = ShadowMarket if run.environment is RunEnvironment.SHADOW else PaperMarket
    return kind.for_play(
        run.play, instrument, start_ms=int(preflight.warm_up[0, 0]), record=run.record
    )


def _loop(
    session: VenueSession,
    runner: PlayRunner,
    max_bars: int | None,
    stop: threading.Event | None,
    on_step: Callable[[BarStep], None],
) -> int:
    done = 0
    for bar in session.feed.bars():
        on_step(runner.step(bar.row))
        done += 1
        if (max_bars is not None and done >= max_bars) or (stop is not None and stop.is_set()):
            break
    return done
