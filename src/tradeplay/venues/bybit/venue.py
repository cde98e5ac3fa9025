"""The async Bybit venue client: every REST call the adapter makes, limited, retried, exact.

:class:`BybitVenue` owns a transport (ccxt.pro in production, a fake in tests) and turns our
instructions into Bybit requests and Bybit answers into reports. Every request waits for its
endpoint's token (:mod:`~tradeplay.venues.bybit.limits`), is judged by Bybit's ``retCode``
(:func:`~tradeplay.venues.bybit.errors.error_for_answer`) and is retried when temporary: at most
three attempts, waiting 1 s then 2 s, or until Bybit's rate-limit reset.

Order creation is the exception: it is never blindly retried. Our ``orderLinkId`` makes it
idempotent — after a timeout (the request may have gone through) the order is looked up by that
id, in ``order/realtime`` and then ``order/history`` (realtime forgets closed orders after a
restart, bybit_v5.md §6.10), and only an order Bybit does not know is sent again, under the
same id, so a duplicate would be refused (110072) rather than doubled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

import structlog

from tradeplay.domain.errors import RejectedError, TemporaryError, TradeplayError
from tradeplay.domain.events import FundingApplied, OrderEvent, OrderRejected, OrderSubmitted
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import ClientOrderId, OrderId, Price, Symbol
from tradeplay.ports import Clock, TradingStop
from tradeplay.venues.bybit._settle import acknowledged, order_events
from tradeplay.venues.bybit.account_view import AccountView
from tradeplay.venues.bybit.client import Answer
from tradeplay.venues.bybit.config import VenueConfig
from tradeplay.venues.bybit.errors import (
    MAX_ATTEMPTS,
    BybitOrderRejectedError,
    backoff_wait,
    error_for_answer,
    retry_async,
)
from tradeplay.venues.bybit.executions import execution_report
from tradeplay.venues.bybit.limits import RateLimiter
from tradeplay.venues.bybit.market import (
    Kline,
    Ticker,
    bybit_interval,
    instrument_from_answer,
    klines_from_rest,
    ticker_from_rest,
)
from tradeplay.venues.bybit.order_params import (
    CATEGORY,
    cancel_params,
    create_order_params,
    leverage_params,
    needs_fill_price,
    protection_stop,
    trading_stop_params,
)
from tradeplay.venues.bybit.reports import (
    BalanceReport,
    OrderReport,
    PositionReport,
    balance_report,
    order_report,
    position_report,
)

__all__ = ["BybitVenue", "Transport"]

log = structlog.get_logger(__name__)

_DUPLICATE_LINK_ID: Final = 110072
_KLINE_PAGE: Final = 1000


class Transport(Protocol):
    """Raw Bybit V5: what :class:`~tradeplay.venues.bybit.client.CcxtTransport` offers."""

    async def request(self, method: str, path: str, params: Mapping[str, Any]) -> Answer: ...

    async def subscribe(self, topic: str, *, private: bool) -> None: ...

    async def receive(self, topic: str, *, private: bool) -> list[dict[str, Any]]: ...

    async def reconnect(self, *, private: bool) -> None: ...

    async def close(self) -> None: ...


class BybitVenue:
    """One Bybit account in one environment, for asyncio code.

    ``limiter`` must be the account's one limiter, shared with every other venue object of the
    same account. ``sleep`` and ``monotonic`` are injected for tests.
    """

    def __init__(
        self,
        config: VenueConfig,
        transport: Transport,
        limiter: RateLimiter,
        clock: Clock,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.transport = transport
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._instruments: dict[Symbol, Instrument] = {}
        self.probe: Callable[[str, int], None] | None = None
        """Latency probe (``bench/bench_live_latency.py``): told ``("bar", received_ns)`` when a
        closed bar's message arrived and ``("order_create", sent_ns)`` when a create request is
        handed to the transport (``perf_counter_ns``). ``None``: nothing is measured."""
        self.unprotected: dict[ClientOrderId, OrderSubmitted] = {}
        """Entries whose fill-relative protection waits for their fill (see
        :meth:`protect_filled`). Touched on the event loop only."""
        self._protecting = asyncio.Lock()
        self.view = AccountView()
        """The account as the private streams report it (fed by
        :class:`~tradeplay.venues.bybit.account_streams.AccountStreams`, each closed bar and
        our own instructions); the ``Exchange`` port reads it when fresh."""

    # ------------------------------------------------------------------ plumbing

    def now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    async def call(self, method: str, path: str, params: Mapping[str, Any], what: str) -> Answer:
        """One request with the endpoint's rate limit, Bybit's verdict and retries."""
        return await retry_async(
            lambda: self._once(method, path, params, what),
            what=what,
            sleep=self._sleep,
            now_ms=self.now_ms,
        )

    async def _once(self, method: str, path: str, params: Mapping[str, Any], what: str) -> Answer:
        await self._limiter.acquire(path)
        if self.probe is not None and path == "/v5/order/create":
            self.probe("order_create", time.perf_counter_ns())
        started = time.perf_counter()
        answer = await self.transport.request(method, path, params)
        log.debug(
            "venue_request",
            path=path,
            ret_code=answer.ret_code,
            ms=round((time.perf_counter() - started) * 1000, 3),
        )
        error = error_for_answer(
            answer.ret_code, answer.ret_msg, what=what, reset_ms=answer.reset_ms
        )
        if error is None:
            return answer
        if answer.ret_code == 10006:
            wait_s = 1.0 if answer.reset_ms is None else (answer.reset_ms - self.now_ms()) / 1000
            self._limiter.hold_until(path, wait_s)  # every engine on the account waits too
        raise error

    # ------------------------------------------------------------------ market data

    async def instrument(self, symbol: Symbol) -> Instrument:
        """The live trading rules of ``symbol`` (loaded once, then cached)."""
        known = self._instruments.get(symbol)
        if known is None:
            params = {"category": CATEGORY, "symbol": symbol}
            answer = await self.call("GET", "/v5/market/instruments-info", params, symbol)
            known = self._instruments[symbol] = instrument_from_answer(answer.result, symbol)
            self.view.funding_interval(symbol, known.funding_interval)
        return known

    def known_instrument(self, symbol: Symbol) -> Instrument | None:
        """``symbol``'s rules if already loaded (from any thread: a read of a cache that only
        ever grows)."""
        return self._instruments.get(symbol)

    async def ticker(self, symbol: Symbol) -> Ticker:
        params = {"category": CATEGORY, "symbol": symbol}
        answer = await self.call("GET", "/v5/market/tickers", params, f"ticker {symbol}")
        return ticker_from_rest(answer.result, symbol)

    async def server_time_ms(self) -> int:
        """Bybit's clock, for the drift check (``timeNano`` is exact to the millisecond)."""
        answer = await self.call("GET", "/v5/market/time", {}, "server time")
        nano = answer.result.get("timeNano")
        return int(str(nano)) // 1_000_000 if nano else int(answer.time_ms or 0)

    async def klines(
        self, symbol: Symbol, timeframe: Timeframe, start_ms: int, end_ms: int | None = None
    ) -> list[Kline]:
        """Bars opening in ``[start_ms, end_ms]``, oldest first, paged forwards; a bar is
        ``closed`` when it ended before the answer's server time."""
        bars: list[Kline] = []
        start = start_ms
        while True:
            found = await self._kline_page(symbol, timeframe, _KLINE_PAGE, start, end_ms)
            page = [b for b in found if b.start_ms >= start]
            bars += page
            if len(page) < _KLINE_PAGE:
                return bars
            start = page[-1].start_ms + timeframe.ms

    async def recent_klines(self, symbol: Symbol, timeframe: Timeframe, bars: int) -> list[Kline]:
        """The last ``bars`` closed bars, oldest first, paged backwards from the venue's now.

        Asked without a start time, Bybit answers with the newest rows (bybit_v5.md, kline):
        this needs no local clock, so it also reads a replaying emulator's past correctly.
        """
        found: list[Kline] = []
        end: int | None = None
        while len(found) < bars:
            limit = min(_KLINE_PAGE, bars - len(found) + 1)
            page = [
                b for b in await self._kline_page(symbol, timeframe, limit, None, end) if b.closed
            ]
            if end is not None:
                page = [b for b in page if b.start_ms < found[0].start_ms]
            if not page:
                break  # the venue has no older bars
            found = page + found
            end = page[0].start_ms - 1
        return found[-bars:] if bars else []

    async def _kline_page(
        self, symbol: Symbol, timeframe: Timeframe, limit: int, start: int | None, end: int | None
    ) -> list[Kline]:
        """One ``/v5/market/kline`` request, oldest first; bars open in ``[start, end]``."""
        params: dict[str, Any] = {
            "category": CATEGORY,
            "symbol": symbol,
            "interval": bybit_interval(timeframe),
        }
        if start is not None:
            params["start"] = start
        params["limit"] = limit
        if end is not None:
            params["end"] = end
        answer = await self.call("GET", "/v5/market/kline", params, f"klines {symbol}")
        return klines_from_rest(answer.result, timeframe.ms, answer.time_ms or self.now_ms())

    # ------------------------------------------------------------------ orders

    async def submit(self, order: OrderSubmitted) -> list[OrderEvent]:
        """Send ``order``; the events Bybit's answers justify (never a fill from the create
        answer). A refusal — ours or Bybit's — is an :class:`OrderRejected` event.

        Nothing here waits for a fill. An entry whose stop and target are measured from its
        fill price is registered as unprotected *before* it is sent, so the fill — however
        early the ``execution`` topic reports it — triggers :meth:`protect_filled`.
        """
        link_id = order.client_order_id
        self.view.expect(link_id, order.symbol)
        if needs_fill_price(order.protection):
            self.protect_on_fill(order)
        try:
            instrument = await self.instrument(order.symbol)
            last = None
            if order.trigger_price is not None:
                last = (await self.ticker(order.symbol)).last_price
            params = create_order_params(order, instrument, last)
            created = await self._create(link_id, params)
        except RejectedError as refused:
            self._forget(link_id)
            now = self._clock.now()
            return [OrderRejected(client_order_id=link_id, time=now, reason=str(refused))]
        except TradeplayError:
            # Temporary after every attempt, and the lookups did not find it: Bybit does not
            # have the order. Should it surface after all, its fills and the position's
            # sequence still keep the view honest.
            self._forget(link_id)
            raise
        if isinstance(created, OrderReport):  # found by a lookup after an uncertain create
            self.view.refreshed_orders([created])
            return order_events(created, self._clock.now(), [])
        return acknowledged(link_id, created, self._clock.now())

    def _forget(self, link_id: ClientOrderId) -> None:
        self.view.refused(link_id)
        self.unprotected.pop(link_id, None)

    async def _create(
        self, link_id: ClientOrderId, params: dict[str, Any]
    ) -> OrderId | OrderReport:
        """Create once, idempotently: the venue's id from the acknowledgement, or the order a
        lookup found. Raises the last temporary error after :data:`MAX_ATTEMPTS` tries when
        Bybit still does not know the order."""
        what = f"order create {params['symbol']} {link_id}"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                answer = await self._once("POST", "/v5/order/create", params, what)
                return OrderId(str(answer.result.get("orderId", "")))
            except BybitOrderRejectedError as refused:
                if refused.ret_code != _DUPLICATE_LINK_ID or attempt == 1:
                    # On the first attempt the id was taken before this call: a caller reusing
                    # an id, refused as Bybit refuses it (not someone else's order passed off
                    # as this one's acceptance).
                    raise
                # Our id is already taken: an earlier attempt of this call went through.
            except TemporaryError as error:
                log.warning(
                    "order_create_uncertain", order=link_id, attempt=attempt, error=str(error)
                )
                if attempt == MAX_ATTEMPTS:
                    found = await self.find_order(params["symbol"], link_id)
                    if found is None:
                        raise
                    return found
                await self._sleep(backoff_wait(error, attempt, self.now_ms()))
            found = await self.find_order(params["symbol"], link_id)
            if found is not None:
                return found
        raise AssertionError("unreachable")  # pragma: no cover

    async def find_order(self, symbol: Symbol, link_id: ClientOrderId) -> OrderReport | None:
        """The order with our id: ``order/realtime`` first, then ``order/history``."""
        params = {"category": CATEGORY, "symbol": symbol, "orderLinkId": link_id}
        for path in ("/v5/order/realtime", "/v5/order/history"):
            answer = await self.call("GET", path, params, f"order lookup {link_id}")
            items = answer.result.get("list") or []
            if items:
                return order_report(items[0])
        return None

    async def _protect(self, order: OrderSubmitted, avg_price: Price) -> None:
        assert order.protection is not None
        instrument = await self.instrument(order.symbol)
        stop = protection_stop(order.symbol, order.protection, order.side, avg_price, instrument)
        await self.set_trading_stop(stop)
        log.info("protection_placed", order=order.client_order_id, fill_price=str(avg_price))

    def protect_on_fill(self, order: OrderSubmitted) -> None:
        """Place ``order``'s fill-relative protection once it fills (:meth:`protect_filled`).
        On the venue's loop: the table is touched there only."""
        self.unprotected[order.client_order_id] = order

    async def protect_filled(self) -> list[ClientOrderId]:
        """Place the deferred protection of every entry that has filled since (the runtime
        calls this when a fill of such an entry is seen, and at each closed bar); the ids
        protected. An entry that ended without a fill is forgotten; one still resting (or
        not yet known to Bybit) waits. An entry is looked up over REST only when the
        ``order`` topic cannot tell (:meth:`AccountView.order_of`). Callers take turns, so a
        fill seen while another call is looking the entry up is never missed."""
        placed: list[ClientOrderId] = []
        async with self._protecting:
            for link_id, order in list(self.unprotected.items()):
                known, report = self.view.order_of(link_id)
                if not known:
                    report = await self.find_order(order.symbol, link_id)
                if report is not None and report.avg_price is not None and report.filled_qty:
                    await self._protect(order, report.avg_price)
                    placed.append(link_id)
                elif report is None or report.is_open:
                    continue
                self.unprotected.pop(link_id, None)
        return placed

    async def cancel(self, symbol: Symbol, link_id: ClientOrderId) -> list[OrderEvent]:
        """Cancel by our id; the order's resulting events, empty if Bybit does not know it."""
        try:
            await self.call(
                "POST",
                "/v5/order/cancel",
                cancel_params(symbol, link_id),
                f"order cancel {link_id}",
            )
        except RejectedError as refused:
            log.info("cancel_refused", order=link_id, reason=str(refused))
        report = await self.find_order(symbol, link_id)
        if report is None:
            return []
        self.view.refreshed_orders([report])
        return order_events(report, self._clock.now(), [])

    async def set_trading_stop(self, stop: TradingStop) -> None:
        instrument = await self.instrument(stop.symbol)
        await self.call(
            "POST",
            "/v5/position/trading-stop",
            trading_stop_params(stop, instrument),
            f"trading stop {stop.symbol}",
        )
        self.view.protecting(stop)

    async def set_leverage(self, symbol: Symbol, leverage: Price) -> None:
        """Set leverage; "leverage not modified" (110043) counts as success."""
        instrument = await self.instrument(symbol)
        await self.call(
            "POST",
            "/v5/position/set-leverage",
            leverage_params(symbol, leverage, instrument),
            f"leverage {symbol}",
        )

    # ------------------------------------------------------------------ account state

    async def open_orders(self, symbol: Symbol | None = None) -> list[OrderReport]:
        scope = {"symbol": symbol} if symbol else {"settleCoin": self.config.settle_coin}
        items = await self._pages(
            "/v5/order/realtime", {"category": CATEGORY, **scope, "limit": 50}
        )
        return [order_report(item) for item in items]

    async def position(self, symbol: Symbol) -> PositionReport:
        """Bybit returns the record of a symbol even when flat (bybit_v5.md §6.13)."""
        params = {"category": CATEGORY, "symbol": symbol}
        answer = await self.call("GET", "/v5/position/list", params, f"position {symbol}")
        items = [i for i in answer.result.get("list") or [] if i.get("symbol") == symbol]
        if not items:
            return position_report({"symbol": symbol, "size": "0", "side": ""})
        return position_report(items[0])

    async def fresh_position(self, symbol: Symbol) -> PositionReport:
        """The position from REST, refreshing the view with it (the view was not fresh)."""
        generation = self.view.generation()
        report = await self.position(symbol)
        self.view.refreshed_position(report, generation)
        return report

    async def fresh_balance(self) -> BalanceReport:
        generation = self.view.generation()
        report = await self.balance()
        self.view.refreshed_balance(report, generation)
        return report

    async def positions(self) -> list[PositionReport]:
        """Open positions only: with ``settleCoin`` Bybit lists sizes above zero."""
        params = {"category": CATEGORY, "settleCoin": self.config.settle_coin, "limit": 200}
        return [position_report(item) for item in await self._pages("/v5/position/list", params)]

    async def balance(self) -> BalanceReport:
        params = {"accountType": "UNIFIED", "coin": self.config.settle_coin}
        answer = await self.call("GET", "/v5/account/wallet-balance", params, "wallet balance")
        accounts = answer.result.get("list") or [{}]
        return balance_report(accounts[0], self.config.settle_coin)

    async def executions(
        self, symbol: Symbol, link_id: ClientOrderId | None = None, start_ms: int | None = None
    ) -> list[Fill | FundingApplied]:
        """Fills and funding rows, oldest first (Bybit lists newest first, §6.12)."""
        params: dict[str, Any] = {"category": CATEGORY, "symbol": symbol, "limit": 100}
        if link_id is not None:
            params["orderLinkId"] = link_id
        if start_ms is not None:
            params["startTime"] = start_ms
        items = await self._pages("/v5/execution/list", params)
        found = [execution_report(i, self.config.settle_coin) for i in items]
        return sorted((f for f in found if f is not None), key=lambda f: f.time)

    async def _pages(self, path: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Every item of a cursor-paged list; Bybit's last page has ``nextPageCursor: ""``."""
        items: list[Mapping[str, Any]] = []
        cursor = ""
        seen: set[str] = set()
        while True:
            page = {**params, "cursor": cursor} if cursor else dict(params)
            answer = await self.call("GET", path, page, path)
            items += answer.result.get("list") or []
            cursor = str(answer.result.get("nextPageCursor") or "")
            # A repeated cursor would loop for ever (bybit_v5.md §13 item 2): stop instead.
            if not cursor or cursor in seen or not answer.result.get("list"):
                return items
            seen.add(cursor)

    async def close(self) -> None:
        await self.transport.close()
