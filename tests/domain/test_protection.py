"""Protection levels resolve against the fill price, for longs and shorts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeplay.domain.errors import InputError
from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.values import Side

D = Decimal
K = LevelKind


@pytest.mark.parametrize(
    ("side", "stop", "target", "expected"),
    [
        (Side.BUY, Level(K.FRACTION, D("0.02")), Level(K.FRACTION, D("0.04")), ("98", "104")),
        (Side.SELL, Level(K.FRACTION, D("0.02")), Level(K.FRACTION, D("0.04")), ("102", "96")),
        (Side.BUY, Level(K.DISTANCE, D("3")), Level(K.RISK_MULTIPLE, D("2")), ("97", "106")),
        (Side.SELL, Level(K.PRICE, D("105")), Level(K.RISK_MULTIPLE, D("1.5")), ("105", "92.5")),
        (Side.BUY, None, Level(K.DISTANCE, D("1")), (None, "101")),
    ],
)
def test_levels_resolve_from_the_fill_price(
    side: Side, stop: Level | None, target: Level, expected: tuple[str | None, str]
) -> None:
    resolved = Protection(stop, target).resolve(side, D("100"))
    assert resolved == tuple(None if e is None else D(e) for e in expected)


def test_a_target_at_a_multiple_of_the_risk_needs_a_stop() -> None:
    with pytest.raises(InputError, match="needs a stop-loss"):
        Protection(None, Level(K.RISK_MULTIPLE, D("2")))


def test_levels_must_be_positive() -> None:
    with pytest.raises(InputError, match="must be positive"):
        Level(K.FRACTION, D("0"))
