"""Authentication as Bybit does it: HMAC over the raw bytes, the timestamp window, the codes."""

from __future__ import annotations

import json

import pytest
import requests
import websocket

from tests.emulator.conftest import KEY, SECRET, Signed, now_ms
from tradeplay.emulator import EmulatorThread
from tradeplay.emulator.auth import sign


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            "category=linear&symbol=BTCUSDT",
            "f2f79889fd1201752936b389c890e9d393e01e0311a6d8785fb80753aa26c69b",
        ),
        (
            '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01"}',
            "b31217af3393811d6bacfeb6969af3c09b5adc023e1a2e678acaad39a3d10197",
        ),
        ("", "2fc9e776b3f07b2ee447067e0f627438055b198bb14dba79e1a3d50e40a5bd8d"),
    ],
)
def test_signatures_match_the_worked_examples_of_the_reference(payload: str, expected: str) -> None:
    origin = f"1700000000000testkey5000{payload}".encode()
    assert sign("testsecret", origin) == expected


def test_the_ws_auth_signature_matches_the_worked_example() -> None:
    assert sign("testsecret", b"GET/realtime1700000010000") == (
        "6a806639d27b1c24c3808a191e9d0274d0c9d3a04a160233856d65840dfda2c8"
    )


def _raw_get(
    base: str, headers: dict[str, str], query: str = "accountType=UNIFIED"
) -> dict[str, object]:
    response = requests.get(f"{base}/v5/account/wallet-balance?{query}", headers=headers, timeout=5)
    assert response.status_code == 200  # Bybit answers business errors with HTTP 200
    body: dict[str, object] = response.json()
    assert (body["result"], body["retExtInfo"]) == ({}, {})
    return body


def test_unknown_keys_wrong_signatures_and_stale_timestamps_get_bybits_codes(
    handle: EmulatorThread,
) -> None:
    signed = Signed(handle.url)
    query = "accountType=UNIFIED"
    unknown = Signed(handle.url, key="nobody").headers(query)
    assert _raw_get(handle.url, unknown)["retMsg"] == "API key is invalid."
    wrong = Signed(handle.url, secret="not-the-secret").headers(query)
    body = _raw_get(handle.url, wrong)
    assert body["retCode"] == 10004
    assert (
        body["retMsg"] == f"error sign! origin_string[{wrong['X-BAPI-TIMESTAMP']}{KEY}5000{query}]"
    )
    stale_stamp = now_ms() - 6_000  # outside the 5000 ms receive window
    body = _raw_get(handle.url, signed.headers(query, stale_stamp))
    assert body["retCode"] == 10002
    assert str(body["retMsg"]).startswith(
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{stale_stamp}],server_timestamp["
    )
    assert str(body["retMsg"]).endswith("],recv_window[5000]")
    ahead = _raw_get(handle.url, signed.headers(query, now_ms() + 2_000))  # > 1 s ahead
    assert ahead["retCode"] == 10002
    wide = Signed(handle.url, recv_window="20000")
    assert wide.get("/v5/account/wallet-balance", query)["retCode"] == 0
    tampered = signed.headers(query)
    assert _raw_get(handle.url, tampered, "accountType=UNIFIED&coin=USDT")["retCode"] == 10004


def test_the_raw_bytes_are_verified_whatever_their_formatting(handle: EmulatorThread) -> None:
    """pybit's spaced JSON and sorted query verify as they were sent, like ccxt's compact ones."""
    signed = Signed(handle.url)
    spaced = json.dumps(
        {
            "category": "linear",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.01",
            "price": "50000",
        }
    )
    response = requests.post(
        f"{handle.url}/v5/order/create", data=spaced, headers=signed.headers(spaced), timeout=5
    )
    assert response.json()["retCode"] == 0
    for query in ("symbol=BTCUSDT&category=linear", "category=linear&symbol=BTCUSDT"):
        assert signed.get("/v5/order/realtime", query)["retCode"] == 0


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"},
            10001,
            "params error: category is required",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Stop",
                "qty": "0.01",
            },
            10001,
            "params error: orderType invalid",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "1000",
            },
            10001,
            "The number of contracts exceeds maximum limit allowed: too large, "
            "order_qty:100000000000 > max_qty:11900000000",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.01",
                "price": "50000.05",
            },
            10001,
            "params error: price invalid: 50000.05 is not a multiple of tickSize 0.1",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.01",
                "positionIdx": 1,
            },
            10001,
            "position idx not match position mode",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Market",
                "qty": "0.01",
                "triggerPrice": "70000",
                "triggerDirection": 2,
            },
            110093,
            "expect Falling, but trigger_price[70000] >= current[59480.4]",
        ),
        (
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "10",
            },
            110007,
            "ab not enough for new order",
        ),
        (
            {
                "category": "linear",
                "symbol": "ETHUSDT",
                "side": "Buy",
                "orderType": "Market",
                "qty": "0.01",
            },
            10001,
            "params error: symbol invalid: ETHUSDT is not replayed here",
        ),
    ],
)
def test_bad_parameters_get_bybits_codes_and_texts(
    signed: Signed, body: dict[str, object], code: int, message: str
) -> None:
    answer = signed.post("/v5/order/create", body)
    assert (answer["retCode"], answer["retMsg"]) == (code, message)


def test_the_websocket_auth_is_bybits(handle: EmulatorThread) -> None:
    ws = websocket.create_connection(f"{handle.ws_url}/v5/private", timeout=5)
    try:
        ws.send(json.dumps({"op": "subscribe", "args": ["order"]}))
        early = json.loads(ws.recv())
        assert (early["success"], early["ret_msg"]) == (False, "error:topic:order needs auth first")
        expired = now_ms() - 1
        ws.send(
            json.dumps(
                {
                    "op": "auth",
                    "args": [KEY, expired, sign(SECRET, f"GET/realtime{expired}".encode())],
                }
            )
        )
        assert json.loads(ws.recv())["ret_msg"] == "Params Error"
        expires = str(now_ms() + 10_000)  # ccxt sends a string, pybit a number
        ws.send(json.dumps({"op": "auth", "args": [KEY, expires, "f" * 64]}))
        assert json.loads(ws.recv())["success"] is False
        ws.send(
            json.dumps(
                {
                    "req_id": "a1",
                    "op": "auth",
                    "args": [KEY, expires, sign(SECRET, f"GET/realtime{expires}".encode())],
                }
            )
        )
        ok = json.loads(ws.recv())
        assert (ok["success"], ok["ret_msg"], ok["op"], ok["req_id"]) == (True, "", "auth", "a1")
        ws.send(json.dumps({"op": "subscribe", "req_id": 7, "args": ["order", "greeks"]}))
        refused = json.loads(ws.recv())
        assert (refused["success"], refused["ret_msg"], refused["req_id"]) == (
            False,
            "error:handler not found,topic:greeks",
            7,
        )
        ws.send(json.dumps({"op": "ping"}))
        pong = json.loads(ws.recv())
        assert pong["op"] == "pong"
        assert "req_id" not in pong
        assert pong["args"][0].isdigit()
    finally:
        ws.close()


def test_public_subscriptions_to_unknown_topics_fail_like_bybits(handle: EmulatorThread) -> None:
    ws = websocket.create_connection(f"{handle.ws_url}/v5/public/linear", timeout=5)
    try:
        ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.500.BTCUSDT"]}))
        answer = json.loads(ws.recv())
        assert answer == {
            "success": False,
            "ret_msg": "error:handler not found,topic:orderbook.500.BTCUSDT",
            "conn_id": answer["conn_id"],
            "req_id": "",
            "op": "subscribe",
        }
    finally:
        ws.close()
