"""The ledger: every wallet change is an entry, and cash, PnL, fees and funding add up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.domain.builders import at, fill
from tradeplay.domain.errors import InputError, LedgerImbalanceError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.position import Position
from tradeplay.domain.values import MarginMode
from tradeplay.sim.ledger import EntryKind, Ledger
from tradeplay.sim.margin import (
    Holding,
    check_liquidation,
    isolated_position_margin,
    order_cost,
    position_initial_margin,
)

D = Decimal
BTC = bybit_linear("BTCUSDT")
START = datetime(2025, 3, 1, tzinfo=UTC)


def funded(amount: str = "10000") -> Ledger:
    ledger = Ledger("USDT")
    ledger.deposit(D(amount), START, "starting cash")
    return ledger


def trade(ledger: Ledger, position: Position, each: Fill, *, liquidation: bool = False) -> Position:
    """What the exchange does with a fill: the position first, then the cash."""
    after = position.apply_fill(each)
    ledger.book_fill(each, after.realized_pnl - position.realized_pnl, liquidation=liquidation)
    return after


def fund(ledger: Ledger, position: Position, rate: str, mark: str, seconds: int) -> Position:
    event = FundingApplied.settle(
        symbol=position.symbol,
        time=at(seconds),
        rate=D(rate),
        mark_price=D(mark),
        size=position.size,
    )
    ledger.book_funding(event)
    return position.apply_funding(event)


def test_a_sequence_of_fills_fees_and_funding_is_journaled_and_adds_up() -> None:
    ledger, position = funded(), Position(symbol="BTCUSDT")
    # Buy 0.1 @ 60 000 as taker: fee 6 000 × 0.055 % = 3.3.
    position = trade(ledger, position, fill("buy", "0.1", "60000", fee="3.3", seconds=0))
    assert ledger.wallet_balance == D("9996.7")
    # 08:00 settlement, +0.01 %, mark 60 500: the long pays 0.1 × 60 500 × 0.0001 = 0.605.
    position = fund(ledger, position, "0.0001", "60500", 1)
    # Sell half @ 61 000 as maker: realizes 0.05 × 1 000 = 50, fee 3 050 × 0.02 % = 0.61.
    position = trade(ledger, position, fill("sell", "0.05", "61000", fee="0.61", seconds=2))
    # 16:00 settlement, −0.02 %, mark 61 200: the long receives 0.05 × 61 200 × 0.0002 = 0.612.
    position = fund(ledger, position, "-0.0002", "61200", 3)
    # Sell the rest @ 59 000 with a maker rebate of 0.1: realizes −50.
    position = trade(ledger, position, fill("sell", "0.05", "59000", fee="-0.1", seconds=4))

    # 10 000 − 3.3 − 0.605 + 50 − 0.61 + 0.612 − 50 + 0.1 = 9 996.197
    assert ledger.wallet_balance == D("9996.197")
    assert (ledger.deposits, ledger.realized_pnl, ledger.fees_paid, ledger.funding_paid) == (
        D(10000),
        D(0),
        D("3.81"),
        D("-0.007"),
    )
    kinds = [e.kind for e in ledger.entries()]
    assert kinds == [
        EntryKind.DEPOSIT,
        EntryKind.FEE,
        EntryKind.FUNDING,
        EntryKind.REALIZED_PNL,
        EntryKind.FEE,
        EntryKind.FUNDING,
        EntryKind.REALIZED_PNL,
        EntryKind.FEE,
    ]
    funding = ledger.entries(EntryKind.FUNDING)
    assert [(e.amount, e.reference, e.symbol) for e in funding] == [
        (D("-0.605"), at(1).isoformat(), "BTCUSDT"),
        (D("0.612"), at(3).isoformat(), "BTCUSDT"),
    ]
    ledger.check([position])
    ledger.account().check_balanced()


def test_fees_carry_the_trade_id_so_a_report_can_list_them() -> None:
    ledger = funded()
    each = fill("buy", "0.1", "60000", fee="3.3")
    trade(ledger, Position(symbol="BTCUSDT"), each)
    (fee,) = ledger.entries(EntryKind.FEE)
    assert (fee.reference, fee.amount, fee.time, fee.symbol) == (
        each.trade_id,
        D("-3.3"),
        each.time,
        "BTCUSDT",
    )


def test_equity_adds_unrealized_pnl_and_available_subtracts_margins_never_below_zero() -> None:
    ledger = funded("1000")
    assert ledger.equity(D(-200)) == D(800)
    assert ledger.available(D(150), D(400), D(100)) == D(650)  # cross: profit is collateral
    assert ledger.available(D(150), D(400), D(100), MarginMode.ISOLATED) == D(500)
    assert ledger.available(D(-900), D(400), D(0)) == 0


def test_withdrawals_are_limited_to_the_wallet_and_deposits_must_be_positive() -> None:
    ledger = funded("100")
    ledger.withdraw(D(40), at(1))
    assert (ledger.wallet_balance, ledger.deposits) == (D(60), D(60))
    with pytest.raises(InputError, match="cannot withdraw 61 USDT: the wallet holds 60 USDT"):
        ledger.withdraw(D(61), at(2))
    with pytest.raises(InputError, match="must be positive"):
        ledger.deposit(D(0), at(2))


def test_a_fee_in_another_coin_is_refused() -> None:
    each = replace(fill("buy", "1", "100", fee="0.1"), fee_currency="USDC")
    with pytest.raises(InputError, match="charged its fee in USDC; this ledger holds USDT"):
        funded().book_fill(each, D(0))


def test_check_names_the_numbers_when_positions_and_ledger_disagree() -> None:
    ledger, position = funded(), Position(symbol="BTCUSDT")
    position = trade(ledger, position, fill("buy", "0.1", "60000", fee="3.3"))
    position = trade(ledger, position, fill("sell", "0.1", "61000", fee="3.355"))
    ledger.check([position])
    wrong = replace(position, realized_pnl=D("100.01"), fees_paid=D("6.655"))
    with pytest.raises(LedgerImbalanceError) as caught:
        ledger.check([wrong])
    assert str(caught.value) == (
        "USDT ledger and positions disagree by a cent or more: "
        "realized PnL: positions 100.01, ledger 100"
    )
    ledger.check([replace(position, realized_pnl=D("100.004"))])  # within the cent


def test_check_catches_a_wallet_that_no_longer_matches_its_entries() -> None:
    ledger = funded("100")
    ledger._wallet = D("100.01")  # simulate corruption of the running balance
    with pytest.raises(LedgerImbalanceError, match=r"wallet balance 100\.01 differs"):
        ledger.check()


def test_an_isolated_liquidation_costs_exactly_the_position_margin_and_the_fee() -> None:
    ledger, position = funded("1000"), Position(symbol="BTCUSDT")
    # Long 1 @ 20 000 at 50x; taker fee to open 11.
    position = trade(ledger, position, fill("buy", "1", "20000", fee="11"))
    margin = isolated_position_margin(position, D(50))
    holding = Holding(
        instrument=BTC, position=position, mark_price=D(19500), position_margin=margin
    )
    trigger = check_liquidation([holding], MarginMode.ISOLATED, ledger.wallet_balance)
    assert trigger is not None
    takeover = fill(
        trigger.close_side,
        str(abs(trigger.size)),
        str(trigger.bankruptcy_price),
        fee=str(trigger.liquidation_fee),
        client_order_id=None,
        seconds=60,
    )
    position = trade(ledger, position, takeover, liquidation=True)
    # 1 000 − 11 − 400 (margin) − 10.78 (19 600 × 0.055 %) = 578.22: the position IM went.
    assert ledger.wallet_balance == D("578.22")
    assert D(1000) - D(11) - ledger.wallet_balance == D("410.78")
    assert (ledger.realized_pnl, ledger.liquidation_fees, ledger.fees_paid) == (
        D(-400),
        D("10.78"),
        D(11),
    )
    assert ledger.cover_shortfall(at(60)) == 0
    ledger.check([position])
    assert ledger.account().fees_paid == D("21.78")


def test_a_shortfall_after_liquidation_is_covered_by_the_insurance_fund() -> None:
    # Wallet exactly the order cost; then funding drains 5 before the liquidation.
    cost = order_cost(BTC, fill("buy", "1", "1").side, D(1), D(20000), D(50))
    ledger, position = funded(str(cost.total)), Position(symbol="BTCUSDT")
    position = trade(ledger, position, fill("buy", "1", "20000", fee=str(cost.fee_to_open)))
    position = fund(ledger, position, "0.00025", "20000", 10)  # pays 5
    margin = isolated_position_margin(position, D(50))
    assert position_initial_margin(BTC, position, D(50)) == ledger.wallet_balance + 5
    holding = Holding(
        instrument=BTC, position=position, mark_price=D(19000), position_margin=margin
    )
    trigger = check_liquidation([holding], MarginMode.ISOLATED, ledger.wallet_balance)
    assert trigger is not None
    takeover = fill(
        "sell", "1", str(trigger.bankruptcy_price), fee=str(trigger.liquidation_fee), seconds=60
    )
    position = trade(ledger, position, takeover, liquidation=True)
    assert ledger.wallet_balance == D(-5)
    assert ledger.cover_shortfall(at(60), "liquidation BTCUSDT") == D(5)
    assert ledger.wallet_balance == 0
    assert ledger.insurance_credit == D(5)
    ledger.check([position])
    account = ledger.account()
    account.check_balanced()
    assert account.wallet_balance == 0
