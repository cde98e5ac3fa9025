"""Missing bars: finding them, and what to do about them (refuse, fill flat, or leave).

Exchanges skip bars during outages and maintenance (Binance spot lost 33 hours in February
2018). A gap is not a validation error - the data that is there is right - but a strategy that
assumes one bar per period would misread it, so importing asks the trader to choose a policy.

All functions assume a validated series (sorted, unique, aligned open times); see
:mod:`tradeplay.data.validation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from tradeplay.data._utc import iso_utc
from tradeplay.data.candles import Candles
from tradeplay.domain.errors import DataValidationError, InputError
from tradeplay.domain.timeframe import Timeframe

__all__ = ["Gap", "GapPolicy", "apply_gap_policy", "fill_gaps", "find_gaps"]


@dataclass(frozen=True, slots=True)
class Gap:
    """Bars missing between two stored bars, both given by their open time (ms, UTC)."""

    after_ms: int  #: open time of the last bar before the gap
    before_ms: int  #: open time of the first bar after the gap
    missing_bars: int

    def describe(self) -> str:
        plural = "" if self.missing_bars == 1 else "s"
        return (
            f"{self.missing_bars} missing bar{plural} between "
            f"{iso_utc(self.after_ms)} and {iso_utc(self.before_ms)}"
        )


class GapPolicy(StrEnum):
    """What importing does with missing bars."""

    REFUSE = "refuse"  #: fail, naming the first gap: the trader decides what to do
    FILL = "fill"  #: insert flat bars at the previous close with zero volume
    LEAVE = "leave"  #: store the series as it is; consumers see the holes


def _gap_positions(ts: NDArray[np.int64], timeframe: Timeframe) -> NDArray[np.intp]:
    """Indices ``i`` where the step from bar ``i`` to bar ``i + 1`` skips at least one bar."""
    return np.flatnonzero(np.diff(ts) > timeframe.ms)


def find_gaps(ts: NDArray[np.int64], timeframe: Timeframe) -> list[Gap]:
    """Every gap in a sorted, aligned series of open times, oldest first."""
    ts = np.asarray(ts, dtype=np.int64)
    positions = _gap_positions(ts, timeframe)
    after = ts[positions]
    before = ts[positions + 1]
    missing = (before - after) // timeframe.ms - 1
    return [
        Gap(int(a), int(b), int(m))
        for a, b, m in zip(after.tolist(), before.tolist(), missing.tolist(), strict=True)
    ]


def count_gaps(ts: NDArray[np.int64], timeframe: Timeframe) -> int:
    """Number of gaps, without building :class:`Gap` objects (cheap enough for every write)."""
    return int(np.count_nonzero(np.diff(ts) > timeframe.ms))


def fill_gaps(candles: Candles, timeframe: Timeframe) -> Candles:
    """Insert flat bars for every missing period: open = high = low = close = previous close.

    The flat bar says "no trade happened", which is how exchanges themselves print a quiet
    period; zero volume marks it as synthetic for anyone who looks. A series without gaps is
    returned as it is (no copy).
    """
    if len(candles) < 2 or count_gaps(candles.ts, timeframe) == 0:
        return candles
    first, last = int(candles.ts[0]), int(candles.ts[-1])
    ts = np.arange(first, last + timeframe.ms, timeframe.ms, dtype=np.int64)
    # For every slot, the last real bar at or before it; slots that are real bars map to
    # themselves, filled slots to the bar before the gap.
    source = np.searchsorted(candles.ts, ts, side="right") - 1
    real = candles.ts[source] == ts
    carried = candles.close[source]
    return Candles(
        ts,
        np.where(real, candles.open[source], carried),
        np.where(real, candles.high[source], carried),
        np.where(real, candles.low[source], carried),
        carried,  # the close of a real bar is its own close; of a filled bar, the carried one
        np.where(real, candles.volume[source], 0.0),
    )


def apply_gap_policy(
    candles: Candles, timeframe: Timeframe, policy: GapPolicy | str, source: str
) -> Candles:
    """Return the series to store under ``policy``; ``refuse`` raises rule ``no_gaps``.

    The refusal names the first gap in UTC, the number of gaps, and points at the row of the
    first bar after the first gap (1-based, like validation rows).
    """
    try:
        policy = GapPolicy(policy)
    except ValueError:
        choices = ", ".join(p.value for p in GapPolicy)
        raise InputError(f"gap policy {policy!r} is not known: expected one of {choices}") from None
    if policy is GapPolicy.LEAVE:
        return candles
    if policy is GapPolicy.FILL:
        return fill_gaps(candles, timeframe)
    positions = _gap_positions(candles.ts, timeframe)
    if len(positions) == 0:
        return candles
    first = find_gaps(candles.ts[positions[0] : positions[0] + 2], timeframe)[0]
    plural = "" if len(positions) == 1 else "s"
    detail = (
        f"{len(positions)} gap{plural} in the {timeframe} series; the first: {first.describe()}. "
        "Choose gap policy 'fill' (flat bars at the previous close, zero volume) or 'leave'"
    )
    raise DataValidationError(source, "no_gaps", detail, row=int(positions[0]) + 2)
