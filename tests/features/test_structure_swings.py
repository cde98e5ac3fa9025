"""Scenario tables for swings, trend and break of structure (``kernels/structure.py``).

Each table lists the candles; each expected list has one value per bar (``_`` = NaN: warm-up,
or nothing known yet). Comments name the bar at which a swing *becomes known*: a swing at bar j
is confirmed at bar j + right.
"""

from __future__ import annotations

import math

from tests.features.test_structure import candles, expect, run

_ = math.nan


# --- swing -------------------------------------------------------------------------------------

WAVE = candles("""
    bar  open  high  low   close
    0     9.0  10    8      9.5
    1     9.5  11    9     10.5
    2    10.5  13   10     12.0   # swing high 13, known at bar 4
    3    12.0  12    9      9.5
    4     9.5  11    7      7.5
    5     7.5  10    6      9.5   # swing low 6, known at bar 7
    6     9.5  12    8     11.5
    7    11.5  14   11     13.5
    8    13.5  15   12     12.5   # swing high 15, known at bar 10
    9    12.5  13   10     10.5   # no swing low: bar 10's low is lower
    10   10.5  12    9     11.5
    11   11.5  13   10     12.5
""")


def test_a_swing_is_reported_right_bars_late_with_its_age_counted_from_the_swing_bar() -> None:
    out = run("swing", WAVE, left=2, right=2)
    expect(
        out,
        last_high=[_, _, _, _, 13, 13, 13, 13, 13, 13, 15, 15],
        last_high_age=[_, _, _, _, 2, 3, 4, 5, 6, 7, 2, 3],
        new_high=[_, _, _, _, 1, 0, 0, 0, 0, 0, 1, 0],
        prev_high=[_, _, _, _, _, _, _, _, _, _, 13, 13],
        last_low=[_, _, _, _, _, _, _, 6, 6, 6, 6, 6],
        last_low_age=[_, _, _, _, _, _, _, 2, 3, 4, 5, 6],
        new_low=[_, _, _, _, 0, 0, 0, 1, 0, 0, 0, 0],
        prev_low=[_] * 12,
    )


FLAT_TOP = candles("""
    bar  open  high  low   close
    0     9.5  10    9      9.8
    1    10.0  12   10     11.5
    2    12.0  14   12     13.5   # swing high: the FIRST of two equal highs (known at bar 3)
    3    13.5  14   12     12.5   # equal high: not strictly above bar 2, so no swing
    4    12.5  13   11     11.5
    5    11.5  12   10     10.5   # swing low: the first of two equal lows (known at bar 6)
    6    10.5  12   10     11.8   # equal low: no swing
    7    11.8  13   11     12.8   # swing high 13 (known at bar 8, its equal high allowed)
    8    12.8  13   12     12.5
""")


def test_of_equal_highs_or_lows_only_the_first_is_a_swing() -> None:
    out = run("swing", FLAT_TOP, left=2, right=1)
    expect(
        out,
        last_high=[_, _, _, 14, 14, 14, 14, 14, 13],
        last_high_age=[_, _, _, 1, 2, 3, 4, 5, 1],
        new_high=[_, _, _, 1, 0, 0, 0, 0, 1],
        prev_high=[_, _, _, _, _, _, _, _, 14],
        last_low=[_, _, _, _, _, _, 10, 10, 10],
        last_low_age=[_, _, _, _, _, _, 1, 2, 3],
        new_low=[_, _, _, 0, 0, 0, 1, 0, 0],
    )


OUTSIDE_BAR = candles("""
    bar  open  high  low   close
    0    10    11    9     10.5
    1    10.5  11.5  9.5   11
    2    11    13    8      8.5   # outside bar: swing high AND swing low, both known at bar 3
    3     8.5  12    8.5   11
    4    11    12.5  10    12     # swing high 12.5, known at bar 5
    5    12    12.4  11    11.5
""")


def test_one_bar_can_be_a_swing_high_and_a_swing_low_at_once() -> None:
    out = run("swing", OUTSIDE_BAR, left=1, right=1)
    expect(
        out,
        last_high=[_, _, _, 13, 13, 12.5],
        prev_high=[_, _, _, _, _, 13],
        last_high_age=[_, _, _, 1, 2, 1],
        new_high=[_, _, 0, 1, 0, 1],
        last_low=[_, _, _, 8, 8, 8],
        last_low_age=[_, _, _, 1, 2, 3],
        new_low=[_, _, 0, 1, 0, 0],
    )


# --- trend -------------------------------------------------------------------------------------

RISE_THEN_FALL = candles("""
    bar  open  high  low   close
    0     9.5  11     9    10.5
    1    13.5  15    13    14.5   # swing high 15 (known at 2)
    2    11.5  12    10    10.5   # swing low 10 (known at 3)
    3    15.5  17    15    16.5   # swing high 17 (known at 4): higher high
    4    13.5  14    12    12.5   # swing low 12 (known at 5): higher low -> uptrend
    5    17.5  19    17    18.5   # swing high 19: HH
    6    15.5  16    14    14.5   # swing low 14: HL
    7    16.5  18    16    17.5   # swing high 18 (known at 8): lower high -> no trend
    8    12.5  13    11    11.5   # swing low 11 (known at 9): lower low -> downtrend
    9    13.5  15    13    14.5   # swing high 15: LH
    10    9.5  10     8     8.5   # swing low 8: LL
    11   10.5  12    10    11.5
""")


def test_higher_highs_and_higher_lows_are_an_uptrend_until_lower_ones_turn_it_down() -> None:
    out = run("trend", RISE_THEN_FALL, left=1, right=1)
    expect(
        out,
        state=[_, _, 0, 0, 0, 1, 1, 1, 0, -1, -1, -1],
        hh=[_, _, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0],
        hl=[_, _, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0],
        lh=[_, _, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
        ll=[_, _, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    )


DOUBLE_TOP = candles("""
    bar  open  high  low   close
    0     9.5  11     9    10.5
    1    13.5  15    13    14.5   # swing high 15 (known at 2)
    2    11.5  12    10    10.5   # swing low 10 (known at 3)
    3    13.5  15    13    14.5   # swing high 15 again (known at 4): neither higher nor lower
    4    12.5  13    11    11.5   # swing low 11 (known at 5): higher low, but no trend
    5    12.5  14    12    13.5
    6    15.5  17    15    16.5   # swing high 17 (known at 7): HH + HL -> uptrend
    7    14.5  15    13    13.5
""")


def test_an_equal_swing_high_is_neither_higher_nor_lower_so_there_is_no_trend() -> None:
    out = run("trend", DOUBLE_TOP, left=1, right=1)
    expect(
        out,
        state=[_, _, 0, 0, 0, 0, 0, 1],
        hh=[_, _, 0, 0, 0, 0, 0, 1],
        hl=[_, _, 0, 0, 0, 1, 1, 1],
        lh=[_, _, 0, 0, 0, 0, 0, 0],
        ll=[_, _, 0, 0, 0, 0, 0, 0],
    )


MEGAPHONE = candles("""
    bar  open  high  low   close
    0     9.5  11     9    10.5
    1    12.5  14    12    13.5   # swing high 14
    2     9.5  10     8     8.5   # swing low 8
    3    14.5  16    14    15.5   # swing high 16: HH
    4     7.5   8     6     6.5   # swing low 6: LL
    5    16.5  18    16    17.5   # swing high 18: HH
    6     5.5   6     4     4.5   # swing low 4: LL
    7     7.5   9     7     8.5
""")


def test_higher_highs_with_lower_lows_are_no_trend() -> None:
    out = run("trend", MEGAPHONE, left=1, right=1)
    expect(
        out,
        state=[_, _, 0, 0, 0, 0, 0, 0],
        hh=[_, _, 0, 0, 1, 1, 1, 1],
        ll=[_, _, 0, 0, 0, 1, 1, 1],
        hl=[_, _, 0, 0, 0, 0, 0, 0],
        lh=[_, _, 0, 0, 0, 0, 0, 0],
    )


# --- bos ---------------------------------------------------------------------------------------

STAIRS_THEN_TURN = candles("""
    bar  open  high  low   close
    0     9.5  11     9    10.5
    1    13.5  15    13    14.5   # swing high 15 (known at 2)
    2    11.5  12    10    10.5   # swing low 10 (known at 3)
    3    15.5  17    15    16.5   # close 16.5 > 15: BOS up (the first break: no trend before)
    4    13.5  14    12    12.5   # swing high 17 known here
    5    17.5  19    17    18.5   # close 18.5 > 17: BOS up again; swing low 12 known here
    6    15.5  16    14    14.5   # swing high 19 known here
    7    11.5  12    10    10.5   # close 10.5 < 12: down against the up breaks -> CHoCH down
    8    12.5  14    12    13.5   # swing low 10 (bar 7) known here
    9     9.5  10     8     8.5   # close 8.5 < 10: BOS down, a continuation
""")


def test_two_breaks_up_in_a_row_then_a_change_of_character_down() -> None:
    out = run("bos", STAIRS_THEN_TURN, left=1, right=1)
    expect(
        out,
        up=[_, _, 0, 1, 0, 1, 0, 0, 0, 0],
        down=[_, _, 0, 0, 0, 0, 0, 1, 0, 1],
        choch_up=[_, _, 0, 0, 0, 0, 0, 0, 0, 0],
        choch_down=[_, _, 0, 0, 0, 0, 0, 1, 0, 0],
        level=[_, _, _, 15, _, 17, _, 12, _, 10],
        bias=[_, _, 0, 1, 1, 1, 1, -1, -1, -1],
    )


WICKS_AND_RECLAIM = candles("""
    bar  open  high  low   close
    0    20    21    19    19.5
    1    19.5  20    17    17.5   # swing low 17 (known at 2)
    2    17.5  19    17.5  18.5
    3    18.5  18.6  16    16.5   # close 16.5 < 17: break down (the first: a BOS)
    4    16.5  18.7  16.2  17.5   # swing low 16 known here
    5    17.5  17.5  16.5  17     # swing high 18.7 (bar 4) known here
    6    17    19.2  16.8  18.5   # wick above 18.7, close below: no break
    7    18.5  19.3  18    18.7   # close equal to 18.7: no break (strictly beyond)
    8    18.7  20    18.5  19.8   # close 19.8 > 18.7 after a down break: CHoCH up
    9    19.8  21    19.5  20.8   # higher again, but 18.7 is already broken: nothing
""")


def test_only_a_close_strictly_beyond_the_level_breaks_it_and_only_once() -> None:
    out = run("bos", WICKS_AND_RECLAIM, left=1, right=1)
    expect(
        out,
        up=[_, _, 0, 0, 0, 0, 0, 0, 1, 0],
        down=[_, _, 0, 1, 0, 0, 0, 0, 0, 0],
        choch_up=[_, _, 0, 0, 0, 0, 0, 0, 1, 0],
        choch_down=[_, _, 0, 0, 0, 0, 0, 0, 0, 0],
        level=[_, _, _, 17, _, _, _, _, 18.7, _],
        bias=[_, _, 0, -1, -1, -1, -1, -1, 1, 1],
    )


LOWER_HIGH_FIRST = candles("""
    bar  open  high  low   close
    0    10    12     9.5  11
    1    11    13    10.5  12.5   # swing high 13 (known at 2)
    2    12.5  12.8  11    11.2
    3    11.2  12    10    11.8
    4    11.8  12.5  11    12.2   # swing high 12.5 (known at 5) replaces 13 as the level
    5    12.2  12.4  11.5  11.9
    6    11.9  12.9  11.8  12.7   # close 12.7 > 12.5: BOS up, though still below 13
    7    12.7  13.5  12.5  13.2   # close above 13: not the latest swing high, no break
""")


def test_the_level_is_the_latest_swing_high_even_below_an_older_one() -> None:
    out = run("bos", LOWER_HIGH_FIRST, left=1, right=1)
    expect(
        out,
        up=[_, _, 0, 0, 0, 0, 1, 0],
        down=[_, _, 0, 0, 0, 0, 0, 0],
        level=[_, _, _, _, _, _, 12.5, _],
        bias=[_, _, 0, 0, 0, 0, 1, 1],
    )


def test_a_swing_becomes_a_level_only_once_it_is_known() -> None:
    """With right = 3 the bar-1 high becomes a level at bar 4; the first close above it breaks."""
    bars = candles("""
        bar  open  high  low   close
        0    10    11     9.5  10.5
        1    10.5  12    10    11     # swing high 12, known at bar 4
        2    11    11.5  10.2  10.4
        3    10.4  11    10    10.8
        4    10.8  11.9  10.6  11.8
        5    11.8  12.6  11.7  12.5   # close 12.5 > 12: the break
    """)
    out = run("bos", bars, left=1, right=3)
    expect(out, up=[_, _, _, _, 0, 1], level=[_, _, _, _, _, 12])
