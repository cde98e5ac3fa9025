"""The base of the runtime's :class:`~tradeplay.ports.Exchange` decorators.

The runtime wraps the exchange the engine talks to — to time every instruction
(:class:`~tradeplay.runtime.actions.TimedExchange`), to record it durably
(:class:`~tradeplay.runtime.recorder.RecordedExchange`), or to keep it as a would-be order
(:class:`~tradeplay.runtime.paper.ShadowExchange`). Each passes every call on and overrides
only what it adds to.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradeplay.domain.account import Account
from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order
from tradeplay.domain.position import Position
from tradeplay.domain.values import ClientOrderId, Symbol
from tradeplay.ports import Exchange, TradingStop

__all__ = ["ForwardingExchange"]


class ForwardingExchange:
    """An :class:`Exchange` that passes every call to ``inner``."""

    def __init__(self, inner: Exchange) -> None:
        self._inner = inner

    def instrument(self, symbol: Symbol) -> Instrument:
        return self._inner.instrument(symbol)

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        return self._inner.submit(order)

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        return self._inner.cancel(symbol, client_order_id)

    def set_trading_stop(self, stop: TradingStop) -> None:
        self._inner.set_trading_stop(stop)

    def open_orders(self, symbol: Symbol | None = None) -> Sequence[Order]:
        return self._inner.open_orders(symbol)

    def position(self, symbol: Symbol) -> Position:
        return self._inner.position(symbol)

    def account(self) -> Account:
        return self._inner.account()
