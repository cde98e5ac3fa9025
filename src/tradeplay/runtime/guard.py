"""A pair's exchange behind the limits of its environment and of the deployment.

::

    engine ─► EnvironmentGuard ─► RecordedExchange ─► venue or simulated exchange

The guard sits in front of the recorder, so what is recorded is what left: an order the limits
block never reaches the exchange port (the engine gets an ``OrderRejected`` naming the limit), a
reduced one is sent — and recorded — at its reduced size. The guard tells the
:class:`~tradeplay.runtime.safety.RiskBook` what the pair holds, read from its exchange, at
every bar that brought order events or followed an order or cancel, and before an order when a
cancel went out (or an order came back filled) since it last read. Not after each order it
sends: that order's outcome is then on its way, and a venue account's read would wait for it
or go to REST. The guard counts the order itself instead — what it opens as the check reserved
it, what it closes as closing — and the position as it was, which errs on the side of holding
more (a fill turns the reservation into position; a cancel or a close only lowers what is
held). For the same reason the capital share an entry is measured against is the wallet the
engine read at that bar, when it did. The checks themselves are in
:mod:`tradeplay.runtime.safety`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.account import Account
from tradeplay.domain.events import OrderEvent, OrderFilled, OrderRejected, OrderSubmitted
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
    :meth:`account` scaled by its capital / the wallet balance when it was allotted
    (:meth:`allot`: at start, and at each pipeline move; at most 1).
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
        self._shared = shared
        self.scale = Decimal(1)
        self.allot(pair.capital)
        book.hold(pair.key, pair.symbol)
        self._stale = False
        """A cancel went out, or an order came back filled, since the last :meth:`refresh`."""
        self._closing = ZERO
        """What the pair's open orders against its position would close: at the last read,
        and what the orders sent since close."""
        self._sent_since = False
        """An order went out since the last :meth:`refresh` (read at the next bar)."""
        self._wallet: Decimal | None = None
        """The wallet balance :meth:`account` gave at this bar (``None``: not read yet)."""
        self.refresh()

    def allot(self, capital: Decimal) -> None:
        """Size from ``capital`` of the account from now on: on a shared account, every figure
        is scaled by ``capital`` / its wallet balance now (at most 1); a pair's own simulated
        account holds its capital already."""
        if self._shared:
            wallet = self._inner.account().wallet_balance
            self.scale = min(Decimal(1), capital / wallet) if wallet > 0 else Decimal(1)

    def account(self) -> Account:
        account = self._scaled(self._inner.account())
        self._wallet = account.wallet_balance
        return account

    def _scaled(self, account: Account) -> Account:
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
            return self._sent(order, closing)
        opening = self._opening(order, order.qty - closing)
        if opening.price <= 0:  # no bar seen yet and no price on the order: nothing to measure
            return self._refused(order, "no price of the symbol known yet")
        qty, breaches = self._book.check(opening)
        for breach in breaches:
            self._report(breach)
        if qty + closing == order.qty:
            return self._sent(order, closing)
        if qty == 0 and closing == 0:
            return self._refused(order, "; ".join(b.detail for b in breaches))
        return self._sent(replace(order, qty=closing + qty), closing)

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
        self._stale = self._sent_since = False
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
        self._wallet = None
        self._book.note(self.pair.key, mark=to_decimal(float(row[4]), "close"))
        if events or self._stale or self._sent_since:
            self.refresh()

    def _sent(self, order: OrderSubmitted, closing: Decimal) -> Sequence[OrderEvent]:
        """Send ``order``, of which ``closing`` closes the position; count it as it left."""
        self._sent_since = True
        try:
            events = self._inner.submit(order)
        except BaseException:  # whether it left is unknown: read before the next one
            self._stale = True
            raise
        if any(isinstance(event, OrderFilled) for event in events):
            self._stale = True  # the position moved already
        elif not any(isinstance(event, OrderRejected) for event in events):
            self._closing += closing
        return events

    def _opening(self, order: OrderSubmitted, qty: Decimal) -> Opening:
        price = order.price or order.trigger_price or self._book.mark(self.pair.key)
        return Opening(
            key=self.pair.key,
            instrument=self._inner.instrument(order.symbol),
            qty=qty,
            price=price,
            leverage=self._leverage,
            share_equity=self.account().wallet_balance if self._wallet is None else self._wallet,
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
