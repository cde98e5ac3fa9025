"""Every Bybit V5 ``retCode`` the reference lists, with what the caller does about it.

Source: bybit_v5.md §3.5 (authentication), §5 (rate limits), §12 (errors we will meet) and
bybit_clients.md ("Error mapping"). The meaning column is for messages; Bybit's own ``retMsg``
is always shown with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class RetCodePolicy(StrEnum):
    SUCCESS = "success"
    """A "not modified" answer: what we asked for is already so."""
    RATE_LIMITED = "rate_limited"
    TEMPORARY = "temporary"
    ORDER_REJECTED = "order_rejected"
    REJECTED = "rejected"


_P = RetCodePolicy

RET_CODES: Final[Mapping[int, tuple[RetCodePolicy, str]]] = MappingProxyType(
    {
        # "not modified": the state we asked for already holds (§6.14, §6.15, §6.16)
        110043: (_P.SUCCESS, "leverage not modified"),
        34040: (_P.SUCCESS, "trading stop not modified"),
        110025: (_P.SUCCESS, "position mode not modified"),
        30084: (_P.SUCCESS, "isolated margin not modified"),  # ccxt treats it as success too
        # throttling and faults on Bybit's side: wait and retry
        10006: (_P.RATE_LIMITED, "too many requests for this endpoint (per-UID limit)"),
        10016: (_P.TEMPORARY, "Bybit system error or restart"),
        # Our timestamp fell outside recv_window (clock drift or a slow network): the same
        # request, re-signed with a fresh timestamp, normally passes.
        10002: (_P.TEMPORARY, "request timestamp outside the receive window"),
        # refusals of the request itself
        10001: (_P.REJECTED, "parameter error"),
        10003: (_P.REJECTED, "API key invalid, or a key of another environment"),
        10004: (_P.REJECTED, "signature invalid"),
        10005: (_P.REJECTED, "the API key lacks this permission"),
        10010: (_P.REJECTED, "IP address not in the key's whitelist"),
        10014: (_P.REJECTED, "duplicate request"),
        10017: (_P.REJECTED, "route not found"),
        10032: (_P.REJECTED, "not available on demo trading"),
        33004: (_P.REJECTED, "API key expired"),
        110001: (_P.REJECTED, "order does not exist or is already finished"),
        110008: (_P.REJECTED, "order already filled or cancelled"),
        110024: (_P.REJECTED, "cannot switch position mode with an open position"),
        110028: (_P.REJECTED, "cannot switch position mode with open orders"),
        110064: (_P.REJECTED, "amended quantity not above the filled quantity"),
        # refusals of an order
        110003: (_P.ORDER_REJECTED, "price outside the permitted band"),
        110004: (_P.ORDER_REJECTED, "wallet balance insufficient"),
        110007: (_P.ORDER_REJECTED, "available balance insufficient for the order"),
        110009: (_P.ORDER_REJECTED, "too many conditional orders on this symbol"),
        110012: (_P.ORDER_REJECTED, "available balance insufficient"),
        110017: (_P.ORDER_REJECTED, "reduce-only order cannot reduce the position"),
        110020: (_P.ORDER_REJECTED, "more than 500 active orders"),
        110072: (_P.ORDER_REJECTED, "duplicate orderLinkId"),
        110092: (_P.ORDER_REJECTED, "trigger price not above the current price"),
        110093: (_P.ORDER_REJECTED, "trigger price not below the current price"),
        110094: (_P.ORDER_REJECTED, "order value below the minimum order value"),
        110100: (_P.ORDER_REJECTED, "pre-market contracts are not tradable on demo"),
    }
)
"""retCode → (policy, meaning)."""
