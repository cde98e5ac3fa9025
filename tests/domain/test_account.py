"""The account: cash moves only by transfers, realized PnL, fees and funding."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.builders import at, fill
from tradeplay.domain.account import Account
from tradeplay.domain.errors import InputError, LedgerImbalanceError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.position import Position
from tradeplay.domain.values import Side

D = Decimal


def _trade(account: Account, position: Position, each: Fill) -> tuple[Account, Position]:
    """What the position monitor does with a fill: position first, then the cash."""
    after = position.apply_fill(each)
    return account.apply_fill(each, after.realized_pnl - position.realized_pnl), after


def test_a_round_trip_moves_the_wallet_by_realized_pnl_minus_fees() -> None:
    account, position = Account.funded("USDT", D(1000)), Position(symbol="BTCUSDT")
    account, position = _trade(account, position, fill("buy", "0.01", "60000", fee="0.33"))
    assert account.wallet_balance == D("999.67")
    account, position = _trade(account, position, fill("sell", "0.01", "61000", fee="0.3355"))
    assert (account.wallet_balance, account.realized_pnl, account.fees_paid) == (
        D("1009.3345"),
        D(10),
        D("0.6655"),
    )
    account.check_balanced()


def test_funding_paid_lowers_the_wallet_and_funding_received_raises_it() -> None:
    def funding(size: str) -> FundingApplied:
        return FundingApplied.settle(
            symbol="BTCUSDT", time=at(8), rate=D("0.0001"), mark_price=D(60000), size=D(size)
        )

    account = Account.funded("USDT", D(100))
    assert account.apply_funding(funding("0.1")).wallet_balance == D("99.4")
    received = account.apply_funding(funding("-0.1"))
    assert (received.wallet_balance, received.funding_paid, received.updated_at) == (
        D("100.6"),
        D("-0.6"),
        at(8),
    )
    received.check_balanced()


def test_equity_adds_unrealized_pnl_and_available_subtracts_margin_but_not_below_zero() -> None:
    account = Account.funded("USDT", D(1000))
    assert account.equity(D(-50)) == D(950)
    assert account.available(D(-50), initial_margin=D(600)) == D(350)
    assert account.available(D(-500), initial_margin=D(600)) == D(0)


def test_a_wallet_that_no_longer_matches_its_history_is_a_ledger_imbalance() -> None:
    tampered = replace(Account.funded("USDT", D(1000)), wallet_balance=D("1000.01"))
    with pytest.raises(LedgerImbalanceError) as raised:
        tampered.check_balanced()
    assert str(raised.value) == (
        "USDT wallet balance 1000.01 differs from deposits + realized PnL - fees - funding = 1000"
    )


def test_a_fee_in_another_coin_is_refused() -> None:
    account = Account.funded("USDC", D(1000))
    with pytest.raises(InputError, match="charged its fee in USDT; this account holds USDC"):
        account.apply_fill(fill("buy", "1", "100"), D(0))


def test_withdrawing_more_than_the_wallet_holds_is_refused() -> None:
    account = Account.funded("USDT", D(10))
    assert account.transfer(D(-10), at(1)).wallet_balance == D(0)
    with pytest.raises(
        InputError, match=re.escape("cannot withdraw 10.5 USDT: the wallet holds 10 USDT")
    ):
        account.transfer(D("-10.5"))


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([Side.BUY, Side.SELL]),
            st.integers(min_value=1, max_value=3000),
            st.integers(min_value=200_000, max_value=900_000),
            st.integers(min_value=-200, max_value=2000),
            st.integers(min_value=-30, max_value=30),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_cash_is_conserved_over_any_sequence_of_fills_and_funding(
    steps: list[tuple[Side, int, int, int, int]],
) -> None:
    account, position = Account.funded("USDT", D(10_000)), Position(symbol="BTCUSDT")
    cash_in = D(10_000)
    for number, (side, qty, ticks, fee, rate) in enumerate(steps):
        price = D(ticks).scaleb(-1)
        each = fill(side, D(qty).scaleb(-3), price, fee=D(fee).scaleb(-4), seconds=number)
        account, position = _trade(account, position, each)
        cash_in += -each.signed_qty * each.price - each.fee
        funding = FundingApplied.settle(
            symbol="BTCUSDT", time=at(number), rate=D(rate).scaleb(-5), mark_price=price,
            size=position.size,
        )  # fmt: skip
        account, position = account.apply_funding(funding), position.apply_funding(funding)
        cash_in -= funding.payment
        account.check_balanced()
    mark = D(500_000).scaleb(-1)
    # Equity = everything paid in and out for trades, fees and funding, plus the open size at mark.
    assert account.equity(position.unrealized_pnl(mark)) == cash_in + position.size * mark
    assert account.funding_paid == position.funding_paid
    assert account.fees_paid == position.fees_paid
