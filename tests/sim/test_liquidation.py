"""Liquidation on the bar's path: taken over at the bankruptcy price, liquidation fee charged.

The margin arithmetic itself is specified in ``test_margin.py``; these scenarios check that the
exchange fires it at the right place on the path and books it.
"""

from __future__ import annotations

from decimal import Decimal

from tests.sim.scenarios import Scenario, config
from tradeplay.domain.events import OrderFilled
from tradeplay.domain.values import MarginMode

BAR0 = (100, 101, 99, 100)


def _liquidation(scenario: Scenario) -> OrderFilled:
    (fill,) = [
        e for _, e in scenario.log if isinstance(e, OrderFilled) and e.fill.client_order_id is None
    ]
    return fill


def test_isolated_long_is_liquidated_at_its_bankruptcy_price() -> None:
    """10x isolated long of 1 at 100: margin 10, liquidation price 90.45 (first tick at or below:
    90.4), bankruptcy price 90; the trader loses the margin and the 0.0495 liquidation fee."""
    scenario = Scenario(
        [BAR0, (100, 100.5, 99.5, 100), (100, 100, 91, 92), (92, 93, 89, 90)],
        config(margin_mode=MarginMode.ISOLATED),
    )
    scenario.order("entry", "buy")
    scenario.finish()
    filled = _liquidation(scenario)
    assert filled.client_order_id == "liq-1"
    assert (filled.fill.side.value, filled.fill.qty, filled.fill.price, filled.fill.fee) == (
        "sell",
        Decimal("1"),
        Decimal("90"),
        Decimal("0.0495"),
    )
    assert scenario.log[-1][0] == 3  # bar 2's low 91 stays above 90.4
    assert scenario.wallet == Decimal("10000") - Decimal("0.055") - 10 - Decimal("0.0495")
    assert scenario.size == "0"
    scenario.exchange.ledger().check([scenario.exchange.position("BTCUSDT")])


def test_the_stop_loss_above_the_liquidation_price_goes_first() -> None:
    scenario = Scenario(
        [BAR0, (100, 100.5, 99.5, 100), (100, 100, 85, 86)],
        config(margin_mode=MarginMode.ISOLATED),
    )
    scenario.order("entry", "buy")
    scenario.step()
    scenario.protect(stop_loss="92")
    scenario.finish()
    assert scenario.fills()[-1] == (2, "sl-1", "sell", "1", "92", "0.0506", "taker")


def test_cross_liquidation_leaves_a_zero_balance_not_a_negative_one() -> None:
    """20 USDT backing a 10x cross long of 1 at 100; the bar gaps far below the bankruptcy
    price. The exchange takes the position over at bankruptcy and the account ends at zero."""
    scenario = Scenario(
        [BAR0, (100, 100.5, 99.5, 100), (60, 61, 59, 60)],
        config(starting_cash=Decimal(20)),
    )
    scenario.order("entry", "buy")
    scenario.order("bid", "buy", "limit", qty="0.2", price="50")
    scenario.finish()
    filled = _liquidation(scenario)
    # Bankruptcy 80.0990… on the tick grid in the trader's favour; not the open at 60.
    assert filled.fill.price == Decimal("80.10")
    assert (2, "OrderCancelled", "bid") in scenario.happenings()  # cancelled before the takeover
    assert Decimal(0) <= scenario.wallet < Decimal("0.01")
    scenario.exchange.ledger().check([scenario.exchange.position("BTCUSDT")])


def test_a_long_backed_by_its_whole_cost_is_never_liquidated() -> None:
    scenario = Scenario(
        [BAR0, (100, 100.5, 99.5, 100), (100, 100, 1, 1)], config(leverage=Decimal(1))
    )
    scenario.order("entry", "buy")
    scenario.finish()
    assert scenario.size == "1"
