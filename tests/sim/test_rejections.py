"""Refusals are events with the reason a trader reads, in Bybit's words where Bybit has them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.sim.scenarios import Scenario, config
from tradeplay.domain.errors import RejectedError
from tradeplay.domain.events import OrderRejected

BAR0 = (100, 101, 99, 100)

REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    (
        "a post-only buy at or above the last price would take liquidity",
        {"side": "buy", "kind": "limit", "price": "100.5", "tif": "post_only"},
        "post-only buy limit 100.5 is at or above the last price 100 and would take liquidity "
        "(EC_PostOnlyWillTakeLiquidity)",
    ),
    (
        "a post-only sell at or below the last price would take liquidity",
        {"side": "sell", "kind": "limit", "price": "100", "tif": "post_only"},
        "post-only sell limit 100 is at or below the last price 100 and would take liquidity "
        "(EC_PostOnlyWillTakeLiquidity)",
    ),
    (
        "reduce-only with no position",
        {"side": "sell", "reduce_only": True},
        "reduce-only order cannot reduce: the BTCUSDT position is flat "
        "(110017 Reduce-only rule not satisfied)",
    ),
    (
        "below the minimum quantity",
        {"side": "buy", "qty": "0.0001"},
        "BTCUSDT: quantity 0.0001 is below the minimum order quantity 0.001",
    ),
    (
        "off the quantity step",
        {"side": "buy", "qty": "0.0015"},
        "BTCUSDT: quantity 0.0015 is not a multiple of the quantity step 0.001 (nearest valid: "
        "0.001 or 0.002)",
    ),
    (
        "above the maximum market quantity",
        {"side": "buy", "qty": "120"},
        "BTCUSDT: quantity 120 is above the maximum market order quantity 119",
    ),
    (
        "below the minimum order value",
        {"side": "buy", "qty": "0.01"},
        "BTCUSDT: order value 1 USDT (qty 0.01 × price 100) is below the minimum order value 5 "
        "USDT",
    ),
    (
        "a limit price off the tick",
        {"side": "buy", "kind": "limit", "price": "99.95"},
        "BTCUSDT: price 99.95 is not a multiple of the tick size 0.1 (nearest valid: 99.9 or 100)",
    ),
    (
        "a trigger at the last price has no direction",
        {"side": "buy", "kind": "stop_market", "trigger": "100"},
        "trigger price 100 equals the last price: the trigger direction cannot be inferred "
        "(Bybit 110092 / 110093); place it above the last price to trigger on a rise or below "
        "it to trigger on a fall",
    ),
    (
        "a limit order without a price",
        {"side": "buy", "kind": "limit"},
        "order x for BTCUSDT: a limit order needs a limit price",
    ),
]


@pytest.mark.parametrize(("name", "order", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_orders_are_rejected_events(name: str, order: dict[str, Any], reason: str) -> None:
    scenario = Scenario([BAR0, (100, 101, 99, 100)])
    answer = scenario.order("x", **order)
    assert len(answer) == 1
    assert isinstance(answer[0], OrderRejected)
    assert answer[0].reason == reason
    scenario.finish()
    assert scenario.fills() == []


def test_insufficient_available_balance_names_both_amounts() -> None:
    """100 USDT at 1x cannot open 200 USDT of BTC (order cost 200 + 0.11 opening fee)."""
    scenario = Scenario([BAR0], config(starting_cash=Decimal(100), leverage=Decimal(1)))
    (answer,) = scenario.order("big", "buy", qty="2")
    assert isinstance(answer, OrderRejected)
    assert answer.reason == "insufficient available balance: needs 200.11 USDT, has 100.00 USDT"


def test_resting_orders_hold_margin_against_new_ones() -> None:
    scenario = Scenario([BAR0], config(starting_cash=Decimal(150), leverage=Decimal(1)))
    scenario.order("first", "buy", "limit", price="95")  # holds 95 + the 0.05225 opening fee
    (answer,) = scenario.order("second", "buy", "limit", price="95")
    assert isinstance(answer, OrderRejected)
    assert answer.reason == "insufficient available balance: needs 95.05 USDT, has 54.95 USDT"


def test_an_order_closing_a_position_needs_no_margin() -> None:
    scenario = Scenario([BAR0, BAR0, BAR0], config(starting_cash=Decimal(120), leverage=Decimal(1)))
    scenario.order("open", "buy")
    scenario.step()
    (answer,) = scenario.order("close", "sell")
    assert type(answer).__name__ == "OrderAccepted"


def test_a_reused_client_order_id_is_refused() -> None:
    scenario = Scenario([BAR0, BAR0])
    scenario.order("same", "buy")
    (answer,) = scenario.order("same", "buy")
    assert isinstance(answer, OrderRejected)
    assert (
        answer.reason == "client order id same is already used (110072 OrderLinkedID is duplicate)"
    )


def test_a_stop_without_margin_is_rejected_when_it_triggers() -> None:
    """Bybit reserves a stop order's cost only at the trigger; the check happens then."""
    scenario = Scenario(
        [BAR0, (100, 103, 99, 102)], config(starting_cash=Decimal(50), leverage=Decimal(1))
    )
    scenario.order("stop", "buy", "stop_market", trigger="102")
    scenario.finish()
    assert scenario.happenings() == [
        (0, "OrderAccepted", "stop"),
        (1, "OrderTriggered", "stop"),
        (1, "OrderRejected", "stop"),
    ]
    assert scenario.reasons() == [
        "insufficient available balance: needs 102.06 USDT, has 50.00 USDT"
    ]


def test_protection_that_would_fire_at_once_is_refused_like_bybit() -> None:
    scenario = Scenario([BAR0, BAR0])
    scenario.order("open", "buy")
    scenario.step()
    with pytest.raises(RejectedError, match=r"TakeProfit:99 set for Buy position should be higher"):
        scenario.protect(take_profit="99")
    with pytest.raises(RejectedError, match="can not set tp/sl/ts for zero position"):
        Scenario([BAR0]).protect(stop_loss="90")
