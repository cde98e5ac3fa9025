"""The private topics (``order``, ``execution``, ``position``, ``wallet``) as reports.

Each topic runs under :func:`~tradeplay.venues.bybit.streams.supervise`; after every
(re)connection the state is read over REST — open orders, positions and the wallet, and the
executions since the last one seen — so nothing that happened while a socket was down is lost.
Executions are de-duplicated by ``execId``: the REST catch-up and the stream may both carry one.

Every report also goes into the venue's :class:`~tradeplay.venues.bybit.account_view.
AccountView` (whoever the listener is), which serves the ``Exchange`` port's reads while the
topics are synced: each topic counts as synced once its re-sync is done, and as lost when its
socket fails. An entry whose fill-relative protection waits for its fill gets it as soon as
the ``order`` topic reports it filled (from its ``avgPrice``, no lookup); a re-sync also places
the protection of entries still waiting (their fill may have come while the socket was down).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, Final, Protocol

import structlog

from tradeplay.domain.errors import TradeplayError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.memory import remember
from tradeplay.domain.values import Symbol
from tradeplay.venues.bybit._fields import integer
from tradeplay.venues.bybit.executions import execution_report
from tradeplay.venues.bybit.reports import (
    BalanceReport,
    OrderReport,
    PositionReport,
    balance_report,
    order_report,
    position_report,
)
from tradeplay.venues.bybit.streams import DEFAULT_BACKOFF, Backoff, Messages, StreamSpec
from tradeplay.venues.bybit.venue import BybitVenue

__all__ = ["AccountListener", "AccountStreams"]

log = structlog.get_logger(__name__)

_REMEMBERED_FILLS: Final = 10_000


class AccountListener(Protocol):
    """Who receives the account's reports (the runtime's position monitor)."""

    def on_order(self, report: OrderReport) -> None: ...

    def on_fill(self, fill: Fill) -> None: ...

    def on_funding(self, funding: FundingApplied) -> None: ...

    def on_position(self, report: PositionReport) -> None: ...

    def on_balance(self, report: BalanceReport) -> None: ...


class AccountStreams:
    """Reports of one account's ``symbols`` from the private stream and REST re-syncs."""

    def __init__(
        self, venue: BybitVenue, listener: AccountListener, symbols: tuple[Symbol, ...]
    ) -> None:
        self._venue = venue
        self._view = venue.view
        self._listener = listener
        self._symbols = symbols
        self._fill_ids: dict[str, None] = {}
        """Executions seen, oldest first (a dict: looked up at every execution)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_fill_ms: int | None = None

    def specs(self, backoff: Backoff = DEFAULT_BACKOFF) -> list[StreamSpec]:
        handlers = {
            "order": self._orders,
            "execution": self._executions,
            "position": self._positions,
            "wallet": self._wallet,
        }
        return [
            StreamSpec(
                topic=topic,
                private=True,
                on_messages=handler,
                resync=self._synced_after(
                    topic, self.resync_executions if topic == "execution" else self.resync
                ),
                backoff=backoff,
                on_lost=partial(self._view.lost, topic),
            )
            for topic, handler in handlers.items()
        ]

    def _synced_after(
        self, topic: str, resync: Callable[[], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        async def synced() -> None:
            await resync()
            self._view.synced(topic)

        return synced

    async def resync(self) -> None:
        """Open orders, positions and the wallet as Bybit has them now; our orders the view
        still waits for but Bybit no longer lists as open are looked up one by one."""
        known = self._view.open_order_ids()
        orders = await self._venue.open_orders()
        self._view.resynced_orders(orders, known)
        for report in orders:
            self._listener.on_order(report)
        for link_id, symbol in self._view.in_flight(exclude={o.client_order_id for o in orders}):
            found = await self._venue.find_order(symbol, link_id)
            if found is not None:
                self._view.refreshed_orders([found])
        for symbol in self._symbols:
            position = await self._venue.fresh_position(symbol)
            self._listener.on_position(position)
        balance = await self._venue.fresh_balance()
        self._listener.on_balance(balance)
        if self._venue.unprotected:  # an entry's fill may have come while the socket was down
            try:
                await self._venue.protect_filled()
            except TradeplayError as error:  # tried again at the next fill, bar or re-sync
                log.warning("protection_not_placed_yet", error=str(error))

    async def resync_executions(self) -> None:
        """Executions since the last one seen (none before the first: history is not ours)."""
        if self._last_fill_ms is None:
            return
        for symbol in self._symbols:
            for found in await self._venue.executions(symbol, start_ms=self._last_fill_ms):
                self._execution(found)

    async def _orders(self, messages: Messages) -> None:
        for item in _items(messages):
            if item.get("category", "linear") == "linear":
                report = order_report(item)
                self._view.on_order(report)
                self._listener.on_order(report)
                # An entry whose protection waits has ended: its report is in the view now, so
                # the protection is placed from its avgPrice without a lookup.
                if not report.is_open and report.client_order_id in self._venue.unprotected:
                    self._spawn(self._protect())

    async def _protect(self) -> None:
        try:
            await self._venue.protect_filled()
        except TradeplayError as error:  # tried again at the next fill, bar or re-sync
            log.warning("protection_not_placed_yet", error=str(error))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the stream (its handler must not wait for REST round trips)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _executions(self, messages: Messages) -> None:
        coin = self._venue.config.settle_coin
        for item in _items(messages):
            if item.get("category", "linear") == "linear":
                found = execution_report(item, coin)
                if found is not None:
                    self._execution(found, integer(item, "seq", -1))

    def _execution(self, found: Fill | FundingApplied, seq: int = -1) -> None:
        # A funding row has no execId of its own here: one settlement per symbol and time.
        key = found.trade_id if isinstance(found, Fill) else f"funding {found.symbol} {found.time}"
        if key in self._fill_ids:
            return
        remember(self._fill_ids, key, None, _REMEMBERED_FILLS)
        if isinstance(found, FundingApplied):
            self._view.on_funding(found.symbol, seq)
            self._listener.on_funding(found)
            return
        ms = int(found.time.timestamp() * 1000)
        self._last_fill_ms = max(ms, self._last_fill_ms or ms)
        self._listener.on_fill(found)  # first: whoever the view wakes finds the fill there
        self._view.on_fill(found.symbol, seq, found.client_order_id, found.qty)

    async def _positions(self, messages: Messages) -> None:
        for item in _items(messages):
            if item.get("category", "linear") == "linear":
                report = position_report(item)
                self._view.on_position(report)
                self._listener.on_position(report)

    async def _wallet(self, messages: Messages) -> None:
        coin = self._venue.config.settle_coin
        for item in _items(messages):
            report = balance_report(item, coin)
            self._view.on_balance(report)
            self._listener.on_balance(report)


def _items(messages: Messages) -> list[dict[str, object]]:
    """The ``data`` items of private messages ``{"topic", "creationTime", "data": [...]}``."""
    return [item for message in messages for item in message.get("data") or []]
