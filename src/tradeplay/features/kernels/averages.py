"""Moving averages: SMA, EMA (reference kernels for the pattern every kernel follows).

State layout is written above each kernel. TA-Lib's conventions are followed where TA-Lib has
the feature, so its output is an exact oracle: e.g. the EMA is seeded with the SMA of its first
``period`` values, and the SMA keeps a running sum that adds the new value before dropping the
oldest, in TA-Lib's order.
"""

from __future__ import annotations

from numba import njit

from tradeplay.features._math import NAN, ring_push, source
from tradeplay.features.spec import REGISTRY, FeatureSpec, period_param, source_param


# state: [0] bars seen, [1] running sum, [2:2+period] ring of the last inputs
@njit(cache=True)
def sma_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        x = source(bars, i, code)
        seen = state[0]
        old = ring_push(state, 2, period, seen, x)
        state[1] += x
        if seen >= period:
            state[1] -= old
        state[0] = seen + 1
        out[i, 0] = state[1] / period if seen + 1 >= period else NAN


REGISTRY.add(
    FeatureSpec(
        kind="sma",
        doc="Simple moving average of `source` over `period` bars.",
        params=(period_param(20), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 2 + p["period"],
        kernel=sma_kernel,
        talib="SMA",
    )
)


# state: [0] bars seen, [1] EMA (or the running sum while seeding)
@njit(cache=True)
def ema_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    alpha = 2.0 / (period + 1.0)
    for i in range(bars.shape[0]):
        x = source(bars, i, code)
        seen = state[0] + 1
        state[0] = seen
        if seen < period:
            state[1] += x
            out[i, 0] = NAN
        elif seen == period:
            state[1] = (state[1] + x) / period
            out[i, 0] = state[1]
        else:
            state[1] = (x - state[1]) * alpha + state[1]
            out[i, 0] = state[1]


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
