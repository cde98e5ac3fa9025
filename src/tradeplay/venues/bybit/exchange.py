"""The synchronous ``Exchange`` port over the async :class:`BybitVenue`, for the engine.

Threading model. The live runtime runs one asyncio event loop (in its own thread) that owns
every ccxt.pro client, socket, stream loop and rate limiter. The engine is synchronous and runs
in a worker thread of its own. Each port method here submits a coroutine to the loop with
:func:`asyncio.run_coroutine_threadsafe` and blocks the *engine's* thread on the resulting
future, never the loop: so streams keep flowing while the engine waits for an answer, and
several engines (each in its thread) share one loop, one client per account and one limiter.

The account reads (:meth:`~BybitExchange.position`, :meth:`~BybitExchange.account`,
:meth:`~BybitExchange.open_orders`) are answered in the engine's thread from the venue's
:class:`~tradeplay.venues.bybit.account_view.AccountView` when it is as fresh as REST, without
a trip to the loop — after waiting briefly (:data:`STREAM_CATCH_UP_S`) when it is only
catching up with messages already on their way; otherwise they go to REST (which refreshes the
view). The instrument, once
loaded, is read from the venue's cache the same way.

Calling a method from the loop's own thread would wait for itself for ever; that is refused
with a clear error instead. Every call has a deadline (``timeout_s``) beyond the venue's own
retries, after which the coroutine is cancelled and a :class:`VenueUnavailableError` raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from tradeplay.domain.account import Account
from tradeplay.domain.errors import VenueUnavailableError
from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.values import ClientOrderId, Symbol
from tradeplay.ports import TradingStop
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["BybitExchange", "run_on_loop"]

T = TypeVar("T")

#: Longer than three attempts with their 1 s and 2 s waits and a 10 s request timeout each.
DEFAULT_TIMEOUT_S = 60.0
#: How long an account read waits for stream messages surely on their way (a fill's position
#: and wallet updates) before it asks REST instead: a REST round trip costs more on loopback
#: already, and tens of milliseconds against Bybit.
STREAM_CATCH_UP_S = 0.005


def run_on_loop(
    loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T], timeout_s: float
) -> T:
    """Run ``coroutine`` on ``loop`` (running in another thread) and wait for its result."""
    if loop_thread_id(loop) == threading.get_ident():
        coroutine.close()
        raise RuntimeError(
            "the Bybit exchange port blocks until the event loop answers; call it from a worker "
            "thread, not from the event loop's own thread"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result(timeout_s)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise VenueUnavailableError(f"bybit did not answer within {timeout_s:g} s") from None


def loop_thread_id(loop: asyncio.AbstractEventLoop) -> int | None:
    """The id of the thread running ``loop`` (asyncio keeps it privately; ``None`` if unknown)."""
    thread_id = getattr(loop, "_thread_id", None)
    return thread_id if isinstance(thread_id, int) else None


class BybitExchange:
    """:class:`~tradeplay.ports.Exchange` for Bybit, callable from the engine's thread.

    ``trading``: the one symbol whose orders go through this port (a pair's engine), when an
    account is shared by several: then only its own orders in flight keep :meth:`account`
    from the view — another pair's are concurrent with it (see
    :class:`~tradeplay.venues.bybit.account_view.AccountView`).
    """

    def __init__(
        self,
        venue: BybitVenue,
        loop: asyncio.AbstractEventLoop,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        *,
        trading: Symbol | None = None,
    ) -> None:
        self._venue = venue
        self._loop = loop
        self._timeout_s = timeout_s
        self._trading = trading

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return run_on_loop(self._loop, coroutine, self._timeout_s)

    def instrument(self, symbol: Symbol) -> Instrument:
        known = self._venue.known_instrument(symbol)
        return known if known is not None else self._run(self._venue.instrument(symbol))

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        return self._run(self._venue.submit(order))

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        return self._run(self._venue.cancel(symbol, client_order_id))

    def set_trading_stop(self, stop: TradingStop) -> None:
        self._run(self._venue.set_trading_stop(stop))

    def open_orders(self, symbol: Symbol | None = None) -> Sequence[Order]:
        reports = self._venue.view.open_orders(symbol, STREAM_CATCH_UP_S)
        if reports is None:
            reports = self._run(self._venue.open_orders(symbol))
        return tuple(report.to_order() for report in reports)

    def position(self, symbol: Symbol) -> Position:
        report = self._venue.view.position(symbol, STREAM_CATCH_UP_S)
        if report is None:
            report = self._run(self._venue.fresh_position(symbol))
        return report.to_position()

    def account(self) -> Account:
        report = self._venue.view.balance(STREAM_CATCH_UP_S, trading=self._trading)
        if report is None:
            report = self._run(self._venue.fresh_balance())
        return report.to_account()
