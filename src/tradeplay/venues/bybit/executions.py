"""Bybit V5 execution rows → fills and funding settlements. Pure functions, no I/O.

The same row arrives from ``/v5/execution/list`` and the ``execution`` topic: a ``Trade`` (or
another kind that moves the position like one) becomes a :class:`~tradeplay.domain.fill.Fill`,
a ``Funding`` row a :class:`~tradeplay.domain.events.FundingApplied` (bybit_v5.md §6.12, §10).
"""

from __future__ import annotations

from typing import Final

from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import Liquidity, OrderId, TradeId
from tradeplay.venues.bybit._fields import (
    Json,
    client_id,
    flag,
    number,
    number_or_zero,
    side,
    text,
    time_ms,
)

__all__ = ["execution_report"]

# Execution types that move a position like a trade (bybit_v5.md §6.12). Liquidation (BustTrade)
# and auto-deleveraging (AdlTrade) rows carry no orderLinkId of ours: the venue made them.
_TRADE_EXEC_TYPES: Final = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade", "Settle"})


def execution_report(item: Json, settle_coin: str = "USDT") -> Fill | FundingApplied | None:
    """One execution: a :class:`Fill`, a funding settlement, or ``None`` for other kinds
    (delivery, move-position …) that tradeplay does not book.

    ``feeCurrency`` is ``""`` in real linear executions (``execution_list_linear_trade.json``);
    linear fees are charged in the settle coin, so that is the default.
    """
    kind = text(item, "execType")
    if kind == "Funding":
        return _funding(item)
    if kind not in _TRADE_EXEC_TYPES:
        return None
    return Fill(
        trade_id=TradeId(text(item, "execId")),
        order_id=OrderId(text(item, "orderId")),
        client_order_id=client_id(item),
        symbol=text(item, "symbol"),
        side=side(item),
        qty=number(item, "execQty"),
        price=number(item, "execPrice"),
        fee=number_or_zero(item, "execFee"),
        fee_currency=text(item, "feeCurrency") or settle_coin,
        liquidity=Liquidity.MAKER if flag(item, "isMaker") else Liquidity.TAKER,
        time=time_ms(item, "execTime"),
    )


def _funding(item: Json) -> FundingApplied:
    """A funding row (bybit_v5.md §10): ``execQty`` is the position size and ``side`` its side,
    ``execPrice`` the settlement price, ``feeRate`` the signed rate and ``execFee`` the payment,
    positive when paid. Example: long 0.1 LTC, rate −0.000881, execFee −0.00708126 (received)."""
    size = number(item, "execQty") * side(item).sign
    return FundingApplied(
        symbol=text(item, "symbol"),
        time=time_ms(item, "execTime"),
        rate=number(item, "feeRate"),
        mark_price=number(item, "execPrice"),
        size=size,
        payment=number_or_zero(item, "execFee"),
    )
