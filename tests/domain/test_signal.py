"""Signals: a strategy's intention, checked for consistency, never an order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from tests.domain.builders import at
from tradeplay.domain.errors import InputError
from tradeplay.domain.signal import Signal, SignalAction
from tradeplay.domain.values import PositionSide, Side

D = Decimal
A = SignalAction


@pytest.mark.parametrize(
    ("action", "entry", "position_side", "order_side"),
    [
        (A.ENTER_LONG, True, PositionSide.LONG, Side.BUY),
        (A.ENTER_SHORT, True, PositionSide.SHORT, Side.SELL),
        (A.EXIT_LONG, False, PositionSide.LONG, Side.SELL),
        (A.EXIT_SHORT, False, PositionSide.SHORT, Side.BUY),
    ],
)
def test_each_action_knows_its_position_side_and_the_order_side_that_carries_it_out(
    action: SignalAction, entry: bool, position_side: PositionSide, order_side: Side
) -> None:
    assert (action.is_entry, action.position_side, action.order_side) == (
        entry,
        position_side,
        order_side,
    )


def test_an_entry_may_carry_a_stop_and_a_target_on_the_right_sides() -> None:
    long = Signal(
        symbol="BTCUSDT",
        time=at(0),
        action=A.ENTER_LONG,
        reason="breakout above 4h high",
        tag="bo-1",
        stop_price=D(60000),
        target_price=D(66000),
        strength=0.8,
    )
    assert (long.stop_price, long.target_price, long.strength) == (D(60000), D(66000), 0.8)
    Signal(symbol="BTCUSDT", time=at(0), action=A.ENTER_SHORT, stop_price=D(2), target_price=D(1))


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"action": A.ENTER_LONG, "stop_price": D(66000), "target_price": D(60000)},
            "stop 66000 must be below target 60000",
        ),
        (
            {"action": A.ENTER_SHORT, "stop_price": D(60000), "target_price": D(66000)},
            "stop 60000 must be above target 66000",
        ),
        (
            {"action": A.EXIT_LONG, "stop_price": D(60000)},
            "stop and target prices belong to entries, not exits",
        ),
        ({"action": A.ENTER_LONG, "stop_price": D(0)}, "stop price 0 must be positive"),
        ({"action": A.ENTER_LONG, "strength": 1.5}, "strength 1.5 is not between 0 and 1"),
        ({"action": A.ENTER_LONG, "strength": float("nan")}, "strength nan is not between 0"),
    ],
)
def test_an_inconsistent_signal_is_refused_saying_why(
    fields: dict[str, object], problem: str
) -> None:
    with pytest.raises(InputError, match=problem):
        Signal(symbol="BTCUSDT", time=at(0), **fields)  # type: ignore[arg-type]


def test_a_signal_time_must_be_utc() -> None:
    naive = datetime(2025, 1, 1)  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(InputError, match="has no timezone"):
        Signal(symbol="BTCUSDT", time=naive, action=A.EXIT_SHORT)
