"""Reading single fields of Bybit V5 JSON exactly: strings, empty strings, nulls and numbers.

Bybit sends almost every business number as a string, "unset" as ``""`` (or ``"0"`` for some
prices), and a few fields as JSON numbers (bybit_v5.md §2). Recorded answers differ again:
ccxt's stored responses stringify every scalar (``"positionIdx":"0"``) and nautilus' edited
examples use ``null`` (``avgPrice: null``). Everything here accepts all of these forms, so the
translation above it never has to care.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from tradeplay.domain.errors import InputError
from tradeplay.domain.values import ClientOrderId, Side, to_decimal, utc_from_ms

Json = Mapping[str, Any]

_EMPTY: Final = (None, "")


def text(item: Json, key: str) -> str:
    """The field as text; ``""`` when absent or ``null``."""
    value = item.get(key)
    return "" if value is None else str(value)


def number(item: Json, key: str) -> Decimal:
    """A required number (string or JSON number), exact."""
    value = item.get(key)
    if value in _EMPTY:
        raise InputError(f"Bybit field {key!r} is missing or empty in {_brief(item)}")
    return to_decimal(value, f"Bybit field {key!r}")


def number_or_zero(item: Json, key: str) -> Decimal:
    """A number where ``""`` / ``null`` mean nothing yet (``cumExecQty``, ``execFee`` …)."""
    value = item.get(key)
    return Decimal(0) if value in _EMPTY else to_decimal(value, f"Bybit field {key!r}")


def price_or_none(item: Json, key: str) -> Decimal | None:
    """A price that may be unset: ``""``, ``null``, ``"0"`` and ``"0.00"`` all mean none.

    Bybit marks an unset ``avgPrice`` as ``""`` (newer) or ``"0"`` (older), an unset
    ``takeProfit`` / ``triggerPrice`` as ``""`` or ``"0"`` (bybit_v5.md §2, §9, §11).
    """
    value = item.get(key)
    if value in _EMPTY:
        return None
    price = to_decimal(value, f"Bybit field {key!r}")
    return None if price == 0 else price


def flag(item: Json, key: str) -> bool:
    """A boolean sent as JSON ``true``/``false`` (real Bybit) or as text (ccxt's recordings)."""
    value = item.get(key)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1"}


def integer(item: Json, key: str, default: int = 0) -> int:
    """An integer sent as a number or, in recordings, as text (``positionIdx``, ``seq``)."""
    value = item.get(key)
    if value in _EMPTY:
        return default
    return int(str(value))


def time_ms(item: Json, key: str) -> datetime:
    """A millisecond timestamp (``"1757837580469"`` in REST, a number on WebSocket) as UTC."""
    value = item.get(key)
    if value in _EMPTY:
        raise InputError(f"Bybit field {key!r} is missing or empty in {_brief(item)}")
    return utc_from_ms(int(str(value)))


def side(item: Json, key: str = "side") -> Side:
    """``Buy`` or ``Sell``; anything else is corrupt."""
    value = text(item, key)
    if value == "Buy":
        return Side.BUY
    if value == "Sell":
        return Side.SELL
    raise InputError(f"Bybit {key} {value!r} is not Buy or Sell")


def client_id(item: Json) -> ClientOrderId | None:
    """Our ``orderLinkId``; ``None`` for an order placed without it (bybit_v5.md §6.6)."""
    link = text(item, "orderLinkId")
    return ClientOrderId(link) if link else None


def plain(value: Decimal) -> str:
    """A number as Bybit wants it in a request: plain digits, never an exponent."""
    return format(value, "f")


def _brief(item: Json) -> str:
    keys = ("symbol", "orderId", "orderLinkId", "execId")
    named = {k: item[k] for k in keys if item.get(k)}
    return str(named) if named else "the item"
