"""Orders and fills of one pair, made durable and told to the bus as they happen.

:class:`RecordedMarket` wraps a pair's market; the engine trades through its
:class:`RecordedExchange`. An order is stored *before* it is sent (status ``pending``, keyed by
our ``orderLinkId``), so an order that left but whose answer was lost is still known after a
crash; the venue's answer and every later event (fills at the next bar) update the same row.
Both writes are idempotent (see :mod:`tradeplay.store.trading`), so a replay changes nothing.
A fill of the exchange's own stop-loss or take-profit order (ids ``sl-<n>`` / ``tp-<n>``, see
:class:`~tradeplay.sim.book.Origin`) is also told as ``StopLossHit`` / ``TakeProfitHit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay import notify
from tradeplay.domain import events as order_events
from tradeplay.domain.errors import InvalidTransitionError
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.domain.values import ClientOrderId, PositionSide, Side, Symbol
from tradeplay.notify import EventBus
from tradeplay.ports import Clock, Exchange
from tradeplay.runtime.forwarding import ForwardingExchange
from tradeplay.runtime.pairs import PairKey
from tradeplay.runtime.runner import Market
from tradeplay.sim.book import Origin
from tradeplay.store import Records

__all__ = ["RecordedExchange", "RecordedMarket"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Recorder:
    """Where a pair's orders and fills go: the store and the bus."""

    key: PairKey
    records: Records
    bus: EventBus
    clock: Clock


class RecordedExchange(ForwardingExchange):
    """An :class:`Exchange` that stores and publishes every order it passes to ``inner``."""

    def __init__(self, inner: Exchange, recorder: Recorder) -> None:
        super().__init__(inner)
        self._recorder = recorder
        self._orders: dict[ClientOrderId, Order] = {}
        self.changed = False
        """Set when an order or fill went through since the flag was last cleared (the
        position is then worth saving)."""

    def submit(self, order: order_events.OrderSubmitted) -> Sequence[order_events.OrderEvent]:
        key = self._recorder.key
        self._save(Order.from_submitted(order))  # durable before it leaves
        events = self._inner.submit(order)
        self.apply(events)
        rejected = next((e for e in events if isinstance(e, order_events.OrderRejected)), None)
        self._recorder.bus.publish(
            notify.OrderRejected(
                environment=key.environment,
                time=order.time,
                deployment=key.play,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                reason=rejected.reason,
            )
            if rejected is not None
            else notify.OrderPlaced(
                environment=key.environment,
                time=order.time,
                deployment=key.play,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                qty=order.qty,
                price=order.price,
                trigger_price=order.trigger_price,
                reduce_only=order.reduce_only,
            )
        )
        return events

    def cancel(
        self, symbol: Symbol, client_order_id: ClientOrderId
    ) -> Sequence[order_events.OrderEvent]:
        events = self._inner.cancel(symbol, client_order_id)
        self.apply(events)
        return events

    def apply(self, events: Sequence[order_events.OrderEvent]) -> None:
        """Store the fills among ``events`` and move the known orders they belong to."""
        key = self._recorder.key
        self.changed = self.changed or bool(events)
        for event in events:
            if isinstance(event, order_events.OrderFilled):
                self._fill(event)
            known = self._orders.get(event.client_order_id)
            if known is None or isinstance(event, order_events.OrderSubmitted):
                continue
            try:
                self._save(known.apply(event))
            except InvalidTransitionError as error:  # the venue's word wins; keep the fill
                log.warning("order_event_skipped", pair=str(key), reason=str(error))

    def _fill(self, event: order_events.OrderFilled) -> None:
        key, fill = self._recorder.key, event.fill
        if not self._recorder.records.fills.record(key.environment, fill):
            return  # seen before: already published
        self._recorder.bus.publish(
            notify.OrderFilled(
                environment=key.environment,
                time=fill.time,
                deployment=key.play,
                client_order_id=fill.client_order_id,
                trade_id=fill.trade_id,
                symbol=fill.symbol,
                side=fill.side,
                qty=fill.qty,
                price=fill.price,
                fee=fill.fee,
            )
        )
        self._protection_hit(fill)

    def _protection_hit(self, fill: Fill) -> None:
        origin = Origin.of(fill.client_order_id)
        if origin not in (Origin.STOP_LOSS, Origin.TAKE_PROFIT):
            return
        kind = notify.StopLossHit if origin is Origin.STOP_LOSS else notify.TakeProfitHit
        key = self._recorder.key
        self._recorder.bus.publish(
            kind(
                environment=key.environment,
                time=fill.time,
                deployment=key.play,
                symbol=fill.symbol,
                # A sell closes a long. The trigger itself is not in the fill: its price is.
                side=PositionSide.LONG if fill.side is Side.SELL else PositionSide.SHORT,
                trigger_price=fill.price,
                qty=fill.qty,
            )
        )

    def _save(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if not order.is_open:
            self._orders.pop(order.client_order_id)
        self._recorder.records.orders.save(self._recorder.key.environment, order)


class RecordedMarket:
    """A pair's :class:`Market` whose orders and fills are recorded as they happen."""

    def __init__(self, inner: Market, recorder: Recorder) -> None:
        self._inner = inner
        self.recorded = RecordedExchange(inner.exchange, recorder)
        self.muted = False
        """While set, bars pass by the account (a restarted engine re-reading bars it saw)."""

    @property
    def exchange(self) -> Exchange:
        return self.recorded

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[order_events.OrderEvent]:
        if self.muted:
            return ()
        events = self._inner.on_bar(row)
        self.recorded.apply(events)
        return events
