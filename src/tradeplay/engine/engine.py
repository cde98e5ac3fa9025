"""The one engine: the tight loop of one play on one symbol, in every mode.

On every bar close it is called for (every bar live; in a backtest every bar where something
happened or a rule fired — between those nothing can change its decisions), it runs::

    position monitor → exposure monitor → risk monitor → pnl monitor → strategy → execution

* **position monitor** — the exchange's position and account are the truth; the engine notes
  when a position opened (for the holding time) and closed (for the trade history Kelly reads);
* **exposure monitor** — notional at the bar's close, measured when an entry is planned (the
  risk check of the entry is all that reads it);
* **risk monitor** — equity into the risk state (drawdown halt, daily loss from 00:00 UTC);
  between calls the wiring feeds it the equity curve through :meth:`Engine.observe_equity`;
* **pnl monitor** — equity = wallet balance + unrealized PnL at the close (the mark);
* **strategy** — intents from the bar's signals (:mod:`tradeplay.engine.strategy`);
* **execution** — sizing, risk check and orders, one instruction at a time.

It knows nothing of modes: the clock, the exchange and the bars come from the wiring.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.position import Position
from tradeplay.domain.protection import Protection
from tradeplay.domain.values import Side, Symbol, to_decimal, utc_from_ms
from tradeplay.engine.execution import EntryPlan, ExecutionManager, OrderIds
from tradeplay.engine.exposure import Exposure
from tradeplay.engine.journal import Journal
from tradeplay.engine.protection import (
    MissingLevel,
    entry_protection,
    measured_on_the_bar,
    trailing_stop,
)
from tradeplay.engine.risk import (
    Block,
    IntendedOrder,
    Reduce,
    RiskLimits,
    RiskState,
    check_entry,
)
from tradeplay.engine.sizing import SizeRefused, size_entry
from tradeplay.engine.strategy import Intent, decide
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.risk import Kelly, Off, VolatilityTarget
from tradeplay.ports import Clock, Exchange, TradingStop

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_BUY, _SELL, _ENTER_LONG = Side.BUY, Side.SELL, Intent.ENTER_LONG


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """What the wiring decides for one engine: the symbol, its leverage, the risk limits."""

    symbol: Symbol
    leverage: Decimal
    limits: RiskLimits
    order_prefix: str = "tpl"
    """Our order ids are ``<prefix>-<n>``; the simulated exchange names its own orders ``tp-``,
    ``sl-``, ``ts-``, ``liq-`` and ``eod-``, so the default keeps clear of those."""
    keep_decisions: int | None = None
    """How many of its latest decisions (and closing orders' reasons) the engine keeps in
    memory; ``None``: every one, for a backtest that reads them at its end. A runner keeps a
    window: it runs for months, and its orders and fills are in the store."""


class _Bar(NamedTuple):
    """What the monitors established about the bar an entry is planned on."""

    bar: int
    now: datetime
    mark: Decimal
    equity: Decimal
    position: Position
    columns: Mapping[str, float]
    closes: NDArray[np.float64]


@dataclass(slots=True)
class _Holding:
    """The open position as the engine saw it open."""

    bar: int
    wallet_at_entry: Decimal
    notional: Decimal
    trailing_set: bool = False


class Engine:
    """One play, one symbol, one exchange."""

    def __init__(
        self, play: CompiledPlay, exchange: Exchange, clock: Clock, config: EngineConfig
    ) -> None:
        self.play = play
        self.exchange = exchange
        self.clock = clock
        self.config = config
        self.journal = Journal(config.keep_decisions)
        self.execution = ExecutionManager(
            exchange,
            config.symbol,
            OrderIds(config.order_prefix),
            self.journal,
            keep=config.keep_decisions,
        )
        equity = exchange.account().wallet_balance
        self.risk = RiskState.start(equity, clock.now())
        sizing = play.play.sizing
        self.trade_returns: deque[float] = deque(
            maxlen=sizing.lookback if isinstance(sizing, Kelly) else 0
        )
        """Net returns of the closed trades on their entry notional: the latest ones the play's
        Kelly sizing reads (none for another sizing, where nothing reads them)."""
        self._holding: _Holding | None = None
        self._same_protection: dict[Side, Protection | None] = {}
        """Per side, the protection of a play whose levels do not depend on the bar."""

    # -- monitors ------------------------------------------------------------------------------

    def observe_equity(self, ts_ms: NDArray[np.int64], equity: NDArray[np.float64]) -> None:
        """Feed the risk monitor the equity of bars the engine was not called for.

        Per UTC day in the span: the day's first value (the daily-loss baseline), the deepest
        drawdown's peak and trough, and the last value — exactly the points at which a bar-by-bar
        update could change the risk state, so a halt is never missed between calls.
        """
        limits = self.config.limits
        if len(equity) == 0 or (
            limits.max_daily_loss_percent is None and limits.max_drawdown_percent is None
        ):
            return  # no limit reads the path of equity between calls: nothing to feed
        days = ts_ms // 86_400_000
        for start, end in _segments(days):
            for index in _risk_points(equity[start:end], float(self.risk.equity_peak)):
                moment = utc_from_ms(int(ts_ms[start + index]))
                value = to_decimal(float(equity[start + index]), "equity")
                self.risk = self.risk.update(value, moment, self.config.limits)

    def on_bar_close(
        self,
        bar: int,
        signals: Mapping[str, bool],
        columns: Mapping[str, float],
        closes: NDArray[np.float64],
    ) -> None:
        """Run the loop for the bar ``bar`` that just closed.

        ``columns`` are the play's values on this bar; ``closes`` the closes up to and including
        it (the last ``lookback + 1`` at least, for volatility-target sizing).
        """
        now = self.clock.now()
        mark = to_decimal(columns["close"], "close")
        position = self.exchange.position(self.config.symbol)
        account = self.exchange.account()
        self._track(position, account.wallet_balance, bar, mark)
        equity = account.equity(position.unrealized_pnl(mark))
        self.risk = self.risk.update(equity, now, self.config.limits)
        self._maybe_trail(position, columns)
        held = 0 if self._holding is None else bar - self._holding.bar
        steps = decide(
            signals, position.side, bars_held=held, max_holding_bars=self.play.max_holding_bars
        )
        for intent, reason in steps:
            if intent.is_entry:
                seen = _Bar(bar, now, mark, equity, position, columns, closes)
                plan = self._plan(intent, seen)
                done = plan is not None and self.execution.open(intent, plan, now, bar)
            else:
                done = self.execution.close(intent, position, now, bar, reason)
            if not done:
                break  # a failed step ends the sequence: never open the other side blind

    @property
    def reacts_to_fills(self) -> bool:
        """Whether a bar with only a fill (no rule fired) can change what this engine does:
        it places a trailing stop after an entry fills, counts the holding time from the
        fill, or sizes by Kelly from closed trades."""
        play = self.play.play
        return (
            not isinstance(play.trailing_stop, Off)
            or self.play.max_holding_bars is not None
            or isinstance(play.sizing, Kelly)
        )

    def wake_at(self) -> int | None:
        """The next bar the engine must see even without a signal (maximum holding time)."""
        limit = self.play.max_holding_bars
        if self._holding is None or limit is None:
            return None
        return self._holding.bar + limit

    # -- position monitor ----------------------------------------------------------------------

    def _track(self, position: Position, wallet: Decimal, bar: int, mark: Decimal) -> None:
        if self._holding is None and not position.is_flat:
            self._holding = _Holding(bar, wallet, position.notional(mark))
        elif self._holding is not None and position.is_flat:
            gained = wallet - self._holding.wallet_at_entry
            self.trade_returns.append(float(gained / self._holding.notional))
            self._holding = None

    def _maybe_trail(self, position: Position, columns: Mapping[str, float]) -> None:
        holding = self._holding
        if holding is None or holding.trailing_set or position.entry_price is None:
            return
        try:
            trailing = trailing_stop(self.play, position.entry_price, columns)
        except MissingLevel:
            return
        if trailing is None:
            holding.trailing_set = True
            return
        direction = 1 if position.size > 0 else -1
        activation = position.entry_price * (1 + direction * trailing.activation_fraction)
        # Bybit takes both on the tick grid: the nearest tick, and never a distance under one.
        instrument = self.execution.instrument
        self.exchange.set_trading_stop(
            TradingStop(
                self.config.symbol,
                trailing_distance=max(
                    instrument.round_price(trailing.distance), instrument.tick_size
                ),
                trailing_activation=instrument.round_price(activation),
            )
        )
        holding.trailing_set = True

    # -- execution planning --------------------------------------------------------------------

    def _plan(self, intent: Intent, seen: _Bar) -> EntryPlan | None:
        side = _BUY if intent is _ENTER_LONG else _SELL
        instrument = self.execution.instrument
        try:
            protection = self._protection(side, seen.columns)
        except MissingLevel as missing:
            reason = f"protection level {missing.args[0]} is not known on this bar"
            self.journal.record(seen.now, seen.bar, intent, "skipped", reason)
            return None
        # The stop as it would stand if the entry filled at this close: what sizing risks.
        stop = None if protection is None else protection.resolve(side, seen.mark)[0]
        decision = size_entry(
            self.play.play.sizing,
            equity=seen.equity,
            price=seen.mark,
            stop_price=stop,
            instrument=instrument,
            leverage=self.config.leverage,
            recent_returns=self._returns(seen.closes),
            trade_returns=self.trade_returns,
            timeframe=self.play.play.timeframe,
        )
        if isinstance(decision, SizeRefused):
            self.journal.record(seen.now, seen.bar, intent, "refused", decision.reason)
            return None
        order = IntendedOrder(
            instrument=instrument,
            side=side,
            qty=decision.qty,
            price=seen.mark,
            time=seen.now,
            stop_price=stop,
            leverage=self.config.leverage,
        )
        # The exposure monitor: read only when an entry is planned, the one thing that uses it.
        exposure = Exposure.of([seen.position], {self.config.symbol: seen.mark})
        verdict = check_entry(order, exposure, self.risk, self.config.limits)
        if isinstance(verdict, Block):
            self.journal.record(seen.now, seen.bar, intent, "vetoed", verdict.reason)
            return None
        if isinstance(verdict, Reduce):
            return EntryPlan(side, verdict.qty, protection, verdict.reason)
        return EntryPlan(side, verdict.qty, protection, decision)

    def _protection(self, side: Side, columns: Mapping[str, float]) -> Protection | None:
        if side in self._same_protection:
            return self._same_protection[side]
        protection = entry_protection(self.play, side, columns)
        if not measured_on_the_bar(self.play):
            self._same_protection[side] = protection
        return protection

    def _returns(self, closes: NDArray[np.float64]) -> NDArray[np.float64] | None:
        sizing = self.play.play.sizing
        if not isinstance(sizing, VolatilityTarget | Kelly) or len(closes) < 2:
            return None
        returns: NDArray[np.float64] = closes[1:] / closes[:-1] - 1.0
        return returns


def _segments(days: NDArray[np.int64]) -> list[tuple[int, int]]:
    """``[start, end)`` index ranges of consecutive equal values (one per UTC day)."""
    cuts = np.flatnonzero(np.diff(days)) + 1
    bounds = [0, *cuts.tolist(), len(days)]
    return list(itertools.pairwise(bounds))


def _risk_points(equity: NDArray[np.float64], prior_peak: float) -> list[int]:
    """Indices of the first value, the deepest drawdown's peak and trough, and the last value."""
    peaks = np.maximum.accumulate(np.maximum(equity, prior_peak))
    drawdown = 1.0 - equity / peaks
    trough = int(np.argmax(drawdown))
    peak_index = int(np.argmax(equity[: trough + 1])) if trough else 0
    return sorted({0, peak_index, trough, len(equity) - 1})
