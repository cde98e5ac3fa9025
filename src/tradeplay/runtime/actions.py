"""The live runners' action log: every instruction the engine sends, timed and logged.

:class:`TimedExchange` sits between the engine and the account's exchange (any
:class:`~tradeplay.ports.Exchange`: a paper simulator, the Bybit adapter). For every order it
records the delays a trader watches on a live bot::

    bar arrives ─ signal → submit ─► sent ─ submit → ack ─► answered ─ ack → fill ─► fill seen

*signal → submit*: from the closed bar's arrival to the order leaving the engine (features,
rules, monitors, sizing, risk); *submit → ack*: the venue's answer; *ack → fill*: until the
market reports the execution. Wall-clock durations come from a monotonic counter (they are
delays, not timestamps; the exchange times stay on the orders and fills themselves).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import structlog

from tradeplay.domain.events import OrderEvent, OrderFilled, OrderRejected, OrderSubmitted
from tradeplay.domain.memory import remember
from tradeplay.domain.values import ClientOrderId, Symbol, format_decimal
from tradeplay.ports import Exchange, TradingStop
from tradeplay.runtime.forwarding import ForwardingExchange

__all__ = ["OrderTiming", "TimedExchange"]

log = structlog.get_logger(__name__)

TIMINGS_KEPT: Final = 1_000
"""How many of the latest orders' timings a runner keeps: an order's fill comes within a few
bars, and a runner runs for months (every order's delays are in the log)."""


@dataclass(slots=True)
class OrderTiming:
    """The delays of one order, in nanoseconds (``None`` until that step happened)."""

    client_order_id: ClientOrderId
    signal_to_submit_ns: int | None
    submit_to_ack_ns: int
    ack_to_fill_ns: int | None = None
    acked_at_ns: int = 0


class TimedExchange(ForwardingExchange):
    """An :class:`Exchange` that times and logs every instruction passed to ``inner``."""

    def __init__(self, inner: Exchange, *, counter: Callable[[], int] = time.perf_counter_ns):
        super().__init__(inner)
        self._counter = counter
        self._bar_received_ns: int | None = None
        self.timings: dict[ClientOrderId, OrderTiming] = {}
        """The latest :data:`TIMINGS_KEPT` orders' timings, oldest first."""

    def bar_received(self) -> None:
        """A closed bar just arrived: the start of the *signal → submit* delay."""
        self._bar_received_ns = self._counter()

    def fills_seen(self, events: Sequence[OrderEvent]) -> None:
        """The market reported these events: close the *ack → fill* delay of filled orders."""
        now = self._counter()
        for event in events:
            timing = self.timings.get(event.client_order_id)
            if isinstance(event, OrderFilled) and timing and timing.ack_to_fill_ns is None:
                timing.ack_to_fill_ns = now - timing.acked_at_ns
                log.info(
                    "order_filled",
                    client_order_id=event.client_order_id,
                    price=format_decimal(event.fill.price),
                    qty=format_decimal(event.fill.qty),
                    ack_to_fill_ms=timing.ack_to_fill_ns / 1e6,
                )

    # -- the Exchange port -------------------------------------------------------------------

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        sent = self._counter()
        events = self._inner.submit(order)
        acked = self._counter()
        received = self._bar_received_ns
        timing = OrderTiming(
            order.client_order_id,
            None if received is None else sent - received,
            acked - sent,
            acked_at_ns=acked,
        )
        remember(self.timings, order.client_order_id, timing, TIMINGS_KEPT)
        rejected = next((e for e in events if isinstance(e, OrderRejected)), None)
        log.info(
            "order_rejected" if rejected else "order_submitted",
            client_order_id=order.client_order_id,
            side=str(order.side),
            type=str(order.order_type),
            qty=format_decimal(order.qty),
            price=None if order.price is None else format_decimal(order.price),
            reason=None if rejected is None else rejected.reason,
            signal_to_submit_ms=None if received is None else (sent - received) / 1e6,
            submit_to_ack_ms=(acked - sent) / 1e6,
        )
        return events

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        started = self._counter()
        events = self._inner.cancel(symbol, client_order_id)
        log.info(
            "order_cancel_sent",
            client_order_id=client_order_id,
            answered=bool(events),
            cancel_to_ack_ms=(self._counter() - started) / 1e6,
        )
        return events

    def set_trading_stop(self, stop: TradingStop) -> None:
        started = self._counter()
        self._inner.set_trading_stop(stop)
        log.info(
            "trading_stop_set",
            symbol=stop.symbol,
            take_profit=_text(stop.take_profit),
            stop_loss=_text(stop.stop_loss),
            trailing_distance=_text(stop.trailing_distance),
            submit_to_ack_ms=(self._counter() - started) / 1e6,
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)
