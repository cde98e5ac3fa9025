"""The strategy step: signals and the position in, intents out, exits first."""

from __future__ import annotations

import pytest

from tradeplay.domain.values import PositionSide
from tradeplay.engine.strategy import Intent, Step, decide

FLAT, LONG, SHORT = PositionSide.FLAT, PositionSide.LONG, PositionSide.SHORT
It = Intent


def _signals(fired: str) -> dict[str, bool]:
    names = ("long.entry", "long.exit", "short.entry", "short.exit")
    return {name: name in fired.split() for name in names}


@pytest.mark.parametrize(
    ("side", "fired", "expected"),
    [
        (FLAT, "", []),
        (FLAT, "long.entry", [It.ENTER_LONG]),
        (FLAT, "short.entry", [It.ENTER_SHORT]),
        (FLAT, "long.entry short.entry", []),  # contradictory bar: no side is guessed
        (FLAT, "long.exit short.exit", []),
        (LONG, "", []),
        (LONG, "long.entry", []),  # no pyramiding
        (LONG, "long.exit", [It.EXIT_LONG]),
        (LONG, "short.entry", [It.EXIT_LONG, It.ENTER_SHORT]),  # reversal closes first
        (LONG, "short.exit", []),
        (SHORT, "short.exit", [It.EXIT_SHORT]),
        (SHORT, "long.entry", [It.EXIT_SHORT, It.ENTER_LONG]),
        (SHORT, "long.entry short.exit", [It.EXIT_SHORT, It.ENTER_LONG]),
    ],
)
def test_intents_follow_the_rules(side: PositionSide, fired: str, expected: list[Intent]) -> None:
    steps = decide(_signals(fired), side)
    assert [step.intent for step in steps] == expected
    assert all(step.reason == "signal" for step in steps)


def test_the_maximum_holding_time_closes_the_position_and_says_so() -> None:
    assert decide(_signals(""), LONG, bars_held=23, max_holding_bars=24) == []
    assert decide(_signals(""), LONG, bars_held=24, max_holding_bars=24) == [
        Step(It.EXIT_LONG, "max_holding")
    ]
    # A rule that fires on the same bar is the reason, not the clock.
    assert decide(_signals("long.entry"), SHORT, bars_held=99, max_holding_bars=24) == [
        Step(It.EXIT_SHORT, "signal"),
        Step(It.ENTER_LONG, "signal"),
    ]
