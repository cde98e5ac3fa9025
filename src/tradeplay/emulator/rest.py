"""Bybit's REST endpoints: routing, authentication, rate limits, faults and the envelope.

Every answer is Bybit's envelope ``{"retCode","retMsg","result","retExtInfo","time"}`` with
HTTP 200, errors included (reference §2); ``retCode`` and ``time`` are numbers, business values
strings. Private answers carry the rate-limit headers ``X-Bapi-Limit``,
``X-Bapi-Limit-Status`` and ``X-Bapi-Limit-Reset-Timestamp`` of a per-key, per-endpoint
rolling one-second window at Bybit's default limits (§5); with ``enforce_rate_limits`` a
request over the limit gets retCode 10006. A path Bybit does not have is HTTP 404 (its body is
[U]; the emulator sends the envelope with 10017 "Route not found.").
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import structlog
from aiohttp import web

from tradeplay.emulator import public, queries
from tradeplay.emulator.accounts import AccountBook
from tradeplay.emulator.auth import verify_request
from tradeplay.emulator.errors import BybitError, Code
from tradeplay.emulator.faults import FaultKind, FaultRule, Faults
from tradeplay.emulator.params import Params
from tradeplay.emulator.streams import Streams
from tradeplay.emulator.venue import Notice, Venue

__all__ = ["RestApi"]

log = structlog.get_logger(__name__)

_KNOWN: Final = frozenset(status.value for status in HTTPStatus)

Result = tuple[dict[str, object], list[Notice]]


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler gets: the parameters, the caller's account (private endpoints)."""

    params: Params
    book: AccountBook | None
    now_ms: int

    @property
    def account(self) -> AccountBook:
        assert self.book is not None  # private routes are authenticated before the handler
        return self.book


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    limit: int | None
    """Requests per second per key (``None``: public, no key, no per-key limit)."""
    handler: Callable[[Venue, Call], Result]


def _plain(fn: Callable[[Venue, Call], dict[str, object]]) -> Callable[[Venue, Call], Result]:
    return lambda venue, call: (fn(venue, call), [])


_ROUTES: Final[dict[str, Route]] = {
    "/v5/market/time": Route("GET", None, _plain(lambda v, c: public.server_time(c.now_ms))),
    "/v5/market/kline": Route("GET", None, _plain(lambda v, c: public.kline(v.market, c.params))),
    "/v5/market/tickers": Route(
        "GET", None, _plain(lambda v, c: public.tickers(v.market, c.params))
    ),
    "/v5/market/instruments-info": Route(
        "GET", None, _plain(lambda v, c: public.instruments(v.market, c.params))
    ),
    "/v5/market/funding/history": Route(
        "GET", None, _plain(lambda v, c: public.funding_history(v.market, c.params))
    ),
    "/v5/order/create": Route("POST", 10, lambda v, c: v.create(c.account, c.params)),
    "/v5/order/amend": Route("POST", 10, lambda v, c: v.amend(c.account, c.params)),
    "/v5/order/cancel": Route("POST", 10, lambda v, c: v.cancel(c.account, c.params)),
    "/v5/order/cancel-all": Route("POST", 10, lambda v, c: v.cancel_all(c.account, c.params)),
    "/v5/order/realtime": Route(
        "GET", 50, _plain(lambda v, c: queries.orders(c.account, c.params, history=False))
    ),
    "/v5/order/history": Route(
        "GET", 50, _plain(lambda v, c: queries.orders(c.account, c.params, history=True))
    ),
    "/v5/execution/list": Route(
        "GET", 50, _plain(lambda v, c: queries.executions(c.account, c.params))
    ),
    "/v5/position/list": Route(
        "GET", 50, _plain(lambda v, c: queries.positions(v, c.account, c.params))
    ),
    "/v5/position/set-leverage": Route(
        "POST", 10, _plain(lambda v, c: queries.set_leverage(v, c.account, c.params))
    ),
    "/v5/position/trading-stop": Route(
        "POST", 10, lambda v, c: ({}, queries.trading_stop(v, c.account, c.params))
    ),
    "/v5/position/switch-mode": Route(
        "POST", 10, _plain(lambda v, c: queries.switch_mode(v, c.params))
    ),
    "/v5/account/wallet-balance": Route(
        "GET", 50, _plain(lambda v, c: queries.wallet(c.account, c.params))
    ),
    "/v5/account/info": Route("GET", 50, _plain(lambda v, c: public.account_info(c.now_ms))),
    "/v5/user/query-api": Route(
        "GET",
        50,
        _plain(lambda v, c: public.api_key_info(c.account.spec.api_key, c.account.spec.name)),
    ),
}


class RateLimiter:
    """Bybit's per-UID, per-endpoint rolling one-second window (reference §5)."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[int]] = {}

    def hit(self, key: str, path: str, limit: int, now_ms: int) -> tuple[bool, dict[str, str]]:
        """Count a request; whether it is within the limit, and the headers to answer with."""
        hits = self._hits.setdefault((key, path), deque())
        while hits and hits[0] <= now_ms - 1000:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now_ms)
        reset = now_ms if allowed and len(hits) < limit else hits[0] + 1000
        return allowed, _limit_headers(limit, limit - len(hits), reset)


def _limit_headers(limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    return {
        "X-Bapi-Limit": str(limit),
        "X-Bapi-Limit-Status": str(max(0, remaining)),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
    }


class RestApi:
    """The aiohttp handler behind every ``/v5/...`` REST path."""

    def __init__(
        self,
        venue: Venue,
        streams: Streams,
        faults: Faults,
        now_ms: Callable[[], int],
        *,
        enforce_rate_limits: bool = True,
    ) -> None:
        self._venue = venue
        self._streams = streams
        self._faults = faults
        self._now_ms = now_ms
        self._enforce = enforce_rate_limits
        self._limiter = RateLimiter()
        self._accounts = {key: book.spec for key, book in venue.books.items()}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        route = _ROUTES.get(path)
        if route is None:
            return self._envelope(Code.ROUTE_NOT_FOUND, "Route not found.", status=404)
        if request.method != route.method:
            return self._envelope(Code.PARAMS, f"{request.method} is not allowed", status=400)
        fired = self._faults.for_request(path)
        for rule in fired:
            if rule.kind is FaultKind.LATENCY:
                await asyncio.sleep(rule.ms / 1000)
        refusal = self._fault_answer(fired)
        if refusal is not None:
            return refusal
        body = await request.read()
        headers: dict[str, str] = {}
        try:
            result, notices = self._call(request, route, body, headers)
        except BybitError as exc:
            return self._envelope(exc.ret_code, exc.message, headers=headers)
        self._streams.publish(notices)
        hold = next((r for r in fired if r.kind is FaultKind.TIMEOUT), None)
        if hold is not None:
            return await self._withhold(request, hold)
        return self._envelope(Code.OK, "OK", result, headers=headers)

    def _call(
        self, request: web.Request, route: Route, body: bytes, headers: dict[str, str]
    ) -> Result:
        now = self._now_ms()
        raw_query = request.rel_url.raw_query_string
        book = None
        if route.limit is not None:
            payload = raw_query.encode() if route.method == "GET" else body
            spec = verify_request(request.headers, payload, self._accounts, now)
            book = self._venue.books[spec.api_key]
            allowed, limit_headers = self._limiter.hit(spec.api_key, request.path, route.limit, now)
            headers.update(limit_headers)
            if self._enforce and not allowed:
                raise BybitError(Code.RATE_LIMIT, "Too many visits!")
        params = Params.from_query(raw_query) if route.method == "GET" else Params.from_body(body)
        return route.handler(self._venue, Call(params, book, now))

    def _fault_answer(self, fired: list[FaultRule]) -> web.Response | None:
        for rule in fired:
            if rule.kind is FaultKind.RATE_LIMIT:
                now = self._now_ms()
                headers = _limit_headers(10, 0, now + 1000)
                return self._envelope(Code.RATE_LIMIT, "Too many visits!", headers=headers)
            if rule.kind is FaultKind.SERVER_ERROR:
                # Bybit's gateway answers 5xx with a short text page, not the envelope.
                reason = HTTPStatus(rule.status).phrase if rule.status in _KNOWN else "Error"
                return web.Response(status=rule.status, text=f"{rule.status} {reason}")
        return None

    async def _withhold(self, request: web.Request, rule: FaultRule) -> web.StreamResponse:
        """The request was carried out; hold the answer, then hang up without one."""
        log.info("fault_timeout", path=request.path, hold_ms=rule.ms)
        await asyncio.sleep(rule.ms / 1000)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=504)  # never reaches the client: the socket is closed

    def _envelope(
        self,
        ret_code: int,
        ret_msg: str,
        result: dict[str, object] | None = None,
        *,
        headers: dict[str, str] | None = None,
        status: int = 200,
    ) -> web.Response:
        body = {
            "retCode": ret_code,
            "retMsg": ret_msg,
            "result": result if result is not None else {},
            "retExtInfo": {},
            "time": self._now_ms(),
        }
        return web.Response(
            status=status,
            text=json.dumps(body, separators=(",", ":")),
            content_type="application/json",
            headers=headers,
        )
