"""The venue adapter over real HTTP on loopback: ccxt.pro signs and sends, a small Bybit stand-in
answers. (The full emulator replaces the stand-in in the integration tests.)"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.venues.bybit_fixtures import ccxt_response
from tradeplay.domain.events import FundingApplied, OrderAccepted, OrderRejected, OrderSubmitted
from tradeplay.domain.fill import Fill
from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.values import ClientOrderId, OrderId, OrderType, Side
from tradeplay.venues.bybit.account_streams import AccountStreams
from tradeplay.venues.bybit.client import CcxtTransport
from tradeplay.venues.bybit.config import (
    BybitCredentials,
    BybitEndpoints,
    BybitEnvironment,
    VenueConfig,
)
from tradeplay.venues.bybit.exchange import BybitExchange
from tradeplay.venues.bybit.limits import RateLimiter
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport
from tradeplay.venues.bybit.venue import BybitVenue

Handler = Callable[[dict[str, Any]], Awaitable[web.Response]]
INSTRUMENT = (
    "nautilus_trader/python_adapter_resources/http_responses__linear__instrument_btc_usdt.json"
)


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def envelope(
    result: dict[str, Any], code: int = 0, msg: str = "OK", **headers: str
) -> web.Response:
    body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": 1}
    return web.json_response(body, headers=headers)


class StandIn:
    """Bybit V5 routes the test needs; records every request (path, query or body)."""

    def __init__(self, fixtures: Path) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.routes: dict[str, Handler] = {}
        instruments = json.loads((fixtures / INSTRUMENT).read_text())["result"]
        self.on("/v5/market/instruments-info", lambda _: envelope(instruments))

    def on(
        self, path: str, answer: Callable[[dict[str, Any]], web.Response | Awaitable[web.Response]]
    ) -> None:
        async def handler(params: dict[str, Any]) -> web.Response:
            result = answer(params)
            return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]

        self.routes[path] = handler

    def sent(self, path: str) -> list[dict[str, Any]]:
        return [params for p, params in self.requests if p == path]

    async def handle(self, request: web.Request) -> web.Response:
        text = await request.text()
        params = json.loads(text) if text else dict(request.query)
        assert request.headers.get("X-BAPI-API-KEY") in (None, "testkey")
        self.requests.append((request.path, params))
        return await self.routes[request.path](params)


@asynccontextmanager
async def running(
    stand_in: StandIn, timeout_s: float = 2.0
) -> AsyncIterator[tuple[BybitVenue, list[float]]]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    config = VenueConfig(
        environment=BybitEnvironment.DEMO,
        credentials=BybitCredentials("testkey", "testsecret"),
        endpoints=BybitEndpoints.local(f"http://127.0.0.1:{port}"),
        request_timeout_s=timeout_s,
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    limiter = RateLimiter(monotonic=asyncio.get_running_loop().time, sleep=sleep)
    venue = BybitVenue(config, CcxtTransport(config), limiter, WallClock(), sleep=sleep)
    try:
        yield venue, waits
    finally:
        await venue.close()
        await runner.cleanup()


def market_buy(link_id: str = "tp-1") -> OrderSubmitted:
    return OrderSubmitted(
        client_order_id=ClientOrderId(link_id),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=Decimal("0.01"),
    )


def test_a_market_order_is_acknowledged_and_sent_exactly_once(bybit_fixtures: Path) -> None:
    stand_in = StandIn(bybit_fixtures)
    stand_in.on(
        "/v5/order/create", lambda p: envelope({"orderId": "v-1", "orderLinkId": p["orderLinkId"]})
    )

    async def scenario() -> list[Any]:
        async with running(stand_in) as (venue, _):
            return list(await venue.submit(market_buy()))

    events = asyncio.run(scenario())
    assert events == [OrderAccepted(client_order_id="tp-1", order_id="v-1", time=events[0].time)]
    (body,) = stand_in.sent("/v5/order/create")
    assert body == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "qty": "0.01",
        "orderLinkId": "tp-1",
        "positionIdx": 0,
    }


def test_a_create_that_timed_out_after_acceptance_is_found_not_resent(bybit_fixtures: Path) -> None:
    stand_in = StandIn(bybit_fixtures)
    (filled,) = ccxt_response(bybit_fixtures, "order_history_linear_market_filled.json")["result"][
        "list"
    ]
    accepted: dict[str, Any] = {}

    async def slow_create(params: dict[str, Any]) -> web.Response:
        accepted.update(filled, orderLinkId=params["orderLinkId"])
        await asyncio.sleep(1.0)  # longer than the client's timeout: the answer is lost
        return envelope({"orderId": filled["orderId"], "orderLinkId": params["orderLinkId"]})

    stand_in.on("/v5/order/create", slow_create)
    stand_in.on("/v5/order/realtime", lambda p: envelope({"list": [accepted] if accepted else []}))

    async def scenario() -> list[Any]:
        async with running(stand_in, timeout_s=0.3) as (venue, _):
            return list(await venue.submit(market_buy("tp-timeout")))

    events = asyncio.run(scenario())
    assert len(stand_in.sent("/v5/order/create")) == 1  # never doubled
    assert [type(e).__name__ for e in events] == ["OrderAccepted"]
    assert events[0].order_id == filled["orderId"]


def test_a_rate_limit_answer_waits_for_bybit_s_reset_and_then_succeeds(
    bybit_fixtures: Path,
) -> None:
    stand_in = StandIn(bybit_fixtures)
    calls = iter(
        [
            envelope({}, 10006, "Too many visits!", **{"X-Bapi-Limit-Reset-Timestamp": "0"}),
            envelope({"orderId": "v-2", "orderLinkId": "tp-2"}),
        ]
    )
    stand_in.on("/v5/order/create", lambda _: next(calls))
    stand_in.on("/v5/order/realtime", lambda _: envelope({"list": []}))
    stand_in.on("/v5/order/history", lambda _: envelope({"list": []}))

    async def scenario() -> tuple[list[Any], list[float]]:
        async with running(stand_in) as (venue, waits):
            return list(await venue.submit(market_buy("tp-2"))), waits

    events, waits = asyncio.run(scenario())
    assert isinstance(events[0], OrderAccepted)
    assert len(stand_in.sent("/v5/order/create")) == 2
    assert 1.0 in waits  # backed off (the reset time was already past)


def test_bybit_s_refusal_becomes_a_rejected_event_with_its_reason(bybit_fixtures: Path) -> None:
    stand_in = StandIn(bybit_fixtures)
    stand_in.on("/v5/order/create", lambda _: envelope({}, 110007, "ab not enough for new order"))

    async def scenario() -> list[Any]:
        async with running(stand_in) as (venue, _):
            return list(await venue.submit(market_buy()))

    (event,) = asyncio.run(scenario())
    assert isinstance(event, OrderRejected)
    assert "ab not enough for new order" in event.reason
    assert "110007" in event.reason


def test_an_id_already_taken_before_the_first_attempt_is_refused_not_looked_up(
    bybit_fixtures: Path,
) -> None:
    """110072 on the first create means the caller reused an id: refused, and the order that
    holds the id is not passed off as this one (only a retry's 110072 means "ours went
    through")."""
    stand_in = StandIn(bybit_fixtures)
    stand_in.on("/v5/order/create", lambda _: envelope({}, 110072, "OrderLinkedID is duplicate"))

    async def scenario() -> list[Any]:
        async with running(stand_in) as (venue, _):
            return list(await venue.submit(market_buy("tp-reused")))

    (event,) = asyncio.run(scenario())
    assert isinstance(event, OrderRejected)
    assert "110072" in event.reason
    assert len(stand_in.sent("/v5/order/create")) == 1
    assert stand_in.sent("/v5/order/realtime") == []


def test_leverage_not_modified_is_success(bybit_fixtures: Path) -> None:
    stand_in = StandIn(bybit_fixtures)
    stand_in.on(
        "/v5/position/set-leverage", lambda _: envelope({}, 110043, "leverage not modified")
    )

    async def scenario() -> None:
        async with running(stand_in) as (venue, _):
            await venue.set_leverage("BTCUSDT", Decimal(10))

    asyncio.run(scenario())
    assert stand_in.sent("/v5/position/set-leverage") == [
        {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "10", "sellLeverage": "10"}
    ]


def test_the_engine_thread_reads_position_and_account_through_the_sync_port(
    bybit_fixtures: Path,
) -> None:
    stand_in = StandIn(bybit_fixtures)
    position = ccxt_response(bybit_fixtures, "position_list_linear_open_long.json")["result"]
    wallet = ccxt_response(bybit_fixtures, "wallet_balance_unified.json")["result"]
    stand_in.on("/v5/position/list", lambda _: envelope(position))
    stand_in.on("/v5/account/wallet-balance", lambda _: envelope(wallet))
    answers: dict[str, Any] = {}

    async def scenario() -> None:
        async with running(stand_in) as (venue, _):
            exchange = BybitExchange(venue, asyncio.get_running_loop(), timeout_s=10)

            def engine_thread() -> None:
                answers["position"] = exchange.position("LTCUSDT")
                answers["account"] = exchange.account()

            worker = threading.Thread(target=engine_thread)
            worker.start()
            while worker.is_alive():
                await asyncio.sleep(0.01)
            try:
                exchange.account()  # from the loop's own thread: refused, not a deadlock
            except RuntimeError as refused:
                answers["refused"] = str(refused)

    asyncio.run(scenario())
    assert answers["position"].size == Decimal("1.2")
    assert answers["account"].wallet_balance > 0
    assert "worker thread" in answers["refused"]


class Unheard:
    """An account listener that ignores everything (the venue's own view still hears it)."""

    def on_order(self, report: OrderReport) -> None: ...

    def on_fill(self, fill: Fill) -> None: ...

    def on_funding(self, funding: FundingApplied) -> None: ...

    def on_position(self, report: PositionReport) -> None: ...

    def on_balance(self, report: BalanceReport) -> None: ...


def test_an_entry_is_protected_from_the_order_topic_s_fill_price_without_a_lookup(
    bybit_fixtures: Path,
) -> None:
    """``submit`` does not wait for the fill: the entry is acknowledged at once, and when the
    ``order`` topic reports it filled, its stop and target are placed from that ``avgPrice``
    — exactly what a lookup would find, so none is made."""
    stand_in = StandIn(bybit_fixtures)
    stand_in.on(
        "/v5/order/create", lambda p: envelope({"orderId": "v-1", "orderLinkId": p["orderLinkId"]})
    )
    stand_in.on("/v5/position/trading-stop", lambda _: envelope({}))
    entry = replace(
        market_buy(),
        protection=Protection(
            stop_loss=Level(LevelKind.FRACTION, Decimal("0.01")),
            take_profit=Level(LevelKind.RISK_MULTIPLE, Decimal("2")),
        ),
    )
    filled = {
        "category": "linear",
        "orderId": "v-1",
        "orderLinkId": "tp-1",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "orderStatus": "Filled",
        "qty": "0.01",
        "cumExecQty": "0.01",
        "cumExecValue": "600.0005",
        "avgPrice": "60000.05",
        "createdTime": "1767225600000",
        "updatedTime": "1767225600001",
    }

    async def scenario() -> list[Any]:
        async with running(stand_in) as (venue, _):
            events = list(await venue.submit(entry))
            (orders,) = [
                s
                for s in AccountStreams(venue, Unheard(), ("BTCUSDT",)).specs()
                if s.topic == "order"
            ]
            await orders.on_messages([{"topic": "order", "data": [filled]}])
            for _ in range(500):  # at most 5 s: a regression fails, it does not hang
                if not venue.unprotected:
                    break
                await asyncio.sleep(0.01)
            assert venue.unprotected == {}
            assert stand_in.sent("/v5/position/trading-stop")
            return events

    events = asyncio.run(scenario())
    assert events == [
        OrderAccepted(
            client_order_id=ClientOrderId("tp-1"), order_id=OrderId("v-1"), time=events[0].time
        )
    ]
    (stop,) = stand_in.sent("/v5/position/trading-stop")
    assert (stop["stopLoss"], stop["takeProfit"]) == ("59400.1", "61200")
    assert stand_in.sent("/v5/order/realtime") == []
