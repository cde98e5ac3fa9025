"""The structure kernels agree with plain, slow Python written straight from their definitions.

The kernels take shortcuts for speed (a mirrored ring with a neighbour test first, a trigger edge
per list of zones, cached nearest zones); these references take none: they rescan everything on
every bar. They run on real hourly BTC and 5-minute ETH bars with several parameter sets.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.features.test_structure import CLOSE, HIGH, LOW, OPEN
from tradeplay.features import Feature

Rows = list[list[float]]
Swing = tuple[int, int, float]  # confirmed at bar, swing bar, price
NAN = math.nan


def swings(bars: NDArray[np.float64], left: int, right: int) -> tuple[list[Swing], list[Swing]]:
    """Swing highs and lows by the definition, each with the bar that confirms it."""
    high, low = bars[:, HIGH], bars[:, LOW]
    highs, lows = [], []
    for j in range(left, len(bars) - right):
        before, after = range(j - left, j), range(j + 1, j + right + 1)
        if all(high[j] > high[k] for k in before) and all(high[j] >= high[k] for k in after):
            highs.append((j + right, j, float(high[j])))
        if all(low[j] < low[k] for k in before) and all(low[j] <= low[k] for k in after):
            lows.append((j + right, j, float(low[j])))
    return highs, lows


def known(found: list[Swing], t: int) -> list[Swing]:
    return [s for s in found if s[0] <= t]


def swing_rows(bars: NDArray[np.float64], left: int, right: int) -> Rows:
    highs, lows = swings(bars, left, right)
    rows = []
    for t in range(len(bars)):
        row = [NAN] * 8
        for side, found in enumerate((known(highs, t), known(lows, t))):
            if found:
                row[side], row[side + 2] = found[-1][2], t - found[-1][1]
            if len(found) > 1:
                row[side + 6] = found[-2][2]
            row[side + 4] = float(bool(found) and found[-1][0] == t)
        rows.append(row)
    return rows


def trend_rows(bars: NDArray[np.float64], left: int, right: int) -> Rows:
    highs, lows = swings(bars, left, right)
    rows = []
    for t in range(len(bars)):
        h, lo = known(highs, t), known(lows, t)
        up = np.sign(h[-1][2] - h[-2][2]) if len(h) > 1 else 0.0
        down = np.sign(lo[-1][2] - lo[-2][2]) if len(lo) > 1 else 0.0
        state = up if up == down else 0.0
        rows.append([state, up > 0, down > 0, up < 0, down < 0])
    return rows


def bos_rows(bars: NDArray[np.float64], left: int, right: int) -> Rows:
    highs, lows = swings(bars, left, right)
    rows, bias, armed = [], 0.0, {"up": NAN, "down": NAN}
    for t in range(len(bars)):
        h, lo = known(highs, t), known(lows, t)
        if h and h[-1][0] == t:
            armed["up"] = h[-1][2]
        if lo and lo[-1][0] == t:
            armed["down"] = lo[-1][2]
        close = bars[t, CLOSE]
        up, down = close > armed["up"], close < armed["down"]
        level = armed["up"] if up else (armed["down"] if down else NAN)
        row = [up, down, up and bias < 0, down and bias > 0, level]
        if up:
            armed["up"] = NAN
        if down:
            armed["down"] = NAN
        if up != down:
            bias = 1.0 if up else -1.0
        rows.append([*row, bias])
    return rows


def ob_rows(bars: NDArray[np.float64], left: int, right: int, capacity: int, rule: str) -> Rows:
    breaks = bos_rows(bars, left, right)
    o, h, lo, c = (bars[:, k] for k in (OPEN, HIGH, LOW, CLOSE))
    blocks: dict[int, list[tuple[float, float, int]]] = {1: [], -1: []}
    used = {1: -1, -1: -1}
    last = {1: -1, -1: -1}  # the last bearish candle (for bullish blocks) and the last bullish
    rows = []
    for t in range(len(bars)):
        for sign, side in blocks.items():
            blocks[sign] = [b for b in side if not mitigated(rule, sign, b, bars[t])]
        new = {1: 0.0, -1: 0.0}
        for sign, broke in ((1, breaks[t][0]), (-1, breaks[t][1])):
            if broke and last[sign] > used[sign]:
                used[sign] = k = last[sign]
                blocks[sign] = [*blocks[sign], (float(h[k]), float(lo[k]), k)][-capacity:]
                new[sign] = 1.0
        if c[t] != o[t]:
            last[1 if c[t] < o[t] else -1] = t
        rows.append([v for sign in (1, -1) for v in report(blocks[sign], t, new[sign])])
    return rows


def mitigated(rule: str, sign: int, block: tuple[float, float, int], bar: Any) -> bool:
    top, bottom, _ = block
    if rule == "close_through":
        return bool(bar[CLOSE] < bottom if sign > 0 else bar[CLOSE] > top)
    if rule == "wick_through":
        return bool(bar[LOW] < bottom if sign > 0 else bar[HIGH] > top)
    return bool(bar[LOW] <= top if sign > 0 else bar[HIGH] >= bottom)


def report(zones: list[tuple[float, float, int]], t: int, new: float) -> list[float]:
    if not zones:
        return [NAN, NAN, 0.0, NAN, 0.0, new]
    top, bottom, bar = zones[-1]
    return [top, bottom, 1.0, t - bar, len(zones), new]


def fvg_rows(bars: NDArray[np.float64], min_size: float, capacity: int) -> Rows:
    h, lo, c = bars[:, HIGH], bars[:, LOW], bars[:, CLOSE]
    bulls: list[tuple[float, float, int]] = []
    bears: list[tuple[float, float, int]] = []
    rows = []
    for t in range(len(bars)):
        bulls = [(min(top, lo[t]), b, i) for top, b, i in bulls if lo[t] > b]
        bears = [(top, max(b, h[t]), i) for top, b, i in bears if h[t] < top]
        new_bull = t >= 2 and lo[t] > h[t - 2] and lo[t] - h[t - 2] >= min_size * c[t]
        new_bear = t >= 2 and h[t] < lo[t - 2] and lo[t - 2] - h[t] >= min_size * c[t]
        if new_bull:
            bulls = [*bulls, (lo[t], h[t - 2], t)][-capacity:]
        if new_bear:
            bears = [*bears, (lo[t - 2], h[t], t)][-capacity:]
        rows.append([*report(bulls, t, new_bull), *report(bears, t, new_bear)])
    return rows


def zones_rows(bars: NDArray[np.float64], p: dict[str, Any]) -> Rows:
    tolerance, min_touches, cap = p["tolerance"], p["min_touches"], p["max_zones"]
    highs, lows = swings(bars, p["left"], p["right"])
    events = sorted([(s[0], 0, s) for s in highs] + [(s[0], 1, s) for s in lows])
    zones: list[list[float]] = []  # [sum, touches, latest swing bar, level], in slot order
    rows = []
    for t in range(len(bars)):
        for _, _, (_, j, price) in (e for e in events if e[0] == t):
            join(zones, price, j, tolerance, cap)
        close = bars[t, CLOSE]
        ok = [z for z in zones if z[1] >= min_touches]
        below = max((z for z in ok if z[3] < close), key=lambda z: z[3], default=None)
        above = min((z for z in ok if z[3] > close), key=lambda z: z[3], default=None)
        inside = any(abs(close - z[3]) <= tolerance * z[3] for z in ok)
        rows.append(
            [
                below[3] if below else NAN,
                below[1] if below else NAN,
                above[3] if above else NAN,
                above[1] if above else NAN,
                float(inside),
            ]
        )
    return rows


def join(zones: list[list[float]], price: float, bar: int, tolerance: float, cap: int) -> None:
    def nearest(p: float, skip: list[float] | None) -> list[float] | None:
        near = [z for z in zones if z is not skip and z[1] and abs(p - z[3]) <= tolerance * z[3]]
        return min(near, key=lambda z: abs(p - z[3]), default=None)

    zone = nearest(price, None)
    if zone is None:
        free = [z for z in zones if not z[1]]
        if free:
            zone = free[0]
        elif len(zones) < cap:
            zone = [0.0, 0.0, 0.0, 0.0]
            zones.append(zone)
        else:
            zone = min(zones, key=lambda z: z[2])
            zone[:] = [0.0, 0.0, 0.0, 0.0]
    zone[0] += price
    zone[1] += 1
    zone[2] = bar
    zone[3] = zone[0] / zone[1]
    while (other := nearest(zone[3], zone)) is not None:
        zone[0] += other[0]
        zone[1] += other[1]
        zone[2] = max(zone[2], other[2])
        zone[3] = zone[0] / zone[1]
        other[:] = [0.0, 0.0, 0.0, 0.0]


def agree(kind: str, params: dict[str, Any], rows: Rows, bars: NDArray[np.float64]) -> None:
    feature = Feature.of(kind, params)
    got = feature.batch(bars)[feature.warmup :]
    want = np.array(rows, dtype=np.float64)[feature.warmup :]
    np.testing.assert_array_equal(got, want, err_msg=f"{kind} {params}")


WINDOWS = [(1, 1), (2, 5), (5, 5), (8, 3)]


@pytest.fixture(scope="module")
def series(btc_1h: NDArray[np.float64], eth_5m: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    return [btc_1h[-1_500:], eth_5m[:1_500]]


@pytest.mark.parametrize(("left", "right"), WINDOWS)
def test_swing_trend_and_bos_match_their_definitions(
    left: int, right: int, series: list[NDArray[np.float64]]
) -> None:
    window = {"left": left, "right": right}
    for bars in series:
        agree("swing", window, swing_rows(bars, left, right), bars)
        agree("trend", window, trend_rows(bars, left, right), bars)
        agree("bos", window, bos_rows(bars, left, right), bars)


@pytest.mark.parametrize("rule", ["close_through", "wick_through", "touch"])
@pytest.mark.parametrize(("left", "right", "capacity"), [(1, 1, 2), (3, 3, 5), (5, 2, 1)])
def test_order_blocks_match_their_definition(
    rule: str, left: int, right: int, capacity: int, series: list[NDArray[np.float64]]
) -> None:
    params = {"left": left, "right": right, "max_blocks": capacity, "mitigation": rule}
    for bars in series:
        agree("ob", params, ob_rows(bars, left, right, capacity, rule), bars)


@pytest.mark.parametrize(("min_size", "capacity"), [(0.0, 5), (0.0, 1), (0.001, 3)])
def test_fair_value_gaps_match_their_definition(
    min_size: float, capacity: int, series: list[NDArray[np.float64]]
) -> None:
    params = {"min_size": min_size, "max_gaps": capacity}
    for bars in series:
        agree("fvg", params, fvg_rows(bars, min_size, capacity), bars)


@pytest.mark.parametrize(
    "params",
    [
        {"left": 1, "right": 1, "tolerance": 0.002, "min_touches": 2, "max_zones": 10},
        {"left": 3, "right": 3, "tolerance": 0.005, "min_touches": 1, "max_zones": 3},
        {"left": 5, "right": 5, "tolerance": 0.01, "min_touches": 3, "max_zones": 20},
        {"left": 2, "right": 1, "tolerance": 0.0, "min_touches": 1, "max_zones": 4},
    ],
)
def test_zones_match_their_definition(
    params: dict[str, Any], series: list[NDArray[np.float64]]
) -> None:
    for bars in series:
        agree("zones", params, zones_rows(bars, params), bars)
