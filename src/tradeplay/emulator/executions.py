"""Bybit's execution rows (``/v5/execution/list`` and the ``execution`` topic), from the
simulator's fills and funding settlements (reference §6.12 and §10)."""

from __future__ import annotations

from decimal import Decimal

from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import ZERO, Liquidity, Side, format_decimal
from tradeplay.emulator.orders import OrderRecord, epoch_ms
from tradeplay.sim.fees import FeeSchedule

__all__ = ["funding_row", "stream_row", "trade_row"]


def trade_row(
    record: OrderRecord,
    fill: Fill,
    *,
    closed: Decimal,
    mark: Decimal,
    fees: FeeSchedule,
    ids: tuple[str, int],
) -> dict[str, object]:
    """One fill; ``closed`` is the part that reduced the position (Bybit ``closedSize``)."""
    exec_id, seq = ids
    return {
        "symbol": record.symbol,
        "orderType": record.order_type,
        "underlyingPrice": "",
        "orderLinkId": record.link_id,
        "orderId": record.order_id,
        "stopOrderType": record.stop_order_type or "UNKNOWN",
        "execTime": str(epoch_ms(fill.time)),
        "feeCurrency": "USDT",
        "createType": record.create_type,
        "feeRate": format_decimal(fees.rate(fill.liquidity)),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": format_decimal(mark),
        "execPrice": format_decimal(fill.price),
        "markIv": "",
        "orderQty": format_decimal(record.qty),
        "orderPrice": format_decimal(record.price) if record.price else "0",
        "execValue": format_decimal(fill.value),
        "closedSize": format_decimal(closed),
        "execType": "Trade",
        "seq": seq,
        "side": "Buy" if fill.side is Side.BUY else "Sell",
        "indexPrice": "",
        "leavesQty": format_decimal(max(ZERO, record.qty - record.filled_qty)),
        "isMaker": fill.liquidity is Liquidity.MAKER,
        "execFee": format_decimal(fill.fee),
        "execId": exec_id,
        "marketUnit": "",
        "execQty": format_decimal(fill.qty),
        "extraFees": "",
    }


def funding_row(event: FundingApplied, ids: tuple[str, str, int]) -> dict[str, object]:
    """A settlement as Bybit lists it: ``execType`` Funding, the position as the quantity, the
    mark as the price, the rate as ``feeRate`` and the payment as ``execFee`` (+ paid, −
    received)."""
    order_id, exec_id, seq = ids
    qty = abs(event.size)
    return {
        "symbol": event.symbol,
        "orderType": "UNKNOWN",
        "underlyingPrice": "",
        "orderLinkId": "",
        "orderId": order_id,
        "stopOrderType": "UNKNOWN",
        "execTime": str(epoch_ms(event.time)),
        "feeCurrency": "USDT",
        "createType": "",
        "feeRate": format_decimal(event.rate),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": format_decimal(event.mark_price),
        "execPrice": format_decimal(event.mark_price),
        "markIv": "",
        "orderQty": "0",
        "orderPrice": "0",
        "execValue": format_decimal(qty * event.mark_price),
        "closedSize": "0",
        "execType": "Funding",
        "seq": seq,
        "side": "Buy" if event.size > 0 else "Sell",
        "indexPrice": "",
        "leavesQty": "0",
        "isMaker": False,
        "execFee": format_decimal(event.payment),
        "execId": exec_id,
        "marketUnit": "",
        "execQty": format_decimal(qty),
        "extraFees": "",
    }


def stream_row(row: dict[str, object]) -> dict[str, object]:
    """The ``execution`` topic's item: the REST row plus the stream's extra fields."""
    return {**row, "category": "linear", "isLeverage": ""}
