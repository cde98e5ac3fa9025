"""Scenario tables for support / resistance zones (``kernels/structure_zones.py``).

Each expected list has one value per bar (``_`` = NaN: warm-up, or no qualifying zone). All
scenarios use swings of strength 1 / 1: a swing at bar j is known at bar j + 1.
"""

from __future__ import annotations

import math

from tests.features.test_structure import candles, expect, run

_ = math.nan


RANGE = candles("""
    bar  open   high   low    close
    0    104    105    103    104.5
    1    104.5  110    104    109     # swing high 110 (known at 2)
    2    109    109.5  101    101.5   # swing low 101 (known at 3)
    3    101.5  106    101.5  105.5
    4    105.5  110.4  105    110     # swing high 110.4 (known at 5): zone 110.2, 2 touches
    5    110    110.2  100.6  101     # swing low 100.6 (known at 6): zone 100.8, 2 touches
    6    101    104    101    103.5
    7    103.5  107    103    106.5
    8    106.5  107.5  100.9  101.2   # swing high 107.5 (known at 9): a zone of its own, 1 touch
    9    101.2  102    100.7  101.8   # swing low 100.7 (known at 10): zone 100.7667, 3 touches
    10   101.8  103    101.5  102.5
""")


def test_swings_within_tolerance_make_a_range_of_support_and_resistance() -> None:
    out = run("zones", RANGE, left=1, right=1, tolerance=0.01, min_touches=2)
    low_zone = (101 + 100.6 + 100.7) / 3
    expect(
        out,
        support=[_, _, _, _, _, _, 100.8, 100.8, 100.8, 100.8, low_zone],
        support_touches=[_, _, _, _, _, _, 2, 2, 2, 2, 3],
        resistance=[_, _, _, _, _, 110.2, 110.2, 110.2, 110.2, 110.2, 110.2],
        resistance_touches=[_, _, _, _, _, 2, 2, 2, 2, 2, 2],
        # 101.2 and 101.8 are within 1 % of 100.8; 102.5 is not within 1 % of 100.77
        in_zone=[_, _, 0, 0, 0, 0, 0, 0, 1, 1, 0],
    )


BREAKOUT = candles("""
    bar  open   high   low    close
    0     97     98     96.5   97.5
    1     97.5  100     97     99.5    # swing high 100 (known at 2)
    2     99.5   99.8   97.5   98
    3     98     99     96.8   98.8    # swing low 96.8 (known at 4)
    4     98.8  100.3   98.5   99.6    # swing high 100.3 (known at 5): resistance 100.15
    5     99.6  100     99     99.4
    6     99.4  102     99.3  101.8    # breakout: the zone is now below, support
    7    101.8  103    101.5  102.8    # swing high 103 (known at 8)
    8    102.8  102.9  100.2  100.5    # pullback into the zone; swing low 100.2 (known at 9)
    9    100.5  101.5  100.4  101.2    # the zone has 3 touches, 2 highs and a low
""")


def test_a_broken_resistance_becomes_support_and_a_retest_adds_a_touch() -> None:
    out = run("zones", BREAKOUT, left=1, right=1, tolerance=0.005, min_touches=2)
    expect(
        out,
        resistance=[_, _, _, _, _, 100.15, _, _, _, _],
        resistance_touches=[_, _, _, _, _, 2, _, _, _, _],
        support=[_, _, _, _, _, _, 100.15, 100.15, 100.15, (100 + 100.3 + 100.2) / 3],
        support_touches=[_, _, _, _, _, _, 2, 2, 2, 3],
        in_zone=[_, _, 0, 0, 0, 0, 0, 0, 1, 0],
    )


ZIGZAG = candles("""
    bar  open   high   low    close
    0    100.4  100.6  100.3  100.5
    1    100.5  101.2  100.4  101     # swing high 101.2 (known at 2): zone A
    2    100.5  100.5  100    100.2   # swing low 100 (known at 3): 1.2 from A, zone B
    3    100.2  100.7  100.1  100.6   # swing high 100.7 (known at 4) joins A (nearest); A moves
                                      # to 100.95, within 1 % of B: they merge, 3 touches
    4     96     96.2   95     95.5   # swing low 95 (known at 5): zone C
    5     95.5   98     95.2   97.8   # swing high 98 (known at 6): a new zone, but max_zones is
    6     97.8   97.9   96.5   96.8   # 2: it replaces the zone touched longest ago (A+B)
""")


def test_zones_merge_when_they_meet_and_the_stalest_zone_makes_room() -> None:
    out = run("zones", ZIGZAG, left=1, right=1, tolerance=0.01, min_touches=1, max_zones=2)
    merged = (101.2 + 100 + 100.7) / 3
    expect(
        out,
        support=[_, _, _, 100, _, 95, 95],
        support_touches=[_, _, _, 1, _, 1, 1],
        resistance=[_, _, 101.2, 101.2, merged, merged, 98],
        resistance_touches=[_, _, 1, 1, 3, 3, 1],
        in_zone=[_, _, 1, 1, 0, 0, 0],
    )


def test_a_close_exactly_at_a_zone_is_neither_support_nor_resistance_but_in_the_zone() -> None:
    bars = candles("""
        bar  open  high  low  close
        0    9     10    8    9
        1    9     12    9   11     # swing high 12 (known at 2)
        2    11    11    9   10
        3    10    12   10   12     # closes at the zone's price
    """)
    out = run("zones", bars, left=1, right=1, tolerance=0.01, min_touches=1)
    expect(out, support=[_, _, _, _], resistance=[_, _, 12, _], in_zone=[_, _, 0, 1])
