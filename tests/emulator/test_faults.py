"""Each fault, switched on from Python, is seen by a client as it would be from Bybit."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import ccxt
import pytest
import requests
import websocket

from tests.emulator.conftest import Signed, make_emulator
from tests.emulator.test_ccxt import SYMBOL, exchange
from tests.emulator.waiting import subscribed, wait_until
from tradeplay.emulator import EmulatorThread

ORDER = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}


def test_rate_limit_answers_10006_with_bybits_headers(handle: EmulatorThread) -> None:
    handle.emulator.faults.rate_limit(path="/v5/order/create", count=1)
    signed = Signed(handle.url)
    body = json.dumps({**ORDER, "qty": "0.01", "price": "50000"}, separators=(",", ":"))
    response = requests.post(
        f"{handle.url}/v5/order/create", data=body, headers=signed.headers(body), timeout=5
    )
    answer = response.json()
    assert (response.status_code, answer["retCode"], answer["retMsg"]) == (
        200,
        10006,
        "Too many visits!",
    )
    assert response.headers["X-Bapi-Limit-Status"] == "0"
    assert int(response.headers["X-Bapi-Limit-Reset-Timestamp"]) > answer["time"]
    assert (
        signed.get("/v5/order/realtime", "category=linear&symbol=BTCUSDT")["result"]["list"] == []
    )

    async def ccxt_view() -> None:
        handle.emulator.faults.rate_limit(path="/v5/order/create", count=1)
        ex = exchange(handle)
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.RateLimitExceeded):
                await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000)
            await ex.create_order(SYMBOL, "limit", "buy", 0.01, 50_000)  # the next one passes
        finally:
            await ex.close()

    asyncio.run(ccxt_view())


def test_enforced_rate_limits_refuse_the_eleventh_order_in_a_second() -> None:
    with EmulatorThread(make_emulator(enforce_rate_limits=True)) as running:
        signed = Signed(running.url)
        codes = [
            signed.post("/v5/order/create", {**ORDER, "qty": "0.001", "price": "50000"})["retCode"]
            for _ in range(11)
        ]
    # A client sending 11 orders within one second; Bybit allows 10 per second by default.
    assert codes == [0] * 10 + [10006]


def test_server_errors_are_5xx_pages_that_ccxt_and_requests_see(handle: EmulatorThread) -> None:
    handle.emulator.faults.server_error(status=503, path="/v5/market/tickers", count=2)
    response = requests.get(f"{handle.url}/v5/market/tickers?category=linear", timeout=5)
    assert response.status_code == 503
    assert "Service Unavailable" in response.text

    async def ccxt_view() -> None:
        ex = exchange(handle)
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.ExchangeNotAvailable):
                await ex.fetch_ticker(SYMBOL)
            assert (await ex.fetch_ticker(SYMBOL))["last"] > 0  # count=2: the fault is over
        finally:
            await ex.close()

    asyncio.run(ccxt_view())


def test_a_timeout_after_acceptance_leaves_the_order_in_place(handle: EmulatorThread) -> None:
    handle.emulator.faults.timeout_after_accept(hold_ms=1500, path="/v5/order/create", count=1)

    async def ccxt_view() -> None:
        ex = exchange(handle)
        ex.timeout = 500  # ms: the client gives up long before the answer would come
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.RequestTimeout):
                await ex.create_order(
                    SYMBOL, "limit", "buy", 0.01, 50_000, {"clientOrderId": "retry-me"}
                )
            # The order exists: a retry with the same orderLinkId is refused as a duplicate.
            with pytest.raises(ccxt.InvalidOrder, match="110072"):
                await ex.create_order(
                    SYMBOL, "limit", "buy", 0.01, 50_000, {"clientOrderId": "retry-me"}
                )
            held = await ex.fetch_open_orders(SYMBOL)
            assert [o["clientOrderId"] for o in held] == ["retry-me"]
        finally:
            await ex.close()

    asyncio.run(ccxt_view())


def test_latency_delays_every_answer(handle: EmulatorThread) -> None:
    handle.emulator.faults.latency(300, path="/v5/market/time")
    started = time.monotonic()
    requests.get(f"{handle.url}/v5/market/time", timeout=5)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    requests.get(f"{handle.url}/v5/market/tickers?category=linear", timeout=5)
    assert time.monotonic() - started < 0.3  # other paths are not delayed


def test_dropped_sockets_close_with_code_1000_and_ccxt_reconnects(handle: EmulatorThread) -> None:
    async def ccxt_view() -> None:
        ex = exchange(handle)
        try:
            await ex.load_markets()
            watch = asyncio.ensure_future(ex.watch_ohlcv(SYMBOL, "1m"))
            await asyncio.to_thread(subscribed, handle, "kline.1.BTCUSDT")
            assert await asyncio.to_thread(handle.drop_connections) == 1
            with pytest.raises(ccxt.NetworkError, match="1000"):
                await asyncio.wait_for(watch, 5)
            again = asyncio.ensure_future(ex.watch_ohlcv(SYMBOL, "1m"))  # reconnects
            await asyncio.to_thread(subscribed, handle, "kline.1.BTCUSDT")
            await asyncio.to_thread(handle.step)
            assert len(await asyncio.wait_for(again, 5)) >= 1
        finally:
            await ex.close()

    asyncio.run(ccxt_view())


def _receive(ws: websocket.WebSocket, seconds: float) -> list[dict[str, Any]]:
    ws.settimeout(seconds)
    received = []
    try:
        while True:
            received.append(json.loads(ws.recv()))
    except websocket.WebSocketTimeoutException:
        return received


def test_a_stale_stream_stays_open_and_silent_until_it_recovers(handle: EmulatorThread) -> None:
    ws = websocket.create_connection(f"{handle.ws_url}/v5/public/linear", timeout=5)
    try:
        ws.send(json.dumps({"op": "subscribe", "args": ["kline.1.BTCUSDT"]}))
        assert _receive(ws, 0.5)[0]["success"] is True
        handle.emulator.faults.set_stale(True)
        ws.send(json.dumps({"op": "ping"}))
        ws.ping("frame")
        handle.step()
        assert _receive(ws, 0.5) == []  # no pong, no kline: yet the socket is open
        assert ws.connected
        handle.emulator.faults.set_stale(False)
        ws.send(json.dumps({"op": "ping"}))
        handle.step()
        kinds = {m.get("ret_msg") or m.get("topic") for m in _receive(ws, 0.5)}
        assert kinds == {"pong", "kline.1.BTCUSDT"}
    finally:
        ws.close()


def test_faults_can_be_cleared(handle: EmulatorThread) -> None:
    faults = handle.emulator.faults
    faults.rate_limit()
    faults.set_stale(True)
    faults.clear()
    wait_until(lambda: not faults.rules and not faults.stale, "the faults to clear")
    assert requests.get(f"{handle.url}/v5/market/time", timeout=5).json()["retCode"] == 0
