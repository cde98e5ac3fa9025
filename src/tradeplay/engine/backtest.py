"""The backtest: the engine wired to stored bars, a bar clock and the simulated exchange.

The engine is called on the close of every bar where it could act: a bar where a rule fired,
where the exchange reported an order event (a fill, a stop, a liquidation), or where the play's
maximum holding time runs out. On every other bar nothing the engine reads can change, so the
exchange passes those bars in one vectorised step (:meth:`SimulatedExchange.advance`); paper
trading calls the same ``advance`` one bar at a time and the same engine on every bar, which
gives the same orders on the same bars.

A position still open after the last bar is closed at the last close, as a taker, so its PnL
and fee count in the results (exit reason ``end_of_data``).
"""

from __future__ import annotations

import bisect
import gc
import itertools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import InputError
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import Symbol, to_decimal, utc_from_ms
from tradeplay.engine.clock import BarClock
from tradeplay.engine.engine import Engine, EngineConfig
from tradeplay.engine.risk import RiskLimits
from tradeplay.engine.trades import build_trades
from tradeplay.features.compute import bar_matrix
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.evaluate import RULES
from tradeplay.play.runner import PlaySignals
from tradeplay.ports import Progress
from tradeplay.reports.model import DataLabel, EquityCurve, ExitReason, RunResult
from tradeplay.sim.book import Origin
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import Segment, SimulatedExchange, expand_segments
from tradeplay.sim.fees import FeeSchedule
from tradeplay.sim.funding import FundingSource
from tradeplay.sim.ledger import EntryKind
from tradeplay.sim.slippage import FixedBps


@dataclass(frozen=True, slots=True, kw_only=True)
class Backtest:
    """Everything one backtest needs: the play, the bars and the run's settings."""

    play: CompiledPlay
    symbol: Symbol
    instrument: Instrument
    candles: Candles
    data: DataLabel
    capital: Decimal | None = None
    """Starting cash; ``None`` takes the play's ``account.capital``."""
    funding: FundingRates | None = None
    """Stored funding rates; ``None`` uses the stated constant (0.01 % per 8 h)."""
    funding_rate: Decimal | None = None
    """A constant rate instead of stored rates (``0`` switches funding off)."""
    slippage_bps: Decimal = Decimal(0)
    limits: RiskLimits = field(default_factory=RiskLimits)
    minutes: Candles | None = None
    """1-minute bars under a larger-timeframe run: the exchange then walks each bar's exact
    path minute by minute instead of the pessimistic rule."""
    warm_up: int = 0
    """The first bars only warm the features up: the engine trades from bar ``warm_up`` on (as a
    live runner does after loading its warm-up history)."""
    idle: NDArray[np.bool_] | None = None
    """One flag per bar: ``True`` where the engine did not run although the bar was taken (a
    live pair paused, or its account not yet reconciled — the replay of a stage's tape). The
    exchange still works through those bars (stops and targets fire, funding is paid); no rule
    is acted on there, and a holding time that ends there is acted on at the next bar the
    engine runs on, as live (a play with a holding time is called on every bar: it reacts
    to fills)."""

    def __post_init__(self) -> None:
        if self.idle is not None and self.idle.shape != (len(self.candles),):
            raise InputError(
                f"backtest of {self.play.name}: idle has shape {self.idle.shape}; expected one "
                f"flag per bar ({len(self.candles)})"
            )

    @property
    def starting_cash(self) -> Decimal:
        return self.capital if self.capital is not None else self.play.play.account.capital


@contextmanager
def heap_set_aside() -> Iterator[None]:
    """While inside, the garbage collector leaves alone what existed when it began: for a
    process that runs a backtest and little else (``tradeplay backtest``, the benchmark).

    A run keeps tens of thousands of fills, orders and trades, enough to set off one full
    collection, which would walk everything the process holds (the libraries, the compiled
    kernels: a tenth of a second on a million-bar run) to find nothing: what a run throws away
    is freed by reference counting. Frozen objects are still freed when they are dropped; only
    a cycle among them waits for the end. The freeze is the whole process's, so
    :func:`run_backtest` itself does not do it: a deployment runs backtests in its own process
    and freezes its heap once, for good (:func:`tradeplay.runtime.supervisor.settle_heap`). A
    heap frozen already is left so.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_backtest(backtest: Backtest, progress: Progress | None = None) -> RunResult:
    """Run the play over the bars; the result the reports read."""
    bars = bar_matrix(backtest.candles)
    output = PlaySignals(backtest.play).batch(bars)
    exchange = SimulatedExchange(backtest.instrument, sim_config(backtest, bars))
    clock = BarClock(int(bars[0, 0]) if len(bars) else 0)
    engine = Engine(backtest.play, exchange, clock, engine_config(backtest))
    fired = np.zeros(len(bars), dtype=np.bool_)
    for rule in RULES:
        fired |= output.signals[rule]
    fired[: backtest.warm_up] = False
    idle = backtest.idle
    if idle is not None:
        fired &= ~idle
    calls = _Calls(fired)
    signal_rows = np.column_stack([output.signals[rule] for rule in RULES])
    minutes = None if backtest.minutes is None else bar_matrix(backtest.minutes)
    lookback, bar_ms = _closes_lookback(backtest.play), backtest.play.play.timeframe.ms
    watches = _watches_equity(backtest.limits)
    # A bar where only an order event happened (no rule fired, no holding time ran out)
    # changes nothing the engine decides unless it reacts to fills (trailing stop, holding
    # time, Kelly sizing): live, its call on that bar would do nothing either. So unless it
    # reacts, the exchange runs straight through such events to the next bar the engine sees.
    reacts = engine.reacts_to_fills  # the play's settings: it does not change during the run
    through = not reacts
    segments: list[Segment] = []
    start = reported = 0
    n = len(bars)
    while start < n:
        wake = engine.wake_at()
        stop = calls.next(start, wake, n)
        result = exchange.advance(bars, start, stop, minutes=minutes, through_events=through)
        segments.extend(result.segments)
        if watches:
            engine.observe_equity(bars[start : result.end, 0].astype(np.int64), result.equity)
        bar = result.bar
        start = result.end
        # ``wake`` is still the engine's answer: only the engine's own call can change it.
        if (
            bar >= backtest.warm_up
            and (fired[bar] or bar == wake or reacts or start == n)
            and (idle is None or not idle[bar])
        ):
            clock.set_ms(int(bars[bar, 0]) + bar_ms)
            signals = dict(zip(RULES, signal_rows[bar].tolist(), strict=True))
            values = _BarValues(output.columns, bar)
            engine.on_bar_close(bar, signals, values, bars[max(0, bar - lookback) : bar + 1, 4])
        if progress is not None and (start - reported >= n // 200 or start == n):
            progress(start, n)
            reported = start
    closed = exchange.close_at_last_price() is not None
    final_wallet = float(exchange.account().wallet_balance) if closed else None
    return _result(
        backtest,
        bars=bars,
        exchange=exchange,
        engine=engine,
        curve=_curve(bars, segments, final_wallet),
        columns=output.columns,
    )


def sim_config(backtest: Backtest, bars: NDArray[np.float64]) -> SimConfig:
    """The simulated account of this run (a paper account trading the same play uses it too)."""
    interval = backtest.instrument.funding_interval
    if backtest.funding_rate is not None:
        funding = FundingSource.constant(backtest.funding_rate, interval)
    else:
        funding = FundingSource.for_instrument(backtest.instrument, backtest.funding)
    config = account_config(
        backtest.play,
        backtest.instrument,
        funding=funding,
        start_ms=int(bars[0, 0]) if len(bars) else None,
        capital=backtest.starting_cash,
    )
    return replace(config, slippage=FixedBps(backtest.slippage_bps))


def account_config(
    play: CompiledPlay,
    instrument: Instrument,
    *,
    funding: FundingSource | None,
    start_ms: int | None,
    capital: Decimal | None = None,
) -> SimConfig:
    """The simulated account ``play`` trades in, for a backtest, paper or shadow run alike.

    The play's leverage, margin mode and fee tier on its timeframe; ``capital`` (``None``: the
    play's ``account.capital``) deposited at ``start_ms`` (``None``: the config's default);
    ``funding`` ``None``: Bybit's baseline constant on the instrument's interval. No slippage.
    """
    account = play.play.account
    config = SimConfig(
        starting_cash=account.capital if capital is None else capital,
        leverage=to_decimal(account.leverage, "account.leverage"),
        margin_mode=account.margin_mode,
        fees=FeeSchedule.bybit("VIP0" if account.fee_tier == "base" else account.fee_tier.upper()),
        timeframe=play.play.timeframe,
        funding=FundingSource.for_instrument(instrument, None) if funding is None else funding,
    )
    return config if start_ms is None else replace(config, funded_at=utc_from_ms(start_ms))


def engine_config(backtest: Backtest) -> EngineConfig:
    """The engine's settings for this run (a runner of the same play uses them too)."""
    return EngineConfig(
        symbol=backtest.symbol,
        leverage=to_decimal(backtest.play.play.account.leverage),
        limits=backtest.limits,
        order_prefix="bt",
    )


def _closes_lookback(play: CompiledPlay) -> int:
    sizing = play.play.sizing
    return int(getattr(sizing, "lookback", 0) or 0) + 1


def _watches_equity(limits: RiskLimits) -> bool:
    """Whether a limit reads the path of equity between the engine's calls."""
    return limits.max_daily_loss_percent is not None or limits.max_drawdown_percent is not None


class _BarValues(Mapping[str, float]):
    """The play's column values on one bar, each read from its column when asked: the engine
    reads the close and its protection's levels, seldom every column."""

    __slots__ = ("_bar", "_columns")

    def __init__(self, columns: Mapping[str, NDArray[np.float64]], bar: int) -> None:
        self._columns = columns
        self._bar = bar

    def __getitem__(self, name: str) -> float:
        value: float = self._columns[name].item(self._bar)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class _Calls:
    """The bars the engine must see: where a rule fired, or where its holding time ends."""

    def __init__(self, fired: NDArray[np.bool_]) -> None:
        self._wake = np.flatnonzero(fired).tolist()
        self._index = 0  # the calls go forward: the search starts where the last one ended

    def next(self, start: int, holding: int | None, n: int) -> int:
        """One past the next bar at or after ``start`` the engine must see."""
        wake, index = self._wake, self._index
        while index < len(wake) and wake[index] < start:
            index += 1
        self._index = index
        target = wake[index] if index < len(wake) else n - 1
        if holding is not None:
            target = min(target, max(holding, start))
        return min(target, n - 1) + 1


def _curve(
    bars: NDArray[np.float64], segments: list[Segment], final_wallet: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(equity, cash, position_value)`` per bar from the exchange's segments, in one
    vectorised step; ``final_wallet`` after an end-of-data close."""
    closes = bars[:, 4]
    a, sizes, basis = expand_segments(segments, 0)
    position_value = sizes * closes
    equity = a + position_value
    cash = equity - (position_value - basis)
    if final_wallet is not None:  # the last bar shows the flat account, fee paid
        equity[-1] = cash[-1] = final_wallet
        position_value[-1] = 0.0
    return equity, cash, position_value


_EXIT_REASONS = {
    Origin.TAKE_PROFIT: ExitReason.TAKE_PROFIT,
    Origin.STOP_LOSS: ExitReason.STOP_LOSS,
    Origin.TRAILING_STOP: ExitReason.TRAILING_STOP,
    Origin.LIQUIDATION: ExitReason.LIQUIDATION,
    Origin.END_OF_DATA: ExitReason.END_OF_DATA,
}


def _reasons(engine: Engine) -> Callable[[Fill], str]:
    """Why a closing fill happened: the engine's own reason, or the exchange order's origin."""

    def reason_of(fill: Fill) -> str:
        cid = fill.client_order_id
        own = None if cid is None else engine.execution.exit_reasons.get(cid)
        return own if own is not None else exit_reason_of(fill)

    return reason_of


def exit_reason_of(fill: Fill) -> str:
    """Why a closing fill happened, as far as its order's origin tells (a signal's exit, if
    the exchange did not place it itself)."""
    return _EXIT_REASONS.get(Origin.of(fill.client_order_id), ExitReason.SIGNAL).value


def _funding_between(exchange: SimulatedExchange) -> Callable[[datetime, datetime], Decimal]:
    """Funding paid in ``(start, end]``: a binary search in the settlements and a difference of
    running totals, so trade-by-trade lookups stay cheap on long runs."""
    entries = exchange.ledger().entries(EntryKind.FUNDING)
    times = [entry.time for entry in entries]
    # Ledger amounts are wallet changes: a payment is negative, so paid = -amount.
    totals = [Decimal(0), *itertools.accumulate(-entry.amount for entry in entries)]

    def paid(start: datetime, end: datetime) -> Decimal:
        return totals[bisect.bisect_right(times, end)] - totals[bisect.bisect_right(times, start)]

    return paid


def _realized(exchange: SimulatedExchange) -> Callable[[Fill], Decimal]:
    """Each fill's realized PnL as the exchange's ledger booked it (by trade id)."""
    booked = exchange.ledger().by_reference(EntryKind.REALIZED_PNL)

    def realized_of(fill: Fill) -> Decimal:
        return booked.get(fill.trade_id, Decimal(0))

    return realized_of


def _result(
    backtest: Backtest,
    *,
    bars: NDArray[np.float64],
    exchange: SimulatedExchange,
    engine: Engine,
    curve: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    columns: Mapping[str, NDArray[np.float64]],
) -> RunResult:
    play = backtest.play.play
    fills = exchange.fills()
    trades = build_trades(
        backtest.symbol,
        fills,
        bars=bars,
        funding=_funding_between(exchange),
        reason_of=_reasons(engine),
        realized_of=_realized(exchange),
    )
    account = exchange.account()
    overlays = {
        ref.name: columns[ref.name]
        for ref in backtest.play.features
        if ref.name in columns and _overlays_price(ref.kind)
    }
    return RunResult(
        play=backtest.play.name,
        symbol=backtest.symbol,
        timeframe=play.timeframe,
        start=utc_from_ms(int(bars[0, 0])),
        end=utc_from_ms(int(bars[-1, 0]) + play.timeframe.ms),
        starting_capital=backtest.starting_cash,
        data=backtest.data,
        config=_config(backtest, exchange),
        trades=tuple(trades),
        orders=tuple(exchange.orders()),
        fills=tuple(fills),
        equity=EquityCurve.from_columns(
            ts=bars[:, 0].astype(np.int64),
            equity=curve[0],
            cash=curve[1],
            position_value=curve[2],
        ),
        bars=backtest.candles,
        overlays=overlays,
        fees_total=account.fees_paid,
        funding_total=account.funding_paid,
    )


_PRICE_KINDS = frozenset(
    {"sma", "ema", "wma", "dema", "tema", "hma", "vwap", "psar", "highest", "lowest"}
)


def _overlays_price(kind: str) -> bool:
    """Single-line features drawn on the price chart (oscillators have their own scale)."""
    return kind in _PRICE_KINDS


def _config(backtest: Backtest, exchange: SimulatedExchange) -> dict[str, Any]:
    play = backtest.play.play
    return {
        "play": backtest.play.name,
        "play_file": backtest.play.source,
        "symbol": backtest.symbol,
        "timeframe": str(play.timeframe),
        "capital": str(backtest.starting_cash),
        "leverage": str(play.account.leverage),
        "margin_mode": str(play.account.margin_mode),
        "fee_tier": play.account.fee_tier,
        "slippage_bps": str(backtest.slippage_bps),
        "funding": _funding_text(backtest),
        "fills": "market orders at the next bar's open; within a bar "
        + (
            "the exact path of its 1-minute candles"
            if backtest.minutes is not None
            else "the pessimistic path (stop before target)"
        ),
        "instrument": backtest.instrument.snapshot,
    }


def _funding_text(backtest: Backtest) -> str:
    if backtest.funding_rate is not None:
        return f"constant {backtest.funding_rate} per settlement"
    return "stored funding rates" if backtest.funding is not None else "constant 0.01 % per 8 h"
