"""The stream-fed account view answers a read only when it is as fresh as REST would be.

Each scenario feeds the view what the private topics, the closed bars and our own orders would
tell it, and states whether a read is served from the view (the report) or must go to REST
(``None``)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

from tradeplay.domain.values import ClientOrderId, Symbol
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit.account_view import PRIVATE_TOPICS, AccountView, BarRange
from tradeplay.venues.bybit.reports import (
    BalanceReport,
    OrderReport,
    PositionReport,
    balance_report,
    order_report,
    position_report,
)

BTC = Symbol("BTCUSDT")
MINUTE = 60_000
T0 = 1_748_707_200_000  # 2025-05-31 16:00 UTC: a funding settlement
ENTRY = ClientOrderId("tpl-1")
D = Decimal


def position(size: str, seq: int, **fields: str) -> PositionReport:
    item: dict[str, object] = {"symbol": "BTCUSDT", "side": "Buy" if size != "0" else ""}
    item |= {"size": size, "avgPrice": "60000", "leverage": "1", "seq": seq, **fields}
    return position_report(item)


def wallet(balance: str) -> BalanceReport:
    return balance_report({"coin": [{"coin": "USDT", "walletBalance": balance}]})


def order(status: str, filled: str, link_id: str = ENTRY, **fields: str) -> OrderReport:
    item = {
        "orderId": f"id-{link_id}",
        "orderLinkId": link_id,
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "orderStatus": status,
        "qty": "0.1",
        "cumExecQty": filled,
        "createdTime": str(T0),
        "updatedTime": str(T0),
    }
    return order_report(item | fields)


def bar(low: str, high: str, open_ms: int = T0 + 5 * MINUTE) -> BarRange:
    return BarRange(open_ms, open_ms + MINUTE, D(low), D(high))


def synced_view(size: str = "0.1") -> AccountView:
    """A view whose four topics are synced, holding a position and a balance."""
    view = AccountView()
    view.on_position(position(size, seq=10))
    view.on_balance(wallet("10000"))
    for topic in PRIVATE_TOPICS:
        view.synced(topic)
    return view


def test_a_synced_view_answers_and_an_unsynced_one_does_not() -> None:
    view = AccountView()
    view.on_position(position("0.1", seq=10))
    view.on_balance(wallet("10000"))
    for topic in sorted(PRIVATE_TOPICS - {"wallet"}):
        view.synced(topic)
    assert view.position(BTC) is None
    assert view.balance() is None
    view.synced("wallet")
    assert view.position(BTC) == position("0.1", seq=10)
    assert view.balance() == wallet("10000")


def test_a_lost_topic_sends_reads_to_rest_until_it_is_synced_again() -> None:
    view = synced_view()
    view.lost("execution")
    assert (view.position(BTC), view.balance(), view.open_orders(BTC)) == (None, None, None)
    view.synced("execution")
    assert view.position(BTC) == position("0.1", seq=10)


def test_a_fill_received_holds_the_position_until_the_update_with_its_seq() -> None:
    view = synced_view()
    view.on_fill(BTC, seq=11, link_id=None, qty=D("0.1"))
    assert view.position(BTC) is None
    view.on_position(position("0.2", seq=11))
    assert view.position(BTC) == position("0.2", seq=11)


def test_a_fill_received_holds_the_balance_until_the_next_wallet_message() -> None:
    view = synced_view()
    view.on_fill(BTC, seq=11, link_id=None, qty=D("0.1"))
    assert view.balance() is None
    view.on_balance(wallet("9990"))
    assert view.balance() == wallet("9990")


def test_an_order_in_flight_holds_every_read_until_it_is_final_with_all_its_fills() -> None:
    """Bybit may push the order's ``Filled`` before its execution: both are needed."""
    view = synced_view("0")
    view.expect(ENTRY, BTC)
    assert (view.position(BTC), view.balance(), view.open_orders(None)) == (None, None, None)
    view.on_order(order("Filled", "0.1"))
    view.on_position(position("0.1", seq=11))
    view.on_balance(wallet("9995"))
    assert view.position(BTC) is None  # the execution has not arrived yet
    view.on_fill(BTC, seq=11, link_id=ENTRY, qty=D("0.1"))
    view.on_balance(wallet("9994"))
    assert view.position(BTC) == position("0.1", seq=11)
    assert view.balance() == wallet("9994")
    assert view.open_orders(BTC) == []


def test_an_order_refused_before_the_book_holds_nothing() -> None:
    view = synced_view()
    view.expect(ENTRY, BTC)
    view.refused(ENTRY)
    assert view.position(BTC) == position("0.1", seq=10)


def test_an_older_position_update_does_not_overwrite_a_newer_one() -> None:
    view = synced_view()
    view.on_position(position("0", seq=9))
    assert view.position(BTC) == position("0.1", seq=10)


def test_a_final_order_is_not_reopened_by_a_late_message() -> None:
    view = synced_view()
    view.on_order(order("Cancelled", "0", link_id="tpl-2", orderType="Limit", price="50000"))
    view.on_order(order("New", "0", link_id="tpl-2", orderType="Limit", price="50000"))
    assert view.open_orders(BTC) == []


def test_a_bar_reaching_the_stop_loss_sends_reads_to_rest_until_rest_answered() -> None:
    view = synced_view()
    view.on_position(position("0.1", seq=11, stopLoss="58800", takeProfit="62400"))
    view.bar_closed(BTC, bar("59000", "60500"))  # neither level reached
    assert view.position(BTC) is not None
    view.bar_closed(BTC, bar("58800", "59500"))
    assert (view.position(BTC), view.balance()) == (None, None)
    generation = view.generation()
    view.refreshed_position(position("0", seq=12), generation)
    view.refreshed_balance(wallet("9800"), generation)
    assert view.position(BTC) == position("0", seq=12)
    assert view.balance() == wallet("9800")


def test_a_rest_answer_overtaken_by_a_new_fill_clears_nothing() -> None:
    view = synced_view()
    view.on_position(position("0.1", seq=11, stopLoss="58800"))
    view.bar_closed(BTC, bar("58000", "59000"))
    generation = view.generation()
    view.on_fill(BTC, seq=13, link_id=None, qty=D("0.1"))  # while the request was away
    view.refreshed_position(position("0", seq=12), generation)
    assert view.position(BTC) is None


def test_levels_we_set_are_watched_before_the_position_topic_reports_them() -> None:
    view = synced_view()
    view.protecting(TradingStop(BTC, stop_loss=D("59000")))
    view.bar_closed(BTC, bar("58900", "59500"))
    assert view.position(BTC) is None


def test_a_trailing_stop_sends_reads_to_rest_at_every_bar() -> None:
    view = synced_view()
    view.on_position(position("0.1", seq=11, trailingStop="100"))
    view.bar_closed(BTC, bar("60000", "60001"))
    assert view.position(BTC) is None


def test_a_bar_holding_a_funding_settlement_counts_only_with_a_position() -> None:
    settling = bar("60000", "60001", open_ms=T0 - MINUTE)  # closes at 16:00
    view = synced_view()
    view.funding_interval(BTC, timedelta(hours=8))
    view.bar_closed(BTC, settling)
    assert view.balance() is None
    flat = synced_view("0")
    flat.bar_closed(BTC, settling)
    assert flat.balance() == wallet("10000")
    view = synced_view()
    view.funding_interval(BTC, timedelta(hours=8))
    view.bar_closed(BTC, bar("60000", "60001", open_ms=T0 + 60 * MINUTE))  # 17:00: not 8 h
    assert view.balance() == wallet("10000")


def test_a_bar_reaching_a_resting_order_counts_and_the_unknown_liquidation_is_bounded() -> None:
    view = synced_view("0")
    view.on_order(order("New", "0", link_id="tpl-3", orderType="Limit", price="59000"))
    view.bar_closed(BTC, bar("58990", "59100"))
    assert view.position(BTC) is None
    leveraged = synced_view()
    leveraged.on_position(position("0.1", seq=11, leverage="10"))  # no liqPrice: 57000 bound
    leveraged.bar_closed(BTC, bar("57500", "58000"))
    assert leveraged.position(BTC) is not None
    leveraged.bar_closed(BTC, bar("56900", "58000"))
    assert leveraged.position(BTC) is None


def test_a_resync_drops_open_orders_that_ended_while_the_socket_was_down() -> None:
    view = synced_view()
    view.on_order(order("New", "0", link_id="tpl-4", orderType="Limit", price="59000"))
    known = view.open_order_ids()
    view.on_order(order("New", "0", link_id="tpl-5", orderType="Limit", price="58000"))
    view.resynced_orders([], known)  # tpl-5 arrived while the request was away: kept
    assert [o.client_order_id for o in view.open_orders(BTC) or []] == ["tpl-5"]


def test_a_read_waits_briefly_for_the_updates_of_a_fill_already_received() -> None:
    """The execution came first; its position and wallet updates are on their way."""
    view = synced_view()
    view.on_fill(BTC, seq=11, link_id=None, qty=D("0.1"))

    def updates() -> None:
        view.on_position(position("0.2", seq=11))
        view.on_balance(wallet("9990"))

    later = threading.Timer(0.05, updates)
    later.start()
    try:
        assert view.position(BTC, wait_s=30.0) == position("0.2", seq=11)
        assert view.balance(wait_s=30.0) == wallet("9990")
    finally:
        later.join()


def test_a_read_does_not_wait_for_a_resting_order_or_a_bar_that_reached_a_level() -> None:
    """Nothing says when those will move: REST answers at once."""
    resting = synced_view()
    resting.expect(ClientOrderId("tpl-6"), BTC)
    resting.on_order(order("New", "0", link_id="tpl-6", orderType="Limit", price="59000"))
    touched = synced_view()
    touched.on_position(position("0.1", seq=11, stopLoss="59000"))
    touched.bar_closed(BTC, bar("58000", "60000"))
    answers: list[object] = []
    reads = threading.Thread(
        target=lambda: answers.extend(
            [resting.position(BTC, 30.0), resting.balance(30.0), touched.position(BTC, 30.0)]
        )
    )
    reads.start()
    reads.join(timeout=10.0)
    assert answers == [None, None, None]


def test_an_order_in_flight_holds_only_the_reads_it_could_change() -> None:
    """Another pair's order on the account is concurrent with a reader of its own symbol; the
    wallet, which any fill changes, waits for the reader's own orders and for fills received."""
    eth = Symbol("ETHUSDT")
    view = synced_view()
    view.expect(ENTRY, eth)
    assert view.position(BTC) == position("0.1", seq=10)
    assert view.open_orders(BTC) == []
    assert (view.open_orders(eth), view.open_orders(None)) == (None, None)
    assert view.balance(trading=BTC) == wallet("10000")
    assert view.balance(trading=eth) is None
    assert view.balance() is None
    view.on_fill(eth, seq=11, link_id=ENTRY, qty=D("0.1"))
    assert view.balance(trading=BTC) is None  # a fill received: the wallet is behind it


def test_a_rest_answer_clears_what_arrived_before_it_even_if_other_symbols_moved_since() -> None:
    view = synced_view()
    view.on_position(position("0.1", seq=11, stopLoss="58800"))
    view.bar_closed(BTC, bar("58000", "59000"))
    generation = view.generation()
    view.on_fill(Symbol("ETHUSDT"), seq=20, link_id=None, qty=D("1"))  # while away: not BTC
    view.refreshed_position(position("0", seq=12), generation)
    assert view.position(BTC) == position("0", seq=12)
    view.refreshed_balance(wallet("9900"), generation)
    assert view.balance() is None  # the ETH fill came after the request: wallet still behind


def test_our_order_is_told_from_the_order_topic_while_the_view_waits_for_it() -> None:
    view = synced_view("0")
    assert view.order_of(ENTRY) == (False, None)  # not ours to vouch for: ask REST
    view.expect(ENTRY, BTC)
    assert view.order_of(ENTRY) == (True, None)  # not reported yet
    view.on_order(order("Filled", "0.1", avgPrice="60000"))
    assert view.order_of(ENTRY) == (True, order("Filled", "0.1", avgPrice="60000"))
    view.lost("order")
    assert view.order_of(ENTRY)[0], "a final report stays true"
