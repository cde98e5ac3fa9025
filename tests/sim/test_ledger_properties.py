"""The ledger conserves money over any sequence of fills, fees, funding and transfers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.domain.builders import at, fill
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.position import Position
from tradeplay.domain.values import Side
from tradeplay.sim.ledger import EntryKind, Ledger

D = Decimal


@dataclass(frozen=True)
class Trade:
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal


@dataclass(frozen=True)
class Funding:
    rate: Decimal
    mark: Decimal


@dataclass(frozen=True)
class Deposit:
    amount: Decimal


prices = st.integers(1, 10_000_000).map(lambda n: D(n) / 100)
trades = st.builds(
    Trade,
    side=st.sampled_from([Side.BUY, Side.SELL]),
    qty=st.integers(1, 100_000).map(lambda n: D(n) / 1000),
    price=prices,
    fee=st.integers(-500, 5_000).map(lambda n: D(n) / 100),  # rebates are negative fees
)
fundings = st.builds(
    Funding, rate=st.integers(-7_500, 7_500).map(lambda n: D(n) / 10_000_000), mark=prices
)
deposits = st.builds(Deposit, amount=st.integers(1, 1_000_000).map(D))
steps = st.lists(st.one_of(trades, fundings, deposits), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(1, 10_000_000).map(D), script=steps, mark=prices)
def test_cash_positions_fees_and_funding_always_add_up(
    start: Decimal, script: list[Trade | Funding | Deposit], mark: Decimal
) -> None:
    ledger, position = Ledger(), Position(symbol="BTCUSDT")
    ledger.deposit(start, at(0))
    deposited, trading_cash, fees, funding = start, D(0), D(0), D(0)
    for second, step in enumerate(script, start=1):
        if isinstance(step, Trade):
            each = fill(step.side, step.qty, step.price, fee=step.fee, seconds=second)
            after = position.apply_fill(each)
            ledger.book_fill(each, after.realized_pnl - position.realized_pnl)
            position = after
            trading_cash -= each.signed_qty * each.price
            fees += step.fee
        elif isinstance(step, Funding):
            event = FundingApplied.settle(
                symbol="BTCUSDT",
                time=at(second),
                rate=step.rate,
                mark_price=step.mark,
                size=position.size,
            )
            ledger.book_funding(event)
            position = position.apply_funding(event)
            funding += event.payment
        else:
            ledger.deposit(step.amount, at(second))
            deposited += step.amount
        ledger.check([position])
    # Conservation, computed independently of the ledger: what came in, what trading moved
    # (bought at, sold at, and the open part valued at the mark), less fees and funding.
    expected_equity = deposited + trading_cash + position.size * mark - fees - funding
    equity = ledger.equity(position.unrealized_pnl(mark))
    assert equity == expected_equity
    assert ledger.wallet_balance == sum((e.amount for e in ledger.entries()), D(0))
    assert ledger.fees_paid == fees
    assert ledger.funding_paid == funding
    assert ledger.deposits == deposited
    ledger.account().check_balanced()


@settings(max_examples=100, deadline=None)
@given(script=steps)
def test_entries_are_append_only_and_in_booking_order(
    script: list[Trade | Funding | Deposit],
) -> None:
    ledger, position = Ledger(), Position(symbol="BTCUSDT")
    ledger.deposit(D(1000), at(0))
    seen: tuple[object, ...] = ledger.entries()
    for second, step in enumerate(script, start=1):
        if isinstance(step, Trade):
            each = fill(step.side, step.qty, step.price, fee=step.fee, seconds=second)
            after = position.apply_fill(each)
            ledger.book_fill(each, after.realized_pnl - position.realized_pnl)
            position = after
        elif isinstance(step, Deposit):
            ledger.deposit(step.amount, at(second))
        now = ledger.entries()
        assert now[: len(seen)] == seen  # nothing earlier changed or vanished
        assert [e.time for e in now] == sorted(e.time for e in now)
        seen = now
    assert all(e.amount != 0 for e in ledger.entries())
    assert ledger.entries(EntryKind.DEPOSIT)[0].amount == D(1000)
