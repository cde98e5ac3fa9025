"""Small numba helpers shared by kernels. Inlined into each kernel at compile time."""

from __future__ import annotations

import numpy as np
from numba import njit

NAN = np.nan


@njit(inline="always", cache=True)
def source(bars, i, code):  # type: ignore[no-untyped-def]
    """The value of price source ``code`` (see ``spec.SOURCES``) at bar ``i``."""
    if code <= 4:
        return bars[i, 1 + int(code)]
    if code == 5:
        return (bars[i, 2] + bars[i, 3]) / 2.0
    if code == 6:
        return (bars[i, 2] + bars[i, 3] + bars[i, 4]) / 3.0
    return (bars[i, 1] + bars[i, 2] + bars[i, 3] + bars[i, 4]) / 4.0


@njit(inline="always", cache=True)
def ring_push(state, base, size, slot, value):  # type: ignore[no-untyped-def]
    """Store ``value`` in the ring of ``size`` floats at ``state[base:]``; return what it evicted.

    ``slot`` is the running count of pushes before this one (the ring position is its modulo).
    """
    index = base + int(slot) % size
    old = state[index]
    state[index] = value
    return old


@njit(inline="always", cache=True)
def ring_get(state, base, size, count, back):  # type: ignore[no-untyped-def]
    """The value pushed ``back`` pushes ago (0 = the latest) in a ring holding ``count`` pushes."""
    return state[base + int(count - 1 - back) % size]


# Moving-average steps in TA-Lib's exact operation order, shared by kernels that chain averages
# (DEMA, TEMA, MACD, stochastics …). Each keeps its state in ``state[at:]`` and takes ``count``,
# the number of values it was fed before this one; each returns NaN until its window is full.


@njit(inline="always", cache=True)
def sma_step(state, at, period, count, x):  # type: ignore[no-untyped-def]
    """TA-Lib SMA. ``state[at]``: running sum of the window without its oldest value;
    ``state[at + 1]``: the ring slot of the oldest value, ``state[at + 2:at + 2 + period]``: ring
    of the last inputs. State size ``2 + period``."""
    ring = at + 2
    slot = int(state[at + 1])
    state[ring + slot] = x
    slot = slot + 1 if slot + 1 < period else 0  # now the slot of the window's oldest value
    state[at + 1] = slot
    if count + 1 < period:
        state[at] += x
        return NAN
    total = state[at] + x
    state[at] = total - state[ring + slot]
    return total / period


@njit(inline="always", cache=True)
def ema_step(  # type: ignore[no-untyped-def]  # noqa: PLR0917 (numba helpers take plain scalars)
    state, at, period, alpha, count, x
):
    """TA-Lib EMA seeded with the mean of its first ``period`` inputs. ``state[at]``: the EMA
    (the running sum while seeding). State size 1."""
    if count + 1 < period:
        state[at] += x
        return NAN
    if count + 1 == period:
        state[at] = (state[at] + x) / period
    else:
        state[at] = (x - state[at]) * alpha + state[at]
    return state[at]


@njit(inline="always", cache=True)
def wma_step(state, at, period, count, x):  # type: ignore[no-untyped-def]
    """TA-Lib WMA (weights 1..period, newest heaviest). ``state[at]``: plain sum of the window,
    ``state[at + 1]``: weighted sum, ``state[at + 2:at + 2 + period]``: ring. State size
    ``2 + period``.

    TA-Lib's order: the oldest value leaves the plain sum one bar late, and both sums are
    rebuilt from the window (oldest first) on every ``8 * period``-th output, so rounding never
    accumulates beyond that (TA-Lib issue #255).
    """
    if period == 1:
        return x  # TA-Lib copies the input
    trailing = ring_push(state, at + 2, period, count, x)  # 0.0 until the ring wraps
    n = int(count) + 1
    if n < period:
        state[at] += x
        state[at + 1] += x * n
        return NAN
    state[at] += x
    state[at] -= trailing
    state[at + 1] += x * period
    if (n - period + 1) % (8 * period) == 0:
        plain, weighted = 0.0, 0.0
        for weight in range(1, period + 1):
            value = ring_get(state, at + 2, period, n, period - weight)
            plain += value
            weighted += value * weight
        state[at], state[at + 1] = plain, weighted
    value = state[at + 1] / (period * (period + 1.0) / 2.0)
    state[at + 1] -= state[at]
    return value


@njit(inline="always", cache=True)
def window_extreme_scan(  # type: ignore[no-untyped-def]  # noqa: PLR0917 (numba: plain scalars)
    state, at, size, count, x, highest
):
    """Highest (``highest=True``) or lowest of the last ``size`` inputs, ``x`` included, tracked
    as TA-Lib's MAX / MIN / AROON do: keep the extreme and its input count, and rescan the ring
    only when that input leaves the window. O(1) on most bars, O(size) when the extreme expires
    (on every bar of a steady move away from it); measured faster on real prices than a
    monotonic deque, which pays an integer division per step. Among equal extremes it keeps
    the latest.

    ``state[at]``: the extreme, ``state[at + 1]``: its input count, ``state[at + 2]``: the next
    ring slot, then a ring of ``size`` inputs. State size ``3 + size``.
    """
    ring = at + 3
    slot = int(state[at + 2])
    state[ring + slot] = x
    state[at + 2] = slot + 1 if slot + 1 < size else 0
    if count == 0 or state[at + 1] <= count - size:  # the extreme left the window: rescan
        best, best_count, k = x, count, slot
        for back in range(1, min(count + 1, size)):  # newest to oldest: strict keeps the latest
            k = k - 1 if k > 0 else size - 1
            value = state[ring + k]
            if (value > best) if highest else (value < best):
                best, best_count = value, count - back
        state[at], state[at + 1] = best, best_count
    elif (x >= state[at]) if highest else (x <= state[at]):
        state[at], state[at + 1] = x, count
    return state[at]


@njit(inline="always", cache=True)
def true_range(high, low, prev_close):  # type: ignore[no-untyped-def]
    """TA-Lib TRANGE: the largest of high − low, |high − previous close|, |low − previous close|."""
    return max(high - low, abs(high - prev_close), abs(low - prev_close))


@njit(inline="always", cache=True)
def atr_step(  # type: ignore[no-untyped-def]  # noqa: PLR0917 (numba helpers take plain scalars)
    state, at, period, count, high, low, close
):
    """TA-Lib ATR (Wilder). ``state[at]``: previous close; ``state[at + 1]``: the ATR (the sum of
    true ranges while seeding). State size 2. Bar 0 has no true range, so the seed is the mean of
    the true ranges of bars 1..period and the first value is at bar ``period``."""
    value = NAN
    if count > 0:
        tr = true_range(high, low, state[at])
        if count < period:
            state[at + 1] += tr
        else:
            if count == period:
                state[at + 1] = (state[at + 1] + tr) / period
            else:
                state[at + 1] = (state[at + 1] * (period - 1) + tr) / period
            value = state[at + 1]
    state[at] = close
    return value
