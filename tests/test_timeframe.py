"""Timeframes: parsed from trader notation, aligned to the UTC epoch."""

from __future__ import annotations

import pytest

from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe

HOUR = 3_600_000


@pytest.mark.parametrize(
    ("text", "ms", "name"),
    [
        ("1m", 60_000, "1m"),
        ("15m", 900_000, "15m"),
        ("60m", HOUR, "1h"),
        ("4h", 4 * HOUR, "4h"),
        ("1d", 24 * HOUR, "1d"),
        (" 5m ", 300_000, "5m"),
        ("24h", 24 * HOUR, "1d"),
    ],
)
def test_parse_gives_the_span_and_a_canonical_name(text: str, ms: int, name: str) -> None:
    timeframe = Timeframe.parse(text)
    assert timeframe.ms == ms
    assert str(timeframe) == name


@pytest.mark.parametrize("text", ["", "1w", "0m", "m", "1.5h", "-1h", "1H"])
def test_parse_refuses_what_it_cannot_read_and_says_what_it_expects(text: str) -> None:
    with pytest.raises(InputError, match="expected a positive number and a unit m, h or d"):
        Timeframe.parse(text)


def test_alignment_and_floor_are_counted_from_the_epoch() -> None:
    four_hours = Timeframe.parse("4h")
    assert four_hours.is_aligned(8 * HOUR)
    assert not four_hours.is_aligned(9 * HOUR)
    assert four_hours.floor(9 * HOUR + 123) == 8 * HOUR


def test_divides_says_whether_larger_bars_are_made_of_whole_smaller_ones() -> None:
    assert Timeframe.parse("5m").divides(Timeframe.parse("1h"))
    assert not Timeframe.parse("7m").divides(Timeframe.parse("1h"))
    assert not Timeframe.parse("1h").divides(Timeframe.parse("5m"))
    assert Timeframe.parse("1m") < Timeframe.parse("1h")
