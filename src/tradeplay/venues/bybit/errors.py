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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeVar

import ccxt
import structlog

from tradeplay.domain.errors import (
    InputError,
    RateLimitedError,
    TemporaryError,
    TradeplayError,
    VenueRejectedError,
    VenueUnavailableError,
)

__all__ = ["MAX_ATTEMPTS", "call_with_retry", "translate_ccxt_error"]

log = structlog.get_logger(__name__)

#: Tries per call, the first one included (ARCHITECTURE.md: at most 3 attempts).
MAX_ATTEMPTS: Final = 3
#: Wait before the second attempt; doubled before each further one (1 s, 2 s).
FIRST_BACKOFF_S: Final = 1.0

#: Bybit retCodes for a fault on its side (retry), although ccxt calls them ExchangeError.
_TEMPORARY_RET_CODES: Final = frozenset({"10016"})
_RET_CODE: Final = re.compile(r'"retCode"\s*:\s*"?(\d+)')

T = TypeVar("T")


def translate_ccxt_error(error: ccxt.BaseError, *, venue: str, symbol: str) -> TradeplayError:
    """The tradeplay error for a ccxt error raised while serving ``symbol``."""
    kind = type(error).__name__
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimitedError(f"{venue} asked us to slow down ({kind}): {error}")
    if isinstance(error, ccxt.NetworkError | ccxt.OperationFailed) or _is_server_fault(error):
        return VenueUnavailableError(f"{venue} did not answer properly ({kind}): {error}")
    if isinstance(error, ccxt.BadSymbol):
        return InputError(
            f"{venue} does not list the symbol {symbol!r} as a USDT perpetual ({error}); "
            "expected a name like BTCUSDT"
        )
    return VenueRejectedError(f"{venue} refused the request for {symbol} ({kind}): {error}")


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
                raise error from exc
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
