"""Funding as the exchange books it: who pays at a settlement, at what mark, without stopping.

The schedule itself is specified in ``test_funding.py``; here: a settlement at T is paid by the
position held at the start of the bar containing T, at that bar's open, before its fills.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np

from tests.sim.scenarios import MINUTE, SYMBOL, bars
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, OrderType, Side, utc_from_ms
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.funding import FundingSource
from tradeplay.sim.ledger import EntryKind

RATE = Decimal("0.0001")
EIGHT_HOURS = FundingSource.constant(RATE, timedelta(hours=8))
AT_1558 = int(datetime(2025, 3, 1, 15, 58, tzinfo=UTC).timestamp() * 1000)
SETTLEMENT = datetime(2025, 3, 1, 16, 0, tzinfo=UTC)


def exchange(**settings: object) -> SimulatedExchange:
    return SimulatedExchange(bybit_linear(SYMBOL), SimConfig(funding=EIGHT_HOURS, **settings))  # type: ignore[arg-type]


def send(
    ex: SimulatedExchange, side: Side, after_ms: int, cid: str, *, reduce: bool = False
) -> None:
    ex.submit(
        OrderSubmitted(
            client_order_id=ClientOrderId(cid),
            time=utc_from_ms(after_ms),
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.MARKET,
            qty=Decimal(1),
            reduce_only=reduce,
        )
    )


# 15:58, 15:59, 16:00 (holds the settlement), 16:01
MARKET = bars(
    [(100, 101, 99, 100), (100, 101, 99, 100), (102, 103, 101, 102), (102, 103, 101, 102)],
    start=AT_1558,
)


def test_a_long_held_across_the_settlement_pays_size_times_open_times_rate() -> None:
    ex = exchange()
    ex.advance(MARKET, 0, 1)
    send(ex, Side.BUY, AT_1558 + MINUTE, "long")
    filled = ex.advance(MARKET, 1, 4)
    assert filled.end == 2  # the fill at 15:59 stops the advance …
    passed = ex.advance(MARKET, 2, 4)
    assert (passed.end, passed.events) == (4, ())  # … the settlement does not
    (funding,) = passed.funding
    assert (funding.time, funding.mark_price, funding.payment) == (
        SETTLEMENT,
        Decimal("102.0"),
        Decimal("0.01020"),
    )
    assert ex.account().funding_paid == Decimal("0.01020")
    assert [e.amount for e in ex.ledger().entries(EntryKind.FUNDING)] == [Decimal("-0.01020")]
    ex.ledger().check([ex.position(SYMBOL)])


def test_a_short_receives_at_a_positive_rate() -> None:
    ex = exchange()
    ex.advance(MARKET, 0, 1)
    send(ex, Side.SELL, AT_1558 + MINUTE, "short")
    ex.advance(MARKET, 1, 2)
    (funding,) = ex.advance(MARKET, 2, 4).funding
    assert funding.payment == Decimal("-0.01020")


def test_an_order_filled_at_the_settlement_open_does_not_pay_for_that_change() -> None:
    """Opened at 16:00 exactly: after the settlement. Closed at 16:00: held at it, pays."""
    opened = exchange()
    opened.advance(MARKET, 0, 2)
    send(opened, Side.BUY, AT_1558 + 2 * MINUTE, "late")
    assert opened.advance(MARKET, 2, 4).funding == ()

    closed = exchange()
    closed.advance(MARKET, 0, 1)
    send(closed, Side.BUY, AT_1558 + MINUTE, "early")
    closed.advance(MARKET, 1, 2)
    send(closed, Side.SELL, AT_1558 + 2 * MINUTE, "exit", reduce=True)
    result = closed.advance(MARKET, 2, 4)
    assert len(result.funding) == 1
    assert closed.position(SYMBOL).is_flat


def test_a_flat_account_pays_nothing() -> None:
    ex = exchange()
    assert ex.advance(MARKET, 0, 4).funding == ()
    assert ex.account().funding_paid == 0


def test_settlements_inside_a_daily_bar_are_paid_at_its_open() -> None:
    """00:00, 08:00 and 16:00 all fall in the bar of 2 March; each is paid at its open."""
    day = Timeframe.parse("1d")
    start = int(datetime(2025, 3, 1, tzinfo=UTC).timestamp() * 1000)
    daily = bars(
        [(100, 101, 99, 100), (100, 104, 99, 103), (103, 104, 102, 103)], start=start, step=day.ms
    )
    ex = exchange(timeframe=day)
    ex.advance(daily, 0, 1)
    send(ex, Side.BUY, start + day.ms, "long")
    ex.advance(daily, 1, 2)  # filled at the 2 March open, after its 00:00 settlement
    result = ex.advance(daily, 2, 3)
    assert [f.time.hour for f in result.funding] == [0, 8, 16]
    assert {f.mark_price for f in result.funding} == {Decimal("103.0")}


def test_a_settlement_inside_a_data_gap_is_paid_at_the_next_bar() -> None:
    gapped = MARKET.copy()
    gapped[2:, 0] += 5 * MINUTE  # no bars from 16:00 to 16:04
    ex = exchange()
    ex.advance(gapped, 0, 1)
    send(ex, Side.BUY, AT_1558 + MINUTE, "long")
    ex.advance(gapped, 1, 2)
    (funding,) = ex.advance(gapped, 2, 4).funding
    assert funding.time == SETTLEMENT
    assert np.isclose(float(funding.mark_price), 102.0)
