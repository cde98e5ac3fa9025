"""ccxt errors become tradeplay errors in one place; temporary ones are retried with backoff."""

from __future__ import annotations

import ccxt
import pytest

from tradeplay.domain.errors import (
    InputError,
    RateLimitedError,
    TemporaryError,
    TradeplayError,
    VenueUnavailableError,
)
from tradeplay.venues.bybit.errors import (
    MAX_ATTEMPTS,
    VenueRejectedError,
    call_with_retry,
    translate_ccxt_error,
)


@pytest.mark.parametrize(
    ("ccxt_error", "expected"),
    [
        (ccxt.RateLimitExceeded, RateLimitedError),
        (ccxt.DDoSProtection, RateLimitedError),
        (ccxt.NetworkError, VenueUnavailableError),
        (ccxt.RequestTimeout, VenueUnavailableError),
        (ccxt.ExchangeNotAvailable, VenueUnavailableError),
        (ccxt.OnMaintenance, VenueUnavailableError),
        (ccxt.BadResponse, VenueUnavailableError),
        (ccxt.BadSymbol, InputError),
        (ccxt.BadRequest, VenueRejectedError),
        (ccxt.NotSupported, VenueRejectedError),
        (ccxt.AuthenticationError, VenueRejectedError),
        (ccxt.ExchangeError, VenueRejectedError),
    ],
)
def test_each_ccxt_error_maps_to_the_error_that_says_what_to_do_next(
    ccxt_error: type[ccxt.BaseError], expected: type[TradeplayError]
) -> None:
    translated = translate_ccxt_error(ccxt_error("bybit said no"), venue="bybit", symbol="BTCUSDT")
    assert type(translated) is expected
    assert "bybit said no" in str(translated)


def test_a_bad_symbol_names_the_symbol() -> None:
    error = translate_ccxt_error(
        ccxt.BadSymbol("bybit does not have market symbol XYZ/USDT:USDT"),
        venue="bybit",
        symbol="XYZUSDT",
    )
    assert "'XYZUSDT'" in str(error)


def test_bybit_system_error_10016_is_temporary_although_ccxt_calls_it_an_exchange_error() -> None:
    body = 'bybit {"retCode":10016,"retMsg":"System error. Please try again later."}'
    error = translate_ccxt_error(ccxt.ExchangeError(body), venue="bybit", symbol="BTCUSDT")
    assert isinstance(error, VenueUnavailableError)


def test_other_bybit_ret_codes_stay_rejections() -> None:
    body = 'bybit {"retCode":10001,"retMsg":"params error"}'
    error = translate_ccxt_error(ccxt.BadRequest(body), venue="bybit", symbol="BTCUSDT")
    assert isinstance(error, VenueRejectedError)


class Flaky:
    """A call that raises the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def test_temporary_errors_are_retried_with_doubling_waits() -> None:
    waits: list[float] = []
    call = Flaky(ccxt.RequestTimeout("slow"), ccxt.RateLimitExceeded("busy"))
    result = call_with_retry(call, venue="bybit", symbol="BTCUSDT", sleep=waits.append)
    assert result == "answer"
    assert call.calls == 3
    assert waits == [1.0, 2.0]


def test_after_three_attempts_the_last_temporary_error_is_raised() -> None:
    waits: list[float] = []
    call = Flaky(*(ccxt.RateLimitExceeded(f"busy {i}") for i in range(5)))
    with pytest.raises(RateLimitedError, match="busy 2") as caught:
        call_with_retry(call, venue="bybit", symbol="BTCUSDT", sleep=waits.append)
    assert call.calls == MAX_ATTEMPTS == 3
    assert waits == [1.0, 2.0]
    assert isinstance(caught.value, TemporaryError)
    assert isinstance(caught.value.__cause__, ccxt.RateLimitExceeded)


def test_a_rejection_is_raised_at_once_without_retrying() -> None:
    waits: list[float] = []
    call = Flaky(ccxt.BadRequest("bybit params error"))
    with pytest.raises(VenueRejectedError, match="params error"):
        call_with_retry(call, venue="bybit", symbol="BTCUSDT", sleep=waits.append)
    assert call.calls == 1
    assert waits == []


def test_errors_that_are_not_ccxt_pass_through_untouched() -> None:
    call = Flaky(KeyError("a bug of ours"))
    with pytest.raises(KeyError):
        call_with_retry(call, venue="bybit", symbol="BTCUSDT", sleep=lambda _: None)
    assert call.calls == 1
