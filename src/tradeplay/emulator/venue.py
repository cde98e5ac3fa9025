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
from datetime import datetime
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
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.values import (
    ZERO,
    ClientOrderId,
    OrderType,
    Side,
    TimeInForce,
    format_decimal,
)
from tradeplay.emulator.accounts import AccountBook, Slot
from tradeplay.emulator.config import AccountSpec
from tradeplay.emulator.entry import OrderIntent, check_levels, read_intent
from tradeplay.emulator.errors import BybitError, Code
from tradeplay.emulator.executions import funding_row, stream_row, trade_row
from tradeplay.emulator.market import Market, SymbolMarket
from tradeplay.emulator.orders import OrderRecord
from tradeplay.emulator.params import Params
from tradeplay.sim.book import Origin

__all__ = ["Notice", "StepResult", "Venue"]

# A market order is reported with the protective limit Bybit turns it into; 1 % away from the
# last price, as in the captured market order of the fixtures (last 122392, price 123615.9).
# It is informational: the simulator fills market orders at the next open (± slippage).
_PROTECTION: Final = Decimal("0.01")
_SYSTEM_TYPES: Final = {
    Origin.TAKE_PROFIT: ("TakeProfit", "CreateByTakeProfit"),
    Origin.STOP_LOSS: ("StopLoss", "CreateByStopLoss"),
    Origin.TRAILING_STOP: ("TrailingStop", "CreateByTrailingStop"),
    Origin.LIQUIDATION: ("UNKNOWN", "CreateByLiq"),
    Origin.END_OF_DATA: ("UNKNOWN", "CreateBySettle"),
}


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
        _linear(params)
        market = self.market.get(params.text("symbol"))
        slot = book.slot(market)
        last = _last(slot)
        position = slot.sim.position(market.symbol)
        intent = read_intent(params, market.instrument, position.qty)
        check_levels(intent, market.instrument, last)
        if intent.link_id and intent.link_id in book.by_link:
            raise BybitError(Code.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
        record = self._record(intent, slot, last)
        events = slot.sim.submit(self._submitted(record, intent, intent.qty, slot))
        refused = events[0] if isinstance(events[0], OrderRejected) else None
        if refused is not None and "EC_PostOnlyWillTakeLiquidity" not in refused.reason:
            raise _refusal(refused.reason)
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
        ack: dict[str, object] = {"orderId": record.order_id, "orderLinkId": record.link_id}
        return ack, self._order_notices(book, slot, [record])

    def _record(self, intent: OrderIntent, slot: Slot, last: Decimal) -> OrderRecord:
        now_ms = _ms_of(slot)
        price = intent.price
        if intent.bybit_type == "Market":
            away = 1 + _PROTECTION if intent.side is Side.BUY else 1 - _PROTECTION
            base = intent.trigger_price or last
            price = slot.market.instrument.round_price(base * away)
        sim_id = self._new_sim_id()
        submitted = OrderSubmitted(
            client_order_id=sim_id,
            time=slot.sim.now,
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.order_type,
            qty=intent.qty,
            price=intent.price,
            trigger_price=intent.trigger_price,
            time_in_force=intent.tif,
            reduce_only=intent.reduce_only,
        )
        return OrderRecord(
            order_id=self._uuid(),
            link_id=intent.link_id,
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.bybit_type,
            time_in_force=intent.time_in_force,
            qty=intent.qty,
            price=price,
            trigger_price=intent.trigger_price,
            trigger_direction=intent.trigger_direction,
            take_profit=intent.take_profit,
            stop_loss=intent.stop_loss,
            reduce_only=intent.reduce_only,
            close_on_trigger=intent.close_on_trigger,
            created_ms=now_ms,
            updated_ms=now_ms,
            last_price_on_created=format_decimal(last),
            stop_order_type="Stop" if intent.trigger_price is not None else "",
            sim_id=sim_id,
            order=Order.from_submitted(submitted),
        )

    def _submitted(
        self, record: OrderRecord, intent: OrderIntent, qty: Decimal, slot: Slot
    ) -> OrderSubmitted:
        return OrderSubmitted(
            client_order_id=record.sim_id,
            time=slot.sim.now,
            symbol=record.symbol,
            side=record.side,
            order_type=intent.order_type,
            qty=qty,
            price=intent.price,
            trigger_price=intent.trigger_price,
            time_in_force=intent.tif,
            reduce_only=intent.reduce_only,
            protection=intent.protection,
        )

    # ---------------------------------------------------------------- amend and cancel

    def amend(self, book: AccountBook, params: Params) -> tuple[dict[str, object], list[Notice]]:
        """Cancel the incarnation and place the rest anew; the protocol ids stay the same."""
        _linear(params)
        record = self._open_record(book, params, "replace")
        slot = book.slot(self.market.get(record.symbol))
        last = _last(slot)
        qty = params.optional_decimal("qty") or record.qty
        price = params.optional_decimal("price") if record.order_type == "Limit" else None
        trigger = params.optional_decimal("triggerPrice") if record.is_conditional else None
        intent = _intent_of(record, qty, price, trigger, params)
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
        record.updated_ms = _ms_of(slot)
        ack: dict[str, object] = {"orderId": record.order_id, "orderLinkId": record.link_id}
        return ack, self._order_notices(book, slot, [record])

    def _reincarnate(
        self, book: AccountBook, slot: Slot, record: OrderRecord, intent: OrderIntent
    ) -> None:
        """Swap the simulator's order for one with the new terms; on a refusal, put the old
        terms back (Bybit leaves the order as it was when an amend is refused)."""
        old = record.order
        old_intent = _intent_of(record, record.qty, None, None, None)
        slot.sim.cancel(record.symbol, record.sim_id)
        record.carried_qty += old.filled_qty
        record.carried_value += old.filled_value
        record.carried_fee += old.fees
        remaining = intent.qty - record.filled_qty
        refused = ""
        for attempt, terms in enumerate((intent, old_intent)):
            record.sim_id = self._new_sim_id()
            qty = remaining if attempt == 0 else old.remaining_qty
            submitted = self._submitted(record, terms, qty, slot)
            record.order = Order.from_submitted(submitted)
            book.by_sim[record.sim_id] = record
            events = slot.sim.submit(submitted)
            if not isinstance(events[0], OrderRejected):
                self._apply(book, slot, events, [])
                if attempt:
                    raise _refusal(refused)
                return
            refused = events[0].reason
        raise _refusal(refused)  # the old terms were refused too: the order is gone

    def cancel(self, book: AccountBook, params: Params) -> tuple[dict[str, object], list[Notice]]:
        _linear(params)
        record = self._open_record(book, params, "cancel")
        slot = book.slot(self.market.get(record.symbol))
        self._cancel(book, slot, record)
        ack: dict[str, object] = {"orderId": record.order_id, "orderLinkId": record.link_id}
        return ack, self._order_notices(book, slot, [record])

    def _cancel(self, book: AccountBook, slot: Slot, record: OrderRecord) -> None:
        events = slot.sim.cancel(record.symbol, record.sim_id)
        self._apply(book, slot, events, [])
        record.updated_ms = _ms_of(slot)

    def cancel_all(
        self, book: AccountBook, params: Params
    ) -> tuple[dict[str, object], list[Notice]]:
        _linear(params)
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
        listed = [{"orderId": r.order_id, "orderLinkId": r.link_id} for r in chosen]
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
            record.updated_ms = _ms(event.time)
            record.finish_reason()
            if isinstance(event, OrderFilled):
                self._book_fill(book, slot, record, event.fill)
            if record not in touched:
                touched.append(record)

    def _system_record(self, book: AccountBook, slot: Slot, event: OrderEvent) -> OrderRecord:
        """A record for an order the exchange placed itself (take-profit, stop-loss, trailing
        stop, liquidation): Bybit shows those with their own ``stopOrderType``/``createType``."""
        fill = event.fill if isinstance(event, OrderFilled) else None
        origin = Origin.of(event.client_order_id)
        stop_type, create_type = _SYSTEM_TYPES.get(origin, ("UNKNOWN", "CreateByUser"))
        # They close the whole position: a sell while long, of its size (the fills are applied
        # in order, so the running size is the position they act on).
        qty = fill.qty if fill is not None else abs(slot.running_size)
        closing = Side.SELL if slot.running_size > 0 else Side.BUY
        side = fill.side if fill is not None else closing
        # The exchange's own orders are conditional (they wait for their level), so they may be
        # seen Untriggered → Triggered → Filled; the level itself stays inside the simulator,
        # the price they were triggered at is reported as the trigger price.
        trigger = fill.price if fill is not None else slot.mark()
        submitted = OrderSubmitted(
            client_order_id=event.client_order_id,
            time=event.time,
            symbol=slot.symbol,
            side=side,
            order_type=OrderType.STOP_MARKET,
            qty=qty or Decimal(1),
            trigger_price=trigger,
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
        )
        # Waiting for its level (pending → untriggered is in the transition table); the
        # simulator's own order id arrives with the first fill.
        order = replace(Order.from_submitted(submitted), status=OrderStatus.UNTRIGGERED)
        record = OrderRecord(
            order_id=self._uuid(),
            link_id="",
            symbol=slot.symbol,
            side=side,
            order_type="Market",
            time_in_force="IOC",
            qty=qty,
            price=None,
            trigger_price=trigger,
            reduce_only=True,
            close_on_trigger=True,
            created_ms=_ms(event.time),
            updated_ms=_ms(event.time),
            stop_order_type=stop_type,
            create_type=create_type,
            sim_id=event.client_order_id,
            order=order,
        )
        book.orders[record.order_id] = record
        book.by_sim[record.sim_id] = record
        return record

    def _book_fill(self, book: AccountBook, slot: Slot, record: OrderRecord, fill: Fill) -> None:
        before = slot.running_size
        closing = before != 0 and (before > 0) != (fill.side is Side.BUY)
        closed = min(fill.qty, abs(before)) if closing else ZERO
        slot.running_size = before + fill.signed_qty
        slot.updated_ms = _ms(fill.time)
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


def _intent_of(
    record: OrderRecord,
    qty: Decimal,
    price: Decimal | None,
    trigger: Decimal | None,
    params: Params | None,
) -> OrderIntent:
    """The terms of ``record`` with the amended values in place of the old ones."""
    take_profit, stop_loss = record.take_profit, record.stop_loss
    if params is not None:
        if params.has("takeProfit"):
            take_profit = params.decimal("takeProfit") or None
        if params.has("stopLoss"):
            stop_loss = params.decimal("stopLoss") or None
    limit = record.price if record.order_type == "Limit" else None
    return OrderIntent(
        symbol=record.symbol,
        side=record.side,
        bybit_type=record.order_type,
        qty=qty,
        price=price or limit,
        time_in_force=record.time_in_force,
        link_id=record.link_id,
        reduce_only=record.reduce_only,
        close_on_trigger=record.close_on_trigger,
        trigger_price=trigger or record.trigger_price,
        trigger_direction=record.trigger_direction,
        take_profit=take_profit,
        stop_loss=stop_loss,
    )


def _refusal(reason: str) -> BybitError:
    """The Bybit code of a simulator refusal (its reasons name the code where one applies)."""
    if "110017" in reason:
        return BybitError(Code.REDUCE_ONLY, "Reduce-only rule not satisfied")
    if "110072" in reason:
        return BybitError(Code.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
    if "insufficient available balance" in reason:
        return BybitError(Code.INSUFFICIENT_BALANCE, "ab not enough for new order")
    return BybitError(Code.PARAMS, reason)


def _linear(params: Params) -> None:
    if params.text("category") != "linear":
        raise BybitError.params(
            "category invalid: the emulator serves USDT perpetuals (category=linear) only"
        )


def _coin_matches(symbol: str, params: Params) -> bool:
    settle = params.optional_text("settleCoin")
    base = params.optional_text("baseCoin")
    return (settle is None or symbol.endswith(settle)) and (base is None or symbol.startswith(base))


def _last(slot: Slot) -> Decimal:
    last = slot.sim.last_price
    if last is None:
        raise BybitError.params(f"{slot.symbol} has no price yet: the replay has not started")
    return last


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_of(slot: Slot) -> int:
    return _ms(slot.sim.now)
