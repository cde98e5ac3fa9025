"""The private topics (``order``, ``execution``, ``position``, ``wallet``) as reports.

Each topic runs under :func:`~tradeplay.venues.bybit.streams.supervise`; after every
(re)connection the state is read over REST — open orders, positions and the wallet, and the
executions since the last one seen — so nothing that happened while a socket was down is lost.
Executions are de-duplicated by ``execId``: the REST catch-up and the stream may both carry one.
"""

from __future__ import annotations

from collections import deque
from typing import Final, Protocol

from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import Symbol
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
        self._listener = listener
        self._symbols = symbols
        self._fill_ids: deque[str] = deque(maxlen=_REMEMBERED_FILLS)
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
                resync=self.resync_executions if topic == "execution" else self.resync,
                backoff=backoff,
            )
            for topic, handler in handlers.items()
        ]

    async def resync(self) -> None:
        """Open orders, positions and the wallet as Bybit has them now."""
        for report in await self._venue.open_orders():
            self._listener.on_order(report)
        for symbol in self._symbols:
            self._listener.on_position(await self._venue.position(symbol))
        self._listener.on_balance(await self._venue.balance())

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
                self._listener.on_order(order_report(item))

    async def _executions(self, messages: Messages) -> None:
        coin = self._venue.config.settle_coin
        for item in _items(messages):
            if item.get("category", "linear") == "linear":
                found = execution_report(item, coin)
                if found is not None:
                    self._execution(found)

    def _execution(self, found: Fill | FundingApplied) -> None:
        # A funding row has no execId of its own here: one settlement per symbol and time.
        key = found.trade_id if isinstance(found, Fill) else f"funding {found.symbol} {found.time}"
        if key in self._fill_ids:
            return
        self._fill_ids.append(key)
        if isinstance(found, FundingApplied):
            self._listener.on_funding(found)
            return
        ms = int(found.time.timestamp() * 1000)
        self._last_fill_ms = max(ms, self._last_fill_ms or ms)
        self._listener.on_fill(found)

    async def _positions(self, messages: Messages) -> None:
        for item in _items(messages):
            if item.get("category", "linear") == "linear":
                self._listener.on_position(position_report(item))

    async def _wallet(self, messages: Messages) -> None:
        coin = self._venue.config.settle_coin
        for item in _items(messages):
            self._listener.on_balance(balance_report(item, coin))


def _items(messages: Messages) -> list[dict[str, object]]:
    """The ``data`` items of private messages ``{"topic", "creationTime", "data": [...]}``."""
    return [item for message in messages for item in message.get("data") or []]
