"""A pair's exchange behind the limits of its environment and of the deployment.

::

    engine ─► EnvironmentGuard ─► RecordedExchange ─► venue or simulated exchange

The guard sits in front of the recorder, so what is recorded is what left: an order the limits
block never reaches the exchange port (the engine gets an ``OrderRejected`` naming the limit), a
reduced one is sent — and recorded — at its reduced size. The guard tells the
:class:`~tradeplay.runtime.safety.RiskBook` what the pair holds, read from its exchange, at
every bar that brought order events or followed an order or cancel, and before an order when
the pair sent one since it last read. Not right after each order: its outcome is then on its
way, and a venue account's read would wait for it or go to REST. Meanwhile the book counts the
order as the check reserved it and the position as it was, which errs on the side of holding
more (a fill turns the reservation into position; a cancel or a close only lowers what is
held). The checks themselves are in :mod:`tradeplay.runtime.safety`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.account import Account
from tradeplay.domain.events import OrderEvent, OrderRejected, OrderSubmitted
from tradeplay.domain.values import ZERO, ClientOrderId, Symbol, to_decimal
from tradeplay.ports import Clock, Exchange
from tradeplay.runtime.forwarding import ForwardingExchange
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.runner import Market
from tradeplay.runtime.safety import Breach, Opening, RiskBook

__all__ = ["BreachReport", "EnvironmentGuard", "GuardedMarket"]

BreachReport = Callable[[Breach], None]


class EnvironmentGuard(ForwardingExchange):
    """A pair's exchange behind its environment's and the deployment's limits.

    ``shared``: the pair trades an account shared with other pairs (demo, testnet, live), so it
    sees — and sizes from — only its capital's share of the account: every figure of
    :meth:`account` scaled by its capital / the wallet balance at start (at most 1).
    """

    def __init__(
        self,
        inner: Exchange,
        pair: Pair,
        book: RiskBook,
        report: BreachReport,
        clock: Clock,
        *,
        shared: bool,
    ) -> None:
        super().__init__(inner)
        self.pair = pair
        self._book = book
        self._report = report
        self._clock = clock
        self._leverage = to_decimal(pair.play.play.account.leverage, "account.leverage")
        self.scale = Decimal(1)
        if shared:
            wallet = inner.account().wallet_balance
            if wallet > 0:
                self.scale = min(Decimal(1), pair.capital / wallet)
        book.hold(pair.key, pair.symbol)
        self._stale = False
        """An order or cancel went out since the last :meth:`refresh`."""
        self._closing = ZERO
        """What the pair's open orders against its position would close, at the last read."""
        self.refresh()

    def account(self) -> Account:
        account = self._inner.account()
        if self.scale == 1:
            return account
        scale = self.scale
        return replace(
            account,
            wallet_balance=account.wallet_balance * scale,
            net_deposits=account.net_deposits * scale,
            realized_pnl=account.realized_pnl * scale,
            fees_paid=account.fees_paid * scale,
            funding_paid=account.funding_paid * scale,
        )

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        if self._stale:  # what is closed and what is opened is measured from the position now
            self.refresh()
        key = self.pair.key
        held = self._book.size(key)
        # What a close already on its way closes, this order cannot close again: it opens.
        closable = max(ZERO, abs(held) - self._closing)
        closing = min(order.qty, closable) if held * order.side.sign < 0 else ZERO
        if order.reduce_only or closing == order.qty:
            return self._sent(order)
        opening = self._opening(order, order.qty - closing)
        if opening.price <= 0:  # no bar seen yet and no price on the order: nothing to measure
            return self._refused(order, "no price of the symbol known yet")
        qty, breaches = self._book.check(opening)
        for breach in breaches:
            self._report(breach)
        if qty + closing == order.qty:
            return self._sent(order)
        if qty == 0 and closing == 0:
            return self._refused(order, "; ".join(b.detail for b in breaches))
        return self._sent(replace(order, qty=closing + qty))

    def _refused(self, order: OrderSubmitted, reason: str) -> Sequence[OrderEvent]:
        return (
            OrderRejected(
                client_order_id=order.client_order_id,
                time=order.time,
                reason=f"risk limit: {reason}",
            ),
        )

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        try:
            return self._inner.cancel(symbol, client_order_id)
        finally:
            self._stale = True

    def refresh(self) -> None:
        """Tell the book what the pair holds, from its exchange: position and open orders."""
        self._stale = False
        symbol = self.pair.symbol
        position = self._inner.position(symbol)
        orders = self._inner.open_orders(symbol)
        mark = self._book.mark(self.pair.key)
        resting = sum(
            (
                (o.qty - o.filled_qty) * (o.price or o.trigger_price or mark)
                for o in orders
                if not o.reduce_only
            ),
            ZERO,
        )
        self._closing = sum(
            (o.qty - o.filled_qty for o in orders if position.size * o.side.sign < 0), ZERO
        )
        self._book.note(self.pair.key, size=position.size, resting=resting, open_orders=len(orders))

    def on_bar(self, row: NDArray[np.float64], events: Sequence[OrderEvent]) -> None:
        self._book.note(self.pair.key, mark=to_decimal(float(row[4]), "close"))
        if events or self._stale:
            self.refresh()

    def _sent(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        try:
            return self._inner.submit(order)
        finally:
            self._stale = True

    def _opening(self, order: OrderSubmitted, qty: Decimal) -> Opening:
        price = order.price or order.trigger_price or self._book.mark(self.pair.key)
        return Opening(
            key=self.pair.key,
            instrument=self._inner.instrument(order.symbol),
            qty=qty,
            price=price,
            leverage=self._leverage,
            share_equity=self.account().wallet_balance,
            time=self._clock.now(),
        )


class GuardedMarket:
    """A pair's :class:`Market` whose engine trades through its :class:`EnvironmentGuard`."""

    def __init__(self, inner: Market, guard: EnvironmentGuard) -> None:
        self._inner = inner
        self.guard = guard

    @property
    def exchange(self) -> Exchange:
        return self.guard

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        events = self._inner.on_bar(row)
        self.guard.on_bar(row, events)
        return events
