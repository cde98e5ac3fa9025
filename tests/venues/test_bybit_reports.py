"""Bybit's recorded answers become exact reports: orders, fills, funding, positions, wallet."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.venues.bybit_fixtures import ccxt_items, ccxt_response, nautilus
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import Liquidity, OrderType, Side, TimeInForce
from tradeplay.venues.bybit.executions import execution_report
from tradeplay.venues.bybit.reports import (
    balance_report,
    order_report,
    position_report,
)

D = Decimal


# ------------------------------------------------------------------------------ orders


def test_a_filled_market_order_reports_its_fills_exactly_and_not_its_protective_price(
    bybit_fixtures: Path,
) -> None:
    (item,) = ccxt_items(bybit_fixtures, "order_history_linear_market_filled.json")
    report = order_report(item)
    assert report.status is OrderStatus.FILLED
    assert report.order_type is OrderType.MARKET
    assert report.price is None  # "123615.9" is Bybit's slippage limit, not ours
    assert report.avg_price == D("123498")
    assert (report.filled_qty, report.filled_value) == (D("0.001"), D("123.498"))
    assert report.fees == D("0.0679239")  # from cumFeeDetail {"USDT": ...}
    assert report.client_order_id is None  # orderLinkId "" = not placed with our id
    assert report.reason == ""  # EC_NoError / UNKNOWN say nothing
    assert report.created_at == datetime(2025, 9, 14, 8, 13, 0, 469000, tzinfo=UTC)
    order = report.to_order()
    assert order.avg_fill_price == D("123498")
    assert order.client_order_id == "aee7453a-a100-465f-857a-3db780e9329a"


def test_a_reduce_only_close_keeps_its_flag_and_side(bybit_fixtures: Path) -> None:
    close, entry = (
        order_report(i)
        for i in ccxt_items(
            bybit_fixtures, "order_history_linear_market_open_then_reduce_only_close.json"
        )
    )
    assert (close.side, close.reduce_only) == (Side.SELL, True)
    assert (entry.side, entry.reduce_only) == (Side.BUY, False)
    assert close.avg_price == D("122529.9")


def test_an_open_limit_order_has_no_average_price_yet(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "order_realtime_linear_limit_new.json")
    report = order_report(item)
    assert report.status is OrderStatus.NEW
    assert (report.order_type, report.time_in_force) == (OrderType.LIMIT, TimeInForce.GTC)
    assert report.price == D("102000")
    assert report.avg_price is None  # avgPrice ""
    assert report.fees == 0  # cumFeeDetail {}
    assert report.is_open


def test_websocket_order_messages_map_every_status(bybit_fixtures: Path) -> None:
    cancelled = order_report(nautilus(bybit_fixtures, "ws_account_order.json")["data"][0])
    assert cancelled.status is OrderStatus.CANCELLED  # CancelByUser: not an expiry
    assert cancelled.reason == "CancelByUser"
    assert cancelled.client_order_id == "client-1"
    stop = order_report(nautilus(bybit_fixtures, "ws_account_order_stop_market.json")["data"][0])
    assert (stop.status, stop.order_type) == (OrderStatus.UNTRIGGERED, OrderType.STOP_MARKET)
    assert stop.trigger_price == D("45000.00")
    assert stop.price is None
    filled = order_report(nautilus(bybit_fixtures, "ws_account_order_filled.json")["data"][0])
    assert filled.status is OrderStatus.FILLED
    assert filled.fees == D("1.650028")  # no cumFeeDetail: the deprecated cumExecFee


def test_a_partially_filled_rejection_keeps_its_fills_and_reason(bybit_fixtures: Path) -> None:
    body = nautilus(bybit_fixtures, "http_get_order_partially_filled_rejected.json")
    report = order_report(body["result"]["list"][0])
    assert report.status is OrderStatus.REJECTED
    assert report.reason == "INSUFFICIENT_MARGIN"
    assert report.filled_qty == D("0.005")


def test_position_tp_sl_orders_are_conditional_and_named_by_their_stop_type(
    bybit_fixtures: Path,
) -> None:
    body = nautilus(bybit_fixtures, "http_get_orders_realtime_tp_sl.json")
    take, stop = (order_report(i) for i in body["result"]["list"])
    assert (take.order_type, take.stop_order_type) == (OrderType.STOP_MARKET, "TakeProfit")
    assert (stop.order_type, stop.price) == (OrderType.STOP_LIMIT, D("47500.00"))
    assert take.avg_price is None  # avgPrice null in this recording


def test_an_ioc_remainder_that_nobody_cancelled_is_expired(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "order_history_linear_market_filled.json")
    partly = {**item, "orderStatus": "Cancelled", "cumExecQty": "0.0005"}
    assert order_report(partly).status is OrderStatus.EXPIRED
    by_user = {**partly, "cancelType": "CancelByUser"}
    assert order_report(by_user).status is OrderStatus.CANCELLED


# ------------------------------------------------------------------------------ executions


def test_a_trade_execution_is_a_fill_with_the_settle_coin_fee(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "execution_list_linear_trade.json")
    fill = execution_report(item)
    assert isinstance(fill, Fill)
    assert (fill.side, fill.qty, fill.price) == (Side.BUY, D("0.1"), D("85.11"))
    assert fill.fee == D("0.00468105")
    assert fill.fee_currency == "USDT"  # feeCurrency "" in real linear executions
    assert fill.liquidity is Liquidity.TAKER
    assert fill.value == D("8.511")


def test_a_websocket_execution_carries_our_order_id(bybit_fixtures: Path) -> None:
    message = nautilus(bybit_fixtures, "ws_account_execution.json")
    fill = execution_report(message["data"][0])
    assert isinstance(fill, Fill)
    assert fill.client_order_id == "test-order-link-001"
    assert (fill.side, fill.qty) == (Side.SELL, D("0.5"))


@pytest.mark.parametrize(
    ("index", "payment", "rate"),
    [(0, D("-0.00708126"), D("-0.000881")), (1, D("0.0007797"), D("0.0001"))],
)
def test_funding_executions_are_settlements_not_fills(
    bybit_fixtures: Path, index: int, payment: Decimal, rate: Decimal
) -> None:
    item = ccxt_items(bybit_fixtures, "execution_list_linear_funding_history_first3.json")[index]
    funding = execution_report(item)
    assert isinstance(funding, FundingApplied)
    assert (funding.payment, funding.rate, funding.size) == (payment, rate, D("0.1"))
    assert funding.time.hour in (0, 8, 16)


def test_a_single_funding_row_is_recognised_too(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "execution_list_linear_funding.json")
    funding = execution_report(item)
    assert isinstance(funding, FundingApplied)
    assert funding.payment == D("0.00867")  # positive: the long paid


# ------------------------------------------------------------------------------ positions


def test_an_open_long_position_is_signed_and_exact(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "position_list_linear_open_long.json")
    report = position_report(item)
    assert (report.size, report.entry_price) == (D("1.2"), D("64.59947917"))
    assert report.take_profit is None  # ""
    assert report.liquidation_price is None
    assert report.trailing_stop is None  # "0"
    position = report.to_position()
    assert position.size == D("1.2")
    assert position.unrealized_pnl(D("71.1")) == D("7.800625")  # Bybit's unrealisedPnl


def test_a_flat_position_has_no_entry(bybit_fixtures: Path) -> None:
    (item,) = ccxt_items(bybit_fixtures, "position_list_linear_flat.json")
    position = position_report(item).to_position()
    assert position.is_flat
    assert position.entry_price is None


def test_a_websocket_short_reads_its_entry_price_field(bybit_fixtures: Path) -> None:
    report = position_report(nautilus(bybit_fixtures, "ws_account_position.json")["data"][0])
    assert (report.size, report.entry_price) == (D("-0.01"), D("3641.075"))
    assert report.position_idx == 0


# ------------------------------------------------------------------------------ wallet


def test_the_wallet_reports_the_coin_and_the_free_balance_as_ccxt_computes_it(
    bybit_fixtures: Path,
) -> None:
    (account,) = ccxt_items(bybit_fixtures, "wallet_balance_unified.json")
    usdt = balance_report(account, "USDT")
    assert usdt.total_available == D("89987.9688149")
    assert usdt.free == usdt.wallet_balance - usdt.position_margin - usdt.order_margin - usdt.locked
    domain = usdt.to_account()
    domain.check_balanced()
    assert domain.wallet_balance == usdt.wallet_balance


def test_a_websocket_wallet_message_reads_the_same(bybit_fixtures: Path) -> None:
    item = nautilus(bybit_fixtures, "ws_account_wallet.json")["data"][0]
    usdt = balance_report(item, "USDT")
    assert usdt.wallet_balance == D("9647.75537647")
    assert usdt.position_margin == D("127.8573161")
    assert balance_report(item, "ETH").wallet_balance == 0  # not listed = nothing held


def test_the_envelope_of_a_recording_is_read_whatever_its_scalar_types(
    bybit_fixtures: Path,
) -> None:
    from tradeplay.venues.bybit.client import answer_from

    answer = answer_from(ccxt_response(bybit_fixtures, "order_create_ack.json"))
    assert (answer.ret_code, answer.time_ms) == (0, 1706653482432)  # "0", "1706653482432"
    assert answer.result["orderId"] == "1609920528435648000"
