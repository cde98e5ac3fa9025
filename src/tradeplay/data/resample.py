"""Build higher-timeframe bars from lower ones, the way the exchange builds them.

Bins are aligned to the Unix epoch in UTC (``target.floor(ts)``), which is how Bybit and Binance
align every timeframe up to a day: a 4h bar opens at 00, 04, 08 ... UTC. A bin's bar takes the
first open, the highest high, the lowest low, the last close and the summed volume, and is
labelled by the bin's open time.

A bin with missing source bars (a gap, or the ragged first and last bin of a download) would
print a bar the exchange never printed - its open or close would be wrong - so by default it is
dropped. ``partial="keep"`` keeps it, for charts and for a still-forming last bar.

Pure numpy (``ufunc.reduceat``), no Python loop over bins: a million 1m bars in a few ms.
"""

from __future__ import annotations

import numpy as np

from tradeplay.data.candles import Candles
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe

__all__ = ["resample"]


def _check_arguments(source: Timeframe, target: Timeframe, partial: str) -> None:
    if not source.divides(target):
        raise InputError(
            f"cannot resample {source} bars to {target}: the target must be a whole multiple "
            f"of the source timeframe (e.g. {source} to {Timeframe(source.ms * 60)})"
        )
    if partial not in ("drop", "keep"):
        raise InputError(f"partial={partial!r} is not understood: expected 'drop' or 'keep'")


def resample(
    candles: Candles, source: Timeframe, target: Timeframe, *, partial: str = "drop"
) -> Candles:
    """Aggregate validated ``source`` bars into ``target`` bars (see the module docstring).

    Assumes the input is validated (sorted, unique, aligned to ``source``): a bin then is
    complete exactly when it holds ``target / source`` bars.
    """
    _check_arguments(source, target, partial)
    if len(candles) == 0 or source == target:
        return candles
    bins = candles.ts - candles.ts % target.ms
    # Index of the first source bar of every bin: where the bin label changes.
    is_start = np.empty(len(bins), dtype=np.bool_)
    is_start[0] = True
    np.not_equal(bins[1:], bins[:-1], out=is_start[1:])
    starts = np.flatnonzero(is_start)
    ends = np.empty_like(starts)  # one past the last bar of every bin
    ends[:-1] = starts[1:]
    ends[-1] = len(bins)
    result = Candles(
        bins[starts],
        candles.open[starts],
        np.maximum.reduceat(candles.high, starts),
        np.minimum.reduceat(candles.low, starts),
        candles.close[ends - 1],
        np.add.reduceat(candles.volume, starts),
    )
    if partial == "keep":
        return result
    complete = (ends - starts) == target.ms // source.ms
    return result if bool(complete.all()) else result.take(np.flatnonzero(complete))
