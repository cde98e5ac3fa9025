"""The execution manager: intents become orders, one instruction at a time.

An instruction sequence (close the position, then open the other side) runs step by step. After
each instruction the exchange's answer is reconciled: an order the exchange rejected stops the
sequence there — a reversal whose exit was refused does not open the other side, which would
double the exposure instead of turning it.

Entries are sized from the play's rule, rounded to the instrument's step, checked against the
instrument's minimums and the risk limits **before** anything is sent, and carry the play's
stop-loss and take-profit as protection the exchange places at the fill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradeplay.domain.errors import StateCorruptionError
from tradeplay.domain.events import OrderEvent, OrderRejected, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.memory import remember
from tradeplay.domain.position import Position
from tradeplay.domain.protection import Protection
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import ClientOrderId, OrderType, Side, Symbol
from tradeplay.engine.journal import Detail, Journal
from tradeplay.engine.strategy import Intent
from tradeplay.ports import Exchange

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_BUY, _SELL, _MARKET = Side.BUY, Side.SELL, OrderType.MARKET


@quick_init
@dataclass(frozen=True, slots=True)
class EntryPlan:
    """A sized, risk-checked entry ready to send (the engine builds it; see engine.py)."""

    side: Side
    qty: Decimal
    protection: Protection | None
    note: Detail = ""


class OrderIds:
    """Our own order ids (Bybit ``orderLinkId``): deterministic, so a replay sends the same ids."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix[:20]
        self._count = 0

    @property
    def issued(self) -> int:
        """How many ids were given so far (one per order sent, refused ones included)."""
        return self._count

    def next(self) -> ClientOrderId:
        self._count += 1
        return ClientOrderId(f"{self._prefix}-{self._count}")


class ExecutionManager:
    """Sends one instruction at a time to the exchange and stops a sequence on a failed step."""

    def __init__(
        self,
        exchange: Exchange,
        symbol: Symbol,
        ids: OrderIds,
        journal: Journal,
        keep: int | None = None,
    ) -> None:
        self._exchange = exchange
        self._symbol = symbol
        self._ids = ids
        self._journal = journal
        self._keep = keep
        self.exit_reasons: dict[ClientOrderId, str] = {}
        """Why each of our closing orders was sent, for the trade list (``signal`` …): the
        latest ``keep`` of them (every one when ``keep`` is ``None``)."""

    @property
    def orders_sent(self) -> int:
        """How many orders this manager sent (refused ones included)."""
        return self._ids.issued

    @property
    def instrument(self) -> Instrument:
        return self._exchange.instrument(self._symbol)

    def close(
        self, intent: Intent, position: Position, time: datetime, bar: int, reason: str = "signal"
    ) -> bool:
        """Send a reduce-only market order closing ``position``; False if it was refused."""
        if position.is_flat:
            self._journal.record(time, bar, intent, "skipped", "already flat")
            return True
        side = _SELL if position.size > 0 else _BUY
        order = self._order(time, side, position.qty, reduce_only=True)
        remember(self.exit_reasons, order.client_order_id, reason, self._keep)
        return self._send(order, intent, bar, reason)

    def open(self, intent: Intent, plan: EntryPlan, time: datetime, bar: int) -> bool:
        """Send the entry with its protection; False if the exchange refused it."""
        order = self._order(time, plan.side, plan.qty, protection=plan.protection)
        return self._send(order, intent, bar, plan.note)

    def _order(
        self,
        time: datetime,
        side: Side,
        qty: Decimal,
        *,
        reduce_only: bool = False,
        protection: Protection | None = None,
    ) -> OrderSubmitted:
        return OrderSubmitted(
            client_order_id=self._ids.next(),
            time=time,
            symbol=self._symbol,
            side=side,
            order_type=_MARKET,
            qty=qty,
            reduce_only=reduce_only,
            protection=protection,
        )

    def _send(self, order: OrderSubmitted, intent: Intent, bar: int, note: Detail = "") -> bool:
        events = self._exchange.submit(order)
        for event in events:
            if isinstance(event, OrderRejected):
                self._journal.record(order.time, bar, intent, "rejected", event.reason)
                return False
        self._reconcile(order, events)
        self._journal.record(order.time, bar, intent, "sent", note)
        return True

    def _reconcile(self, order: OrderSubmitted, events: Sequence[OrderEvent]) -> None:
        """After an instruction: the exchange must know the order, working or already filled.

        An answer about the order is the exchange's own word; without one, its open orders are
        asked (the venue may have taken the order and lost the reply).
        """
        ours = order.client_order_id
        for event in events:
            if event.client_order_id == ours:
                return
        working = {o.client_order_id for o in self._exchange.open_orders(self._symbol)}
        if order.client_order_id not in working:
            raise StateCorruptionError(
                f"order {order.client_order_id} vanished: the exchange neither reported it "
                "working nor answered it"
            )
