"""Bybit's answers to requests it refuses: a ``retCode`` and the ``retMsg`` Bybit really sends.

A :class:`BybitError` is raised anywhere inside request handling and turned into Bybit's
envelope (HTTP 200, ``result`` ``{}``) at the edge (:mod:`tradeplay.emulator.rest`). The texts
are the ones seen in real responses where the reference (``shared/reference/bybit_v5.md`` §12)
has one; where it marks the text as unknown ([U]) the message below is ours and says so by
naming the rule that failed, so a trader can act on it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BybitError", "Code"]


class Code:
    """The retCodes the emulator answers with (names follow what the code means on Bybit)."""

    OK: Final = 0
    PARAMS: Final = 10001
    TIMESTAMP: Final = 10002
    INVALID_KEY: Final = 10003
    SIGNATURE: Final = 10004
    RATE_LIMIT: Final = 10006
    ROUTE_NOT_FOUND: Final = 10017
    ORDER_NOT_FOUND: Final = 110001
    PRICE_OUT_OF_RANGE: Final = 110003
    INSUFFICIENT_BALANCE: Final = 110007
    REDUCE_ONLY: Final = 110017
    POSITION_MODE_NOT_MODIFIED: Final = 110025
    HEDGE_NOT_SUPPORTED: Final = 110029
    LEVERAGE_NOT_MODIFIED: Final = 110043
    AMEND_QTY_TOO_SMALL: Final = 110064
    DUPLICATE_LINK_ID: Final = 110072
    EXPECT_RISING: Final = 110092
    EXPECT_FALLING: Final = 110093
    NOTIONAL_TOO_SMALL: Final = 110094
    NOT_MODIFIED: Final = 34040


class BybitError(Exception):
    """A refusal with Bybit's code and message; answered with HTTP 200 like Bybit does."""

    def __init__(self, ret_code: int, message: str) -> None:
        super().__init__(f"{ret_code}: {message}")
        self.ret_code = ret_code
        self.message = message

    @classmethod
    def params(cls, detail: str) -> BybitError:
        """10001 in Bybit's ``params error: …`` wording (seen: "params error: side invalid")."""
        return cls(Code.PARAMS, f"params error: {detail}")

    @classmethod
    def refusal(cls, reason: str) -> BybitError:
        """The Bybit code of a simulator refusal (its reasons name the code where one applies)."""
        if "110017" in reason:
            return cls(Code.REDUCE_ONLY, "Reduce-only rule not satisfied")
        if "110072" in reason:
            return cls(Code.DUPLICATE_LINK_ID, "OrderLinkedID is duplicate")
        if "insufficient available balance" in reason:
            return cls(Code.INSUFFICIENT_BALANCE, "ab not enough for new order")
        return cls(Code.PARAMS, reason)
