"""What crash recovery asks of a venue account, and that account over a running session.

:class:`VenueAccount` is the port :class:`~tradeplay.runtime.recovery.Recovery` reconciles
against (Bybit's own reports, blocking); :class:`SessionAccount` answers it from an
environment's :class:`~tradeplay.runtime.venue_session.VenueSession`, with the venue calls that
exist already. A test gives recovery a fake of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import ClientOrderId, Symbol
from tradeplay.ports import TradingStop
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.venues.bybit.reports import BalanceReport, OrderReport, PositionReport

__all__ = ["SessionAccount", "VenueAccount"]


class VenueAccount(Protocol):
    """What recovery asks of the venue account (blocking; Bybit's own reports)."""

    def open_orders(self) -> Sequence[OrderReport]: ...

    def find_order(self, symbol: Symbol, link_id: ClientOrderId) -> OrderReport | None: ...

    def positions(self) -> Sequence[PositionReport]:
        """Open positions only."""
        ...

    def balance(self) -> BalanceReport: ...

    def executions(self, symbol: Symbol, start_ms: int | None) -> Sequence[Fill]:
        """Fills at or after ``start_ms`` (every one when ``None``), oldest first."""
        ...

    def instrument(self, symbol: Symbol) -> Instrument: ...

    def set_trading_stop(self, stop: TradingStop) -> None: ...

    def submit(self, order: OrderSubmitted) -> None: ...

    def protect_on_fill(self, order: OrderSubmitted) -> None:
        """Place ``order``'s fill-relative protection once it fills."""
        ...


class SessionAccount:
    """:class:`VenueAccount` over a running :class:`VenueSession` (existing venue calls only)."""

    def __init__(self, session: VenueSession) -> None:
        self._session = session
        self._venue = session.venue

    def open_orders(self) -> Sequence[OrderReport]:
        return self._session.run(self._venue.open_orders())

    def find_order(self, symbol: Symbol, link_id: ClientOrderId) -> OrderReport | None:
        return self._session.run(self._venue.find_order(symbol, link_id))

    def positions(self) -> Sequence[PositionReport]:
        return self._session.run(self._venue.positions())

    def balance(self) -> BalanceReport:
        return self._session.run(self._venue.balance())

    def executions(self, symbol: Symbol, start_ms: int | None) -> Sequence[Fill]:
        found = self._session.run(self._venue.executions(symbol, start_ms=start_ms))
        return [item for item in found if isinstance(item, Fill)]

    def instrument(self, symbol: Symbol) -> Instrument:
        return self._session.run(self._venue.instrument(symbol))

    def set_trading_stop(self, stop: TradingStop) -> None:
        self._session.run(self._venue.set_trading_stop(stop))

    def submit(self, order: OrderSubmitted) -> None:
        self._session.run(self._venue.submit(order))

    def protect_on_fill(self, order: OrderSubmitted) -> None:
        async def register() -> None:  # the venue's table is touched on its loop only
            self._venue.protect_on_fill(order)

        self._session.run(register())
