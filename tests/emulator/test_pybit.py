"""The official SDK (pybit 5.17.0) trades against the emulator as against Bybit."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websocket
from pybit import _websocket_stream, unified_trading
from pybit.exceptions import InvalidRequestError

from tests.emulator.conftest import KEY, SECRET
from tests.emulator.waiting import next_matching, subscribed
from tradeplay.emulator import EmulatorThread


def http(handle: EmulatorThread, key: str = KEY, secret: str = SECRET) -> unified_trading.HTTP:
    session = unified_trading.HTTP(testnet=False, api_key=key, api_secret=secret, max_retries=1)
    session.endpoint = handle.url  # pybit builds every URL from this attribute
    return session


def _after_recorded(process: Callable[[Any, dict[str, Any]], None]) -> Callable[..., None]:
    def waiting(self: Any, message: dict[str, Any]) -> None:
        req_id = message.get("req_id")
        deadline = time.monotonic() + 2.0
        while req_id and req_id not in self.subscriptions and time.monotonic() < deadline:
            time.sleep(0.001)
        process(self, message)

    return waiting


@pytest.fixture
def streams(
    handle: EmulatorThread, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[queue.Queue[dict[str, Any]], queue.Queue[dict[str, Any]]]]:
    """pybit's public and private WebSocket, pointed at the emulator, feeding two inboxes."""
    monkeypatch.setattr(
        unified_trading, "PUBLIC_WSS", f"{handle.ws_url}/v5/public/{{CHANNEL_TYPE}}"
    )
    monkeypatch.setattr(unified_trading, "PRIVATE_WSS", f"{handle.ws_url}/v5/private")
    # pybit 5.17.0 sends a subscribe and only then records its req_id: on loopback the
    # emulator's ack can arrive first, and pybit's KeyError kills the socket for good (it then
    # waits for a connection for ever). Bybit is milliseconds away; here the ack waits for it.
    monkeypatch.setattr(
        _websocket_stream._V5WebSocketManager,
        "_process_subscription_message",
        _after_recorded(_websocket_stream._V5WebSocketManager._process_subscription_message),
    )
    # pybit waits for its socket thread without a deadline; a connect that stalls (a loaded
    # CI machine) must fail and be retried rather than hang the suite.
    previous = websocket.getdefaulttimeout()
    websocket.setdefaulttimeout(10)
    public_inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    private_inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    public = unified_trading.WebSocket(testnet=False, channel_type="linear")
    private = None
    try:
        private = unified_trading.WebSocket(
            testnet=False, channel_type="private", api_key=KEY, api_secret=SECRET
        )
        public.kline_stream(interval=1, symbol="BTCUSDT", callback=public_inbox.put)
        public.kline_stream(interval=5, symbol="BTCUSDT", callback=public_inbox.put)
        for subscribe in (
            private.order_stream,
            private.execution_stream,
            private.position_stream,
            private.wallet_stream,
        ):
            subscribe(callback=private_inbox.put)
        topics = ("kline.1.BTCUSDT", "kline.5.BTCUSDT", "order", "execution", "position", "wallet")
        for topic in topics:
            subscribed(handle, topic)
        yield public_inbox, private_inbox
    finally:  # also when the setup failed: no client thread may outlive its test
        public.exit()
        if private is not None:
            private.exit()
        websocket.setdefaulttimeout(previous)


def test_pybit_places_amends_queries_and_cancels_orders_and_streams_them(
    handle: EmulatorThread,
    streams: tuple[queue.Queue[dict[str, Any]], queue.Queue[dict[str, Any]]],
) -> None:
    public, private = streams
    session = http(handle)
    assert int(session.get_server_time()["result"]["timeSecond"]) > 0
    instrument = session.get_instruments_info(category="linear")["result"]["list"][0]
    assert instrument["lotSizeFilter"]["qtyStep"] == "0.001"
    bars = session.get_kline(category="linear", symbol="BTCUSDT", interval=1, limit=3)
    assert len(bars["result"]["list"]) == 3

    ack = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="0.01",
        orderLinkId="pb-1",
    )
    order_id = ack["result"]["orderId"]
    assert ack["result"] == {"orderId": order_id, "orderLinkId": "pb-1"}
    handle.step()

    kline = next_matching(public, lambda m: m["topic"] == "kline.1.BTCUSDT", "a 1m kline")
    assert kline["data"][0]["confirm"] is True  # a 1-minute bar closes with every step
    filled = next_matching(
        private,
        lambda m: m["topic"] == "order" and m["data"][0]["orderStatus"] == "Filled",
        "the filled order",
    )
    assert filled["data"][0]["orderId"] == order_id
    execution = next_matching(private, lambda m: m["topic"] == "execution", "the execution")
    fill = execution["data"][0]
    assert (fill["orderLinkId"], fill["execQty"], fill["execType"]) == ("pb-1", "0.01", "Trade")
    position = next_matching(
        private, lambda m: m["topic"] == "position" and m["data"][0]["size"] != "0", "position"
    )
    assert position["data"][0]["entryPrice"] == fill["execPrice"]
    wallet = next_matching(private, lambda m: m["topic"] == "wallet", "the wallet")
    assert wallet["data"][0]["coin"][0]["coin"] == "USDT"

    order = session.get_open_orders(category="linear", symbol="BTCUSDT", orderId=order_id)
    assert order["result"]["list"][0]["avgPrice"] == fill["execPrice"]

    limit = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Limit",
        qty="0.01",
        price="50000",
        orderLinkId="pb-2",
    )["result"]["orderId"]
    session.amend_order(
        category="linear", symbol="BTCUSDT", orderLinkId="pb-2", price="50100", qty="0.02"
    )
    amended = session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert [(o["orderId"], o["price"], o["qty"]) for o in amended] == [(limit, "50100", "0.02")]
    session.cancel_order(category="linear", symbol="BTCUSDT", orderId=limit)
    history = session.get_order_history(category="linear", symbol="BTCUSDT", orderId=limit)
    assert history["result"]["list"][0]["orderStatus"] == "Cancelled"
    cancelled = next_matching(
        private,
        lambda m: m["topic"] == "order" and m["data"][0]["orderStatus"] == "Cancelled",
        "the cancelled order",
    )
    assert cancelled["data"][0]["orderId"] == limit

    positions = session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert (positions[0]["side"], positions[0]["size"]) == ("Buy", "0.01")
    balance = session.get_wallet_balance(accountType="UNIFIED")["result"]["list"][0]
    fee = fill["execFee"]
    assert balance["totalWalletBalance"] == str(10_000 - float(fee)).rstrip("0")
    trades = session.get_executions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert [t["execId"] for t in trades] == [fill["execId"]]


def test_pybit_sees_bybit_error_codes(handle: EmulatorThread) -> None:
    cases = [
        (http(handle, secret="wrong"), 10004),
        (http(handle, key="nobody"), 10003),
    ]
    for session, code in cases:
        with pytest.raises(InvalidRequestError) as raised:
            session.get_wallet_balance(accountType="UNIFIED")
        assert raised.value.status_code == code
    session = http(handle)
    with pytest.raises(InvalidRequestError) as raised:
        session.place_order(
            category="linear", symbol="BTCUSDT", side="Up", orderType="Market", qty="0.01"
        )
    assert (raised.value.status_code, raised.value.message) == (10001, "params error: side invalid")
    with pytest.raises(InvalidRequestError) as raised:
        session.place_order(
            category="linear", symbol="BTCUSDT", side="Buy", orderType="Market", qty="0.0001"
        )
    assert raised.value.message == "The number of contracts exceeds minimum limit allowed"
    with pytest.raises(InvalidRequestError) as raised:
        session.cancel_order(category="linear", symbol="BTCUSDT", orderId="nope")
    assert (raised.value.status_code, raised.value.message) == (
        110001,
        "order not exists or too late to cancel",
    )
