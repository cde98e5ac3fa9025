"""Orders and fills of one pair, made durable and told to the bus as they happen.

:class:`RecordedMarket` wraps a pair's market; the engine trades through its
:class:`RecordedExchange`. An order is stored *before* it is sent (status ``pending``, keyed by
our ``orderLinkId``), so an order that left but whose answer was lost is still known after a
crash; the venue's answer and every later event (fills at the next bar) update the same row,
within the bar that brought them. An event for an order this run did not send (sent by the run
before a restart, or by recovery) moves the stored row while it is open.

A stored order only moves forward in time: its events carry different clocks (our
acknowledgement is stamped when the answer arrives, a fill with the venue's execution time,
which may be earlier), and an update stamped before the stored row would not be written.

A fill moves its order only the first time it is recorded: a fill delivered again (a stream
re-sync, or recovery recorded it first together with the order's venue state) is no new
quantity. A fill of the exchange's own stop-loss or take-profit order is also told as
``StopLossHit`` / ``TakeProfitHit``: the simulator's ids say so (``sl-<n>`` / ``tp-<n>``, see
:class:`~tradeplay.sim.book.Origin`), a venue's order by its ``stopOrderType``
(:attr:`Recorder.origin`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

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


def _origin_of_id(fill: Fill) -> Origin | None:
    return Origin.of(fill.client_order_id)


@dataclass(frozen=True, slots=True)
class Recorder:
    """Where a pair's orders and fills go: the store and the bus."""

    key: PairKey
    records: Records
    bus: EventBus
    clock: Clock
    origin: Callable[[Fill], Origin | None] = _origin_of_id
    """Who placed the order a fill executes (``None``: unknown); by default its id says."""


class RecordedExchange(ForwardingExchange):
    """An :class:`Exchange` that stores and publishes every order it passes to ``inner``."""

    def __init__(self, inner: Exchange, recorder: Recorder) -> None:
        super().__init__(inner)
        self.recorder = recorder
        self._orders: dict[ClientOrderId, Order] = {}
        self.changed = False
        """Set when a fill went through since the flag was last cleared (the position is then
        worth saving; an order's other events leave it as it was)."""

    def submit(self, order: order_events.OrderSubmitted) -> Sequence[order_events.OrderEvent]:
        key = self.recorder.key
        self._save(Order.from_submitted(order))
        self.recorder.records.flush()  # durable before it leaves
        events = self._inner.submit(order)
        self.apply(events)
        rejected = next((e for e in events if isinstance(e, order_events.OrderRejected)), None)
        self.recorder.bus.publish(
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
        """Store the fills among ``events`` and move the orders they belong to."""
        key = self.recorder.key
        self.changed = self.changed or any(
            isinstance(event, order_events.OrderFilled) for event in events
        )
        for event in events:
            if isinstance(event, order_events.OrderFilled) and not self._fill(event):
                continue  # recorded before: its order already counts it
            if isinstance(event, order_events.OrderSubmitted):
                continue
            known = self._known(event.client_order_id)
            if known is None:
                continue
            try:
                moved = known.apply(event)
            except InvalidTransitionError as error:  # the venue's word wins; keep the fill
                log.warning("order_event_skipped", pair=str(key), reason=str(error))
                continue
            if moved.updated_at < known.updated_at:  # see the module doc: forward in time only
                moved = replace(moved, updated_at=known.updated_at)
            self._save(moved)

    def _known(self, client_order_id: ClientOrderId) -> Order | None:
        """The open order ``client_order_id`` names: sent by this run, else as stored."""
        known = self._orders.get(client_order_id)
        if known is not None:
            return known
        stored = self.recorder.records.orders.get(self.recorder.key.environment, client_order_id)
        return stored if stored is not None and stored.is_open else None

    def _fill(self, event: order_events.OrderFilled) -> bool:
        """Store the fill and publish it; ``False`` if it was stored before."""
        key, fill = self.recorder.key, event.fill
        if not self.recorder.records.fills.record(key.environment, fill):
            return False  # seen before: already published
        self.recorder.bus.publish(
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
        return True

    def _protection_hit(self, fill: Fill) -> None:
        origin = self.recorder.origin(fill)
        if origin not in (Origin.STOP_LOSS, Origin.TAKE_PROFIT):
            return
        kind = notify.StopLossHit if origin is Origin.STOP_LOSS else notify.TakeProfitHit
        key = self.recorder.key
        self.recorder.bus.publish(
            kind(
                environment=key.environment,
                time=fill.time,
                deployment=key.play,
                symbol=fill.symbol,
                # A sell closes a long.
                side=PositionSide.LONG if fill.side is Side.SELL else PositionSide.SHORT,
                price=fill.price,
                qty=fill.qty,
            )
        )

    def _save(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        if not order.is_open:
            self._orders.pop(order.client_order_id)
        environment = self.recorder.key.environment
        self.recorder.records.post(lambda records: records.orders.save(environment, order))


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

    def deferred(self) -> AbstractContextManager[None]:
        """Writes within need not be durable before the block ends (a bar's step): one wait
        for all of them instead of one each (see :mod:`tradeplay.store._group_commit`)."""
        return self.recorded.recorder.records.deferred()

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[order_events.OrderEvent]:
        if self.muted:
            return ()
        events = self._inner.on_bar(row)
        self.recorded.apply(events)
        return events
