"""Volume: on-balance volume and the session VWAP.

OBV follows TA-Lib, which starts the running total at the first bar's volume (not at 0), so the
values (not only their changes) match TA-Lib's. The VWAP is anchored to the UTC day of the bar's
open time, the session crypto venues use for daily candles, funding and our daily loss limit.
"""

from __future__ import annotations

import math

from numba import njit

from tradeplay.features._math import source
from tradeplay.features.spec import REGISTRY, TS, VOLUME, FeatureSpec, source_param

DAY_MS = 86_400_000.0


# state: [0] bars seen, [1] previous source value, [2] OBV
@njit(cache=True)
def obv_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    code = params[0]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        x, volume = source(bars, i, code), bars[i, VOLUME]
        if seen == 0:
            state[2] = volume
        elif x > state[1]:
            state[2] += volume
        elif x < state[1]:
            state[2] -= volume
        state[1] = x
        out[i, 0] = state[2]


REGISTRY.add(
    FeatureSpec(
        kind="obv",
        doc="On-balance volume: a running total that adds the bar's volume when `source` closes "
        "higher than the bar before and subtracts it when lower; starts at the first bar's "
        "volume (TA-Lib), so only its changes and trend carry meaning.",
        params=(source_param(),),
        outputs=("value",),
        warmup=lambda p: 0,
        state_size=lambda p: 3,
        kernel=obv_kernel,
        talib="OBV",
    )
)


# state: [0] bars seen, [1] UTC day of the session, [2] Σ price × volume, [3] Σ volume
@njit(cache=True)
def vwap_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    code = params[0]
    for i in range(bars.shape[0]):
        state[0] += 1
        day = math.floor(bars[i, TS] / DAY_MS)
        if day != state[1]:  # a new UTC day (or a gap of days): a new session
            state[1], state[2], state[3] = day, 0.0, 0.0
        price, volume = source(bars, i, code), bars[i, VOLUME]
        state[2] += price * volume
        state[3] += volume
        # No volume yet this session: no trade to average, the bar's own price stands in.
        out[i, 0] = state[2] / state[3] if state[3] > 0.0 else price


REGISTRY.add(
    FeatureSpec(
        kind="vwap",
        doc="Session VWAP: volume-weighted average of `source` (typical price hlc3 by default) "
        "since 00:00 UTC, resetting on each bar that opens on a new UTC day; while the session "
        "has no volume yet it equals the bar's `source`.",
        params=(source_param("hlc3"),),
        outputs=("value",),
        warmup=lambda p: 0,
        state_size=lambda p: 4,
        kernel=vwap_kernel,
    )
)
