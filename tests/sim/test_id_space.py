"""Simulated accounts recorded in one place keep their own ids apart (an id space each), and
an order's origin is still told by its id."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.order import Order
from tradeplay.domain.values import ClientOrderId, OrderType, Side, Symbol
from tradeplay.sim.book import Ids, Origin


def test_an_id_space_prefixes_every_id_the_exchange_gives() -> None:
    ids = Ids("BTCUSDT")
    assert (ids.order(), ids.trade(), ids.system(Origin.STOP_LOSS)) == (
        "BTCUSDT_sim-o1",
        "BTCUSDT_sim-t1",
        "BTCUSDT_sl-1",
    )
    plain = Ids()
    assert (plain.order(), plain.trade(), plain.system(Origin.TAKE_PROFIT)) == (
        "sim-o1",
        "sim-t1",
        "tp-1",
    )


def test_the_origin_of_a_spaced_id() -> None:
    assert Origin.of(ClientOrderId("BTCUSDT_sl-2")) is Origin.STOP_LOSS
    assert Origin.of(ClientOrderId("ETHUSDT_liq-7")) is Origin.LIQUIDATION
    assert Origin.of(ClientOrderId("emaab12-3")) is Origin.USER
    assert Origin.of(ClientOrderId("BTCUSDT-3f2a1b_tp-4")) is Origin.TAKE_PROFIT
    assert Origin.of(ClientOrderId("my_sl-3")) is Origin.USER  # placed by hand, not a space


def test_a_spaced_id_is_a_valid_order_link_id() -> None:
    """The exchange's own orders are recorded as orders like any other: their ids follow
    Bybit's rule for an orderLinkId (1 to 36 letters, digits, '_' or '-')."""
    link = Ids("1000000MOGUSDT-3f2a1b").system(Origin.TAKE_PROFIT)  # a symbol and a run
    order = Order.from_submitted(
        OrderSubmitted(
            client_order_id=link,
            time=datetime(2025, 5, 8, tzinfo=UTC),
            symbol=Symbol("1000000MOGUSDT"),
            side=Side.SELL,
            order_type=OrderType.MARKET,
            qty=Decimal(1),
            reduce_only=True,
        )
    )
    assert Origin.of(order.client_order_id) is Origin.TAKE_PROFIT


def test_an_id_space_outside_bybits_characters_is_refused() -> None:
    with pytest.raises(ValueError, match=r"id space 'BTCUSDT\.3f2a1b': expected a symbol"):
        Ids("BTCUSDT.3f2a1b")
