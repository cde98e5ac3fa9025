"""Positions: average-cost accounting of fills, exact to the last digit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.builders import at, fill
from tradeplay.domain.errors import ConfigError, InputError, StateCorruptionError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.position import Position
from tradeplay.domain.values import PositionMode, PositionSide, Side

D = Decimal


def _replay(fills: list[Fill], symbol: str = "BTCUSDT") -> Position:
    position = Position(symbol=symbol)
    for each in fills:
        position = position.apply_fill(each)
    return position


# ------------------------------------------------------------------------ scenario table


@dataclass(frozen=True)
class Step:
    """One fill and the position expected after it."""

    side: str
    qty: str
    price: str
    size: str
    entry: str | None
    realized: str


SCENARIOS: dict[str, list[Step]] = {
    "open, add, partial close, flip, full close (long first)": [
        Step("buy", "1", "100", size="1", entry="100", realized="0"),
        Step("buy", "1", "200", size="2", entry="150", realized="0"),  # weighted average
        Step("sell", "0.5", "180", size="1.5", entry="150", realized="15"),  # entry unchanged
        Step("sell", "3", "160", size="-1.5", entry="160", realized="30"),  # flip at fill price
        Step("buy", "1.5", "150", size="0", entry=None, realized="45"),  # short gains 10 * 1.5
    ],
    "short: open, add, cover in two parts at a loss then a gain": [
        Step("sell", "2", "50", size="-2", entry="50", realized="0"),
        Step("sell", "2", "40", size="-4", entry="45", realized="0"),
        Step("buy", "1", "47", size="-3", entry="45", realized="-2"),
        Step("buy", "3", "30", size="0", entry=None, realized="43"),
    ],
    "BTC-sized numbers": [
        Step("buy", "0.010", "65000.1", size="0.010", entry="65000.1", realized="0"),
        Step("buy", "0.030", "64000.5", size="0.040", entry="64250.4", realized="0"),
        Step("sell", "0.025", "66000", size="0.015", entry="64250.4", realized="43.74"),
        Step("sell", "0.015", "63000", size="0", entry=None, realized="24.984"),
    ],
    "an exact flip from long straight to an equal short": [
        Step("buy", "2", "10", size="2", entry="10", realized="0"),
        Step("sell", "4", "12", size="-2", entry="12", realized="4"),
        Step("buy", "4", "11", size="2", entry="11", realized="6"),
    ],
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_sequence_of_fills_gives_the_expected_size_entry_and_realized_pnl(name: str) -> None:
    position = Position(symbol="BTCUSDT")
    for number, step in enumerate(SCENARIOS[name]):
        position = position.apply_fill(fill(step.side, step.qty, step.price, seconds=number))
        expected_entry = None if step.entry is None else D(step.entry)
        assert (position.size, position.entry_price, position.realized_pnl) == (
            D(step.size),
            expected_entry,
            D(step.realized),
        ), f"after step {number}: {step}"


def test_a_position_reports_side_qty_and_flatness() -> None:
    assert Position(symbol="BTCUSDT").side is PositionSide.FLAT
    long = _replay([fill("buy", "2", "100")])
    short = _replay([fill("sell", "2", "100")])
    assert (long.side, long.qty, long.is_flat) == (PositionSide.LONG, D(2), False)
    assert (short.side, short.qty, short.size) == (PositionSide.SHORT, D(2), D(-2))


@pytest.mark.parametrize(
    ("side", "mark", "unrealized"),
    [("buy", "110", "20"), ("buy", "90", "-20"), ("sell", "90", "20"), ("sell", "110", "-20")],
)
def test_unrealized_pnl_is_the_gain_if_closed_at_the_mark(
    side: str, mark: str, unrealized: str
) -> None:
    position = _replay([fill(side, "2", "100")])
    assert position.unrealized_pnl(D(mark)) == D(unrealized)
    assert position.notional(D(mark)) == 2 * D(mark)  # unsigned, either side


def test_fees_add_up_and_rebates_reduce_them() -> None:
    position = _replay(
        [fill("buy", "1", "100", fee="0.055"), fill("sell", "1", "101", fee="-0.0202")]
    )
    assert position.fees_paid == D("0.0348")
    assert position.realized_pnl == D(1)
    assert position.net_pnl == D("0.9652")


def test_funding_is_paid_by_longs_and_received_by_shorts_when_the_rate_is_positive() -> None:
    def settle(size: str) -> FundingApplied:
        return FundingApplied.settle(
            symbol="BTCUSDT", time=at(60), rate=D("0.0001"), mark_price=D(65000), size=D(size)
        )

    long = _replay([fill("buy", "0.5", "65000")])
    paid = long.apply_funding(settle("0.5"))
    assert settle("0.5").payment == D("3.25")
    assert (paid.funding_paid, paid.net_pnl, paid.updated_at) == (D("3.25"), D("-3.25"), at(60))
    short = _replay([fill("sell", "0.5", "65000")]).apply_funding(settle("-0.5"))
    assert short.funding_paid == D("-3.25")


def test_an_average_that_does_not_terminate_still_balances_to_the_last_digit() -> None:
    fills = [fill("buy", "1", "100"), fill("buy", "1", "100"), fill("buy", "1", "101")]
    position = _replay([*fills, fill("sell", "1", "102")])
    assert position.entry_price == D("100.3333333333333333333333333")  # full precision
    assert position.realized_pnl == D("1.666666666667")  # 102 - 100.333333333333
    cash = D(-301) + D(102)
    assert position.realized_pnl + position.unrealized_pnl(D(99)) == cash + 2 * D(99)


def test_hedge_mode_is_not_supported_yet_and_says_so() -> None:
    with pytest.raises(ConfigError) as raised:
        Position(symbol="BTCUSDT", mode=PositionMode.HEDGE)
    assert str(raised.value) == (
        "BTCUSDT: hedge-mode positions are not supported yet; run the account in one-way mode "
        "(Bybit positionIdx 0)"
    )


def test_a_fill_or_funding_of_another_symbol_is_refused() -> None:
    with pytest.raises(InputError, match=r"of ETHUSDT cannot change the BTCUSDT position"):
        Position(symbol="BTCUSDT").apply_fill(fill("buy", "1", "2500", symbol="ETHUSDT"))
    funding = FundingApplied.settle(
        symbol="ETHUSDT", time=at(0), rate=D("0.0001"), mark_price=D(1), size=D(1)
    )
    with pytest.raises(InputError, match="funding of ETHUSDT cannot be applied"):
        Position(symbol="BTCUSDT").apply_funding(funding)


def test_a_size_and_cost_basis_of_opposite_signs_is_corrupt_state() -> None:
    with pytest.raises(StateCorruptionError, match="must have the same sign"):
        Position(symbol="BTCUSDT", size=D(1), cost_basis=D(-100))


# ------------------------------------------------------------------------ property


@st.composite
def _fills(draw: st.DrawFn) -> list[Fill]:
    """BTC-like fills: qty in 0.001 steps, price in 0.1 ticks, fee of either sign."""
    count = draw(st.integers(min_value=1, max_value=25))
    return [
        fill(
            draw(st.sampled_from([Side.BUY, Side.SELL])),
            D(draw(st.integers(min_value=1, max_value=5000))).scaleb(-3),
            D(draw(st.integers(min_value=10_000, max_value=1_000_000))).scaleb(-1),
            fee=D(draw(st.integers(min_value=-500, max_value=5000))).scaleb(-4),
            seconds=number,
        )
        for number in range(count)
    ]


def _average_cost_reference(fills: list[Fill]) -> tuple[Fraction, Fraction]:
    """An independent, exact (rational) average-cost model: (size, realized PnL)."""
    size, entry, realized = Fraction(0), Fraction(0), Fraction(0)
    for each in fills:
        qty, price = Fraction(each.signed_qty), Fraction(each.price)
        if size == 0 or (size > 0) == (qty > 0):
            entry = (entry * abs(size) + price * abs(qty)) / (abs(size) + abs(qty))
            size += qty
            continue
        closed = min(abs(qty), abs(size))
        realized += closed * (price - entry) * (1 if size > 0 else -1)
        remainder = abs(qty) - closed
        size += qty
        if remainder:
            entry = price
    return size, realized


@settings(max_examples=300, deadline=None)
@given(fills=_fills(), mark_ticks=st.integers(min_value=10_000, max_value=1_000_000))
def test_any_fill_sequence_balances_exactly(fills: list[Fill], mark_ticks: int) -> None:
    mark = D(mark_ticks).scaleb(-1)
    position = _replay(fills)

    assert position.size == sum(each.signed_qty for each in fills)
    assert position.fees_paid == sum(each.fee for each in fills)
    cash_flow = sum(-each.signed_qty * each.price for each in fills) + position.size * mark
    assert position.realized_pnl + position.unrealized_pnl(mark) == cash_flow

    reference_size, reference_realized = _average_cost_reference(fills)
    assert Fraction(position.size) == reference_size
    # Only the cost share released by a reduction is rounded (to 1e-12), once per fill.
    assert abs(Fraction(position.realized_pnl) - reference_realized) <= Fraction(len(fills), 10**12)
