"""The quiet-span scan: the first bar where anything can happen, found in compiled code.

Between events the simulated exchange does no Python work per bar. It collects what could make
something happen — the lowest level that fires when the price rises to it (a sell limit, a buy
stop, a long's take-profit, a short's liquidation price …), the highest one that fires when the
price falls to it, a trailing stop, the next funding settlement — and asks this kernel for the
first bar that reaches any of them. The exchange then walks that one bar in detail (``matching``)
and the bars skipped are settled in one vectorised step.

The test is deliberately *conservative*: a bar is a candidate when its range could trigger
something under any order of prices inside it, so the detailed walk (pessimistic path or exact
1-minute path) never misses an event. A candidate where nothing happens costs one Python walk.

Prices are compared in ticks (``rint(price / tick)``), the same formula the detailed walk uses,
so both agree to the last tick. Bar layout: ``(ts_ms, open, high, low, close, volume)``.

Trailing stop state is a small float array, updated in place for the bars the scan passes:
``[side (+1 long, -1 short, 0 none), distance, active (0/1), activation, extreme]`` in ticks.
For a long the extreme is the highest price since activation and the stop is ``extreme −
distance``; for a short the lowest price and ``extreme + distance``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numba import njit

QUIET: Final = 0
"""The scan reached ``stop``: nothing can happen in the bars it passed."""
CANDIDATE: Final = 1
"""Something may happen in bar ``index``: walk it in detail."""
FUNDING: Final = 2
"""Bar ``index`` holds (or follows a gap holding) the next funding settlement."""

TRAIL_SIDE, TRAIL_DISTANCE, TRAIL_ACTIVE, TRAIL_ACTIVATION, TRAIL_EXTREME = range(5)


@njit(cache=True)
def scan(bars, start, stop, tick, up, down, settle_ms, bar_ms, trail):  # type: ignore[no-untyped-def]  # noqa: PLR0917
    """``(index, reason)``: the first bar in ``[start, stop)`` that needs attention.

    ``up``: the lowest level (ticks) that fires when the price rises to it, ``+inf`` for none;
    ``down``: the highest level that fires when the price falls to it, ``-inf`` for none;
    ``settle_ms``: the next funding settlement to book, ``+inf`` for none.
    """
    for j in range(start, stop):
        if bars[j, 0] + bar_ms > settle_ms:
            return j, 2
        high = np.rint(bars[j, 2] / tick)
        low = np.rint(bars[j, 3] / tick)
        if high >= up or low <= down or _trail_may_fire(trail, high, low):
            return j, 1
    return stop, 0


@njit(cache=True)
def _trail_may_fire(trail, high, low):  # type: ignore[no-untyped-def]
    """Whether the bar's range could fire the trailing stop; if not, ratchet it over the bar.

    Conservative: a long's stop can fire if the bar falls ``distance`` below the best price it
    could have reached first — its own high included (pessimistically the high came first).
    """
    side, distance = trail[0], trail[1]
    if side == 0:
        return False
    # Work in the long's direction: a short is the mirror image (prices negated).
    best, top, bottom = trail[4] * side, high * side, low * side
    if side < 0:
        top, bottom = bottom, top
    if trail[2] > 0:
        if bottom <= max(best, top) - distance:
            return True
        trail[4] = max(best, top) * side
    elif top >= trail[3] * side:
        if bottom <= top - distance:
            return True
        trail[2] = 1.0
        trail[4] = top * side
    return False
