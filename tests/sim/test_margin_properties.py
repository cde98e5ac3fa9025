"""Properties of liquidation that hold for every valid position, not just the worked examples."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.domain.builders import fill
from tradeplay.domain.errors import InstrumentRuleError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.position import Position
from tradeplay.domain.values import MarginMode, Side
from tradeplay.sim.ledger import Ledger
from tradeplay.sim.margin import (
    Holding,
    LiquidationTrigger,
    check_leverage,
    check_liquidation,
    cross_bankruptcy_price,
    isolated_bankruptcy_price,
    isolated_liquidation_price,
    isolated_position_margin,
    order_cost,
    position_initial_margin,
)

D = Decimal
BTC = bybit_linear("BTCUSDT")

sides = st.sampled_from([Side.BUY, Side.SELL])
# Quantities on BTC's 0.001 step and prices on its 0.1 tick, from dust to beyond tier 2.
quantities = st.integers(1, 200_000).map(lambda n: D(n) / 1000)
prices = st.integers(10_000, 2_000_000).map(lambda n: D(n) / 10)
leverages = st.integers(100, 10_000).map(lambda n: D(n) / 100)


def _valid(leverage: Decimal, position: Position) -> bool:
    try:
        check_leverage(BTC, leverage, abs(position.cost_basis))
    except InstrumentRuleError:
        return False
    return True


def _opened(side: Side, qty: Decimal, price: Decimal) -> Position:
    return Position(symbol="BTCUSDT").apply_fill(fill(side, qty, price))


@settings(max_examples=300, deadline=None)
@given(side=sides, qty=quantities, entry=prices, low=leverages, high=leverages)
def test_liquidation_sits_between_entry_and_bankruptcy_and_nears_entry_with_leverage(
    side: Side, qty: Decimal, entry: Decimal, low: Decimal, high: Decimal
) -> None:
    low, high = min(low, high), max(low, high)
    position = _opened(side, qty, entry)
    assume(_valid(high, position))
    prices_at = []
    for leverage in (low, high):
        margin = isolated_position_margin(position, leverage)
        liquidation = isolated_liquidation_price(BTC, position, margin)
        bankruptcy = isolated_bankruptcy_price(position, margin)
        if side is Side.BUY:
            # A long is liquidated below its entry, before it is bankrupt.
            assert liquidation is None or (bankruptcy or 0) < liquidation < entry
            prices_at.append(liquidation or D(0))
        else:
            assert liquidation is not None
            assert bankruptcy is not None
            assert entry < liquidation < bankruptcy
            prices_at.append(liquidation)
    # More leverage, less margin: the liquidation price moves towards the entry.
    if side is Side.BUY:
        assert prices_at[0] <= prices_at[1]
    else:
        assert prices_at[0] >= prices_at[1]


def _take_over(ledger: Ledger, position: Position, trigger: LiquidationTrigger) -> Position:
    takeover = fill(
        trigger.close_side,
        abs(trigger.size),
        trigger.bankruptcy_price,
        fee=trigger.liquidation_fee,
        client_order_id=None,
        seconds=60,
    )
    after = position.apply_fill(takeover)
    ledger.book_fill(takeover, after.realized_pnl - position.realized_pnl, liquidation=True)
    return after


@settings(max_examples=300, deadline=None)
@given(
    side=sides,
    qty=quantities,
    entry=prices,
    leverage=leverages,
    gap=st.tuples(st.integers(0, 10_000).map(D), st.integers(1, 99).map(lambda n: D(n) / 100)),
)
def test_an_isolated_liquidation_at_the_bankruptcy_price_leaves_a_non_negative_balance(
    side: Side, qty: Decimal, entry: Decimal, leverage: Decimal, gap: tuple[Decimal, Decimal]
) -> None:
    spare, crash = gap
    # The account held exactly the order cost (plus some spare) when the order was placed.
    cost = order_cost(BTC, side, qty, entry, leverage)
    opening = fill(side, qty, entry, fee=cost.fee_to_open)
    position = Position(symbol="BTCUSDT").apply_fill(opening)
    assume(_valid(leverage, position))
    margin = isolated_position_margin(position, leverage)
    bankruptcy = isolated_bankruptcy_price(position, margin)
    assume(bankruptcy is not None)
    assert bankruptcy is not None
    ledger = Ledger()
    ledger.deposit(cost.total + spare, opening.time)
    ledger.book_fill(opening, D(0))
    # The mark gaps through the bankruptcy price: ``crash`` of the way to zero (or up as much).
    worst = entry * (1 - crash) if side is Side.BUY else entry * (1 + crash)
    worst = min(worst, bankruptcy) if side is Side.BUY else max(worst, bankruptcy)
    holding = Holding(instrument=BTC, position=position, mark_price=worst, position_margin=margin)
    trigger = check_liquidation([holding], MarginMode.ISOLATED, ledger.wallet_balance)
    assert trigger is not None
    before = ledger.wallet_balance
    position = _take_over(ledger, position, trigger)
    assert position.is_flat
    assert ledger.wallet_balance >= spare >= 0
    # The trader loses at most the position IM (margin + fee to close at bankruptcy).
    assert before - ledger.wallet_balance <= position_initial_margin(
        BTC, _opened(side, qty, entry), leverage
    )
    ledger.check([position])


@settings(max_examples=300, deadline=None)
@given(
    side=sides,
    qty=quantities,
    entry=prices,
    wallet=st.integers(10, 5_000_000).map(D),
)
def test_a_cross_liquidation_at_the_bankruptcy_price_leaves_a_non_negative_balance(
    side: Side, qty: Decimal, entry: Decimal, wallet: Decimal
) -> None:
    position = _opened(side, qty, entry)
    ledger = Ledger()
    ledger.deposit(wallet, fill(side, qty, entry).time)
    bankruptcy = cross_bankruptcy_price(BTC, position, wallet_balance=wallet)
    if bankruptcy is None:  # a long backed by more than its value survives a fall to zero
        assert side is Side.BUY
        return
    holding = Holding(instrument=BTC, position=position, mark_price=bankruptcy)
    trigger = check_liquidation([holding], MarginMode.CROSS, ledger.wallet_balance)
    assert trigger is not None
    position = _take_over(ledger, position, trigger)
    # Equity is gone, but for the takeover price's rounding in the trader's favour: at most one
    # tick per unit held, and the fee on it.
    assert D(0) <= ledger.wallet_balance <= qty * BTC.tick_size * (1 + BTC.taker_fee_rate)
    ledger.check([position])
