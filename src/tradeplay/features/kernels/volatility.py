"""Volatility and range: true range, ATR, NATR, Bollinger / Keltner / Donchian channels, rolling
highest and lowest, realised volatility, z-score and linear-regression slope.

TA-Lib's conventions are followed wherever TA-Lib has the feature, so its output is the oracle:
the ATR is Wilder's average seeded with the plain mean of the first ``period`` true ranges (bar 0
has no true range), and Bollinger bands use the population standard deviation.

Rolling standard deviations come from :func:`window_moments`: sums of deviations from a shift that
is re-anchored on the window mean (re-summed exactly from the ring) once every ``period`` bars,
and at once when the window turns almost flat. Plain running sums of x and x² lose the variance
to cancellation at crypto price levels (ETH at 3,000 with a 20-bar deviation of 5: x² ≈ 1e7 but
the variance is 25, so seven of sixteen digits go) and drift over long runs; the shifted sums
stay within a few ulps of a two-pass result at O(1) per bar on average. A window that is flat up
to rounding has a deviation of exactly 0.
"""

from __future__ import annotations

import math

from numba import njit

from tradeplay.features._math import (
    NAN,
    atr_step,
    ema_step,
    source,
    true_range,
    window_extreme_scan,
)
from tradeplay.features.spec import (
    CLOSE,
    HIGH,
    LOW,
    REGISTRY,
    FeatureSpec,
    ParamSpec,
    period_param,
    source_param,
)

MOMENTS = 4  # floats of a window_moments block before its ring
REGRESSION = 4  # floats of a window_slope block before its ring


@njit(inline="always", cache=True)
def reanchor(state, at, size):  # type: ignore[no-untyped-def]
    """Move the shift of a full window_moments block to the window mean and re-add its sums from
    the ring: a two-pass, O(size), after which no earlier rounding survives."""
    ring = at + MOMENTS
    total = 0.0
    for k in range(size):
        total += state[ring + k]
    shift = total / size
    s1 = 0.0
    s2 = 0.0
    for k in range(size):
        d = state[ring + k] - shift
        s1 += d
        s2 += d * d
    state[at], state[at + 1], state[at + 2] = shift, s1, s2


@njit(inline="always", cache=True)
def window_moments(state, at, size, count, x):  # type: ignore[no-untyped-def]
    """Mean and sum of squared deviations of the last ``size`` inputs, ``x`` included; valid once
    ``count + 1 >= size`` (``count``: inputs fed before ``x``).

    ``state[at]``: the shift, ``state[at + 1]``: Σ(x − shift), ``state[at + 2]``: Σ(x − shift)²,
    ``state[at + 3]``: the next ring slot, then a ring of ``size`` inputs. State size
    ``MOMENTS + size``. Re-anchored every ``size`` inputs: O(1) work per input on average.
    """
    ring = at + MOMENTS
    slot = int(state[at + 3])
    old = state[ring + slot]
    state[ring + slot] = x
    state[at + 3] = slot + 1 if slot + 1 < size else 0
    if slot == size - 1:
        reanchor(state, at, size)
    else:
        if count == 0:
            state[at] = x
        d = x - state[at]
        state[at + 1] += d
        state[at + 2] += d * d
        if count >= size:
            d = old - state[at]
            state[at + 1] -= d
            state[at + 2] -= d * d
    squares = state[at + 2] - state[at + 1] * (state[at + 1] / size)
    if squares < 1e-4 * state[at + 2] and count + 1 >= size:
        # A window almost flat next to its distance from the shift: the difference above has
        # lost too many digits. Re-anchor now; what is still rounding-level after it is flat.
        reanchor(state, at, size)
        squares = state[at + 2] - state[at + 1] * (state[at + 1] / size)
        if squares < 1e-12 * state[at + 2]:
            squares = 0.0
    return state[at] + state[at + 1] / size, squares


# state: [0] bars seen, [1] previous close
@njit(cache=True)
def trange_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    for i in range(bars.shape[0]):
        seen = state[0]
        state[0] = seen + 1
        out[i, 0] = true_range(bars[i, HIGH], bars[i, LOW], state[1]) if seen > 0 else NAN
        state[1] = bars[i, CLOSE]


REGISTRY.add(
    FeatureSpec(
        kind="trange",
        doc="True range: the largest of high − low and the distances from the previous close "
        "to this high and low (so gaps count); none on the first bar.",
        params=(),
        outputs=("value",),
        warmup=lambda p: 1,
        state_size=lambda p: 2,
        kernel=trange_kernel,
        talib="TRANGE",
    )
)


# state: [0] bars seen, [1:3] ATR (``_math.atr_step``)
@njit(cache=True)
def atr_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        out[i, 0] = atr_step(state, 1, period, seen, bars[i, HIGH], bars[i, LOW], bars[i, CLOSE])


REGISTRY.add(
    FeatureSpec(
        kind="atr",
        doc="Average true range over `period` bars, Wilder-smoothed and seeded with the mean of "
        "the first `period` true ranges (bars 1..period, as TA-Lib); in price units.",
        params=(period_param(14),),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 3,
        kernel=atr_kernel,
        talib="ATR",
    )
)


# state: [0] bars seen, [1:3] ATR (``_math.atr_step``)
@njit(cache=True)
def natr_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        close = bars[i, CLOSE]
        atr = atr_step(state, 1, period, seen, bars[i, HIGH], bars[i, LOW], close)
        out[i, 0] = (atr / close) * 100.0  # closes are > 0 (checked when data is loaded)


REGISTRY.add(
    FeatureSpec(
        kind="natr",
        doc="Normalised ATR: the `period`-bar ATR as a percentage of the close (1.5 = 1.5 %), "
        "comparable across symbols and price levels.",
        # TA-Lib's NATR at period 1 returns the raw true range, not a percentage: refused here.
        params=(period_param(14, minimum=2),),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 3,
        kernel=natr_kernel,
        talib="NATR",
    )
)


# state: [0] bars seen, [1:4+period] window moments of the source
@njit(cache=True)
def bbands_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, deviations, code = int(params[0]), params[1], params[2]
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        x = source(bars, i, code)
        mean, squares = window_moments(state, 1, period, seen, x)
        if seen + 1 < period:
            out[i, :] = NAN
            continue
        band = math.sqrt(squares / period) * deviations
        upper, lower = mean + band, mean - band
        out[i, 0], out[i, 1], out[i, 2] = upper, mean, lower
        # A flat window has no band: call the price "in the middle" rather than divide by zero.
        out[i, 3] = (x - lower) / (upper - lower) if upper > lower else 0.5
        out[i, 4] = (upper - lower) / mean if mean != 0.0 else 0.0


REGISTRY.add(
    FeatureSpec(
        kind="bbands",
        doc="Bollinger bands: `period`-bar SMA of `source` ± `stddev` population standard "
        "deviations; percent_b = where the source sits in the bands (0 = lower, 1 = upper, "
        "0.5 when the bands are flat), width = (upper − lower) / middle.",
        params=(
            period_param(20, minimum=2),
            ParamSpec("stddev", float, 2.0, minimum=0.1, maximum=10.0, doc="deviations per band"),
            source_param(),
        ),
        outputs=("upper", "middle", "lower", "percent_b", "width"),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 1 + MOMENTS + p["period"],
        kernel=bbands_kernel,
        talib="BBANDS",
    )
)


# state: [0] bars seen, [1] EMA of the source, [2:4] ATR (``_math.atr_step``)
@njit(cache=True)
def keltner_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, atr_period, multiplier, code = int(params[0]), int(params[1]), params[2], params[3]
    alpha = 2.0 / (period + 1.0)
    warmup = max(period - 1, atr_period)
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        middle = ema_step(state, 1, period, alpha, seen, source(bars, i, code))
        atr = atr_step(state, 2, atr_period, seen, bars[i, HIGH], bars[i, LOW], bars[i, CLOSE])
        if seen < warmup:
            out[i, :] = NAN
            continue
        band = multiplier * atr
        out[i, 0], out[i, 1], out[i, 2] = middle + band, middle, middle - band


REGISTRY.add(
    FeatureSpec(
        kind="keltner",
        doc="Keltner channels: `period`-bar EMA of `source` ± `multiplier` × the `atr_period`-bar "
        "ATR (TA-Lib's EMA and ATR conventions).",
        params=(
            period_param(20),
            period_param(10, name="atr_period"),
            ParamSpec("multiplier", float, 2.0, minimum=0.1, maximum=10.0, doc="ATRs per band"),
            source_param(),
        ),
        outputs=("upper", "middle", "lower"),
        warmup=lambda p: max(p["period"] - 1, p["atr_period"]),
        state_size=lambda p: 4,
        kernel=keltner_kernel,
    )
)


# state: [0] bars seen, [1:4+period] highest high, [4+period:7+2*period] lowest low
# (``_math.window_extreme_scan``)
@njit(cache=True)
def donchian_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period = int(params[0])
    lows = 4 + period
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        upper = window_extreme_scan(state, 1, period, seen, bars[i, HIGH], True)
        lower = window_extreme_scan(state, lows, period, seen, bars[i, LOW], False)
        if seen + 1 < period:
            out[i, :] = NAN
        else:
            out[i, 0], out[i, 1], out[i, 2] = upper, (upper + lower) / 2.0, lower


REGISTRY.add(
    FeatureSpec(
        kind="donchian",
        doc="Donchian channels: the highest high and lowest low of the last `period` bars (this "
        "bar included) and their midpoint.",
        params=(period_param(20),),
        outputs=("upper", "middle", "lower"),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 7 + 2 * p["period"],
        kernel=donchian_kernel,
    )
)


# state: [0] bars seen, [1:4+period] the extreme (``_math.window_extreme_scan``)
@njit(inline="always", cache=True)
def rolling_extreme(state, params, bars, out, highest):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        value = window_extreme_scan(state, 1, period, seen, source(bars, i, code), highest)
        out[i, 0] = value if seen + 1 >= period else NAN


@njit(cache=True)
def highest_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    rolling_extreme(state, params, bars, out, True)


@njit(cache=True)
def lowest_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    rolling_extreme(state, params, bars, out, False)


for _kind, _kernel, _talib, _source in (
    ("highest", highest_kernel, "MAX", "high"),
    ("lowest", lowest_kernel, "MIN", "low"),
):
    REGISTRY.add(
        FeatureSpec(
            kind=_kind,
            doc=f"The {_kind} `source` value of the last `period` bars, this bar included.",
            params=(period_param(20), source_param(_source)),
            outputs=("value",),
            warmup=lambda p: p["period"] - 1,
            state_size=lambda p: 4 + p["period"],
            kernel=_kernel,
            talib=_talib,
        )
    )


# state: [0] bars seen, [1] previous close, [2:5+period] window moments of the log returns
@njit(cache=True)
def volatility_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, scale = int(params[0]), math.sqrt(params[1])
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        close = bars[i, CLOSE]
        out[i, 0] = NAN
        if seen > 0:
            change = math.log(close / state[1])
            _, squares = window_moments(state, 2, period, seen - 1, change)
            if seen >= period:
                out[i, 0] = math.sqrt(squares / (period - 1)) * scale
        state[1] = close


REGISTRY.add(
    FeatureSpec(
        kind="volatility",
        doc="Realised volatility: sample standard deviation of the last `period` log returns of "
        "the close, times √`periods_per_year` (1 = per bar; 8760 annualises hourly bars of a "
        "market that trades around the clock, 525600 one-minute bars).",
        params=(
            period_param(20, minimum=2),
            ParamSpec(
                "periods_per_year", float, 1.0, minimum=1.0, maximum=1e8, doc="bars per year"
            ),
        ),
        outputs=("value",),
        warmup=lambda p: p["period"],
        state_size=lambda p: 2 + MOMENTS + p["period"],
        kernel=volatility_kernel,
    )
)


# state: [0] bars seen, [1:4+period] window moments of the source
@njit(cache=True)
def zscore_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        x = source(bars, i, code)
        mean, squares = window_moments(state, 1, period, seen, x)
        if seen + 1 < period:
            out[i, 0] = NAN
        elif squares > 0.0:
            out[i, 0] = (x - mean) / math.sqrt(squares / period)
        else:
            out[i, 0] = 0.0  # a flat window: the price is at its mean


REGISTRY.add(
    FeatureSpec(
        kind="zscore",
        doc="Z-score: how many standard deviations `source` is from its `period`-bar SMA "
        "(population standard deviation, as Bollinger bands; 0 when the window is flat).",
        params=(period_param(20, minimum=2), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 1 + MOMENTS + p["period"],
        kernel=zscore_kernel,
    )
)


@njit(inline="always", cache=True)
def regression_reanchor(state, at, size, newest):  # type: ignore[no-untyped-def]
    """Move the shift of a full window_slope block to the window mean and re-add its sums from
    the ring (``newest``: the slot of the latest input)."""
    ring = at + REGRESSION
    total = 0.0
    for k in range(size):
        total += state[ring + k]
    shift = total / size
    s1 = 0.0
    sxy = 0.0
    k = newest
    for ago in range(size):
        d = state[ring + k] - shift
        s1 += d
        sxy += ago * d
        k = k - 1 if k > 0 else size - 1
    state[at], state[at + 1], state[at + 2] = shift, s1, sxy


@njit(inline="always", cache=True)
def window_slope(state, at, size, count, x):  # type: ignore[no-untyped-def]
    """Least-squares slope per bar through the last ``size`` inputs, ``x`` included; valid once
    ``count + 1 >= size``. Sums over y − shift, with x = bars ago (TA-Lib's sums, shifted: the
    slope does not change, the cancellation in it does): ``state[at]``: the shift,
    ``state[at + 1]``: Σ(y − shift), ``state[at + 2]``: Σ ago × (y − shift), ``state[at + 3]``:
    the next ring slot, then a ring of ``size`` inputs. State size ``REGRESSION + size``;
    re-anchored on the window mean every ``size`` inputs, so O(1) per input on average.
    """
    ring = at + REGRESSION
    slot = int(state[at + 3])
    old = state[ring + slot]
    state[ring + slot] = x
    state[at + 3] = slot + 1 if slot + 1 < size else 0
    if slot == size - 1:
        regression_reanchor(state, at, size, slot)
    else:
        if count == 0:
            state[at] = x
        shift = state[at]
        state[at + 2] += state[at + 1]  # every input already held is one bar older
        state[at + 1] += x - shift
        if count >= size:  # the oldest is now `size` bars ago: out
            state[at + 2] -= size * (old - shift)
            state[at + 1] -= old - shift
    sum_x = size * (size - 1) * 0.5
    sum_x_sqr = float(size * (size - 1) * (2 * size - 1) // 6)
    return (size * state[at + 2] - sum_x * state[at + 1]) / (sum_x * sum_x - size * sum_x_sqr)


# state: [0] bars seen, [1:5+period] the regression sums (``window_slope``)
@njit(cache=True)
def linreg_slope_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    period, code = int(params[0]), params[1]
    for i in range(bars.shape[0]):
        seen = int(state[0])
        state[0] = seen + 1
        slope = window_slope(state, 1, period, seen, source(bars, i, code))
        out[i, 0] = slope if seen + 1 >= period else NAN


REGISTRY.add(
    FeatureSpec(
        kind="linreg_slope",
        doc="Slope of the least-squares line through the last `period` values of `source`, in "
        "price units per bar (positive = rising).",
        params=(period_param(14, minimum=2), source_param()),
        outputs=("value",),
        warmup=lambda p: p["period"] - 1,
        state_size=lambda p: 1 + REGRESSION + p["period"],
        kernel=linreg_slope_kernel,
        talib="LINEARREG_SLOPE",
    )
)
