"""Market structure, part 3: support / resistance zones clustered from confirmed swings.

Every confirmed swing price, high or low alike (a broken resistance becomes support), joins the
zone nearest to it within ``tolerance`` x the zone's price, or else starts a zone of its own. A
zone's price is the mean of its swings and its touches their count. When a zone's price moves
within tolerance of another zone, the two merge. At most ``max_zones`` zones are kept; a new zone
replaces the one whose latest swing is oldest. A swing joins on its confirmation bar (``right``
bars after the swing bar), like everything built on ``swing``; zones never expire otherwise.

Outputs, counting only zones with at least ``min_touches``: ``support`` / ``resistance`` = the
nearest zone price strictly below / above the close (NaN if none) and ``support_touches`` /
``resistance_touches`` its touches; ``in_zone`` = 1.0 when the close is within tolerance x price
of such a zone (a close exactly at a zone is in it, and that zone is neither support nor
resistance).
"""

from __future__ import annotations

import math

from numba import njit

from tradeplay.features._math import NAN
from tradeplay.features.kernels.structure import (
    HIGH,
    LOW,
    NEW_HIGH,
    NEW_LOW,
    PRICE,
    swing_block,
    swing_floats,
    swing_params,
    swing_size,
    swing_step,
    swing_warmup,
)
from tradeplay.features.spec import REGISTRY, FeatureSpec, ParamSpec

# a zone: sum of its swing prices, touches (0 = a free slot), bar of its latest swing, its price
SUM, TOUCHES, LATEST, LEVEL = 0, 1, 2, 3
SLOT = 4


@njit(inline="always", cache=True)
def _nearest(zones, price, tolerance, skip):  # type: ignore[no-untyped-def]
    """The zone nearest ``price`` within tolerance of the zone's price (other than ``skip``)."""
    best, best_gap = -1, 0.0
    for k in range(zones.shape[0]):
        if k == skip or zones[k, TOUCHES] == 0.0:
            continue
        gap = abs(price - zones[k, LEVEL])
        if gap <= tolerance * zones[k, LEVEL] and (best < 0 or gap < best_gap):
            best, best_gap = k, gap
    return best


@njit(inline="always", cache=True)
def _free_slot(zones):  # type: ignore[no-untyped-def]
    """A free slot, or else the slot of the zone touched longest ago, emptied."""
    oldest = 0
    for k in range(zones.shape[0]):
        if zones[k, TOUCHES] == 0.0:
            return k
        if zones[k, LATEST] < zones[oldest, LATEST]:
            oldest = k
    zones[oldest, :] = 0.0
    return oldest


@njit(inline="always", cache=True)
def _add_swing(zones, tolerance, price, bar):  # type: ignore[no-untyped-def]
    k = _nearest(zones, price, tolerance, -1)
    if k < 0:
        k = _free_slot(zones)
    zones[k, SUM] += price
    zones[k, TOUCHES] += 1.0
    zones[k, LATEST] = bar
    zones[k, LEVEL] = zones[k, SUM] / zones[k, TOUCHES]
    while True:  # the zone's price moved: absorb any zone now within tolerance of it
        other = _nearest(zones, zones[k, LEVEL], tolerance, k)
        if other < 0:
            return
        zones[k, SUM] += zones[other, SUM]
        zones[k, TOUCHES] += zones[other, TOUCHES]
        zones[k, LATEST] = max(zones[k, LATEST], zones[other, LATEST])
        zones[k, LEVEL] = zones[k, SUM] / zones[k, TOUCHES]
        zones[other, :] = 0.0


# Nearest block: the qualifying zones nearest the close, strictly below and above (-inf / +inf and
# NaN touches for none), and whether a zone sat exactly at the close, from the last scan of all
# zones. While no zone changes and the close stays strictly between the two, they stay the nearest
# (no zone lies between them), so most bars skip the scan.
SUPPORT, SUPPORT_TOUCHES, RESISTANCE, RESISTANCE_TOUCHES, EXACT = range(5)
NEAREST_BLOCK = 5


@njit(inline="always", cache=True)
def _scan(zones, min_touches, close, nearest):  # type: ignore[no-untyped-def]
    support, resistance = -math.inf, math.inf
    support_touches = resistance_touches = NAN
    exact = 0.0
    for k in range(zones.shape[0]):
        touches, level = zones[k, TOUCHES], zones[k, LEVEL]
        if touches == 0.0 or touches < min_touches:
            continue
        if support < level < close:
            support, support_touches = level, touches
        elif close < level < resistance:
            resistance, resistance_touches = level, touches
        elif level == close:
            exact = 1.0
    nearest[SUPPORT], nearest[SUPPORT_TOUCHES] = support, support_touches
    nearest[RESISTANCE], nearest[RESISTANCE_TOUCHES] = resistance, resistance_touches
    nearest[EXACT] = exact


@njit(inline="always", cache=True)
def _report(nearest, tolerance, close, out, i):  # type: ignore[no-untyped-def]
    """Write the outputs from the nearest block. Only the nearest zone on each side can be within
    tolerance of the close: the condition loosens as a zone below rises or a zone above falls."""
    support, resistance = nearest[SUPPORT], nearest[RESISTANCE]
    below = not math.isinf(support)
    above = not math.isinf(resistance)
    out[i, 0] = support if below else NAN
    out[i, 1] = nearest[SUPPORT_TOUCHES]
    out[i, 2] = resistance if above else NAN
    out[i, 3] = nearest[RESISTANCE_TOUCHES]
    inside = nearest[EXACT] == 1.0
    inside |= below and close - support <= tolerance * support
    inside |= above and resistance - close <= tolerance * resistance
    out[i, 4] = 1.0 if inside else 0.0


# state: [0] bars seen, swing block, nearest block, then max_zones zones of SLOT floats
@njit(cache=True)
def zones_kernel(state, params, bars, out):  # type: ignore[no-untyped-def]
    left, right, tolerance = int(params[0]), int(params[1]), params[2]
    min_touches, capacity = params[3], int(params[4])
    swings = swing_block(state, 1, left, right)
    start = 1 + swing_floats(left, right)
    nearest = state[start : start + NEAREST_BLOCK]
    start += NEAREST_BLOCK
    zones = state[start : start + SLOT * capacity].reshape((capacity, SLOT))
    for i in range(bars.shape[0]):
        t = int(state[0])
        state[0] = t + 1
        close = bars[i, 4]
        found = swing_step(swings, (left, right), t, bars[i, 2], bars[i, 3])
        if found & NEW_HIGH:
            _add_swing(zones, tolerance, swings[HIGH, PRICE], t - right)
        if found & NEW_LOW:
            _add_swing(zones, tolerance, swings[LOW, PRICE], t - right)
        if t < left + right:
            out[i, :] = NAN
            continue
        # a fresh state has 0 for both levels, so the first bar scans too
        if found or nearest[EXACT] or not nearest[SUPPORT] < close < nearest[RESISTANCE]:
            _scan(zones, min_touches, close, nearest)
        _report(nearest, tolerance, close, out, i)


REGISTRY.add(
    FeatureSpec(
        kind="zones",
        doc=(
            "Support / resistance zones: confirmed swing prices clustered within `tolerance` x "
            "price (zone price = mean, touches = count). `support` / `resistance` = the nearest "
            "zone with at least `min_touches` strictly below / above the close, with its touches; "
            "`in_zone` = 1.0 when the close is within tolerance of such a zone."
        ),
        params=(
            *swing_params(),
            ParamSpec(
                "tolerance", float, 0.002, minimum=0.0, maximum=0.5, doc="zone width / price"
            ),
            ParamSpec("min_touches", int, 2, minimum=1, maximum=1_000, doc="swings in a zone"),
            ParamSpec("max_zones", int, 10, minimum=1, maximum=100, doc="zones remembered"),
        ),
        outputs=("support", "support_touches", "resistance", "resistance_touches", "in_zone"),
        warmup=swing_warmup,
        state_size=lambda p: 1 + swing_size(p) + NEAREST_BLOCK + SLOT * int(p["max_zones"]),
        kernel=zones_kernel,
        flags=("in_zone",),
        tags=("sparse", "structure"),
    )
)
