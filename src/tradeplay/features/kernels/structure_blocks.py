"""Market structure, part 2: order blocks and fair value gaps, as step kernels.

Both keep, per side, a fixed-capacity list of live zones inside ``state`` (oldest first; when it
is full the oldest zone is dropped to make room) and report the **most recent** live zone of each
side (not the nearest to price): ``top``, ``bottom``, ``active`` (1.0 if the side has a live
zone, else 0.0 with NaN prices and age), ``age``, ``count`` (live zones tracked, at most the
capacity) and ``new`` (1.0 on the bar a zone of that side appears). When the most recent zone
goes, the one before it is reported again. A zone is tested for mitigation / filling from the bar
after it appears.

**Order blocks** (``ob``, swing parameters as ``bos``). On a bar that breaks structure upward
(``bos`` ``up``), the last bearish candle (close < open) *before* that bar becomes a bullish
block, zone [its low, its high]; ``age`` counts bars since that candle, so it is at least 1 on the
bar the block appears. A candle makes one block at most: a second break with no bearish candle
since the first adds nothing. Bearish blocks mirror this: the last bullish candle before a down
break. A doji (close = open) is neither. ``mitigation`` ends a block:

* ``close_through`` (default): a close below a bullish block's bottom / above a bearish top;
* ``wick_through``: a low below the bottom / a high above the top;
* ``touch``: a low at or below a bullish block's top / a high at or above a bearish bottom.

**Fair value gaps** (``fvg``). Bullish at bar i when low[i] > high[i-2]: gap [high[i-2], low[i]];
bearish when high[i] < low[i-2]: gap [high[i], low[i-2]] (equal is no gap), either only if at
least ``min_size`` x close[i] wide. ``age`` counts bars since bar i. Later bars fill it from the
near edge: a low below a bullish gap's top lowers the top to that low (the gap shrinks), a low at
or below its bottom fills it and it is gone; bearish gaps mirror this with highs.
"""

from __future__ import annotations

import math

from numba import njit

from tradeplay.features._math import NAN
from tradeplay.features.kernels.structure import (
    BREAK_BLOCK,
    DOWN,
    UP,
    break_step,
    swing_block,
    swing_floats,
    swing_params,
    swing_size,
    swing_step,
    swing_warmup,
)
from tradeplay.features.spec import REGISTRY, FeatureSpec, ParamSpec

# A zone list (per side): [count, trigger, then ``capacity`` slots of (top, bottom, bar index the
# zone is dated from)], oldest first. The trigger is the most extreme edge that price must reach
# to affect any zone of the list (see _retrigger), so that a bar that reaches none costs one
# comparison.
COUNT, TRIGGER, HEAD = 0, 1, 2
TOP, BOTTOM, DATED = 0, 1, 2
SLOT = 3
ZONE_OUTPUTS = ("top", "bottom", "active", "age", "count", "new")


def _zone_outputs() -> tuple[str, ...]:
    return tuple(f"{side}.{name}" for side in ("bull", "bear") for name in ZONE_OUTPUTS)


def _zone_list_size(capacity: int) -> int:
    return HEAD + SLOT * capacity


@njit(inline="always", cache=True)
def _remove(zones, k):  # type: ignore[no-untyped-def]
    """Drop zone ``k`` from a zone list, keeping the order of the others."""
    n = int(zones[COUNT])
    for at in range(HEAD + SLOT * k, HEAD + SLOT * (n - 1)):
        zones[at] = zones[at + SLOT]
    zones[COUNT] = n - 1


@njit(inline="always", cache=True)
def _push(zones, top, bottom, bar):  # type: ignore[no-untyped-def]
    """Append a zone; a full list first drops its oldest. The caller then calls _retrigger."""
    if HEAD + SLOT * int(zones[COUNT]) == zones.shape[0]:
        _remove(zones, 0)
    at = HEAD + SLOT * int(zones[COUNT])
    zones[at + TOP] = top
    zones[at + BOTTOM] = bottom
    zones[at + DATED] = bar
    zones[COUNT] += 1.0


@njit(inline="always", cache=True)
def _retrigger(zones, edge, sign):  # type: ignore[no-untyped-def]
    """Trigger = the largest ``sign x edge`` of the live zones (``edge`` TOP or BOTTOM); a bar
    affects some zone only if its ``sign x price`` goes below it (or to it, where touching counts).
    """
    trigger = -math.inf
    for k in range(int(zones[COUNT])):
        trigger = max(trigger, sign * zones[HEAD + SLOT * k + edge])
    zones[TRIGGER] = trigger


@njit(inline="always", cache=True)
def _report(zones, t, new, out, at):  # type: ignore[no-untyped-def]
    """Write one side's six outputs at ``out[at]``...: its most recent live zone, count, new."""
    i, col = at
    n = int(zones[COUNT])
    if n:
        last = HEAD + SLOT * (n - 1)
        out[i, col] = zones[last + TOP]
        out[i, col + 1] = zones[last + BOTTOM]
        out[i, col + 2] = 1.0
        out[i, col + 3] = t - zones[last + DATED]
    else:
        out[i, col] = NAN
        out[i, col + 1] = NAN
        out[i, col + 2] = 0.0
        out[i, col + 3] = NAN
    out[i, col + 4] = n
    out[i, col + 5] = new


# ---------------------------------------------------------------------------------------------
# Order blocks

CLOSE_THROUGH, WICK_THROUGH, TOUCH = 0, 1, 2  # mitigation rules, in the order of their choices
# Candle block: the last bearish candle's high, low, bar + 1 (0 = none yet) and bar + 1 of the
# candle behind the latest bullish block (so one candle makes one block), then the same for the
# last bullish candle and bearish blocks.
CANDLE_BLOCK = 8


@njit(inline="always", cache=True)
def _mitigation(rule, sign):  # type: ignore[no-untyped-def]
    """The edge of a block that price must cross under ``rule``, for a side (+1 bull, -1 bear):
    a bullish block (below price) ends at its bottom, or at its top where a touch is enough."""
    if rule == TOUCH:
        return TOP if sign > 0.0 else BOTTOM
    return BOTTOM if sign > 0.0 else TOP


@njit(inline="always", cache=True)
def _mitigate(blocks, rule, sign, prices):  # type: ignore[no-untyped-def]
    """End the blocks this bar (``prices`` = high, low, close) mitigates; ``sign`` +1 for the
    bullish list, -1 for the bearish one (every comparison is made on ``sign x price``)."""
    high, low, close = prices
    wick = low if sign > 0.0 else high
    value = sign * (close if rule == CLOSE_THROUGH else wick)
    touch = rule == TOUCH
    trigger = blocks[TRIGGER]
    if blocks[COUNT] == 0.0 or not (value < trigger or (touch and value == trigger)):
        return
    edge = _mitigation(rule, sign)
    for k in range(int(blocks[COUNT]) - 1, -1, -1):
        limit = sign * blocks[HEAD + SLOT * k + edge]
        if value < limit or (touch and value == limit):
            _remove(blocks, k)
    _retrigger(blocks, edge, sign)


@njit(inline="always", cache=True)
def _new_block(candle, blocks, rule, sign):  # type: ignore[no-untyped-def]
    """On a break: the last opposite candle becomes a block, once. Returns 1.0 if it did."""
    mark = candle[2]
    if mark == 0.0 or mark <= candle[3]:
        return 0.0
    candle[3] = mark
    _push(blocks, candle[0], candle[1], mark - 1.0)
    _retrigger(blocks, _mitigation(rule, sign), sign)
    return 1.0


# state: [0] bars seen, swing block, break block, candle block, bullish list, bearish list
@njit(cache=True)
def ob_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    left, right, capacity, rule = int(params[0]), int(params[1]), int(params[2]), int(params[3])
    swings = swing_block(state, 1, left, right)
    at = 1 + swing_floats(left, right)
    breaks = state[at : at + BREAK_BLOCK]
    at += BREAK_BLOCK
    bear_candle = state[at : at + 4]  # the last bearish candle: a bullish block in waiting
    bull_candle = state[at + 4 : at + 8]
    at += CANDLE_BLOCK
    bulls = state[at : at + HEAD + SLOT * capacity]
    bears = state[at + bulls.shape[0] : at + 2 * bulls.shape[0]]
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        o, high, low, close = bars[i, 1], bars[i, 2], bars[i, 3], bars[i, 4]
        _mitigate(bulls, rule, 1.0, (high, low, close))
        _mitigate(bears, rule, -1.0, (high, low, close))
        broke = break_step(swings, breaks, close, swing_step(swings, (left, right), t, high, low))
        new_bull = _new_block(bear_candle, bulls, rule, 1.0) if broke & UP else 0.0
        new_bear = _new_block(bull_candle, bears, rule, -1.0) if broke & DOWN else 0.0
        # only now remember this candle: a block is a candle *before* the breaking bar
        if close < o:
            bear_candle[0], bear_candle[1], bear_candle[2] = high, low, t + 1.0
        elif close > o:
            bull_candle[0], bull_candle[1], bull_candle[2] = high, low, t + 1.0
        if t < left + right:
            out[i, :] = NAN
            continue
        _report(bulls, t, new_bull, out, (i, 0))
        _report(bears, t, new_bear, out, (i, 6))


REGISTRY.add(
    FeatureSpec(
        kind="ob",
        doc=(
            "Order blocks: on a break of structure up (`bos` up), the last bearish candle before "
            "the breaking bar becomes a bullish block [low, high] (bearish blocks mirror this); "
            "a block lives until mitigated (`mitigation`). Reports the most recent live block "
            "per side and how many are live (at most `max_blocks`); `age` counts bars since the "
            "block's candle."
        ),
        params=(
            *swing_params(),
            ParamSpec("max_blocks", int, 5, minimum=1, maximum=100, doc="live blocks per side"),
            ParamSpec(
                "mitigation",
                str,
                "close_through",
                choices=("close_through", "wick_through", "touch"),
                doc="what ends a block: a close beyond its far edge, a wick beyond it, any touch",
            ),
        ),
        outputs=_zone_outputs(),
        warmup=swing_warmup,
        state_size=lambda p: (
            1
            + swing_size(p)
            + BREAK_BLOCK
            + CANDLE_BLOCK
            + 2 * _zone_list_size(int(p["max_blocks"]))
        ),
        kernel=ob_kernel,
        flags=("bull.active", "bull.new", "bear.active", "bear.new"),
        tags=("sparse", "structure"),
    )
)


# ---------------------------------------------------------------------------------------------
# Fair value gaps


@njit(inline="always", cache=True)
def _fill(gaps, sign, high, low):  # type: ignore[no-untyped-def]
    """Price trading into a gap shrinks it; reaching its far edge fills (removes) it.

    ``sign`` +1: bullish gaps, below price, filled from the top down by the low; -1: bearish
    gaps, above price, filled from the bottom up by the high.
    """
    near, far = (TOP, BOTTOM) if sign > 0.0 else (BOTTOM, TOP)
    value = sign * (low if sign > 0.0 else high)
    if gaps[COUNT] == 0.0 or not value < gaps[TRIGGER]:
        return
    for k in range(int(gaps[COUNT]) - 1, -1, -1):
        at = HEAD + SLOT * k
        if value <= sign * gaps[at + far]:
            _remove(gaps, k)
        elif value < sign * gaps[at + near]:
            gaps[at + near] = sign * value
    _retrigger(gaps, near, sign)


# state: [0] bars seen, [1:5] high, low of the previous bar and of the one before, bullish list,
# bearish list
@njit(cache=True)
def fvg_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    min_size, capacity = params[0], int(params[1])
    bulls = state[5 : 5 + HEAD + SLOT * capacity]
    bears = state[5 + bulls.shape[0] : 5 + 2 * bulls.shape[0]]
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        high, low, close = bars[i, 2], bars[i, 3], bars[i, 4]
        _fill(bulls, 1.0, high, low)
        _fill(bears, -1.0, high, low)
        new_bull, new_bear = 0.0, 0.0
        if t >= 2:
            floor, ceiling = state[3], state[4]  # high and low two bars ago
            if low > floor and low - floor >= min_size * close:
                _push(bulls, low, floor, t)
                _retrigger(bulls, TOP, 1.0)
                new_bull = 1.0
            if high < ceiling and ceiling - high >= min_size * close:
                _push(bears, ceiling, high, t)
                _retrigger(bears, BOTTOM, -1.0)
                new_bear = 1.0
        state[3], state[4] = state[1], state[2]
        state[1], state[2] = high, low
        if t < 2:
            out[i, :] = NAN
            continue
        _report(bulls, t, new_bull, out, (i, 0))
        _report(bears, t, new_bear, out, (i, 6))


REGISTRY.add(
    FeatureSpec(
        kind="fvg",
        doc=(
            "Fair value gaps: bullish at bar i when low[i] > high[i-2] (gap [high[i-2], low[i]]), "
            "bearish when high[i] < low[i-2] (gap [high[i], low[i-2]]), at least `min_size` x "
            "close wide. Trading into a gap shrinks it, reaching its far edge fills it. Reports "
            "the most recent unfilled gap per side and how many are tracked (at most `max_gaps`); "
            "`age` counts bars since bar i."
        ),
        params=(
            ParamSpec(
                "min_size", float, 0.0, minimum=0.0, maximum=1.0, doc="gap width / close, at least"
            ),
            ParamSpec("max_gaps", int, 5, minimum=1, maximum=100, doc="unfilled gaps per side"),
        ),
        outputs=_zone_outputs(),
        warmup=lambda p: 2,
        state_size=lambda p: 5 + 2 * _zone_list_size(int(p["max_gaps"])),
        kernel=fvg_kernel,
        flags=("bull.active", "bull.new", "bear.active", "bear.new"),
        tags=("sparse", "structure"),
    )
)
