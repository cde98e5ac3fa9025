"""Every request ccxt 4.5.90 and pybit 5.17.0 were seen sending is accepted, and answered in
the shapes of Bybit's real responses.

The recorded requests are replayed byte for byte (method, path, raw query, raw body and the
recorded timestamp); only the signature, which the recording replaced by a placeholder, is
computed again with the recorded key's secret. The emulator's wall clock is set to each
request's recorded time, so the recorded timestamps pass Bybit's window. Order ids that the
logging stub once invented are replaced by the ids of the orders this replay created.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from tests.emulator.conftest import KEY, SECRET, make_emulator
from tests.emulator.shapes import assert_envelope, assert_same_shape, fixture
from tradeplay.domain.values import utc_from_ms
from tradeplay.emulator import EmulatorThread
from tradeplay.emulator.auth import sign

CCXT = "observed_client_requests/ccxt_4.5.90_wire_log.json"
PYBIT = "observed_client_requests/pybit_5.17.0_wire_log.json"

# Which recorded response each endpoint's answer must look like.
SHAPES = {
    "/v5/market/kline": "ccxt_static_response/kline_linear_1h.json",
    "/v5/market/tickers": "ccxt_static_response/tickers_linear_btcusdt.json",
    "/v5/market/instruments-info": (
        "nautilus_trader/python_adapter_resources/http_responses__linear__instrument_btc_usdt.json"
    ),
    "/v5/market/funding/history": "nautilus_trader/crate_test_data/http_get_funding_history.json",
    "/v5/market/time": "nautilus_trader/python_adapter_resources/http_responses__server_time.json",
    "/v5/order/create": "ccxt_static_response/order_create_ack.json",
    "/v5/order/amend": "ccxt_static_response/order_amend_ack.json",
    "/v5/order/cancel": "ccxt_static_response/order_create_ack.json",
    "/v5/order/cancel-all": "ccxt_static_response/order_cancel_all_ack.json",
    "/v5/order/realtime": "ccxt_static_response/order_realtime_linear_limit_new.json",
    "/v5/order/history": "ccxt_static_response/order_history_linear_market_filled.json",
    "/v5/execution/list": "ccxt_static_response/execution_list_linear_trade.json",
    "/v5/position/list": "ccxt_static_response/position_list_linear_open_long.json",
    "/v5/account/wallet-balance": "ccxt_static_response/wallet_balance_unified.json",
    "/v5/account/info": "nautilus_trader/crate_test_data/http_get_account_info.json",
    "/v5/user/query-api": "nautilus_trader/crate_test_data/http_get_user_query_api.json",
}

EMPTY_RESULT = {"/v5/position/set-leverage", "/v5/position/switch-mode"}

# Bybit's answers that are not 0 for these requests against a fresh one-way account.
EXPECTED = {
    ("ccxt", "/v5/position/switch-mode"): (110025, "Position mode has not been modified."),
    ("pybit", "/v5/position/set-leverage"): (110043, "leverage not modified"),
}


class ManualClock:
    """The emulator's wall clock, set by the test to each recorded request's time."""

    def __init__(self) -> None:
        self.ms = 0

    def now(self) -> datetime:
        return utc_from_ms(self.ms)


@pytest.fixture
def clocked() -> Iterator[tuple[EmulatorThread, ManualClock]]:
    clock = ManualClock()
    with EmulatorThread(make_emulator(clock)) as running:
        yield running, clock


def _events(root: Path, name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((root / name).read_text())["events"]
    return events


def _replay_http(
    base: str, event: dict[str, Any], ids: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    query, body = event["query"], event["body"]
    for recorded, ours in ids.items():
        query, body = query.replace(recorded, ours), body.replace(recorded, ours)
    headers = dict(event["headers"])
    if "X-BAPI-SIGN" in headers:
        payload = query if event["method"] == "GET" else body
        origin = headers["X-BAPI-TIMESTAMP"] + KEY + headers["X-BAPI-RECV-WINDOW"] + payload
        headers["X-BAPI-SIGN"] = sign(SECRET, origin.encode())
    url = base + event["path"] + (f"?{query}" if query else "")
    response = requests.request(
        event["method"], url, data=body.encode() or None, headers=headers, timeout=10
    )
    return response.status_code, response.json()


def _last_stamp(event: dict[str, Any], previous: int) -> int:
    stamp = event.get("headers", {}).get("X-BAPI-TIMESTAMP")
    return int(stamp) if stamp else previous


@pytest.mark.parametrize("client", ["ccxt", "pybit"])
def test_every_recorded_request_is_accepted_and_answered_in_bybit_shapes(
    client: str, clocked: tuple[EmulatorThread, ManualClock], bybit_fixtures: Path
) -> None:
    handle, clock = clocked
    events = _events(bybit_fixtures, CCXT if client == "ccxt" else PYBIT)
    clock.ms = next(_last_stamp(e, 0) for e in events if _last_stamp(e, 0))
    ids: dict[str, str] = {}
    creates: list[str] = []
    sockets: dict[str, websocket.WebSocket] = {}
    answered = 0
    for event in events:
        clock.ms = _last_stamp(event, clock.ms)
        if event["kind"] == "http":
            status, body = _replay_http(handle.url, event, ids)
            assert status == 200, (event, body)
            assert_envelope(body)
            code, message = EXPECTED.get((client, event["path"]), (0, "OK"))
            assert (body["retCode"], body["retMsg"]) == (code, message), (event, body)
            if event["path"] in EMPTY_RESULT or code != 0:
                assert body["result"] == {}, body  # Bybit's result for these and for errors
            else:
                shape = fixture(bybit_fixtures, SHAPES[event["path"]])
                assert_same_shape(body, shape, event["path"])
            if event["path"] == "/v5/order/create":
                creates.append(body["result"]["orderId"])
                if len(creates) == 1:
                    handle.step()  # the market order fills at the next bar's open
                    # The stub's ids: the first is read back (the market order), the second
                    # amended and cancelled (the resting reduce-only limit).
                    ids["04f6740b-4927-4667-af3b-ee238520f522"] = creates[0]
            if len(creates) == 2:
                ids["21a8ccef-040c-4f47-b5aa-8c1a2dd341b6"] = creates[1]
            answered += 1
        elif event["kind"] == "ws-connect":
            sockets[event["path"]] = websocket.create_connection(
                handle.ws_url + event["path"], timeout=5
            )
        elif event["kind"] == "ws-recv":
            _replay_ws(sockets[event["path"]], event, clock.ms)
    for ws in sockets.values():
        ws.close()
    assert answered == sum(e["kind"] == "http" for e in events)


def _replay_ws(ws: websocket.WebSocket, event: dict[str, Any], now: int) -> None:
    message = dict(event["data"])
    private = event["path"] == "/v5/private"
    if message["op"] == "auth":
        key, expires, _ = message["args"]
        message["args"] = [key, expires, sign(SECRET, f"GET/realtime{expires}".encode())]
    ws.send(json.dumps(message))
    answer = json.loads(ws.recv())
    if message["op"] == "ping":
        if private:
            assert (answer["op"], int(answer["args"][0])) == ("pong", now), answer
        else:
            assert (answer["op"], answer["ret_msg"], answer["success"]) == ("ping", "pong", True)
    else:
        assert (answer["success"], answer["op"]) == (True, message["op"]), answer
        assert answer["ret_msg"] == "", answer
    if "req_id" in message:
        assert answer["req_id"] == message["req_id"], answer
