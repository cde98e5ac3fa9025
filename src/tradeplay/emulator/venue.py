"""The exchange behind the protocol: accounts, orders and the replay step, in Bybit's terms.

Every request handler of :mod:`tradeplay.emulator.rest` that changes state calls one method
here and gets back the ``result`` to answer with and the private-stream *notices* the change
causes. Bybit answers create / amend / cancel with an acknowledgement only; the state change
arrives on the private streams in the order ``order`` → ``execution`` → ``position`` →
``wallet`` (reference §13.5), and a ``position`` message follows every create, amend and cancel
even when nothing changed. The replay's :meth:`Venue.step` reveals the next bar and lets every
account's simulated exchange process it: those fills are the backtester's fills, because it is
the same simulator fed the same bar.

Times: orders, executions and positions carry the replay's time (the simulated exchange's
clock, the close of the last bar); only the envelope and authentication use the wall clock.

Ids: Bybit ``orderId`` and ``execId`` are UUIDs drawn from a seeded generator, so the same
requests against the same data give the same ids, run after run.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final

from tradeplay.domain.events import (
    FundingApplied,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
)
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.domain.values import ZERO, ClientOrderId, Side
from tradeplay.emulator.accounts import AccountBook, Slot
from tradeplay.emulator.config import AccountSpec
from tradeplay.emulator.entry import OrderIntent, check_levels, read_intent
from tradeplay.emulator.errors import BybitError, Code
from tradeplay.emulator.executions import funding_row, stream_row, trade_row
from tradeplay.emulator.market import Market, SymbolMarket
from tradeplay.emulator.orders import OrderRecord, epoch_ms
from tradeplay.emulator.params import Params

__all__ = ["Notice", "StepResult", "Venue"]

# A market order is reported with the protective limit Bybit turns it into; 1 % away from the
# last price, as in the captured market order of the fixtures (last 122392, price 123615.9).
# It is informational: the simulator fills market orders at the next open (± slippage).
_PROTECTION: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Notice:
    """A private-stream message for one account: ``topic`` and how to render its items.

    Rendering is deferred: it runs only if a socket of that account subscribed to the topic,
    so an account nobody listens to costs nothing to notify. The streams render a notice right
    after the change that caused it, before anything else can change the state.
    """

    api_key: str
    topic: str
    render: Callable[[], list[dict[str, object]]]


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one replay step revealed and caused."""

    symbols: list[SymbolMarket]
    notices: list[Notice]


class Venue:
    """Accounts trading against the replayed market."""

    def __init__(self, market: Market, accounts: Sequence[AccountSpec], *, seed: int = 0) -> None:
        self.market = market
        self.books = {spec.api_key: AccountBook(spec) for spec in accounts}
        self._rng = random.Random(seed)
        self._seq = 0
        self._sim_ids = 0

    # ---------------------------------------------------------------- ids

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _new_sim_id(self) -> ClientOrderId:
        self._sim_ids += 1
        return ClientOrderId(f"e{self._sim_ids}")

    # ---------------------------------------------------------------- create

    def create(self, book: AccountBook, params: Params) -> tuple[dict[str, object], list[Notice]]:
        params.require_linear()
        market = self.market.get(params.text("symbol"))
        slot = book.slot(market)
        last = _last(slot)
        position = slot.sim.position(market.symbol)
        intent = read_intent(params, market.instrument, position.qty)
        check_levels(intent, market.instrument, last)
        if intent.link_id and intent.link_id in book.by_link:
            raise BybitError(Code.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
        submitted = _submitted(self._new_sim_id(), intent, intent.qty, slot)
        record = OrderRecord.placed(
            intent,
            submitted,
            order_id=self._uuid(),
            price=_reported_price(intent, slot, last),
            last=last,
        )
        events = slot.sim.submit(submitted)
        refused = events[0] if isinstance(events[0], OrderRejected) else None
        if refused is not None and "EC_PostOnlyWillTakeLiquidity" not in refused.reason:
            raise BybitError.refusal(refused.reason)
        book.orders[record.order_id] = record
        book.by_sim[record.sim_id] = record
        if record.link_id:
            book.by_link[record.link_id] = record
        if refused is not None:
            # Bybit accepts the request and cancels the order: the ack, then a Cancelled order.
            record.order = record.order.apply(refused)
            record.reject_reason = "EC_PostOnlyWillTakeLiquidity"
            record.cancel_type = "UNKNOWN"
        else:
            self._apply(book, slot, events, [])
        return record.ack(), self._order_notices(book, slot, [record])

    # ---------------------------------------------------------------- amend and cancel

    def amend(self, book: AccountBook, params: Params) -> tuple[dict[str, object], list[Notice]]:
        """Cancel the incarnation and place the rest anew; the protocol ids stay the same."""
        params.require_linear()
        record = self._open_record(book, params, "replace")
        slot = book.slot(self.market.get(record.symbol))
        last = _last(slot)
        qty = params.optional_decimal("qty") or record.qty
        price = params.optional_decimal("price") if record.order_type == "Limit" else None
        trigger = params.optional_decimal("triggerPrice") if record.is_conditional else None
        intent = record.terms(qty, price, trigger, params)
        unchanged = (qty, price or record.price, trigger or record.trigger_price) == (
            record.qty,
            record.price,
            record.trigger_price,
        ) and (intent.take_profit, intent.stop_loss) == (record.take_profit, record.stop_loss)
        if unchanged:
            raise BybitError(
                Code.PARAMS,
                "The order remains unchanged as the parameters entered match the existing ones.",
            )
        if qty <= record.filled_qty:
            raise BybitError(
                Code.AMEND_QTY_TOO_SMALL,
                "The modified contract quantity cannot be less than or equal to the filled "
                "quantity.",
            )
        check_levels(replace(intent, qty=qty - record.filled_qty), slot.market.instrument, last)
        self._reincarnate(book, slot, record, intent)
        record.qty = qty
        record.take_profit, record.stop_loss = intent.take_profit, intent.stop_loss
        if intent.price is not None:
            record.price = intent.price
        record.trigger_price = intent.trigger_price
        record.updated_ms = epoch_ms(slot.sim.now)
        return record.ack(), self._order_notices(book, slot, [record])

    def _reincarnate(
        self, book: AccountBook, slot: Slot, record: OrderRecord, intent: OrderIntent
    ) -> None:
        """Swap the simulator's order for one with the new terms; on a refusal, put the old
        terms back (Bybit leaves the order as it was when an amend is refused)."""
        old = record.order
        old_intent = record.terms(record.qty, None, None, None)
        slot.sim.cancel(record.symbol, record.sim_id)
        record.carried_qty += old.filled_qty
        record.carried_value += old.filled_value
        record.carried_fee += old.fees
        remaining = intent.qty - record.filled_qty
        refused = ""
        for attempt, terms in enumerate((intent, old_intent)):
            qty = remaining if attempt == 0 else old.remaining_qty
            submitted = _submitted(self._new_sim_id(), terms, qty, slot)
            record.sim_id = submitted.client_order_id
            record.order = Order.from_submitted(submitted)
            book.by_sim[record.sim_id] = record
            events = slot.sim.submit(submitted)
            if not isinstance(events[0], OrderRejected):
                self._apply(book, slot, events, [])
                if attempt:
                    raise BybitError.refusal(refused)
                return
            refused = events[0].reason
        raise BybitError.refusal(refused)  # the old terms were refused too: the order is gone

    def cancel(self, book: AccountBook, params: Params) -> tuple[dict[str, object], list[Notice]]:
        params.require_linear()
        record = self._open_record(book, params, "cancel")
        slot = book.slot(self.market.get(record.symbol))
        self._cancel(book, slot, record)
        return record.ack(), self._order_notices(book, slot, [record])

    def _cancel(self, book: AccountBook, slot: Slot, record: OrderRecord) -> None:
        events = slot.sim.cancel(record.symbol, record.sim_id)
        self._apply(book, slot, events, [])
        record.updated_ms = epoch_ms(slot.sim.now)

    def cancel_all(
        self, book: AccountBook, params: Params
    ) -> tuple[dict[str, object], list[Notice]]:
        params.require_linear()
        symbol = params.optional_text("symbol")
        if symbol is None and not (params.has("settleCoin") or params.has("baseCoin")):
            raise BybitError.params("symbol, baseCoin or settleCoin is required")
        kind = params.text("orderFilter", "")
        chosen = [
            r
            for r in book.orders.values()
            if r.is_open
            and (symbol is None or r.symbol == symbol)
            and _coin_matches(r.symbol, params)
            and (kind != "Order" or not r.is_conditional)
            and (kind != "StopOrder" or r.is_conditional)
        ]
        notices: list[Notice] = []
        for record in chosen:
            slot = book.slot(self.market.get(record.symbol))
            self._cancel(book, slot, record)
        for symbol_of in dict.fromkeys(r.symbol for r in chosen):
            slot = book.slot(self.market.get(symbol_of))
            notices += self._order_notices(book, slot, [r for r in chosen if r.symbol == symbol_of])
        listed = [r.ack() for r in chosen]
        return {"list": listed, "success": "1"}, notices

    def _open_record(self, book: AccountBook, params: Params, verb: str) -> OrderRecord:
        order_id, link_id = params.optional_text("orderId"), params.optional_text("orderLinkId")
        if not order_id and not link_id:
            raise BybitError.params("OrderId or orderLinkId is required")
        record = book.find(order_id, link_id)
        symbol = params.optional_text("symbol")
        if record is None or not record.is_open or (symbol and symbol != record.symbol):
            raise BybitError(Code.ORDER_NOT_FOUND, f"order not exists or too late to {verb}")
        return record

    # ---------------------------------------------------------------- the replay step

    def step(self) -> StepResult | None:
        """Reveal the next bar of every symbol due and let every account process it."""
        symbols = self.market.next_step()
        if not symbols:
            return None
        for market in symbols:
            market.cursor += 1
        notices: list[Notice] = []
        for book in self.books.values():
            for market in symbols:
                slot = book.slots.get(market.symbol)
                if slot is None:
                    continue
                result = slot.advance()
                if result.events or result.funding:
                    touched: list[OrderRecord] = []
                    booked_from = len(book.executions)
                    self._apply(book, slot, result.events, touched)
                    self._book_funding(book, slot, result.funding)
                    notices += self._state_notices(book, slot, touched, booked_from)
        return StepResult(symbols, notices)

    def _apply(
        self,
        book: AccountBook,
        slot: Slot,
        events: Iterable[OrderEvent],
        touched: list[OrderRecord],
    ) -> None:
        """Apply the simulator's events to the protocol orders; record the executions."""
        for event in events:
            record = book.by_sim.get(event.client_order_id)
            if record is None:
                record = self._system_record(book, slot, event)
            elif isinstance(event, OrderFilled) and record.create_type != "CreateByUser":
                fill_qty = record.order.filled_qty + event.fill.qty
                if fill_qty > record.order.qty:  # the system order grows with its fills
                    record.order = replace(record.order, qty=fill_qty)
                    record.qty = record.carried_qty + fill_qty
            record.order = record.order.apply(event)
            record.updated_ms = epoch_ms(event.time)
            record.finish_reason()
            if isinstance(event, OrderFilled):
                self._book_fill(book, slot, record, event.fill)
            if record not in touched:
                touched.append(record)

    def _system_record(self, book: AccountBook, slot: Slot, event: OrderEvent) -> OrderRecord:
        record = OrderRecord.of_system(
            event,
            order_id=self._uuid(),
            symbol=slot.symbol,
            running_size=slot.running_size,
            mark=slot.mark(),
        )
        book.orders[record.order_id] = record
        book.by_sim[record.sim_id] = record
        return record

    def _book_fill(self, book: AccountBook, slot: Slot, record: OrderRecord, fill: Fill) -> None:
        before = slot.running_size
        closing = before != 0 and (before > 0) != (fill.side is Side.BUY)
        closed = min(fill.qty, abs(before)) if closing else ZERO
        slot.running_size = before + fill.signed_qty
        slot.updated_ms = epoch_ms(fill.time)
        ids = (self._uuid(), self.next_seq())
        book.executions.append(
            trade_row(record, fill, closed=closed, mark=slot.mark(), fees=slot.fees, ids=ids)
        )

    def _book_funding(
        self, book: AccountBook, slot: Slot, funding: Sequence[FundingApplied]
    ) -> None:
        for event in funding:
            ids = (self._uuid(), self._uuid(), self.next_seq())
            book.executions.append(funding_row(event, ids))

    # ---------------------------------------------------------------- notices

    def _order_notices(
        self, book: AccountBook, slot: Slot, records: list[OrderRecord]
    ) -> list[Notice]:
        """After a create / amend / cancel: the orders, then the position (always pushed)."""
        key = book.spec.api_key
        return [
            Notice(key, "order", lambda: [r.to_stream() for r in records]),
            Notice(key, "position", lambda: [slot.position_item(self._seq, stream=True)]),
            Notice(key, "wallet", lambda: [book.wallet_item()]),
        ]

    def _state_notices(
        self, book: AccountBook, slot: Slot, touched: list[OrderRecord], booked_from: int
    ) -> list[Notice]:
        """After a bar: the orders it changed, its executions, the position, the wallet."""
        key = book.spec.api_key
        notices = []
        if touched:
            notices.append(Notice(key, "order", lambda: [r.to_stream() for r in touched]))
        fresh = book.executions[booked_from:]
        if fresh:
            notices.append(Notice(key, "execution", lambda: [stream_row(row) for row in fresh]))
        notices.append(
            Notice(key, "position", lambda: [slot.position_item(self._seq, stream=True)])
        )
        notices.append(Notice(key, "wallet", lambda: [book.wallet_item()]))
        return notices


def _submitted(
    sim_id: ClientOrderId, intent: OrderIntent, qty: Decimal, slot: Slot
) -> OrderSubmitted:
    """The simulator's order for ``intent`` (or its unfilled ``qty``, after an amend)."""
    return OrderSubmitted(
        client_order_id=sim_id,
        time=slot.sim.now,
        symbol=intent.symbol,
        side=intent.side,
        order_type=intent.order_type,
        qty=qty,
        price=intent.price,
        trigger_price=intent.trigger_price,
        time_in_force=intent.tif,
        reduce_only=intent.reduce_only,
        protection=intent.protection,
    )


def _reported_price(intent: OrderIntent, slot: Slot, last: Decimal) -> Decimal | None:
    """The limit, or for a market order the protective limit Bybit reports for it."""
    if intent.bybit_type != "Market":
        return intent.price
    away = 1 + _PROTECTION if intent.side is Side.BUY else 1 - _PROTECTION
    base = intent.trigger_price or last
    return slot.market.instrument.round_price(base * away)


def _coin_matches(symbol: str, params: Params) -> bool:
    settle = params.optional_text("settleCoin")
    base = params.optional_text("baseCoin")
    return (settle is None or symbol.endswith(settle)) and (base is None or symbol.startswith(base))


def _last(slot: Slot) -> Decimal:
    last = slot.sim.last_price
    if last is None:
        raise BybitError.params(f"{slot.symbol} has no price yet: the replay has not started")
    return last
