"""ccxt's errors, translated once into tradeplay's tree, and the retry policy for temporary ones.

::

    ccxt error                                    tradeplay error          caller does
    RateLimitExceeded, DDoSProtection         ->  RateLimitedError         wait, retry
    NetworkError (RequestTimeout,             ->  VenueUnavailableError    wait, retry
      ExchangeNotAvailable, OnMaintenance ...),
      BadResponse and other OperationFailed
    ExchangeError with Bybit retCode 10016    ->  VenueUnavailableError    wait, retry
    BadSymbol                                 ->  InputError               fix the symbol
    any other ccxt error (ExchangeError ...)  ->  VenueRejectedError       report, carry on

Rate limiting is checked first because ccxt files it under ``NetworkError`` too. ccxt maps
Bybit's retCode 10016 ("System error. Please try again later", also sent while Bybit restarts)
to a plain ``ExchangeError``; it is a server fault, so it is picked out of the message (ccxt puts
the response body there) and retried. Errors that are not ccxt's (a bug in our code, a
KeyboardInterrupt) pass through untouched.

Bybit's own answers (HTTP 200 with a non-zero ``retCode``, bybit_v5.md §2) are judged by
:data:`RET_CODES`, the table of every code the reference lists (§3.5, §5, §12)::

    retCode policy     tradeplay error                caller does
    SUCCESS            none: "not modified" answers   carry on (110043 leverage, 34040 stop,
                                                      110025 position mode)
    RATE_LIMITED       BybitRateLimitedError          wait until X-Bapi-Limit-Reset-Timestamp
    TEMPORARY          BybitUnavailableError          wait, back off, retry (10016, 10002)
    ORDER_REJECTED     BybitOrderRejectedError        report Bybit's reason, carry on
    REJECTED           BybitRejectedError             report Bybit's reason, carry on
    (unlisted code)    BybitRejectedError

:func:`retry_async` is the asyncio twin of :func:`call_with_retry` used by the venue adapter.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import ccxt
import structlog

from tradeplay.domain.errors import (
    InputError,
    OrderRejectedError,
    RateLimitedError,
    TemporaryError,
    TradeplayError,
    VenueRejectedError,
    VenueUnavailableError,
)
from tradeplay.venues.bybit._codes import RET_CODES, RetCodePolicy

__all__ = [
    "MAX_ATTEMPTS",
    "RET_CODES",
    "BybitOrderRejectedError",
    "BybitRateLimitedError",
    "BybitRejectedError",
    "BybitUnavailableError",
    "RetCodePolicy",
    "call_with_retry",
    "error_for_answer",
    "redact",
    "retry_async",
    "translate_ccxt_error",
]

log = structlog.get_logger(__name__)

#: Tries per call, the first one included (ARCHITECTURE.md: at most 3 attempts).
MAX_ATTEMPTS: Final = 3
#: Wait before the second attempt; doubled before each further one (1 s, 2 s).
FIRST_BACKOFF_S: Final = 1.0

#: Bybit retCodes for a fault on its side (retry), although ccxt calls them ExchangeError.
_TEMPORARY_RET_CODES: Final = frozenset(
    str(code) for code, (policy, _) in RET_CODES.items() if policy is RetCodePolicy.TEMPORARY
)
_RET_CODE: Final = re.compile(r'"retCode"\s*:\s*"?(\d+)')
#: Bybit's answer to a bad signature echoes the signed text, API key included:
#: ``error sign! origin_string[<timestamp><api key><recv window><payload>]``.
_ORIGIN_STRING: Final = re.compile(r"origin_string\[[^\]]*\]?")


def redact(text: str) -> str:
    """``text`` from the venue without what must never reach a log: the signed string Bybit
    echoes on a signature error carries our API key."""
    return _ORIGIN_STRING.sub("origin_string[redacted: it holds the API key]", text)


T = TypeVar("T")


def translate_ccxt_error(error: ccxt.BaseError, *, venue: str, symbol: str) -> TradeplayError:
    """The tradeplay error for a ccxt error raised while serving ``symbol``."""
    kind = type(error).__name__
    text = redact(str(error))
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitedError(f"{venue} asked us to slow down ({kind}): {text}")
    if isinstance(error, ccxt.NetworkError | ccxt.OperationFailed) or _is_server_fault(error):
        return VenueUnavailableError(f"{venue} did not answer properly ({kind}): {text}")
    if isinstance(error, ccxt.BadSymbol):
        return InputError(
            f"{venue} does not list the symbol {symbol!r} as a USDT perpetual ({text}); "
            "expected a name like BTCUSDT"
        )
    return VenueRejectedError(f"{venue} refused the request for {symbol} ({kind}): {text}")


def _is_server_fault(error: ccxt.BaseError) -> bool:
    code = _RET_CODE.search(str(error))
    return code is not None and code.group(1) in _TEMPORARY_RET_CODES


def call_with_retry(
    call: Callable[[], T],
    *,
    venue: str,
    symbol: str,
    sleep: Callable[[float], None],
) -> T:
    """Run ``call``; translate ccxt errors; retry temporary ones with exponential backoff.

    At most :data:`MAX_ATTEMPTS` tries. The last temporary error is raised if all fail, so the
    caller still learns whether the venue was down or throttling us.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return call()
        except ccxt.BaseError as exc:
            error = translate_ccxt_error(exc, venue=venue, symbol=symbol)
            if not isinstance(error, TemporaryError) or attempt == MAX_ATTEMPTS:
                # The ccxt error's own text would show in a traceback: chained only when clean.
                raise error from (exc if redact(str(exc)) == str(exc) else None)
            delay = FIRST_BACKOFF_S * 2 ** (attempt - 1)
            log.warning(
                "venue_retry",
                venue=venue,
                symbol=symbol,
                attempt=attempt,
                wait_s=delay,
                error=str(error),
            )
            sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


# ---------------------------------------------------------------------- Bybit's own answers

#: The longest we wait for a rate-limit window to reset, whatever the header says: Bybit's
#: per-UID windows are one second (bybit_v5.md §5), so a far-off reset is a clock problem.
MAX_RATE_LIMIT_WAIT_S: Final = 10.0


class BybitRejectedError(VenueRejectedError):
    """Bybit understood the request and refused it; ``ret_code`` / ``ret_msg`` are its words."""

    def __init__(self, message: str, *, ret_code: int, ret_msg: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.ret_msg = ret_msg


class BybitOrderRejectedError(OrderRejectedError):
    """Bybit refused an order (balance, reduce-only, minimum value, duplicate id …)."""

    def __init__(self, message: str, *, ret_code: int, ret_msg: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.ret_msg = ret_msg


class BybitUnavailableError(VenueUnavailableError):
    """Bybit answered with a fault on its side (10016) or refused our clock (10002)."""

    def __init__(self, message: str, *, ret_code: int, ret_msg: str) -> None:
        super().__init__(message)
        self.ret_code = ret_code
        self.ret_msg = ret_msg


class BybitRateLimitedError(RateLimitedError):
    """retCode 10006: this endpoint's per-UID budget is spent until ``reset_ms`` (if known)."""

    def __init__(self, message: str, *, ret_msg: str, reset_ms: int | None) -> None:
        super().__init__(message)
        self.ret_code = 10006
        self.ret_msg = ret_msg
        self.reset_ms = reset_ms


def error_for_answer(
    ret_code: int, ret_msg: str, *, what: str, reset_ms: int | None = None
) -> TradeplayError | None:
    """The error for a Bybit answer, or ``None`` when the answer means success.

    ``what`` names the request for the message (``"order create BTCUSDT cli-1"``).
    """
    if ret_code == 0:
        return None
    policy, meaning = RET_CODES.get(ret_code, (RetCodePolicy.REJECTED, "unlisted code"))
    ret_msg = redact(ret_msg)
    message = f"bybit refused {what}: {ret_msg or meaning} (retCode {ret_code}: {meaning})"
    match policy:
        case RetCodePolicy.SUCCESS:
            return None
        case RetCodePolicy.RATE_LIMITED:
            return BybitRateLimitedError(message, ret_msg=ret_msg, reset_ms=reset_ms)
        case RetCodePolicy.TEMPORARY:
            return BybitUnavailableError(message, ret_code=ret_code, ret_msg=ret_msg)
        case RetCodePolicy.ORDER_REJECTED:
            return BybitOrderRejectedError(message, ret_code=ret_code, ret_msg=ret_msg)
        case _:
            return BybitRejectedError(message, ret_code=ret_code, ret_msg=ret_msg)


def backoff_wait(error: TemporaryError, attempt: int, now_ms: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``: 1 s, 2 s … doubling, or until Bybit's
    ``X-Bapi-Limit-Reset-Timestamp`` when a rate-limit answer carried one (as pybit does,
    bybit_v5.md §5), whichever is later, and never more than :data:`MAX_RATE_LIMIT_WAIT_S`."""
    delay = FIRST_BACKOFF_S * 2.0 ** (attempt - 1)
    if isinstance(error, BybitRateLimitedError) and error.reset_ms is not None:
        until_reset = (error.reset_ms - now_ms) / 1000
        delay = min(max(delay, until_reset), MAX_RATE_LIMIT_WAIT_S)
    return delay


async def retry_async(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    sleep: Callable[[float], Awaitable[None]],
    now_ms: Callable[[], int],
) -> T:
    """Await ``call``; retry :class:`TemporaryError` at most :data:`MAX_ATTEMPTS` times in all.

    ``call`` raises tradeplay errors already (the venue's transport translates); anything that
    is not temporary is raised at once.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except TemporaryError as error:
            if attempt == MAX_ATTEMPTS:
                raise
            delay = backoff_wait(error, attempt, now_ms())
            log.warning("venue_retry", what=what, attempt=attempt, wait_s=delay, error=str(error))
            await sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
