"""Funding of perpetuals in the simulator: when settlements happen, at what rate, who pays.

Where the rates come from (:class:`FundingSource`, reported by :meth:`FundingSource.describe`)
    * **history** — the stored :class:`~tradeplay.data.candles.FundingRates` of the symbol: a
      settlement at each stored timestamp with its stored rate, nothing in between. Outside the
      stored range there is no funding; :meth:`FundingSource.covers` tells the caller so it can
      say so in the report.
    * **constant** — a stated rate every ``instrument.funding_interval``, on the UTC grid that
      starts at 00:00 (00:00 / 08:00 / 16:00 for 8 h). The default is Bybit's baseline when the
      premium is zero: the interest component of 0.03 % a day, i.e. 0.01 % per 8 h, scaled to
      the interval (0.005 % per 4 h, 0.00125 % per 1 h).

The payment (Bybit: "position value × funding rate")
    ``payment = signed size × mark price × rate``, positive = paid, negative = received (the
    sign of Bybit's ``execFee`` on a ``Funding`` execution). A positive rate makes longs pay and
    shorts receive; a negative rate the opposite.

Who pays at the settlement instant T
    Only the position open **at** T pays, as on Bybit: a position closed before T pays nothing,
    one opened after T pays nothing. In bars (``ts`` = open time): a settlement at T is applied
    at the start of the bar that contains T, **before** any fill of that bar. A position carried
    out of the bar that closes at T pays; an order filled at the open of the bar starting at T
    (i.e. at T itself) is treated as filled just after the settlement and does not pay for that
    position change. The mark is the open of that bar (candles carry last-trade prices; the
    open at T is the closest thing we have to Bybit's mark at T).

Quiet spans
    While the position does not change (no fill in bars ``i .. j``), every settlement it pays
    falls in ``[ts_i, ts_{j+1})`` — the open of its first bar to the open of the bar after the
    last — which :meth:`FundingSource.settlements` returns as arrays in one call, with
    :func:`settlement_marks` giving their marks, so no per-bar Python work is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import FundingRates
from tradeplay.domain.errors import ConfigError, DataValidationError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.position import Position
from tradeplay.domain.values import Money, Price, Quantity, format_decimal, to_decimal, utc_from_ms

__all__ = [
    "BASELINE_RATE_PER_DAY",
    "FundingBasis",
    "FundingSchedule",
    "FundingSource",
    "funding_payment",
    "settle",
    "settlement_marks",
]

BASELINE_RATE_PER_DAY: Final = Decimal("0.0003")
"""Bybit's interest component (0.03 % a day): the funding rate when the premium is zero."""
_DAY: Final = timedelta(days=1)


class FundingBasis(StrEnum):
    """Where a simulation's funding rates come from."""

    HISTORY = "history"
    CONSTANT = "constant"


@dataclass(frozen=True, slots=True)
class FundingSchedule:
    """Settlements in a span: ``ts`` (ms, UTC, ascending) and ``rate`` (fraction), same length."""

    ts: NDArray[np.int64]
    rate: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.ts)

    def times(self) -> list[datetime]:
        return [utc_from_ms(int(ms)) for ms in self.ts]

    def rate_at(self, index: int) -> Decimal:
        """The ``index``-th rate as an exact ``Decimal`` (through its shortest float text)."""
        return to_decimal(float(self.rate[index]), "funding rate")


@dataclass(frozen=True, slots=True, eq=False)
class FundingSource:
    """The funding of one symbol in a simulation. Build with a class method."""

    basis: FundingBasis
    interval: timedelta
    history: FundingRates | None = None
    constant_rate: Decimal | None = None

    @classmethod
    def from_history(cls, rates: FundingRates, interval: timedelta) -> FundingSource:
        """Settle at the stored timestamps. ``rates`` must be strictly ascending and finite."""
        _check_history(rates)
        return cls(FundingBasis.HISTORY, interval, history=rates)

    @classmethod
    def constant(cls, rate: Decimal, interval: timedelta) -> FundingSource:
        """``rate`` every ``interval`` on the UTC grid from 00:00 (the interval divides a day)."""
        if interval <= timedelta(0) or _DAY % interval:
            raise ConfigError(
                f"funding interval {interval} does not divide a day; a constant schedule "
                "settles on the UTC grid from 00:00"
            )
        return cls(FundingBasis.CONSTANT, interval, constant_rate=rate)

    @classmethod
    def for_instrument(
        cls,
        instrument: Instrument,
        stored: FundingRates | None,
        *,
        constant_rate: Decimal | None = None,
    ) -> FundingSource:
        """Stored history when there is any, else a constant rate (default: Bybit's baseline).

        An explicit ``constant_rate`` is used only when nothing is stored.
        """
        interval = instrument.funding_interval
        if stored is not None and len(stored):
            return cls.from_history(stored, interval)
        if constant_rate is None:
            seconds = Decimal(int(interval.total_seconds()))
            constant_rate = BASELINE_RATE_PER_DAY * seconds / Decimal(86_400)
        return cls.constant(constant_rate, interval)

    def describe(self) -> str:
        """One line for a report: which funding the run used."""
        hours = format_decimal(Decimal(self.interval.total_seconds()) / 3600)
        if self.basis is FundingBasis.CONSTANT:
            rate = format_decimal((self.constant_rate or Decimal(0)) * 100)
            return (
                f"funding: constant {rate} % every {hours} h on the UTC grid from 00:00 "
                "(no stored funding history)"
            )
        history = self._history()
        if not len(history):
            return "funding: stored history (empty: no funding charged)"
        first, last = utc_from_ms(int(history.ts[0])), utc_from_ms(int(history.ts[-1]))
        return (
            f"funding: stored history, {len(history)} settlements from {first:%Y-%m-%d %H:%M} "
            f"to {last:%Y-%m-%d %H:%M} UTC (none charged outside that range)"
        )

    def covers(self, start_ms: int, end_ms: int) -> bool:
        """Whether the rates of ``[start_ms, end_ms)`` are known (always, for a constant)."""
        if self.basis is FundingBasis.CONSTANT:
            return True
        history = self._history()
        if not len(history):
            return False
        step = int(self.interval.total_seconds() * 1000)
        return int(history.ts[0]) - step < start_ms and end_ms <= int(history.ts[-1]) + step

    def settlements(self, start_ms: int, end_ms: int) -> FundingSchedule:
        """Settlements with ``start_ms <= ts < end_ms``, vectorised (no Python loop)."""
        if self.basis is FundingBasis.HISTORY:
            window = self._history().between(start_ms, end_ms)
            return FundingSchedule(window.ts, window.rate)
        step = int(self.interval.total_seconds() * 1000)
        first = -(-start_ms // step) * step  # ceiling to the grid
        ts = np.arange(first, max(first, end_ms), step, dtype=np.int64)
        rate = np.full(len(ts), float(self.constant_rate or 0), dtype=np.float64)
        return FundingSchedule(ts, rate)

    def _history(self) -> FundingRates:
        if self.history is None:
            raise ConfigError("a history funding source has no funding rates")
        return self.history


def _check_history(rates: FundingRates) -> None:
    if len(rates) > 1 and not bool(np.all(np.diff(rates.ts) > 0)):
        row = int(np.argmax(np.diff(rates.ts) <= 0)) + 1
        raise DataValidationError(
            "funding history", "ascending", "settlement times must strictly increase", row
        )
    if not bool(np.all(np.isfinite(rates.rate))):
        row = int(np.argmax(~np.isfinite(rates.rate)))
        raise DataValidationError("funding history", "finite", "a funding rate is not finite", row)


def funding_payment(size: Quantity, mark_price: Price, rate: Decimal) -> Money:
    """``size × mark × rate`` with the signed size: positive = paid (longs at a positive rate)."""
    return size * mark_price * rate


def settle(
    position: Position, time: datetime, rate: Decimal, mark_price: Price
) -> FundingApplied | None:
    """The settlement ``position`` books at ``time``; ``None`` when it is flat (nothing to pay)."""
    if position.is_flat:
        return None
    return FundingApplied.settle(
        symbol=position.symbol, time=time, rate=rate, mark_price=mark_price, size=position.size
    )


def settlement_marks(
    settlement_ts: NDArray[np.int64], bar_ts: NDArray[np.int64], bar_open: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The mark of each settlement: the open of the bar containing it (bars sorted by ``ts``).

    A settlement before the first bar has no mark and raises :class:`ConfigError`.
    """
    index = np.searchsorted(bar_ts, settlement_ts, side="right") - 1
    if len(index) and int(index.min()) < 0:
        first = utc_from_ms(int(settlement_ts[0]))
        raise ConfigError(f"funding settlement at {first:%Y-%m-%d %H:%M} UTC precedes the bars")
    marks: NDArray[np.float64] = bar_open[index]
    return marks
