"""The real ccxt Bybit client as BybitHistory builds it: hosts, options, recorded Bybit answers.

Nothing here reaches the internet: the URL checks make no request at all, and the recorded
answers are served by a stand-in for the HTTP session ccxt sends its requests through, so ccxt's
own parsing and error mapping run on real Bybit payloads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tradeplay.domain.errors import RateLimitedError, VenueUnavailableError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.venues.bybit.history import BybitHistory, make_bybit_client

EMULATOR = "http://127.0.0.1:18080"
Route = Callable[[dict[str, str]], dict[str, Any]]


# --- construction, no request ----------------------------------------------------------------


def test_the_base_url_replaces_every_bybit_host_public_and_private() -> None:
    client = make_bybit_client(f"{EMULATOR}/")
    assert set(client.urls["api"].values()) == {EMULATOR}
    assert set(client.urls["api"]) >= {"public", "private"}
    signed = client.sign("v5/market/kline", ["public"], "GET", {"symbol": "BTCUSDT"})
    assert signed["url"] == f"{EMULATOR}/v5/market/kline?symbol=BTCUSDT"


def test_without_a_base_url_the_client_talks_to_bybit_itself() -> None:
    client = make_bybit_client()
    signed = client.sign("v5/market/kline", ["public"], "GET", {})
    assert signed["url"] == "https://api.bybit.com/v5/market/kline"


def test_the_client_is_rate_limited_swap_by_default_and_loads_only_linear_markets() -> None:
    client = make_bybit_client(EMULATOR)
    assert client.enableRateLimit is True
    assert client.options["defaultType"] == "swap"
    assert client.options["fetchMarkets"]["types"] == ["linear"]
    assert client.markets is None  # nothing was loaded on construction


def test_bybit_history_builds_its_client_for_the_base_url() -> None:
    source = BybitHistory(base_url=EMULATOR)
    assert source.name == "bybit"
    assert source.max_candles_per_page == 1000
    assert source.max_funding_per_page == 200


# --- recorded answers through a stand-in HTTP session ----------------------------------------


class RecordedResponse:
    """The parts of a ``requests.Response`` that ccxt reads, for a 200 answer."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.status_code = 200
        self.reason = "OK"
        self.text = json.dumps(body)
        self.content = self.text.encode()
        self.headers = {"Content-Type": "application/json"}
        self.encoding: str | None = None

    def raise_for_status(self) -> None:
        return None


class RecordedSession:
    """Answers ccxt's requests from ``routes`` (by path) and remembers every URL asked for."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.urls: list[str] = []
        self.headers: dict[str, str] = {}  # ccxt merges these into every request
        self.cookies = self  # ccxt clears cookies before each request

    def clear(self) -> None:
        return None

    def request(self, method: str, url: str, **_: Any) -> RecordedResponse:
        assert method == "GET"
        self.urls.append(url)
        parts = urlsplit(url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        return RecordedResponse(self.routes[parts.path](query))

    def queries(self, path: str) -> list[dict[str, str]]:
        found = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.path == path:
                found.append({key: values[0] for key, values in parse_qs(parts.query).items()})
        return found


def _load(folder: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


@pytest.fixture
def instruments(bybit_fixtures: Path) -> Route:
    """Linear instruments-info, with the fixture's known hand edits put back to Bybit's shape.

    The fixture (docs-derived) lacks ``result.category``, which ccxt reads to tell linear from
    inverse, gives perpetuals a ``deliveryTime`` and ``fundingInterval: 8`` (Bybit sends
    ``"0"`` and minutes, 480); see the fixtures README.
    """
    body = _load(
        bybit_fixtures / "nautilus_trader" / "crate_test_data", "http_get_instruments_linear.json"
    )
    body["result"]["category"] = "linear"
    for item in body["result"]["list"]:
        item["fundingInterval"] = 480
        item["deliveryTime"] = "0"
    empty = {**body, "result": {**body["result"], "list": []}}
    return lambda query: empty if query.get("status") == "PreLaunch" else body


def _history(session: RecordedSession, waits: list[float] | None = None) -> BybitHistory:
    client = make_bybit_client(EMULATOR)
    client.session = session
    return BybitHistory(exchange=client, sleep=(waits if waits is not None else []).append)


def test_recorded_bybit_klines_newest_first_become_candles_oldest_first(
    bybit_fixtures: Path, instruments: Route
) -> None:
    kline = _load(bybit_fixtures / "ccxt_static_response", "kline_linear_1h.json")["response"]
    session = RecordedSession(
        {"/v5/market/instruments-info": instruments, "/v5/market/kline": lambda q: kline}
    )
    since = 1_706_630_400_000  # 2024-01-30T16:00Z
    candles = _history(session).fetch_candles(
        "BTCUSDT", Timeframe.parse("1h"), since, since + 3 * 3_600_000, 3
    )
    assert candles.ts.tolist() == [since, since + 3_600_000, since + 7_200_000]
    assert candles.open.tolist() == [43350.7, 43488.0, 43376.1]
    assert candles.close.tolist() == [43488.0, 43376.1, 43352.8]
    assert candles.volume.tolist() == [1341.261, 3199.431, 1575.305]  # base coin, not turnover
    assert all(url.startswith(f"{EMULATOR}/v5/") for url in session.urls)
    assert {q["category"] for q in session.queries("/v5/market/instruments-info")} == {"linear"}
    [request] = session.queries("/v5/market/kline")
    assert request == {
        "symbol": "BTCUSDT",
        "category": "linear",
        "interval": "60",
        "start": str(since),
        "limit": "3",
    }


def test_recorded_bybit_funding_history_becomes_funding_rates(
    bybit_fixtures: Path, instruments: Route
) -> None:
    crate = bybit_fixtures / "nautilus_trader" / "crate_test_data"
    funding = _load(crate, "http_get_funding_history.json")
    session = RecordedSession(
        {
            "/v5/market/instruments-info": instruments,
            "/v5/market/funding/history": lambda q: funding,
        }
    )
    since = 1_709_856_000_000  # 2024-03-08T00:00Z
    rates = _history(session).fetch_funding("BTCUSDT", since, since + 16 * 3_600_000, 200)
    assert rates.ts.tolist() == [since, since + 8 * 3_600_000]
    assert rates.rate.tolist() == [0.00015, 0.0001]
    [request] = session.queries("/v5/market/funding/history")
    assert request["startTime"] == str(since)
    assert request["endTime"] == str(since + 16 * 3_600_000 - 1)
    assert request["category"] == "linear"


@pytest.mark.parametrize(
    ("ret_code", "message", "expected"),
    [
        (10006, "Too many visits!", RateLimitedError),
        (10016, "System error. Please try again later.", VenueUnavailableError),
    ],
)
def test_bybit_error_codes_are_retried_three_times_then_raised_as_temporary(
    instruments: Route, ret_code: int, message: str, expected: type[Exception]
) -> None:
    refusal = {"retCode": ret_code, "retMsg": message, "result": {}, "time": 1}
    session = RecordedSession(
        {"/v5/market/instruments-info": instruments, "/v5/market/kline": lambda q: refusal}
    )
    waits: list[float] = []
    with pytest.raises(expected, match=message):
        _history(session, waits).fetch_candles(
            "BTCUSDT", Timeframe.parse("1m"), 1_706_630_400_000, 1_706_640_000_000, 10
        )
    assert len(session.queries("/v5/market/kline")) == 3
    assert waits == [1.0, 2.0]
