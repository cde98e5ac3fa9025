"""Scenario tables for order blocks and fair value gaps (``kernels/structure_blocks.py``).

Each expected list has one value per bar (``_`` = NaN: warm-up, or no live zone). Output names
``bull.top`` ... are spelled ``bull_top`` here.
"""

from __future__ import annotations

import math

from tests.features.test_structure import candles, expect, run
from tests.features.test_structure_swings import STAIRS_THEN_TURN

_ = math.nan


# --- ob ----------------------------------------------------------------------------------------


def test_each_break_makes_a_block_of_the_last_opposite_candle_until_a_close_beyond_it() -> None:
    """STAIRS_THEN_TURN (see the bos tests): breaks up at bars 3 and 5, down at 7 and 9.

    Bullish blocks: bar 2 [10, 12] (made at 3) and bar 4 [12, 14] (made at 5); the close 10.5 at
    bar 7 is below 12 and ends the second, the close 8.5 at bar 9 below 10 ends the first.
    Bearish blocks: bar 5 [17, 19] (made at 7, bar 6 being bearish) and bar 8 [12, 14] (made at 9).
    """
    out = run("ob", STAIRS_THEN_TURN, left=1, right=1)
    expect(
        out,
        bull_top=[_, _, _, 12, 12, 14, 14, 12, 12, _],
        bull_bottom=[_, _, _, 10, 10, 12, 12, 10, 10, _],
        bull_active=[_, _, 0, 1, 1, 1, 1, 1, 1, 0],
        bull_age=[_, _, _, 1, 2, 1, 2, 5, 6, _],
        bull_count=[_, _, 0, 1, 1, 2, 2, 1, 1, 0],
        bull_new=[_, _, 0, 1, 0, 1, 0, 0, 0, 0],
        bear_top=[_, _, _, _, _, _, _, 19, 19, 14],
        bear_bottom=[_, _, _, _, _, _, _, 17, 17, 12],
        bear_active=[_, _, 0, 0, 0, 0, 0, 1, 1, 1],
        bear_age=[_, _, _, _, _, _, _, 2, 3, 1],
        bear_count=[_, _, 0, 0, 0, 0, 0, 1, 1, 2],
        bear_new=[_, _, 0, 0, 0, 0, 0, 1, 0, 1],
    )


RETEST = candles("""
    bar  open  high  low   close
    0    10.5  11     9     9.5
    1     9.5  12     9.2  11.5   # swing high 12 (known at 2)
    2    11.5  11.8  10    10.2   # the last bearish candle: block [10, 11.8]
    3    10.2  12.6  10.1  12.4   # close 12.4 > 12: BOS up, the block is born
    4    12.4  12.5  11.5  11.6   # low 11.5 touches the block          -> "touch" ends it
    5    11.6  11.9   9.8  10.4   # wick to 9.8 below 10, close above   -> "wick_through" ends it
    6    10.4  10.6   9.5   9.7   # close 9.7 below 10                  -> "close_through" ends it
""")


def test_the_mitigation_rule_decides_which_retest_ends_a_block() -> None:
    for rule, active in (
        ("touch", [_, _, 0, 1, 0, 0, 0]),
        ("wick_through", [_, _, 0, 1, 1, 0, 0]),
        ("close_through", [_, _, 0, 1, 1, 1, 0]),
    ):
        out = run("ob", RETEST, left=1, right=1, mitigation=rule)
        expect(out, bull_active=active, bull_count=active)
        assert (out["bear.count"][2:] == 0).all()
    out = run("ob", RETEST, left=1, right=1)  # the default: a close through the far edge
    expect(
        out,
        bull_top=[_, _, _, 11.8, 11.8, 11.8, _],
        bull_bottom=[_, _, _, 10, 10, 10, _],
        bull_age=[_, _, _, 1, 2, 3, _],
    )


STAIRCASE = candles("""
    bar  open  high  low   close
    0     9.5  11     9    10.5
    1    13.5  15    13    14.5   # swing high 15 (known at 2)
    2    11.5  12    10    10.5   # bearish
    3    15.5  17    15    16.5   # BOS up: block bar 2 [10, 12]
    4    13.5  14    12    12.5   # bearish
    5    17.5  19    17    18.5   # BOS up: block bar 4 [12, 14]
    6    15.5  16    14    14.5   # bearish
    7    19.5  21    19    20.5   # BOS up: block bar 6 [14, 16]; max_blocks 2 drops [10, 12]
    8    20.5  21    20    20.8   # swing high 21 (bar 7) known here
    9    20.8  22.5  20.6  22.2   # BOS up, but no bearish candle since bar 6: no new block
""")


def test_a_full_list_drops_its_oldest_block_and_one_candle_makes_one_block() -> None:
    bos = run("bos", STAIRCASE, left=1, right=1)
    expect(bos, up=[_, _, 0, 1, 0, 1, 0, 1, 0, 1])
    out = run("ob", STAIRCASE, left=1, right=1, max_blocks=2)
    expect(
        out,
        bull_top=[_, _, _, 12, 12, 14, 14, 16, 16, 16],
        bull_bottom=[_, _, _, 10, 10, 12, 12, 14, 14, 14],
        bull_age=[_, _, _, 1, 2, 1, 2, 1, 2, 3],
        bull_count=[_, _, 0, 1, 1, 2, 2, 2, 2, 2],
        bull_new=[_, _, 0, 1, 0, 1, 0, 1, 0, 0],
        bear_count=[_, _, 0, 0, 0, 0, 0, 0, 0, 0],
    )


# --- fvg ---------------------------------------------------------------------------------------

GAP_UP = candles("""
    bar  open  high  low   close
    0    10    11     9    10.5
    1    10.5  14    10.5  13.5   # the displacement candle
    2    13.5  15    12    14.5   # low 12 > high 11 of bar 0: bullish gap [11, 12]
    3    14.5  15    11.6  12     # trades into it: the gap shrinks to [11, 11.6]
    4    12    13    11.5  12.5   # deeper: [11, 11.5]
    5    12.5  12.8  10.8  11     # through its bottom: filled
""")


def test_a_bullish_gap_shrinks_as_price_trades_into_it_and_goes_when_filled() -> None:
    out = run("fvg", GAP_UP)
    expect(
        out,
        bull_top=[_, _, 12, 11.6, 11.5, _],
        bull_bottom=[_, _, 11, 11, 11, _],
        bull_active=[_, _, 1, 1, 1, 0],
        bull_age=[_, _, 0, 1, 2, _],
        bull_count=[_, _, 1, 1, 1, 0],
        bull_new=[_, _, 1, 0, 0, 0],
        bear_active=[_, _, 0, 0, 0, 0],
        bear_count=[_, _, 0, 0, 0, 0],
        bear_new=[_, _, 0, 0, 0, 0],
    )


GAP_DOWN_FILLED = candles("""
    bar  open  high  low   close
    0    20    21    19    19.5
    1    19.5  19.6  16    16.5
    2    16.5  18    15    15.5   # high 18 < low 19 of bar 0: bearish gap [18, 19], 1 wide
    3    15.5  19.5  15.4  19.2   # the very next bar trades through 19: filled at once
    4    19.2  19.4  18.6  18.8   # low 18.6 > high 18 of bar 2: bullish gap [18, 18.6], 0.6 wide
""")


def test_a_gap_can_be_filled_on_the_next_bar_and_small_gaps_are_ignored() -> None:
    out = run("fvg", GAP_DOWN_FILLED)
    expect(
        out,
        bear_top=[_, _, 19, _, _],
        bear_bottom=[_, _, 18, _, _],
        bear_active=[_, _, 1, 0, 0],
        bear_count=[_, _, 1, 0, 0],
        bear_new=[_, _, 1, 0, 0],
        bull_top=[_, _, _, _, 18.6],
        bull_bottom=[_, _, _, _, 18],
        bull_new=[_, _, 0, 0, 1],
    )
    # at least 4 % of the close: the bear gap (1 / 15.5 = 6.5 %) stays, the bull one (3.2 %) not
    out = run("fvg", GAP_DOWN_FILLED, min_size=0.04)
    expect(out, bear_new=[_, _, 1, 0, 0], bull_new=[_, _, 0, 0, 0], bull_active=[_, _, 0, 0, 0])


RALLY = candles("""
    bar  open  high  low   close
    0    10    10.5   9.5  10.4
    1    10.4  11.5  10.3  11.4
    2    11.4  12.5  11    12.4   # gap A [10.5, 11]
    3    12.4  13.5  12    13.4   # gap B [11.5, 12]
    4    13.4  14.5  13    14.4   # gap C [12.5, 13]; max_gaps 2 drops A
    5    14.4  14.6  12.8  12.9   # C shrinks to [12.5, 12.8]
    6    12.9  13    12.2  12.3   # C filled: B [11.5, 12] is the most recent again; high 13 = low
                                  # 13 of bar 4 is no bearish gap (strictly below)
    7    12.3  12.9  11.9  12.4   # B shrinks to [11.5, 11.9]
""")


def test_the_most_recent_unfilled_gap_is_reported_and_an_older_one_returns_when_it_fills() -> None:
    out = run("fvg", RALLY, max_gaps=2)
    expect(
        out,
        bull_top=[_, _, 11, 12, 13, 12.8, 12, 11.9],
        bull_bottom=[_, _, 10.5, 11.5, 12.5, 12.5, 11.5, 11.5],
        bull_age=[_, _, 0, 0, 0, 1, 3, 4],
        bull_count=[_, _, 1, 2, 2, 2, 1, 1],
        bull_new=[_, _, 1, 1, 1, 0, 0, 0],
        bear_count=[_, _, 0, 0, 0, 0, 0, 0],
    )
