"""Market structure, part 1: swings, trend and breaks of structure, as step kernels.

Order blocks and fair value gaps live in ``structure_blocks``, support / resistance zones in
``structure_zones``; all of them build on the swing detector defined here.

Every structure kernel consumes one closed bar per step, keeps a bounded state (fixed-capacity
slots inside ``state``, never a growing list) and never looks ahead: what it reports at bar t
uses bars 0..t only. Outputs are float64: prices, 0/1 flags, -1/0/+1 states, NaN for "none yet".
Before the warm-up (``left + right`` bars for everything built on swings) every output is NaN.

**Swings** (``swing``). A swing high at bar j is a high strictly greater than each of the ``left``
highs before it and greater than or equal to each of the ``right`` highs after it. Ties therefore
go to the *first* of equal highs: on a flat top the first bar is the swing and the later equal
bars are not (they do not beat it strictly). Swing lows mirror this (strictly below the ``left``
lows before, at most the ``right`` lows after). One bar may be both a swing high and a swing low.
A window holding a NaN price has no swing.

The ``right`` bars after the swing are needed to see it, so **a swing at bar j is known only at
bar j + right**; that is the bar that reports it (``new_high`` = 1) and from then on
``last_high_age`` counts bars since j itself (``right`` on the confirmation bar), so a rule can
always see how late the information is.

**Trend** (``trend``) compares the latest two confirmed swing highs and the latest two swing
lows: ``hh`` / ``lh`` = the latest swing high is strictly above / below the one before it,
``hl`` / ``ll`` likewise for lows (all 0 while a side has fewer than two swings, and for an equal
swing); ``state`` = +1 for HH + HL, -1 for LH + LL, else 0. It changes only on confirmation bars.

**Breaks** (``bos``). A confirmed swing high arms its price as the up level (replacing the
previous level, even a higher one); the first bar whose close is strictly above it breaks it
(``up`` = 1, ``level`` = the price) and disarms it, so each level breaks once; wicks beyond it do
not count. Down breaks mirror this with swing lows. ``bias`` is the direction of the latest break
(0 before any); a break against it is a change of character (``choch_up`` / ``choch_down``), one
with it or the very first break is a continuation (BOS). A swing cannot break on the bar that
confirms it (every bar since the swing stayed within it). No bar breaks both ways: an armed swing
high always lies above an armed swing low (the bars that would put one beyond the other break it
first); were it to happen, both flags would be set, ``level`` would be the up level and the bias
would stay as it was.
"""

from __future__ import annotations

from numba import njit

from tradeplay.features._math import NAN
from tradeplay.features.spec import REGISTRY, FeatureSpec, Params, ParamSpec

# Swing block: a (2, RING + 2 x window) matrix view of the state (see swing_block), row HIGH for
# swing highs and row LOW for swing lows. A row holds the latest swing price, the bar index of that
# swing, the swing before it and how many swings were confirmed, then a ring of the last
# ``window = left + right + 1`` highs (lows negated, so both rows look for a maximum), each value
# stored twice (at slot and slot + window) so that the window is always one contiguous run.
HIGH, LOW = 0, 1  # rows; within a row:
PRICE, BAR, PREV, COUNT, RING = 0, 1, 2, 3, 4
NEW_HIGH, NEW_LOW = 1, 2  # what swing_step found, as bits

# Break block (3 floats): is the latest swing high / low still unbroken, and the bias (+1 after an
# upward break, -1 after a downward one, 0 before any break).
ARMED_HIGH, ARMED_LOW, BIAS = 0, 1, 2
BREAK_BLOCK = 3
UP, DOWN, CHOCH_UP, CHOCH_DOWN = 1, 2, 4, 8  # what break_step found, as bits


def swing_params() -> tuple[ParamSpec, ParamSpec]:
    return (
        ParamSpec("left", int, 5, minimum=1, maximum=1_000, doc="bars before a swing it must beat"),
        ParamSpec("right", int, 5, minimum=1, maximum=1_000, doc="bars after it (the delay)"),
    )


@njit(inline="always", cache=True)
def swing_floats(left, right):  # type: ignore[no-untyped-def]
    """Floats in a swing block."""
    return 2 * (RING + 2 * (left + right + 1))


def swing_size(p: Params) -> int:
    """Floats in a swing block for these parameters."""
    return int(swing_floats(int(p["left"]), int(p["right"])))


def swing_warmup(p: Params) -> int:
    """The first swing can be confirmed at bar ``left + right``: NaN before it."""
    return int(p["left"]) + int(p["right"])


@njit(inline="always", cache=True)
def swing_block(state, start, left, right):  # type: ignore[no-untyped-def]
    """The swing block at ``state[start:]`` as its (2, row width) matrix view."""
    return state[start : start + swing_floats(left, right)].reshape((2, -1))


@njit(inline="always", cache=True)
def _leads(swings, row, start, left, right):  # type: ignore[no-untyped-def]
    """Is ``swings[row, start + left]`` the leftmost maximum of the window of ``left + right + 1``
    values from ``start``: strictly above the ``left`` before it, at least the ``right`` after?"""
    pivot = swings[row, start + left]
    # the nearest neighbours first: most bars fail here. A NaN anywhere compares False: no swing
    if not (swings[row, start + left - 1] < pivot and swings[row, start + left + 1] <= pivot):
        return False
    leads = True  # no early exit: cheaper than mispredicted branches on real prices
    for k in range(start, start + left - 1):  # the other bars before it: strictly below
        leads &= swings[row, k] < pivot
    for k in range(start + left + 2, start + left + right + 1):  # the others after: not above
        leads &= swings[row, k] <= pivot
    return leads


@njit(inline="always", cache=True)
def _record(swings, row, price, bar):  # type: ignore[no-untyped-def]
    swings[row, PREV] = swings[row, PRICE]
    swings[row, PRICE] = price
    swings[row, BAR] = bar
    swings[row, COUNT] += 1.0


@njit(inline="always", cache=True)
def swing_step(swings, window, t, high, low):  # type: ignore[no-untyped-def]
    """Take bar ``t``'s high and low; confirm the swing at bar ``t - right`` if there is one.

    ``swings`` is the swing block, ``window`` = (left, right). Bar j is a swing high exactly when
    it is the leftmost highest of bars j - left .. j + right (strictly above the bars before it,
    at least the bars after it); lows mirror this. Returns the bits NEW_HIGH / NEW_LOW for the
    swings confirmed on this bar.
    """
    left, right = window
    size = left + right + 1
    slot = RING + t % size
    swings[HIGH, slot] = swings[HIGH, slot + size] = high
    swings[LOW, slot] = swings[LOW, slot + size] = -low
    if t < left + right:
        return 0
    start = slot + 1  # the window, oldest first: bars t - left - right .. t
    found = 0
    if _leads(swings, HIGH, start, left, right):
        _record(swings, HIGH, swings[HIGH, start + left], t - right)
        found = NEW_HIGH
    if _leads(swings, LOW, start, left, right):
        _record(swings, LOW, -swings[LOW, start + left], t - right)
        found |= NEW_LOW
    return found


@njit(inline="always", cache=True)
def break_step(swings, breaks, close, found):  # type: ignore[no-untyped-def]
    """Break of structure on this bar's close, after ``swing_step`` returned ``found``.

    A newly confirmed swing arms its level; the first close beyond an armed level breaks it (and
    disarms it: each level breaks once). A break against the bias (the direction of the previous
    break) is a change of character. ``breaks`` is the break block (a view into the state).
    Returns the bits UP / DOWN / CHOCH_UP / CHOCH_DOWN.
    """
    if found & NEW_HIGH:
        breaks[ARMED_HIGH] = 1.0
    if found & NEW_LOW:
        breaks[ARMED_LOW] = 1.0
    bias = breaks[BIAS]
    result = 0
    if breaks[ARMED_HIGH] == 1.0 and close > swings[HIGH, PRICE]:
        breaks[ARMED_HIGH] = 0.0
        result |= UP | (CHOCH_UP if bias < 0.0 else 0)
    if breaks[ARMED_LOW] == 1.0 and close < swings[LOW, PRICE]:
        breaks[ARMED_LOW] = 0.0
        result |= DOWN | (CHOCH_DOWN if bias > 0.0 else 0)
    if result & (UP | DOWN) == UP:
        breaks[BIAS] = 1.0
    elif result & (UP | DOWN) == DOWN:
        breaks[BIAS] = -1.0
    return result


@njit(inline="always", cache=True)
def _direction(swings, row):  # type: ignore[no-untyped-def]
    """+1 the latest swing of a row is above the one before it, -1 below, 0 equal or unknown."""
    if swings[row, COUNT] < 2.0:
        return 0.0
    last, prev = swings[row, PRICE], swings[row, PREV]
    if last > prev:
        return 1.0
    return -1.0 if last < prev else 0.0


@njit(inline="always", cache=True)
def _latest(swings, row, t, out, at):  # type: ignore[no-untyped-def]
    """Write a row's latest swing price, its age and the swing before it at ``out[at]``..."""
    i, col = at
    count = swings[row, COUNT]
    out[i, col] = swings[row, PRICE] if count >= 1.0 else NAN
    out[i, col + 2] = t - swings[row, BAR] if count >= 1.0 else NAN
    out[i, col + 6] = swings[row, PREV] if count >= 2.0 else NAN


# state: [0] bars seen, [1:] swing block
@njit(cache=True)
def swing_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    left, right = int(params[0]), int(params[1])
    swings = swing_block(state, 1, left, right)
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        found = swing_step(swings, (left, right), t, bars[i, 2], bars[i, 3])
        if t < left + right:
            out[i, :] = NAN
            continue
        _latest(swings, HIGH, t, out, (i, 0))
        _latest(swings, LOW, t, out, (i, 1))
        out[i, 4] = 1.0 if found & NEW_HIGH else 0.0
        out[i, 5] = 1.0 if found & NEW_LOW else 0.0


REGISTRY.add(
    FeatureSpec(
        kind="swing",
        doc=(
            "Swing highs / lows (pivots of `left` / `right` strength), each known only `right` "
            "bars after the swing bar: latest and previous swing prices, bars since the swing "
            "bar, and 1.0 on the bar a swing gets confirmed."
        ),
        params=swing_params(),
        outputs=(
            "last_high",
            "last_low",
            "last_high_age",
            "last_low_age",
            "new_high",
            "new_low",
            "prev_high",
            "prev_low",
        ),
        warmup=swing_warmup,
        state_size=lambda p: 1 + swing_size(p),
        kernel=swing_kernel,
        flags=("new_high", "new_low"),
        tags=("sparse", "structure"),
    )
)


# state: [0] bars seen, [1:] swing block
@njit(cache=True)
def trend_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    left, right = int(params[0]), int(params[1])
    swings = swing_block(state, 1, left, right)
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        swing_step(swings, (left, right), t, bars[i, 2], bars[i, 3])
        if t < left + right:
            out[i, :] = NAN
            continue
        highs = _direction(swings, HIGH)
        lows = _direction(swings, LOW)
        out[i, 0] = highs if highs == lows else 0.0
        out[i, 1] = 1.0 if highs > 0.0 else 0.0
        out[i, 2] = 1.0 if lows > 0.0 else 0.0
        out[i, 3] = 1.0 if highs < 0.0 else 0.0
        out[i, 4] = 1.0 if lows < 0.0 else 0.0


REGISTRY.add(
    FeatureSpec(
        kind="trend",
        doc=(
            "Trend from the swing sequence: `state` +1 when the latest swing high and swing low "
            "are both above the ones before them (HH + HL), -1 when both below (LH + LL), else 0; "
            "flags `hh` / `lh` for the latest swing high, `hl` / `ll` for the latest swing low "
            "(all 0 for an equal swing or fewer than two swings)."
        ),
        params=swing_params(),
        outputs=("state", "hh", "hl", "lh", "ll"),
        warmup=swing_warmup,
        state_size=lambda p: 1 + swing_size(p),
        kernel=trend_kernel,
        flags=("hh", "hl", "lh", "ll"),
        tags=("structure",),
    )
)


# state: [0] bars seen, [1:1+S] swing block, [1+S:4+S] break block
@njit(cache=True)
def bos_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    left, right = int(params[0]), int(params[1])
    swings = swing_block(state, 1, left, right)
    breaks = state[1 + swing_floats(left, right) :]
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        found = swing_step(swings, (left, right), t, bars[i, 2], bars[i, 3])
        broke = break_step(swings, breaks, bars[i, 4], found)
        if t < left + right:
            out[i, :] = NAN
            continue
        out[i, 0] = 1.0 if broke & UP else 0.0
        out[i, 1] = 1.0 if broke & DOWN else 0.0
        out[i, 2] = 1.0 if broke & CHOCH_UP else 0.0
        out[i, 3] = 1.0 if broke & CHOCH_DOWN else 0.0
        if broke & UP:
            out[i, 4] = swings[HIGH, PRICE]
        elif broke & DOWN:
            out[i, 4] = swings[LOW, PRICE]
        else:
            out[i, 4] = NAN
        out[i, 5] = breaks[BIAS]


REGISTRY.add(
    FeatureSpec(
        kind="bos",
        doc=(
            "Break of structure: `up` / `down` = 1.0 on the bar whose close first goes beyond the "
            "latest confirmed swing high / low (each level breaks once); `choch_up` / "
            "`choch_down` = 1.0 when that break goes against the previous break (a change of "
            "character); `level` = the broken level on that bar; `bias` = direction of the last "
            "break (0 before any)."
        ),
        params=swing_params(),
        outputs=("up", "down", "choch_up", "choch_down", "level", "bias"),
        warmup=swing_warmup,
        state_size=lambda p: 1 + swing_size(p) + BREAK_BLOCK,
        kernel=bos_kernel,
        flags=("up", "down", "choch_up", "choch_down"),
        tags=("sparse", "structure"),
    )
)
