"""Market-data rules every stored candle and funding series obeys, checked vectorised.

Each rule is a boolean mask over the rows (``True`` = the row breaks the rule). The error names
the **earliest** offending row over all rules, so a trader fixing a file works top to bottom;
when one row breaks several rules, the first rule in the order below is reported, which puts
the most basic fault first (a NaN makes every price comparison meaningless).

Row numbers are **1-based data rows**: row 1 is the first candle. In a CSV file with a header
line, the candle of row ``r`` is on line ``r + 1``. ``row_offset`` shifts the numbering for a
series that starts further down its file (rows already consumed by an earlier chunk).

Candle rules, in reporting order:

``timestamps_unique``      no two consecutive rows share a timestamp
``timestamps_increasing``  every row opens after the previous one (rows sorted oldest first)
``aligned_to_timeframe``   every open time is a multiple of the timeframe since the epoch
``no_nan``                 every value is a finite number (NaN and infinities are refused)
``positive_prices``        open, high, low and close are above zero
``high_ge_low``            high >= low
``high_ge_open_close``     high >= max(open, close)
``low_le_open_close``      low <= min(open, close)
``volume_non_negative``    volume >= 0 (zero is legal: quiet markets and filled gaps)

Funding rules: ``timestamps_unique``, ``timestamps_increasing``, ``no_nan`` and
``rate_plausible`` (|rate| < 1, i.e. under 100 % per settlement; real rates are capped by the
venues at a few percent, so a larger value means a unit mistake such as percent for fraction).
Funding times are not checked for alignment: venues stamp settlements with a few ms of jitter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.data._utc import iso_utc
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import DataValidationError
from tradeplay.domain.timeframe import Timeframe

__all__ = ["MAX_ABS_FUNDING_RATE", "validate_candles", "validate_funding"]

#: Largest believable funding rate per settlement, exclusive (1 = 100 %).
MAX_ABS_FUNDING_RATE: Final = 1.0

_PRICES: Final = ("open", "high", "low", "close")
_Mask = NDArray[np.bool_]


def _after_previous(ts: NDArray[np.int64], compare: Callable[..., _Mask]) -> _Mask:
    """Mask of rows whose ``ts`` relates to the previous row's by ``compare``; row 0 never does."""
    mask = np.zeros(len(ts), dtype=np.bool_)
    mask[1:] = compare(ts[1:], ts[:-1])
    return mask


def _not_finite(*columns: NDArray[np.float64]) -> _Mask:
    mask = ~np.isfinite(columns[0])
    for column in columns[1:]:
        mask |= ~np.isfinite(column)
    return mask


def _earliest(masks: Iterator[tuple[str, _Mask]]) -> tuple[str, int] | None:
    """The rule and row index of the first offence; ties go to the rule listed first."""
    best: tuple[str, int] | None = None
    for rule, mask in masks:
        index = int(mask.argmax()) if len(mask) else 0
        if len(mask) and mask[index] and (best is None or index < best[1]):
            best = (rule, index)
            if index == 0:
                break  # nothing can come earlier; skip computing the remaining masks
    return best


def _candle_masks(candles: Candles, timeframe: Timeframe) -> Iterator[tuple[str, _Mask]]:
    # A generator, so the masks are built one at a time and dropped after use.
    c = candles
    yield "timestamps_unique", _after_previous(c.ts, np.equal)
    yield "timestamps_increasing", _after_previous(c.ts, np.less)
    yield "aligned_to_timeframe", c.ts % timeframe.ms != 0
    yield "no_nan", _not_finite(c.open, c.high, c.low, c.close, c.volume)
    # Comparisons with NaN are False, so the rules below never blame a NaN row a second time.
    yield "positive_prices", (c.open <= 0) | (c.high <= 0) | (c.low <= 0) | (c.close <= 0)
    yield "high_ge_low", c.high < c.low
    yield "high_ge_open_close", c.high < np.maximum(c.open, c.close)
    yield "low_le_open_close", c.low > np.minimum(c.open, c.close)
    yield "volume_non_negative", c.volume < 0


def _num(value: np.floating | float) -> str:
    return repr(float(value))


def _describe_time(rule: str, ts: NDArray[np.int64], i: int, timeframe: Timeframe | None) -> str:
    here = f"ts {int(ts[i])} ({iso_utc(int(ts[i]))})"
    if rule == "timestamps_unique":
        return f"{here} repeats the previous row's timestamp"
    if rule == "timestamps_increasing":
        previous = int(ts[i - 1])
        return (
            f"{here} is before the previous row's ts {previous} ({iso_utc(previous)}); "
            "rows must be sorted oldest first"
        )
    assert timeframe is not None  # only candles are checked for alignment
    return f"{here} is not on a {timeframe} boundary (bars open at multiples of {timeframe})"


def _describe_candle(rule: str, c: Candles, i: int) -> str:
    o, h, lo, cl, v = c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]
    if rule == "no_nan":
        name = next(n for n in (*_PRICES, "volume") if not np.isfinite(getattr(c, n)[i]))
        text = f"{name} is {_num(getattr(c, name)[i])}, expected a finite number"
    elif rule == "positive_prices":
        name = next(n for n in _PRICES if getattr(c, n)[i] <= 0)
        text = f"{name} {_num(getattr(c, name)[i])} is not positive"
    elif rule == "high_ge_low":
        text = f"high {_num(h)} is below low {_num(lo)}"
    elif rule == "high_ge_open_close":
        text = f"high {_num(h)} is below max(open {_num(o)}, close {_num(cl)})"
    elif rule == "low_le_open_close":
        text = f"low {_num(lo)} is above min(open {_num(o)}, close {_num(cl)})"
    else:
        text = f"volume {_num(v)} is negative"
    return f"{text} at {iso_utc(int(c.ts[i]))}"


def validate_candles(
    candles: Candles, timeframe: Timeframe, source: str, row_offset: int = 0
) -> None:
    """Raise :class:`DataValidationError` for the earliest row that breaks a candle rule.

    ``source`` names where the candles came from (a file path, a dataset) for the message.
    An empty series is valid. About 20 ms per million bars.
    """
    found = _earliest(_candle_masks(candles, timeframe))
    if found is None:
        return
    rule, index = found
    if rule.startswith("timestamps_") or rule == "aligned_to_timeframe":
        detail = _describe_time(rule, candles.ts, index, timeframe)
    else:
        detail = _describe_candle(rule, candles, index)
    raise DataValidationError(source, rule, detail, row=row_offset + index + 1)


def _funding_masks(rates: FundingRates) -> Iterator[tuple[str, _Mask]]:
    yield "timestamps_unique", _after_previous(rates.ts, np.equal)
    yield "timestamps_increasing", _after_previous(rates.ts, np.less)
    yield "no_nan", _not_finite(rates.rate)
    yield "rate_plausible", np.abs(rates.rate) >= MAX_ABS_FUNDING_RATE


def validate_funding(rates: FundingRates, source: str, row_offset: int = 0) -> None:
    """Raise :class:`DataValidationError` for the earliest row that breaks a funding rule."""
    found = _earliest(_funding_masks(rates))
    if found is None:
        return
    rule, index = found
    rate = rates.rate[index]
    when = iso_utc(int(rates.ts[index]))
    if rule == "no_nan":
        detail = f"rate is {_num(rate)} at {when}, expected a finite number"
    elif rule == "rate_plausible":
        detail = (
            f"rate {_num(rate)} at {when} is not a plausible funding rate: expected a fraction "
            f"per settlement below {MAX_ABS_FUNDING_RATE:g} in size (0.0001 = 0.01 %)"
        )
    else:
        detail = _describe_time(rule, rates.ts, index, None)
    raise DataValidationError(source, rule, detail, row=row_offset + index + 1)
