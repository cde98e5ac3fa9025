"""Trend: ADX with the directional indicators, Aroon, Parabolic SAR and Supertrend.

ADX, Aroon and the SAR follow TA-Lib operation for operation, including its seeding: Wilder's
sums start as plain sums of ``period - 1`` bars, the first ADX is the mean of the first ``period``
DX values, and the SAR picks its first direction from the first two bars' directional movement.
Supertrend is not in TA-Lib; it follows TradingView's ``ta.supertrend`` on top of our (TA-Lib)
ATR, with the direction sign flipped to read naturally: +1 up, −1 down.
"""

from __future__ import annotations

from numba import njit

from tradeplay.features._math import (
    NAN,
    atr_step,
    true_range,
    window_extreme_scan,
)
from tradeplay.features.spec import CLOSE, HIGH, LOW, REGISTRY, FeatureSpec, ParamSpec, period_param


@njit(inline="always", cache=True)
def directional_movement(prev_high, prev_low, high, low):  # type: ignore[no-untyped-def]
    """Wilder's +DM and −DM of one bar: the larger of the up-move and the down-move, if positive;
    the other is 0 (both 0 on a tie)."""
    up, down = high - prev_high, prev_low - low
    if down > 0.0 and up < down:
        return 0.0, down
    if up > 0.0 and up > down:
        return up, 0.0
    return 0.0, 0.0


@njit(inline="always", cache=True)
def adx_update(state, period, seen, first_adx):  # type: ignore[no-untyped-def]
    """Fold this bar's DX into the ADX (``state[7]``); return +DI and −DI. A market without any
    range (or any directional move) has DIs of 0 and leaves the ADX as it was (as TA-Lib)."""
    plus_di = minus_di = 0.0
    if state[6] != 0.0:
        minus_di = 100.0 * (state[5] / state[6])
        plus_di = 100.0 * (state[4] / state[6])
        total = minus_di + plus_di
        if total != 0.0:
            dx = 100.0 * (abs(minus_di - plus_di) / total)
            if seen <= first_adx:
                state[7] += dx
            else:
                state[7] = (state[7] * (period - 1) + dx) / period
    if seen == first_adx:
        state[7] = state[7] / period
    return plus_di, minus_di


# state: [0] bars seen, [1] previous high, [2] previous low, [3] previous close,
# [4] smoothed +DM, [5] smoothed −DM, [6] smoothed true range, [7] ADX (the DX sum while seeding)
@njit(cache=True)
def adx_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    first_adx = 2 * period - 1
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        high, low, close = bars[i, HIGH], bars[i, LOW], bars[i, CLOSE]
        out[i, :] = NAN
        if seen > 0:
            plus, minus = directional_movement(state[1], state[2], high, low)
            tr = true_range(high, low, state[3])
            if seen < period:  # the first period - 1 moves are summed, not smoothed
                state[4] += plus
                state[5] += minus
                state[6] += tr
            else:
                state[4] = state[4] - state[4] / period + plus
                state[5] = state[5] - state[5] / period + minus
                state[6] = state[6] - state[6] / period + tr
                plus_di, minus_di = adx_update(state, period, seen, first_adx)
                if seen >= first_adx:
                    out[i, 0], out[i, 1], out[i, 2] = state[7], plus_di, minus_di
        state[1], state[2], state[3] = high, low, close


REGISTRY.add(
    FeatureSpec(
        kind="adx",
        doc="Average directional index (trend strength 0-100, not direction) with +DI and −DI "
        "(which side is stronger), Wilder-smoothed over `period` bars as TA-Lib; all three "
        "start together at the ADX's first bar.",
        params=(period_param(14, minimum=2),),
        outputs=("adx", "plus_di", "minus_di"),
        warmup=lambda p: 2 * p["period"] - 1,
        state_size=lambda p: 8,
        kernel=adx_kernel,
        talib="ADX",
    )
)


# state: [0] bars seen, [1:5+period] highest high, [5+period:9+2*period] lowest low, each over
# period + 1 bars (Aroon counts "bars since" within period + 1 bars, as TA-Lib) and with the bar
# of the extreme (``_math.window_extreme_scan``)
@njit(cache=True)
def aroon_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    size = period + 1
    lows = 4 + size
    factor = 100.0 / period
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        window_extreme_scan(state, 1, size, seen, bars[i, HIGH], True)
        window_extreme_scan(state, lows, size, seen, bars[i, LOW], False)
        if seen < period:
            out[i, :] = NAN
            continue
        highest, lowest = state[2], state[lows + 1]  # latest bars of the extremes
        out[i, 0] = factor * (period - (seen - highest))
        out[i, 1] = factor * (period - (seen - lowest))
        out[i, 2] = factor * (highest - lowest)


REGISTRY.add(
    FeatureSpec(
        kind="aroon",
        doc="Aroon over `period` bars: up = 100 × (period − bars since the highest high) / "
        "period, down the same for the lowest low (the latest bar wins ties), oscillator = up − "
        "down.",
        params=(period_param(14, minimum=2),),
        outputs=("up", "down", "oscillator"),
        warmup=lambda p: p["period"],
        state_size=lambda p: 9 + 2 * p["period"],
        kernel=aroon_kernel,
        talib="AROON",
    )
)


@njit(inline="always", cache=True)
def sar_step(  # type: ignore[no-untyped-def]  # noqa: PLR0917 (numba helpers take plain scalars)
    state, step, maximum, prev_high, prev_low, high, low
):
    """One bar of TA-Lib's SAR (state as in ``psar_kernel``); returns this bar's SAR."""
    long, sar, extreme, factor = state[1] == 1.0, state[2], state[3], state[4]
    if long and low <= sar:  # stopped out: reverse to short from the extreme point
        long = False
        value = sar = max(extreme, prev_high, high)
        factor, extreme = step, low
        sar = max(sar + factor * (extreme - sar), prev_high, high)
    elif long:
        value = sar
        if high > extreme:
            extreme, factor = high, min(factor + step, maximum)
        sar = min(sar + factor * (extreme - sar), prev_low, low)
    elif high >= sar:  # stopped out: reverse to long from the extreme point
        long = True
        value = sar = min(extreme, prev_low, low)
        factor, extreme = step, high
        sar = min(sar + factor * (extreme - sar), prev_low, low)
    else:
        value = sar
        if low < extreme:
            extreme, factor = low, min(factor + step, maximum)
        sar = max(sar + factor * (extreme - sar), prev_high, high)
    state[1], state[2], state[3], state[4] = 1.0 if long else 0.0, sar, extreme, factor
    return value


# state: [0] bars seen, [1] 1 = long, [2] SAR for the next bar, [3] extreme point,
# [4] acceleration factor, [5] previous high, [6] previous low
@njit(cache=True)
def psar_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    step, maximum = min(params[0], params[1]), params[1]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        high, low = bars[i, HIGH], bars[i, LOW]
        prev_high, prev_low = state[5], state[6]
        state[5], state[6] = high, low
        if seen == 0:
            out[i, :] = NAN
            continue
        if seen == 1:
            # TA-Lib: short if bar 1 has a -DM (a larger down-move), else long; the SAR starts
            # at bar 0's opposite extreme, and bar 1 is then compared with itself.
            _, minus = directional_movement(prev_high, prev_low, high, low)
            long = not minus > 0.0
            state[1] = 1.0 if long else 0.0
            state[2] = prev_low if long else prev_high
            state[3] = high if long else low
            state[4] = step
            prev_high, prev_low = high, low
        out[i, 0] = sar_step(state, step, maximum, prev_high, prev_low, high, low)
        out[i, 1] = 1.0 if state[1] == 1.0 else -1.0


REGISTRY.add(
    FeatureSpec(
        kind="psar",
        doc="Parabolic SAR (TA-Lib): a trailing stop that accelerates by `acceleration` per new "
        "extreme up to `maximum`; direction +1 while long (SAR below price), −1 while short; "
        "it starts on bar 1, short if that bar's down-move beats its up-move, else long.",
        params=(
            ParamSpec("acceleration", float, 0.02, minimum=0.001, maximum=1.0, doc="per step"),
            ParamSpec("maximum", float, 0.2, minimum=0.001, maximum=1.0, doc="factor cap"),
        ),
        outputs=("value", "direction"),
        warmup=lambda p: 1,
        state_size=lambda p: 7,
        kernel=psar_kernel,
        talib="SAR",
    )
)


# state: [0] bars seen, [1:3] ATR (``_math.atr_step``), [3] upper band, [4] lower band,
# [5] direction (+1 up, -1 down)
@njit(cache=True)
def supertrend_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, multiplier = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        high, low, close = bars[i, HIGH], bars[i, LOW], bars[i, CLOSE]
        prev_close = state[1]  # atr_step replaces it with this close
        atr = atr_step(state, 1, period, seen, high, low, close)
        if seen < period:
            out[i, :] = NAN
            continue
        middle = (high + low) / 2.0
        upper, lower = middle + multiplier * atr, middle - multiplier * atr
        direction = -1.0  # TradingView starts down, on the upper band
        if seen > period:
            # A band only tightens (upper down, lower up), unless the last close was beyond it.
            if not (upper < state[3] or prev_close > state[3]):
                upper = state[3]
            if not (lower > state[4] or prev_close < state[4]):
                lower = state[4]
            if state[5] < 0.0:
                direction = 1.0 if close > upper else -1.0
            else:
                direction = -1.0 if close < lower else 1.0
        state[3], state[4], state[5] = upper, lower, direction
        out[i, 0] = lower if direction > 0.0 else upper
        out[i, 1] = direction


REGISTRY.add(
    FeatureSpec(
        kind="supertrend",
        doc="Supertrend (TradingView): hl2 ± `multiplier` × ATR(`period`) bands that only "
        "tighten; value is the lower band in an uptrend (direction +1) and the upper band in a "
        "downtrend (−1); the trend flips when the close crosses the active band.",
        params=(
            period_param(10),
            ParamSpec("multiplier", float, 3.0, minimum=0.1, maximum=20.0, doc="ATRs per band"),
        ),
        outputs=("value", "direction"),
        warmup=lambda p: p["period"],
        state_size=lambda p: 6,
        kernel=supertrend_kernel,
    )
)
