"""What a run hands to the reports: closed trades, the equity curve and everything around them.

The backtester (and later every other environment) produces one :class:`RunResult`; the
metrics, the CSV files, the fingerprint and the HTML report read nothing else.

Conventions, once for every field below:

* **money** (PnL, fees, funding, capital) and **prices / quantities** are exact ``Decimal`` in
  the settle coin (USDT for Bybit linear perpetuals); per-bar series are ``float64`` arrays;
* **fees and funding are costs**: positive when paid, negative when received (a maker rebate, a
  funding payment collected by a short), as in :class:`~tradeplay.domain.position.Position`;
  so ``net_pnl = gross_pnl - fees - funding``;
* every ``*_pct`` value is a **fraction**: ``0.05`` means 5 %;
* times are timezone-aware UTC ``datetime`` values, per-bar timestamps ``int64`` milliseconds
  since the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tradeplay.data.candles import Candles, frozen_column
from tradeplay.domain.errors import InputError
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.domain.slots import quick_init
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Money, PositionSide, Price, Quantity, Symbol, require_utc

__all__ = ["DataLabel", "EquityCurve", "ExitReason", "RunResult", "TradeRecord"]


class ExitReason(StrEnum):
    """Why a trade was closed. :attr:`TradeRecord.exit_reason` takes these or any other text."""

    SIGNAL = "signal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    LIQUIDATION = "liquidation"
    MAX_HOLDING = "max_holding"
    END_OF_DATA = "end_of_data"
    """Still open when the data ran out: closed at the last close so its PnL is counted."""


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TradeRecord:
    """One round trip: a position opened from flat and closed back to flat.

    A trade that was added to or reduced in steps is still one record: ``entry_price`` and
    ``exit_price`` are the quantity-weighted averages of its entry and exit fills and ``qty`` is
    the largest size it reached.
    """

    symbol: Symbol
    side: PositionSide
    """``long`` or ``short`` (never ``flat``)."""
    entry_time: datetime
    """Time of the first entry fill (UTC)."""
    exit_time: datetime
    """Time of the fill that brought the position back to flat (UTC)."""
    entry_price: Price
    exit_price: Price
    qty: Quantity
    """Size in base coin, positive for both sides."""
    gross_pnl: Money
    """Price PnL before costs: ``(exit - entry) * qty`` for a long, the negative for a short."""
    fees: Money
    """Trading fees of every fill of the trade; positive = paid."""
    funding: Money
    """Funding settled while the trade was open; positive = paid."""
    net_pnl: Money
    """``gross_pnl - fees - funding`` exactly (checked)."""
    mae_price: Price
    """Maximum adverse excursion: the farthest price moved against the trade while open, as a
    non-negative price distance from ``entry_price`` (bar lows for a long, highs for a short)."""
    mae_pct: float
    """``mae_price / entry_price`` (fraction, ≥ 0)."""
    mfe_price: Price
    """Maximum favourable excursion: the farthest price moved in the trade's favour while open,
    as a non-negative price distance from ``entry_price``."""
    mfe_pct: float
    """``mfe_price / entry_price`` (fraction, ≥ 0)."""
    bars_held: int
    """Bars from the entry bar to the exit bar (0 when both fills fall in the same bar)."""
    exit_reason: str
    """An :class:`ExitReason` value, or another short word the engine uses."""

    def __post_init__(self) -> None:
        # A backtest builds one record per round trip: the words naming the trade are written
        # only when something is wrong with it.
        if self.entry_time.tzinfo is not UTC or self.exit_time.tzinfo is not UTC:
            require_utc(self.entry_time, f"{self._what}: entry_time")
            require_utc(self.exit_time, f"{self._what}: exit_time")
        problems = _trade_problems(self)
        if problems:
            raise InputError(f"{self._what}: " + "; ".join(problems))

    @property
    def _what(self) -> str:
        return f"trade {self.symbol} {self.side} entered {self.entry_time.isoformat()}"

    @property
    def entry_notional(self) -> Money:
        """``entry_price * qty``: what the returns are measured on."""
        return self.entry_price * self.qty

    @property
    def return_pct(self) -> float:
        """``net_pnl / entry_notional`` as a fraction (unlevered: margin does not enter it)."""
        return float(self.net_pnl / self.entry_notional)

    @property
    def holding_time(self) -> timedelta:
        return self.exit_time - self.entry_time

    @property
    def is_win(self) -> bool:
        """A trade wins when its **net** PnL is positive; exactly zero is neither win nor loss."""
        return self.net_pnl > 0

    @property
    def is_loss(self) -> bool:
        return self.net_pnl < 0


def _trade_problems(trade: TradeRecord) -> list[str]:
    problems: list[str] = []
    if trade.side is PositionSide.FLAT:
        problems.append("side must be long or short, not flat")
    if trade.exit_time < trade.entry_time:
        problems.append(f"exit_time {trade.exit_time.isoformat()} is before the entry")
    if not (trade.entry_price > 0 and trade.exit_price > 0 and trade.qty > 0):
        problems.append("entry_price, exit_price and qty must be positive")
    if trade.mae_price < 0 or trade.mfe_price < 0 or trade.mae_pct < 0 or trade.mfe_pct < 0:
        problems.append("MAE and MFE are distances and must not be negative")
    if trade.bars_held < 0:
        problems.append(f"bars_held {trade.bars_held} must not be negative")
    if not trade.exit_reason:
        problems.append("exit_reason must not be empty")
    if trade.net_pnl != trade.gross_pnl - trade.fees - trade.funding:
        problems.append(
            f"net_pnl {trade.net_pnl} != gross_pnl {trade.gross_pnl} - fees {trade.fees}"
            f" - funding {trade.funding} (fees and funding are positive when paid)"
        )
    return problems


def _frozen(values: ArrayLike, dtype: type[np.generic], name: str) -> NDArray[Any]:
    """The store's read-only column view; a wrong shape or dtype is an InputError here."""
    try:
        return frozen_column(values, dtype, name)
    except ValueError as error:
        raise InputError(str(error)) from None


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """The account marked to market once per bar, aligned with the run's bars.

    ``ts[i]`` is the **open** time of bar ``i`` (as in :class:`Candles`); the values are marked
    at that bar's **close**. The starting capital (in :class:`RunResult`) is the point before the
    first bar.
    """

    ts: NDArray[np.int64]
    """Bar open time, ms since the epoch, strictly increasing."""
    equity: NDArray[np.float64]
    """Wallet balance plus unrealised PnL at the bar's close."""
    cash: NDArray[np.float64]
    """Wallet balance: starting capital plus realised PnL minus fees and funding."""
    position_value: NDArray[np.float64]
    """Signed notional of the open position at the close (size × close; > 0 long, < 0 short,
    0 when flat). A bar is *exposed* when it is not 0."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", _frozen(self.ts, np.int64, "equity ts"))
        for name in ("equity", "cash", "position_value"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64, name))
        lengths = {len(self.ts), len(self.equity), len(self.cash), len(self.position_value)}
        if len(lengths) != 1:
            raise InputError(f"equity curve columns differ in length: {sorted(lengths)}")
        if len(self.ts) > 1 and not bool(np.all(np.diff(self.ts) > 0)):
            raise InputError("equity curve timestamps must be strictly increasing")
        if not bool(np.all(np.isfinite(self.equity))):
            raise InputError("equity curve holds NaN or infinite equity")

    @classmethod
    def from_columns(
        cls, *, ts: ArrayLike, equity: ArrayLike, cash: ArrayLike, position_value: ArrayLike
    ) -> EquityCurve:
        """Build from anything array-like; keyword-only so the columns cannot be swapped."""
        return cls(ts, equity, cash, position_value)  # type: ignore[arg-type]

    @classmethod
    def empty(cls) -> EquityCurve:
        return cls.from_columns(ts=[], equity=[], cash=[], position_value=[])

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EquityCurve):
            return NotImplemented
        names = ("ts", "equity", "cash", "position_value")
        return all(np.array_equal(getattr(self, n), getattr(other, n)) for n in names)

    def __hash__(self) -> int:
        raise TypeError("an EquityCurve is compared by value and is not hashable")

    @property
    def exposed(self) -> NDArray[np.bool_]:
        """Per bar: was a position open at the close."""
        return np.not_equal(self.position_value, 0.0)


@dataclass(frozen=True, slots=True)
class DataLabel:
    """Where the bars came from. Every report output repeats it; generated data is shouted."""

    source: str
    """Free text, e.g. ``"download: bybit"`` or the sample market's label."""
    generated: bool
    """True for synthetic bars (the sample market, tests): never trade on conclusions from it."""

    @property
    def text(self) -> str:
        """One line for a header: ``GENERATED data — <source>`` or ``real data — <source>``."""
        return f"{'GENERATED' if self.generated else 'real'} data — {self.source}"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RunResult:
    """Everything one run produced, in the order things happened.

    Two results are equal only when they are the same object: to ask whether two runs did the
    same thing, compare their fingerprints (:mod:`tradeplay.reports.fingerprint`).
    """

    play: str
    """The play's name."""
    symbol: Symbol
    timeframe: Timeframe
    """The bar length of ``bars`` and ``equity``; annualisation is derived from it."""
    start: datetime
    """Start of the simulated period (UTC): the open time of the first bar."""
    end: datetime
    """End of the simulated period (UTC, exclusive): the close time of the last bar."""
    starting_capital: Money
    data: DataLabel
    config: Mapping[str, Any]
    """The run's settings as JSON-able values (Decimal, datetime and enums are fine too)."""
    trades: tuple[TradeRecord, ...]
    """Closed trades, ordered by exit time."""
    orders: tuple[Order, ...]
    """Every order in its final state, ordered by creation time."""
    fills: tuple[Fill, ...]
    """Every fill in execution order: the fingerprint hashes them in this order."""
    equity: EquityCurve
    bars: Candles
    overlays: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    """Indicator lines drawn over the price chart, each as long as ``bars`` (NaN = no value)."""
    fees_total: Money
    """All fees of all fills, positive = paid (includes fills of trades still open)."""
    funding_total: Money
    """All funding settled, positive = paid."""
    currency: str = "USDT"
    """The settle coin every money figure is in."""

    def __post_init__(self) -> None:
        require_utc(self.start, "run start")
        require_utc(self.end, "run end")
        if self.end < self.start:
            raise InputError(f"run end {self.end.isoformat()} is before its start")
        if not self.starting_capital > 0:
            raise InputError(f"starting capital {self.starting_capital} must be positive")
        if not np.array_equal(self.equity.ts, self.bars.ts):
            raise InputError(
                f"the equity curve ({len(self.equity)} points) must have one point per bar, "
                f"at the bars' open times ({len(self.bars)} bars)"
            )
        overlays = {}
        for name, values in self.overlays.items():
            overlays[name] = _frozen(values, np.float64, f"overlay {name}")
            if len(overlays[name]) != len(self.bars):
                raise InputError(
                    f"overlay {name} has {len(overlays[name])} values for {len(self.bars)} bars"
                )
        object.__setattr__(self, "overlays", MappingProxyType(overlays))
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    @property
    def final_equity(self) -> float:
        """Equity after the last bar; the starting capital when there was no bar."""
        return float(self.equity.equity[-1]) if len(self.equity) else float(self.starting_capital)
