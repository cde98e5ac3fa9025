"""Moving averages: SMA, EMA (reference kernels for the pattern every kernel follows), WMA, DEMA,
TEMA and the Hull moving average.

State layout is written above each kernel. TA-Lib's conventions are followed where TA-Lib has
the feature, so its output is an exact oracle: e.g. the EMA is seeded with the SMA of its first
``period`` values, and the SMA keeps a running sum that adds the new value before dropping the
oldest, in TA-Lib's order. The WMA-based averages (WMA, HMA) rebuild their running sums from the
window every ``8 · period`` bars, as TA-Lib 0.8 does, so rounding cannot accumulate.
"""

from __future__ import annotations

import math

from numba import njit

from tradeplay.features._math import NAN, ema_step, sma_step, source, wma_step
from tradeplay.features.spec import REGISTRY, FeatureSpec, period_param, source_param


# state: [0] bars seen, [1:3+period] sma_step (running sum, oldest slot, ring of inputs)
@njit(cache=True)
def sma_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        out[i, 0] = sma_step(state, 1, period, state[0], source(bars, i, code))
        state[0] += 1


REGISTRY.add(
    FeatureSpec(
        kind="sma",
        doc="Simple moving average of `source` over `period` bars.",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 3 + p["period"],
        kernel=sma_kernel,
        talib="SMA",
    )
)


# state: [0] bars seen, [1] EMA (see ``_math.ema_step``)
@njit(cache=True)
def ema_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    alpha = 2.0 / (period + 1.0)
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        out[i, 0] = ema_step(state, 1, period, alpha, seen, source(bars, i, code))


REGISTRY.add(
    FeatureSpec(
        kind="ema",
        doc="Exponential moving average, seeded with the SMA of its first `period` values.",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 2,
        kernel=ema_kernel,
        talib="EMA",
    )
)


# state: [0] bars seen, [1:3+period] the WMA (see ``_math.wma_step``)
@njit(cache=True)
def wma_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        out[i, 0] = wma_step(state, 1, period, seen, source(bars, i, code))


REGISTRY.add(
    FeatureSpec(
        kind="wma",
        doc="Weighted moving average of `source` over `period` bars, weights 1..period "
        "with the newest bar heaviest.",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 3 + p["period"],
        kernel=wma_kernel,
        talib="WMA",
    )
)


# state: [0] bars seen, [1] EMA of the source, [2] EMA of that EMA
@njit(cache=True)
def dema_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    alpha = 2.0 / (period + 1.0)
    lag = period - 1  # bars before the first EMA exists, so before the second one starts
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        first = ema_step(state, 1, period, alpha, seen, source(bars, i, code))
        out[i, 0] = NAN
        if seen >= lag:
            second = ema_step(state, 2, period, alpha, seen - lag, first)
            if seen >= 2 * lag:
                out[i, 0] = (2.0 * first) - second


REGISTRY.add(
    FeatureSpec(
        kind="dema",
        doc="Double exponential moving average 2·EMA − EMA(EMA) of `source`: an EMA with less "
        "lag; each EMA is seeded with the SMA of its first `period` inputs (TA-Lib).",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: 2 * (p["period"] - 1),
        state_size=lambda p: 3,
        kernel=dema_kernel,
        talib="DEMA",
    )
)


# state: [0] bars seen, [1] EMA, [2] EMA of EMA, [3] EMA of EMA of EMA
@njit(cache=True)
def tema_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    alpha = 2.0 / (period + 1.0)
    lag = period - 1
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        first = ema_step(state, 1, period, alpha, seen, source(bars, i, code))
        out[i, 0] = NAN
        if seen >= lag:
            second = ema_step(state, 2, period, alpha, seen - lag, first)
            if seen >= 2 * lag:
                third = ema_step(state, 3, period, alpha, seen - 2 * lag, second)
                if seen >= 3 * lag:
                    out[i, 0] = third + ((3.0 * first) - (3.0 * second))


REGISTRY.add(
    FeatureSpec(
        kind="tema",
        doc="Triple exponential moving average 3·EMA − 3·EMA² + EMA³ of `source`: an EMA with "
        "even less lag; each EMA is seeded with the SMA of its first `period` inputs (TA-Lib).",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: 3 * (p["period"] - 1),
        state_size=lambda p: 4,
        kernel=tema_kernel,
        talib="TEMA",
    )
)


def _hull_periods(period: int) -> tuple[int, int]:
    """The half-length and smoothing periods of a Hull average: ``period // 2`` and
    ``floor(sqrt(period))``."""
    return period // 2, math.isqrt(period)


# state: [0] bars seen, then three WMAs (see ``_math.wma_step``): [1:3+half] WMA(period // 2),
# then WMA(period), then WMA(floor(sqrt(period))) of 2·WMA(period // 2) − WMA(period).
# As in TA-Lib's HMA, the half-length WMA is fed from bar period − half on, so that its first
# value falls on bar period − 1 with the full one's (from bar 0 it would differ in rounding only).
@njit(cache=True)
def hma_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    half, smooth = period // 2, int(math.sqrt(period))
    at_full = 3 + half
    at_smooth = at_full + 2 + period
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        x = source(bars, i, code)
        slow = wma_step(state, at_full, period, seen, x)
        out[i, 0] = NAN
        if seen >= period - half:
            fast = wma_step(state, 1, half, seen - (period - half), x)
            if seen >= period - 1:
                raw = 2.0 * fast - slow
                out[i, 0] = wma_step(state, at_smooth, smooth, seen - (period - 1), raw)


REGISTRY.add(
    FeatureSpec(
        kind="hma",
        doc="Hull moving average of `source`: WMA over floor(sqrt(period)) bars of "
        "2·WMA(floor(period/2)) − WMA(period), a smooth average that lags little (TA-Lib HMA).",
        params=(period_param(20, minimum=2), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1 + _hull_periods(p["period"])[1] - 1,
        state_size=lambda p: 7 + p["period"] + sum(_hull_periods(p["period"])),
        kernel=hma_kernel,
        talib="HMA",
    )
)
