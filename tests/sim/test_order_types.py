"""Scenario tables: every order type and time in force, candles in, exact fills out.

Each case sends its orders after bar 0 closed (last price = bar 0's close, 100), then feeds the
remaining bars one at a time. Fees are Bybit's base rates: taker 0.055 %, maker 0.02 %.
Fills read ``(bar, order, side, qty, price, fee, liquidity)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from tests.sim.scenarios import Scenario, config

BAR0 = (100, 101, 99, 100)


@dataclass(frozen=True)
class Case:
    name: str
    bars: list[tuple[float, ...]]
    orders: list[dict[str, Any]]
    fills: list[tuple[int, str, str, str, str, str, str]]
    happenings: list[tuple[int, str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "a market order fills at the next bar's open as a taker",
        [BAR0, (101, 102, 100, 101)],
        [{"cid": "m", "side": "buy"}],
        [(1, "m", "buy", "1", "101", "0.05555", "taker")],
        [(0, "OrderAccepted", "m")],
    ),
    Case(
        "a limit below the market rests and fills at its price as a maker",
        [BAR0, (100, 100.5, 99.5, 100), (100, 100, 98.5, 99)],
        [{"cid": "l", "side": "buy", "kind": "limit", "price": "99"}],
        [(2, "l", "buy", "1", "99", "0.0198", "maker")],
    ),
    Case(
        "a marketable limit takes the better open",
        [BAR0, (100.5, 101, 100, 100.5)],
        [{"cid": "l", "side": "buy", "kind": "limit", "price": "101"}],
        [(1, "l", "buy", "1", "100.5", "0.055275", "taker")],
    ),
    Case(
        "a marketable limit crossed by a gap fills at the open (buy limit 101, open 95)",
        [BAR0, (95, 96, 94, 95)],
        [{"cid": "l", "side": "buy", "kind": "limit", "price": "101"}],
        [(1, "l", "buy", "1", "95", "0.05225", "taker")],
    ),
    Case(
        "a marketable limit that the open gapped away from rests, then fills as a maker",
        [BAR0, (102, 103, 99, 101)],
        [{"cid": "l", "side": "buy", "kind": "limit", "price": "100"}],
        [(1, "l", "buy", "1", "100", "0.02", "maker")],
    ),
    Case(
        "a resting limit gapped through fills at its own limit, not the better open",
        [BAR0, (100, 100.5, 99.5, 100), (97, 98, 96, 97)],
        [{"cid": "l", "side": "buy", "kind": "limit", "price": "99"}],
        [(2, "l", "buy", "1", "99", "0.0198", "maker")],
    ),
    Case(
        "a buy stop-market triggers on the rise and fills at its trigger as a taker",
        [BAR0, (100, 103, 99.5, 102.5)],
        [{"cid": "s", "side": "buy", "kind": "stop_market", "trigger": "102"}],
        [(1, "s", "buy", "1", "102", "0.0561", "taker")],
        [(0, "OrderAccepted", "s"), (1, "OrderTriggered", "s")],
    ),
    Case(
        "a sell stop gapped through fills at the open, the worse price",
        [BAR0, (96, 97, 95, 96)],
        [{"cid": "s", "side": "sell", "kind": "stop_market", "trigger": "98"}],
        [(1, "s", "sell", "1", "96", "0.0528", "taker")],
    ),
    Case(
        "a stop-limit marketable where it triggers takes liquidity at the trigger",
        [BAR0, (100, 103, 99.5, 102)],
        [{"cid": "s", "side": "buy", "kind": "stop_limit", "trigger": "102", "price": "102.5"}],
        [(1, "s", "buy", "1", "102", "0.0561", "taker")],
    ),
    Case(
        "a stop-limit whose limit is not marketable rests after the trigger, then makes",
        [BAR0, (100, 103, 99, 101)],  # flat: nearer extreme first, 100 → 99 → 103 → 101
        [{"cid": "s", "side": "buy", "kind": "stop_limit", "trigger": "102", "price": "101.5"}],
        [(1, "s", "buy", "1", "101.5", "0.0203", "maker")],
        [(0, "OrderAccepted", "s"), (1, "OrderTriggered", "s")],
    ),
    Case(
        "an IOC stop-limit whose limit is not marketable where it triggers expires",
        [BAR0, (100, 103, 99, 101)],
        [
            {
                "cid": "s",
                "side": "buy",
                "kind": "stop_limit",
                "trigger": "102",
                "price": "101.5",
                "tif": "ioc",
            }
        ],
        [],
        [(0, "OrderAccepted", "s"), (1, "OrderTriggered", "s"), (1, "OrderExpired", "s")],
    ),
    Case(
        "an IOC limit not marketable at the open expires",
        [BAR0, (100, 101, 98, 99)],
        [{"cid": "i", "side": "buy", "kind": "limit", "price": "99", "tif": "ioc"}],
        [],
        [(0, "OrderAccepted", "i"), (1, "OrderExpired", "i")],
    ),
    Case(
        "an IOC limit fills what the volume allows and the rest expires",
        [BAR0, (100, 101, 99, 100, 5)],
        [{"cid": "i", "side": "buy", "kind": "limit", "price": "101", "tif": "ioc"}],
        [(1, "i", "buy", "0.5", "100", "0.0275", "taker")],
        [(0, "OrderAccepted", "i"), (1, "OrderExpired", "i")],
        {"max_volume_share": Decimal("0.1")},
    ),
    Case(
        "a FOK limit that cannot fill whole fills nothing",
        [BAR0, (100, 101, 99, 100, 5)],
        [{"cid": "f", "side": "buy", "kind": "limit", "price": "101", "tif": "fok"}],
        [],
        [(0, "OrderAccepted", "f"), (1, "OrderExpired", "f")],
        {"max_volume_share": Decimal("0.1")},
    ),
    Case(
        "a FOK limit with volume enough fills whole",
        [BAR0, (100, 101, 99, 100, 50)],
        [{"cid": "f", "side": "buy", "kind": "limit", "price": "101", "tif": "fok"}],
        [(1, "f", "buy", "1", "100", "0.055", "taker")],
        settings={"max_volume_share": Decimal("0.1")},
    ),
    Case(
        "a GTC limit fills bar by bar as volume allows, the rest keeps working",
        [BAR0, (100, 100, 98, 99, 4), (99, 99.5, 98, 99, 4), (99, 99.5, 98, 99, 4)],
        [{"cid": "g", "side": "buy", "kind": "limit", "price": "99"}],
        [
            (1, "g", "buy", "0.4", "99", "0.00792", "maker"),
            (2, "g", "buy", "0.4", "99", "0.00792", "maker"),
            (3, "g", "buy", "0.2", "99", "0.00396", "maker"),
        ],
        settings={"max_volume_share": Decimal("0.1")},
    ),
    Case(
        "a GTC market order's rest fills at the following opens",
        [BAR0, (100, 101, 99, 100, 6), (101, 102, 100, 101, 6)],
        [{"cid": "m", "side": "buy"}],
        [
            (1, "m", "buy", "0.6", "100", "0.033", "taker"),
            (2, "m", "buy", "0.4", "101", "0.02222", "taker"),
        ],
        settings={"max_volume_share": Decimal("0.1")},
    ),
    Case(
        "a post-only limit that does not cross rests and fills as a maker",
        [BAR0, (100, 100, 98, 99)],
        [{"cid": "p", "side": "buy", "kind": "limit", "price": "99", "tif": "post_only"}],
        [(1, "p", "buy", "1", "99", "0.0198", "maker")],
    ),
    Case(
        "orders meet the path in the order it reaches them (flat: nearer extreme first)",
        [BAR0, (100, 104, 99, 103)],  # 100 → 99 → 104 → 103
        [
            {"cid": "up", "side": "sell", "kind": "limit", "price": "103.5"},
            {"cid": "down", "side": "buy", "kind": "limit", "price": "99.5"},
        ],
        [
            (1, "down", "buy", "1", "99.5", "0.0199", "maker"),
            (1, "up", "sell", "1", "103.5", "0.0207", "maker"),
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_order_scenario(case: Case) -> None:
    scenario = Scenario(case.bars, config(**case.settings))
    for order in case.orders:
        scenario.order(**order)
    scenario.finish()
    assert scenario.fills() == case.fills
    if case.happenings:
        assert scenario.happenings() == case.happenings
    scenario.exchange.ledger().check([scenario.exchange.position("BTCUSDT")])


def test_a_market_order_waits_for_the_next_bar() -> None:
    """Sent after bar 0 closed, nothing happens until bar 1 is processed."""
    scenario = Scenario([BAR0, (101, 102, 100, 101)])
    scenario.order("m", "buy")
    assert scenario.fills() == []
    assert [o.client_order_id for o in scenario.exchange.open_orders()] == ["m"]
    scenario.step()
    assert scenario.size == "1"
    assert scenario.exchange.open_orders() == ()


def test_cancel_removes_a_resting_order_and_deactivates_an_untriggered_stop() -> None:
    scenario = Scenario([BAR0, (100, 100.5, 99.5, 100)])
    scenario.order("l", "buy", "limit", price="98")
    scenario.order("s", "buy", "stop_market", trigger="105")
    cancelled = scenario.exchange.cancel("BTCUSDT", "l")  # type: ignore[arg-type]
    deactivated = scenario.exchange.cancel("BTCUSDT", "s")  # type: ignore[arg-type]
    assert [type(e).__name__ for e in (*cancelled, *deactivated)] == [
        "OrderCancelled",
        "OrderDeactivated",
    ]
    assert scenario.exchange.cancel("BTCUSDT", "l") == ()  # type: ignore[arg-type]
    assert scenario.exchange.open_orders() == ()


def test_reduce_only_is_clipped_to_the_position_and_the_rest_cancelled() -> None:
    scenario = Scenario([BAR0, (100, 101, 99, 100), (100, 101, 99, 100)])
    scenario.order("open", "buy")
    scenario.step()
    scenario.order("close", "sell", qty="2", reduce_only=True)
    scenario.step()
    assert scenario.fills()[-1] == (2, "close", "sell", "1", "100", "0.055", "taker")
    assert scenario.happenings()[-1] == (2, "OrderCancelled", "close")
    assert scenario.size == "0"


def test_a_reduce_only_stop_is_cancelled_when_the_position_closes() -> None:
    scenario = Scenario([BAR0, (100, 101, 99, 100), (100, 101, 99, 100)])
    scenario.order("open", "buy")
    scenario.step()
    scenario.order("stop", "sell", "stop_market", trigger="90", reduce_only=True)
    scenario.order("close", "sell", reduce_only=True)
    scenario.step()
    assert (2, "OrderDeactivated", "stop") in scenario.happenings()
    assert scenario.exchange.open_orders() == ()


def test_a_flip_clears_the_protection_and_the_stale_reduce_only_orders() -> None:
    scenario = Scenario([BAR0, (100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100)])
    scenario.order("open", "buy")
    scenario.step()
    scenario.protect(stop_loss="90")
    scenario.order("stop", "sell", "stop_market", trigger="95", reduce_only=True)
    scenario.order("flip", "sell", qty="2")
    scenario.step()
    assert scenario.size == "-1"
    assert (2, "OrderDeactivated", "stop") in scenario.happenings()
    assert scenario.exchange.trading_stop("BTCUSDT").stop_loss is None


def test_an_order_id_tells_which_of_the_exchanges_own_orders_it_was() -> None:
    from tradeplay.domain.values import ClientOrderId
    from tradeplay.sim.book import Origin

    assert Origin.of(ClientOrderId("sl-12")) is Origin.STOP_LOSS
    assert Origin.of(ClientOrderId("eod-3")) is Origin.END_OF_DATA
    assert Origin.of(None) is Origin.LIQUIDATION
    assert Origin.of(ClientOrderId("sl-ema")) is Origin.USER  # a trader's id that looks alike
    assert Origin.of(ClientOrderId("bt-7")) is Origin.USER
