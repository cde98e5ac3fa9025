"""Momentum oscillators: RSI, stochastics, stochastic RSI, MACD, CCI, ROC, momentum, Williams %R
and MFI.

TA-Lib's arithmetic (C library 0.8) is followed operation by operation, so TA-Lib is an oracle
to the last bit or so (its build contracts some multiply-adds into FMAs, which we do not). The
quirks that matter are written where they apply: Wilder's RSI seeded with plain averages and
scaled by the reciprocal of the period, stochastic %K as ``(close − low) / (high − low) · 100``,
a MACD whose fast EMA is seeded over the slow EMA's last ``fast`` bars (both EMAs start on the
same bar), a CCI that sums its window in ring order, and an MFI that ignores typical-price moves
within rounding noise. A flat window (no range, no movement, no flow) gives 0, as in TA-Lib,
never NaN.
"""

from __future__ import annotations

from numba import njit

from tradeplay.features._math import (
    NAN,
    ema_step,
    ring_push,
    sma_step,
    source,
    window_extreme_scan,
)
from tradeplay.features.spec import (
    CLOSE,
    HIGH,
    LOW,
    REGISTRY,
    VOLUME,
    FeatureSpec,
    period_param,
    source_param,
)

# Moves smaller than this fraction of the prices compared are rounding noise, not moves
# (TA-Lib's TA_IS_ZERO_SCALED, issues #107 and #253).
FLAT: float = 1e-14


@njit(inline="always", cache=True)
def rsi_step(state, at, period, count, x):  # type: ignore[no-untyped-def]
    """Wilder's RSI as TA-Lib computes it; NaN for the first ``period`` inputs.

    ``state[at]`` previous input, ``state[at + 1]`` average gain, ``state[at + 2]`` average loss.
    The averages start as plain means of the first ``period`` changes, then are smoothed as
    ``(avg · (period − 1) + change) · (1 / period)`` (TA-Lib multiplies by the reciprocal).
    """
    if count == 0:
        state[at] = x
        return NAN
    change = x - state[at]
    state[at] = x
    if count > period:
        state[at + 1] *= period - 1.0
        state[at + 2] *= period - 1.0
    if change < 0.0:
        state[at + 2] -= change
    else:
        state[at + 1] += change
    if count < period:
        return NAN
    inverse = 1.0 / period
    state[at + 1] *= inverse
    state[at + 2] *= inverse
    total = state[at + 1] + state[at + 2]
    return 100.0 * (state[at + 1] / total) if total != 0.0 else 0.0


@njit(inline="always", cache=True)
def stochastic(value, low, high):  # type: ignore[no-untyped-def]
    """Where ``value`` sits in ``[low, high]``, 0..100; 0 for a range within rounding noise of
    its own extremes (TA-Lib: a machine-flat window is 0, not noise blown up to 0..100)."""
    span = high - low
    if abs(span) <= FLAT * (abs(high) + abs(low)):
        return 0.0
    return (value - low) / span * 100.0


# state: [0] bars seen, [1:4] RSI (see ``rsi_step``)
@njit(cache=True)
def rsi_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        out[i, 0] = rsi_step(state, 1, period, seen, source(bars, i, code))


REGISTRY.add(
    FeatureSpec(
        kind="rsi",
        doc="Relative strength index of `source`, 0..100 (above 70 overbought, below 30 "
        "oversold): Wilder's smoothing of gains and losses over `period` bars.",
        params=(period_param(14, minimum=2), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 4,
        kernel=rsi_kernel,
        talib="RSI",
    )
)


# state: [0] bars seen, then the highest high and the lowest low (3 + period each, see
# ``_math.window_extreme_scan``), then the SMA of %K (2 + k_smoothing) and the SMA of that
# (2 + d_period)
@njit(cache=True)
def stoch_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, smooth, d_period = int(params[0]), int(params[1]), int(params[2])
    at_low = 4 + period
    at_k = at_low + 3 + period
    at_d = at_k + 2 + smooth
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        high = window_extreme_scan(state, 1, period, seen, bars[i, HIGH], True)
        low = window_extreme_scan(state, at_low, period, seen, bars[i, LOW], False)
        out[i, 0] = NAN
        out[i, 1] = NAN
        k_seen = seen - (period - 1)
        if k_seen >= 0:
            fast = stochastic(bars[i, CLOSE], low, high)
            k = sma_step(state, at_k, smooth, k_seen, fast)
            d_seen = k_seen - (smooth - 1)
            if d_seen >= 0:
                d = sma_step(state, at_d, d_period, d_seen, k)
                if d_seen >= d_period - 1:
                    out[i, 0] = k
                    out[i, 1] = d


REGISTRY.add(
    FeatureSpec(
        kind="stoch",
        doc="Slow stochastic, 0..100: `k` is where the close sits in the high-low range of the "
        "last `period` bars, averaged (SMA) over `k_smoothing` bars; `d` is the SMA of `k` over "
        "`d_period` bars (TA-Lib STOCH slowk/slowd; a range of zero counts as 0).",
        params=(
            period_param(14),
            period_param(3, name="k_smoothing"),
            period_param(3, name="d_period"),
        ),
        outputs=("k", "d"),
        warmup=lambda p: p["period"] + p["k_smoothing"] + p["d_period"] - 3,
        state_size=lambda p: 11 + 2 * p["period"] + p["k_smoothing"] + p["d_period"],
        kernel=stoch_kernel,
        talib="STOCH",
    )
)


# state: [0] bars seen, [1:4] RSI, then the highest and the lowest RSI (3 + period each, see
# ``_math.window_extreme_scan``), then the SMA of %K (2 + d_period)
@njit(cache=True)
def stochrsi_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    rsi_period, period, d_period = int(params[0]), int(params[1]), int(params[2])
    code = params[3]
    at_high = 4
    at_low = at_high + 3 + period
    at_d = at_low + 3 + period
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        rsi = rsi_step(state, 1, rsi_period, seen, source(bars, i, code))
        out[i, 0] = NAN
        out[i, 1] = NAN
        rsi_seen = seen - rsi_period
        if rsi_seen >= 0:
            high = window_extreme_scan(state, at_high, period, rsi_seen, rsi, True)
            low = window_extreme_scan(state, at_low, period, rsi_seen, rsi, False)
            k_seen = rsi_seen - (period - 1)
            if k_seen >= 0:
                k = stochastic(rsi, low, high)
                d = sma_step(state, at_d, d_period, k_seen, k)
                if k_seen >= d_period - 1:
                    out[i, 0] = k
                    out[i, 1] = d


REGISTRY.add(
    FeatureSpec(
        kind="stochrsi",
        doc="Stochastic RSI, 0..100: `k` is where the RSI(`rsi_period`) sits in its own range "
        "over the last `period` bars (unsmoothed, as TA-Lib STOCHRSI fastk); `d` is the SMA of "
        "`k` over `d_period` bars (a range of zero counts as 0).",
        params=(
            period_param(14, name="rsi_period", minimum=2),
            period_param(14),
            period_param(3, name="d_period"),
            source_param(),
        ),
        outputs=("k", "d"),
        warmup=lambda p: p["rsi_period"] + p["period"] + p["d_period"] - 2,
        state_size=lambda p: 12 + 2 * p["period"] + p["d_period"],
        kernel=stochrsi_kernel,
        talib="STOCHRSI",
    )
)


# state: [0] bars seen, [1] slow EMA, [2] fast EMA, [3] signal EMA (each the running sum while
# seeding). TA-Lib seeds the fast EMA over the *last* `fast` bars of the slow EMA's seed window,
# so both EMAs (and the MACD line) start on bar slow − 1; the fast EMA ignores earlier bars.
@njit(cache=True)
def macd_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    fast, slow, signal, code = int(params[0]), int(params[1]), int(params[2]), params[3]
    if slow < fast:  # TA-Lib swaps them rather than refuse
        fast, slow = slow, fast
    slow_alpha, fast_alpha = 2.0 / (slow + 1.0), 2.0 / (fast + 1.0)
    signal_alpha = 2.0 / (signal + 1.0)
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        x = source(bars, i, code)
        slow_ema = ema_step(state, 1, slow, slow_alpha, seen, x)
        out[i, 0] = NAN
        out[i, 1] = NAN
        out[i, 2] = NAN
        if seen >= slow - fast:
            fast_ema = ema_step(state, 2, fast, fast_alpha, seen - (slow - fast), x)
            if seen >= slow - 1:
                macd = fast_ema - slow_ema
                line = ema_step(state, 3, signal, signal_alpha, seen - (slow - 1), macd)
                if seen >= slow + signal - 2:
                    out[i, 0] = macd
                    out[i, 1] = line
                    out[i, 2] = macd - line


REGISTRY.add(
    FeatureSpec(
        kind="macd",
        doc="MACD of `source`: `macd` = EMA(`fast`) − EMA(`slow`), `signal` = its EMA over "
        "`signal` bars, `histogram` = macd − signal; EMAs are seeded with SMAs as in TA-Lib "
        "(a `fast` longer than `slow` is swapped with it, as TA-Lib does).",
        params=(
            period_param(12, name="fast", minimum=2),
            period_param(26, name="slow", minimum=2),
            period_param(9, name="signal"),
            source_param(),
        ),
        outputs=("macd", "signal", "histogram"),
        warmup=lambda p: max(p["fast"], p["slow"]) + p["signal"] - 2,
        state_size=lambda p: 4,
        kernel=macd_kernel,
        talib="MACD",
    )
)


# state: [0] bars seen, [1:1+period] ring of typical prices. TA-Lib sums the ring in slot order
# (not bar order); the ring here fills slot ``bar % period`` from bar 0 as TA-Lib's does, so
# the sums are the same floats.
@njit(cache=True)
def cci_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        typical = (bars[i, HIGH] + bars[i, LOW] + bars[i, CLOSE]) / 3.0
        ring_push(state, 1, period, seen, typical)
        out[i, 0] = NAN
        if seen >= period - 1:
            average = 0.0
            for j in range(period):
                average += state[1 + j]
            average /= period
            deviation = 0.0
            for j in range(period):
                deviation += abs(state[1 + j] - average)
            deviation /= period
            distance = typical - average
            level = FLAT * abs(average)  # a flat window leaves rounding residue, not a signal
            if abs(distance) <= level or abs(deviation) <= level:
                out[i, 0] = 0.0
            else:
                out[i, 0] = distance / (0.015 * deviation)


REGISTRY.add(
    FeatureSpec(
        kind="cci",
        doc="Commodity channel index: distance of the typical price (hlc3) from its "
        "`period`-bar SMA, in units of 0.015 × mean absolute deviation (±100 are the usual "
        "bands; a flat window gives 0).",
        params=(period_param(20, minimum=2),),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 1 + p["period"],
        kernel=cci_kernel,
        talib="CCI",
    )
)


# state: [0] bars seen, [1:1+period] ring of the last inputs
@njit(cache=True)
def roc_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        x = source(bars, i, code)
        then = ring_push(state, 1, period, seen, x)
        if seen < period:
            out[i, 0] = NAN
        elif then != 0.0:
            out[i, 0] = ((x / then) - 1.0) * 100.0
        else:
            out[i, 0] = 0.0


REGISTRY.add(
    FeatureSpec(
        kind="roc",
        doc="Rate of change of `source` over `period` bars, in percent: "
        "(value / value `period` bars ago − 1) × 100 (0 when the old value is 0).",
        params=(period_param(10), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 1 + p["period"],
        kernel=roc_kernel,
        talib="ROC",
    )
)


# state: [0] bars seen, [1:1+period] ring of the last inputs
@njit(cache=True)
def mom_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        x = source(bars, i, code)
        then = ring_push(state, 1, period, seen, x)
        out[i, 0] = x - then if seen >= period else NAN


REGISTRY.add(
    FeatureSpec(
        kind="mom",
        doc="Momentum: `source` minus its value `period` bars ago, in price units.",
        params=(period_param(10), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 1 + p["period"],
        kernel=mom_kernel,
        talib="MOM",
    )
)


# state: [0] bars seen, then the highest high and the lowest low (3 + period each, see
# ``_math.window_extreme_scan``)
@njit(cache=True)
def willr_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    at_low = 4 + period
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        high = window_extreme_scan(state, 1, period, seen, bars[i, HIGH], True)
        low = window_extreme_scan(state, at_low, period, seen, bars[i, LOW], False)
        if seen < period - 1:
            out[i, 0] = NAN
            continue
        span = high - low
        if abs(span) <= FLAT * (abs(high) + abs(low)):
            out[i, 0] = 0.0  # a machine-flat range, as for the stochastic
        else:
            out[i, 0] = (high - bars[i, CLOSE]) / span * -100.0


REGISTRY.add(
    FeatureSpec(
        kind="willr",
        doc="Williams %R, −100..0: where the close sits below the highest high of the last "
        "`period` bars, as a share of their high-low range (0 at the high, −100 at the low; "
        "a range of zero counts as 0).",
        params=(period_param(14),),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 7 + 2 * p["period"],
        kernel=willr_kernel,
        talib="WILLR",
    )
)


# state: [0] bars seen, [1] previous typical price, [2] positive and [3] negative money flow over
# the window, [4] consecutive bars without money flow, [5:5+period] ring of positive flows,
# [5+period:5+2·period] ring of negative flows
@njit(cache=True)
def mfi_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    at_pos, at_neg = 5, 5 + period
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        typical = (bars[i, HIGH] + bars[i, LOW] + bars[i, CLOSE]) / 3.0
        out[i, 0] = NAN
        if seen == 0:
            state[1] = typical
            continue
        flows = seen - 1  # money flows recorded before this one
        slot = int(flows) % period  # holds the flow from `period` flows ago, about to leave
        if flows >= period:
            state[2] -= state[at_pos + slot]
            state[3] -= state[at_neg + slot]
        change = typical - state[1]
        # a move within rounding noise of the two prices is no move: its flow counts nowhere
        noise = FLAT * (abs(typical) + abs(state[1]))
        state[1] = typical
        flow = 0.0 if abs(change) <= noise else typical * bars[i, VOLUME]
        positive = 0.0 if change < 0.0 else flow
        negative = flow if change < 0.0 else 0.0
        state[at_pos + slot] = positive
        state[at_neg + slot] = negative
        state[2] += positive
        state[3] += negative
        # once a whole window carried no flow the sums are exactly zero, not rounding residue
        state[4] = state[4] + 1 if flow == 0.0 else 0.0
        if state[4] >= period:
            state[4] = period
            state[2] = 0.0
            state[3] = 0.0
        if flows >= period - 1:
            total = state[2] + state[3]
            clamped = 0.0 if state[2] < 0.0 else min(state[2], total)
            out[i, 0] = 100.0 * (clamped / total) if total > 0.0 else 0.0


REGISTRY.add(
    FeatureSpec(
        kind="mfi",
        doc="Money flow index, 0..100: the share of the last `period` bars' money flow "
        "(typical price hlc3 × volume) that came on bars whose typical price rose; bars where "
        "it did not move count for neither side (TA-Lib MFI).",
        params=(period_param(14, minimum=2),),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 5 + 2 * p["period"],
        kernel=mfi_kernel,
        talib="MFI",
    )
)
