"""One execution of (part of) an order: the only thing that changes a position.

Fills come from the venue's executions (Bybit ``/v5/execution/list`` or the ``execution`` stream)
or from the simulated exchange, never from an order-create response.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tradeplay.domain.errors import InputError
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import (
    ClientOrderId,
    Liquidity,
    Money,
    OrderId,
    Price,
    Quantity,
    Side,
    Symbol,
    TradeId,
    format_decimal,
    require_utc,
)


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """An execution: ``qty`` of ``symbol`` bought or sold at ``price``.

    ``fee`` is in ``fee_currency``: positive when paid, negative for a maker rebate (Bybit's
    ``execFee`` has the same sign). ``client_order_id`` is ``None`` for executions of orders we
    did not place with an id (manual, liquidation, ADL).
    """

    trade_id: TradeId
    order_id: OrderId
    client_order_id: ClientOrderId | None
    symbol: Symbol
    side: Side
    qty: Quantity
    price: Price
    fee: Money
    fee_currency: str
    liquidity: Liquidity
    time: datetime

    def __post_init__(self) -> None:
        if not self.qty > 0:
            raise InputError(
                f"fill {self.trade_id} of {self.symbol}: quantity {format_decimal(self.qty)} "
                "must be positive"
            )
        if not self.price > 0:
            raise InputError(
                f"fill {self.trade_id} of {self.symbol}: price {format_decimal(self.price)} "
                "must be positive"
            )
        if self.time.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(self.time, f"fill {self.trade_id} time")

    @property
    def signed_qty(self) -> Quantity:
        """``+qty`` for a buy, ``-qty`` for a sell."""
        return self.qty * self.side.sign

    @property
    def value(self) -> Money:
        """Traded value ``qty * price`` in the quote coin (Bybit ``execValue``)."""
        return self.qty * self.price
