"""Market data in (klines, tickers, instruments) and order requests out, exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.venues.bybit_fixtures import ccxt_response, nautilus
from tradeplay.domain.errors import (
    InstrumentDefinitionError,
    InstrumentRuleError,
    OrderRejectedError,
)
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, OrderType, Side, TimeInForce
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit.market import (
    bybit_interval,
    instrument_from_answer,
    klines_from_rest,
    klines_from_ws,
    ticker_from_rest,
)
from tradeplay.venues.bybit.order_params import (
    create_order_params,
    leverage_params,
    protection_stop,
    trading_stop_params,
)

D = Decimal
HOUR = 3_600_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def btc(bybit_fixtures: Path) -> Instrument:
    path = (
        "nautilus_trader/python_adapter_resources/http_responses__linear__instrument_btc_usdt.json"
    )
    body = json.loads((bybit_fixtures / path).read_text())
    return instrument_from_answer(body["result"], "BTCUSDT")


def order(**fields: object) -> OrderSubmitted:
    base: dict[str, object] = {
        "client_order_id": ClientOrderId("tp-1"),
        "time": T0,
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.MARKET,
        "qty": D("0.01"),
    }
    return OrderSubmitted(**(base | fields))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ market data


def test_rest_klines_come_oldest_first_and_the_running_bar_is_not_closed(
    bybit_fixtures: Path,
) -> None:
    body = ccxt_response(bybit_fixtures, "kline_linear_1h.json")
    newest_start = 1706637600000
    bars = klines_from_rest(body["result"], HOUR, server_ms=newest_start + 1000)
    assert [b.start_ms for b in bars] == [1706630400000, 1706634000000, newest_start]
    assert [b.closed for b in bars] == [True, True, False]
    assert (bars[0].open, bars[0].close, bars[0].volume) == (
        D("43350.7"),
        D("43488"),
        D("1341.261"),
    )
    assert bars[0].row().tolist() == [1706630400000.0, 43350.7, 43492.5, 43204.5, 43488.0, 1341.261]


def test_a_websocket_kline_is_closed_only_by_its_confirm_flag(bybit_fixtures: Path) -> None:
    message = nautilus(bybit_fixtures, "ws_kline.json")
    topic, (bar,) = klines_from_ws(message)
    assert topic == "kline.5.BTCUSDT"
    assert (bar.start_ms, bar.close, bar.closed) == (1672324800000, D("16677"), False)
    confirmed = {**message, "data": [{**message["data"][0], "confirm": True}]}
    assert klines_from_ws(confirmed)[1][0].closed


@pytest.mark.parametrize(("name", "code"), [("1m", "1"), ("1h", "60"), ("4h", "240"), ("1d", "D")])
def test_timeframes_use_bybit_interval_codes(name: str, code: str) -> None:
    assert bybit_interval(Timeframe.parse(name)) == code


def test_the_ticker_gives_the_last_and_mark_prices(bybit_fixtures: Path) -> None:
    body = ccxt_response(bybit_fixtures, "tickers_linear_btcusdt.json")
    ticker = ticker_from_rest(body["result"], "BTCUSDT")
    assert (ticker.last_price, ticker.mark_price) == (D("51444.40"), D("51444.40"))
    assert ticker.funding_rate == D("-0.00046295")
    assert ticker.next_funding_ms == 1707926400000


def test_live_instrument_filters_come_from_instruments_info(btc: Instrument) -> None:
    assert (btc.tick_size, btc.qty_step, btc.min_qty) == (D("0.10"), D("0.001"), D("0.001"))
    assert btc.max_market_qty == D("500.000")
    assert btc.min_notional == D("5")
    assert btc.snapshot.startswith("live")


def test_an_instrument_with_its_funding_interval_in_hours_is_refused(bybit_fixtures: Path) -> None:
    body = nautilus(bybit_fixtures, "http_get_instruments_linear.json")  # fundingInterval: 8
    with pytest.raises(InstrumentDefinitionError, match="fundingInterval 8"):
        instrument_from_answer(body["result"], "BTCUSDT")


# ------------------------------------------------------------------------------ requests out


def test_a_market_order_is_sent_as_ccxt_sends_it_plus_our_id_and_one_way_mode(
    btc: Instrument,
) -> None:
    body = create_order_params(order(), btc)
    assert body == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "qty": "0.01",
        "orderLinkId": "tp-1",
        "positionIdx": 0,
    }


def test_a_post_only_reduce_only_limit_carries_price_and_time_in_force(btc: Instrument) -> None:
    limit = order(
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        price=D("65000.1"),
        time_in_force=TimeInForce.POST_ONLY,
        reduce_only=True,
        protection=Protection(stop_loss=Level(LevelKind.PRICE, D("70000"))),
    )
    body = create_order_params(limit, btc)
    assert (body["price"], body["timeInForce"], body["reduceOnly"]) == ("65000.1", "PostOnly", True)
    assert "stopLoss" not in body  # Bybit allows no TP/SL on a reduce-only order


@pytest.mark.parametrize(
    ("side", "trigger", "last", "direction"),
    [
        (Side.SELL, "58000", "60000", 2),  # a stop-loss below: fires on the way down
        (Side.BUY, "62000", "60000", 1),  # a breakout buy above: fires on the way up
        (Side.SELL, "60000", "60000", 2),  # at the price: the order's purpose decides
        (Side.BUY, "60000", "60000", 1),
    ],
)
def test_the_trigger_direction_is_inferred_from_the_last_price(
    btc: Instrument, side: Side, trigger: str, last: str, direction: int
) -> None:
    stop = order(side=side, order_type=OrderType.STOP_MARKET, trigger_price=D(trigger))
    body = create_order_params(stop, btc, last_price=D(last))
    assert (body["triggerPrice"], body["triggerDirection"]) == (trigger, direction)


def test_a_stop_without_a_last_price_is_refused(btc: Instrument) -> None:
    stop = order(order_type=OrderType.STOP_MARKET, trigger_price=D("58000"))
    with pytest.raises(OrderRejectedError, match="last price"):
        create_order_params(stop, btc)


def test_off_grid_quantities_are_refused_not_changed(btc: Instrument) -> None:
    with pytest.raises(InstrumentRuleError, match="quantity step"):
        create_order_params(order(qty=D("0.0105")), btc)


def test_absolute_protection_rides_on_the_create_request(btc: Instrument) -> None:
    protection = Protection(
        stop_loss=Level(LevelKind.PRICE, D("58000")),
        take_profit=Level(LevelKind.PRICE, D("62000")),
    )
    body = create_order_params(order(protection=protection), btc)
    assert (body["stopLoss"], body["takeProfit"], body["tpslMode"]) == ("58000", "62000", "Full")


def test_protection_from_the_fill_waits_for_the_fill_and_rounds_toward_the_entry(
    btc: Instrument,
) -> None:
    protection = Protection(
        stop_loss=Level(LevelKind.FRACTION, D("0.01")),
        take_profit=Level(LevelKind.RISK_MULTIPLE, D("2")),
    )
    assert "stopLoss" not in create_order_params(order(protection=protection), btc)
    stop = protection_stop("BTCUSDT", protection, Side.BUY, D("60000.05"), btc)
    # stop 1 % below 60000.05 = 59400.0495, up to 59400.1 (nearer the entry); target twice
    # the resolved risk 600.0005 above = 61200.051, down to 61200.0 (nearer the entry)
    assert stop.stop_loss == D("59400.1")
    assert stop.take_profit == D("61200.0")


def test_a_trading_stop_sends_every_level_and_zero_removes_one(btc: Instrument) -> None:
    body = trading_stop_params(TradingStop("BTCUSDT", stop_loss=D("59000")), btc)
    assert body == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "tpslMode": "Full",
        "positionIdx": 0,
        "takeProfit": "0",
        "stopLoss": "59000",
        "trailingStop": "0",
    }


def test_leverage_is_sent_for_both_sides_in_bybit_spelling(btc: Instrument) -> None:
    body = leverage_params("BTCUSDT", D("10.00"), btc)
    assert (body["buyLeverage"], body["sellLeverage"]) == ("10", "10")
