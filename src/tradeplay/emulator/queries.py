"""Reading an account (orders, executions, positions, wallet) and its per-symbol settings.

Lists come newest first, as Bybit sends them, in pages of ``limit`` with an opaque
``cursor``: the emulator's cursor is the offset of the next page as text, and
``nextPageCursor`` is ``""`` on the last page (a repeating non-empty cursor would make ccxt
paginate forever, reference §13.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from tradeplay.domain.errors import InstrumentRuleError, RejectedError
from tradeplay.emulator.accounts import AccountBook
from tradeplay.emulator.errors import BybitError, Code
from tradeplay.emulator.orders import OrderRecord
from tradeplay.emulator.params import Params
from tradeplay.emulator.venue import Notice, Venue
from tradeplay.ports import TradingStop

__all__ = [
    "executions",
    "orders",
    "positions",
    "set_leverage",
    "switch_mode",
    "trading_stop",
    "wallet",
]

T = TypeVar("T")


def _page(items: Sequence[T], params: Params, default: int, most: int) -> tuple[list[T], str]:
    limit = params.integer("limit", default)
    if not 1 <= limit <= most:
        raise BybitError.params(f"limit invalid: 1 to {most}")
    cursor = params.text("cursor", "0")
    if not cursor.isdigit():
        raise BybitError.params("cursor invalid")
    start = int(cursor)
    chosen = list(items[start : start + limit])
    following = start + limit
    return chosen, str(following) if following < len(items) else ""


def orders(book: AccountBook, params: Params, *, history: bool) -> dict[str, object]:
    """``/v5/order/realtime`` (open orders, or the recent closed with ``openOnly=1``) and
    ``/v5/order/history``. By id, an order is found whatever its status (reference §6.10)."""
    category = params.category()
    by_id = params.has("orderId") or params.has("orderLinkId")
    if (
        not history
        and not by_id
        and not any(params.has(name) for name in ("symbol", "baseCoin", "settleCoin"))
    ):
        raise BybitError.params("symbol, baseCoin or settleCoin is required")
    records: list[OrderRecord] = []
    if category == "linear":
        records = [r for r in reversed(book.orders.values()) if _matches(r, params)]
        if not by_id and not history:
            closed = params.integer("openOnly", 0) == 1
            records = [r for r in records if r.is_open != closed]
    status = params.optional_text("orderStatus")
    if status is not None:
        records = [r for r in records if r.status == status]
    page, cursor = _page(records, params, 20, 50)
    return {
        "category": category,
        "list": [r.to_bybit() | _history_fields(history) for r in page],
        "nextPageCursor": cursor,
    }


def _history_fields(history: bool) -> dict[str, object]:
    if not history:
        return {}
    return {"slippageToleranceType": "UNKNOWN", "slippageTolerance": "0", "extraFees": ""}


def _matches(record: OrderRecord, params: Params) -> bool:
    wanted = {
        "orderId": record.order_id,
        "orderLinkId": record.link_id,
        "symbol": record.symbol,
    }
    for name, value in wanted.items():
        if params.has(name) and params.text(name) != value:
            return False
    if params.has("settleCoin") and not record.symbol.endswith(params.text("settleCoin")):
        return False
    kind = params.text("orderFilter", "")
    return (kind != "Order" or not record.is_conditional) and (
        kind != "StopOrder" or record.is_conditional
    )


def executions(book: AccountBook, params: Params) -> dict[str, object]:
    """``/v5/execution/list``: trades and funding, newest first."""
    category = params.category()
    rows = list(reversed(book.executions)) if category == "linear" else []
    for name in ("symbol", "orderId", "orderLinkId", "execType"):
        if params.has(name):
            wanted = params.text(name)
            rows = [row for row in rows if row[name] == wanted]
    start, end = params.integer("startTime", 0), params.integer("endTime", 0)
    if start:
        rows = [row for row in rows if int(str(row["execTime"])) >= start]
    if end:
        rows = [row for row in rows if int(str(row["execTime"])) <= end]
    page, cursor = _page(rows, params, 50, 100)
    return {"category": category, "list": page, "nextPageCursor": cursor}


def positions(venue: Venue, book: AccountBook, params: Params) -> dict[str, object]:
    """``/v5/position/list``: a symbol's record even when flat; by ``settleCoin`` only the
    open ones (reference §6.13). Other categories hold nothing here."""
    category = params.category()
    items: list[dict[str, object]] = []
    if category == "linear":
        if params.has("symbol"):
            slot = book.slot(venue.market.get(params.text("symbol")))
            items = [slot.position_item(venue.next_seq())]
        elif params.has("settleCoin"):
            coin = params.text("settleCoin")
            items = [
                slot.position_item(venue.next_seq())
                for slot in book.slots.values()
                if slot.symbol.endswith(coin) and not slot.sim.position(slot.symbol).is_flat
            ]
        else:
            raise BybitError.params("symbol or settleCoin is required")
    page, cursor = _page(items, params, 20, 200)
    return {"category": category, "list": page, "nextPageCursor": cursor}


def set_leverage(venue: Venue, book: AccountBook, params: Params) -> dict[str, object]:
    """One leverage for both sides (one-way mode); 110043 when unchanged (reference §6.14)."""
    params.require_linear()
    slot = book.slot(venue.market.get(params.text("symbol")))
    buy, sell = params.decimal("buyLeverage"), params.decimal("sellLeverage")
    if buy != sell:
        raise BybitError.params("buyLeverage must equal sellLeverage in one-way mode")
    try:
        slot.market.instrument.validate_leverage(buy)
    except InstrumentRuleError as exc:
        raise BybitError.params(f"leverage invalid: {exc}") from None
    if buy == slot.leverage:
        raise BybitError(Code.LEVERAGE_NOT_MODIFIED, "leverage not modified")
    if not slot.is_idle():
        raise BybitError.params(
            "the emulator changes leverage only while the symbol has no position and no open "
            "order (its simulated exchange fixes leverage when it is created)"
        )
    slot.change_leverage(buy)
    return {}


def trading_stop(venue: Venue, book: AccountBook, params: Params) -> list[Notice]:
    """Position take-profit / stop-loss / trailing stop; ``"0"`` removes one, an absent field
    keeps it, the same values again are 34040 "not modified" (reference §6.15)."""
    params.require_linear()
    slot = book.slot(venue.market.get(params.text("symbol")))
    if params.choice("tpslMode", ("Full", "Partial"), "Full") == "Partial":
        raise BybitError.params("tpslMode Partial is not supported by the emulator; use Full")
    if params.integer("positionIdx", 0) != 0:
        raise BybitError(Code.PARAMS, "position idx not match position mode")
    if slot.sim.position(slot.symbol).is_flat:
        raise BybitError(Code.PARAMS, "can not set tp/sl/ts for zero position")
    current = slot.sim.trading_stop(slot.symbol)
    wanted = TradingStop(
        symbol=slot.symbol,
        take_profit=_level(params, "takeProfit", current.take_profit),
        stop_loss=_level(params, "stopLoss", current.stop_loss),
        trailing_distance=_level(params, "trailingStop", current.trailing_distance),
        trailing_activation=_level(params, "activePrice", current.trailing_activation),
    )
    if wanted == current:
        raise BybitError(Code.NOT_MODIFIED, "not modified")
    try:
        slot.sim.set_trading_stop(wanted)
    except RejectedError as exc:
        raise BybitError(Code.PARAMS, str(exc)) from None
    key = book.spec.api_key
    seq = venue.next_seq()
    return [Notice(key, "position", lambda: [slot.position_item(seq, stream=True)])]


def _level(params: Params, name: str, current: Decimal | None) -> Decimal | None:
    if not params.has(name):
        return current
    value = params.decimal(name)
    return value if value else None


def switch_mode(venue: Venue, params: Params) -> dict[str, object]:
    """One-way is the only mode the simulated exchange runs (reference §6.16)."""
    params.require_linear()
    if params.has("symbol"):
        venue.market.get(params.text("symbol"))
    elif not params.has("coin"):
        raise BybitError.params("symbol or coin is required")
    mode = params.integer("mode")
    if mode == 0:
        raise BybitError(Code.POSITION_MODE_NOT_MODIFIED, "Position mode has not been modified.")
    if mode == 3:
        raise BybitError(
            Code.HEDGE_NOT_SUPPORTED,
            "Hedge mode is not available: the tradeplay emulator runs one-way positions only",
        )
    raise BybitError.params("mode invalid: 0 (one-way) or 3 (hedge)")


def wallet(book: AccountBook, params: Params) -> dict[str, object]:
    """``/v5/account/wallet-balance?accountType=UNIFIED``: one USDT coin."""
    if params.text("accountType") != "UNIFIED":
        raise BybitError.params("accountType only support UNIFIED")
    item = book.wallet_item()
    coins = params.text("coin", "USDT").split(",")
    if "USDT" not in coins:
        item["coin"] = []
    return {"list": [item]}
