"""Simulated accounts recorded in one place keep their own ids apart (an id space each), and
an order's origin is still told by its id."""

from __future__ import annotations

from tradeplay.domain.values import ClientOrderId
from tradeplay.sim.book import Ids, Origin


def test_an_id_space_prefixes_every_id_the_exchange_gives() -> None:
    ids = Ids("BTCUSDT")
    assert (ids.order(), ids.trade(), ids.system(Origin.STOP_LOSS)) == (
        "BTCUSDT:sim-o1",
        "BTCUSDT:sim-t1",
        "BTCUSDT:sl-1",
    )
    plain = Ids()
    assert (plain.order(), plain.trade(), plain.system(Origin.TAKE_PROFIT)) == (
        "sim-o1",
        "sim-t1",
        "tp-1",
    )


def test_the_origin_of_a_spaced_id() -> None:
    assert Origin.of(ClientOrderId("BTCUSDT:sl-2")) is Origin.STOP_LOSS
    assert Origin.of(ClientOrderId("ETHUSDT:liq-7")) is Origin.LIQUIDATION
    assert Origin.of(ClientOrderId("emaab12-3")) is Origin.USER
