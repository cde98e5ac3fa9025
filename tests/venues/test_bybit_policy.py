"""Bybit's retCodes carry policy; the per-endpoint limiter keeps Bybit's per-UID limits."""

from __future__ import annotations

import asyncio

import ccxt
import pytest

from tradeplay.domain.errors import (
    OrderRejectedError,
    RateLimitedError,
    VenueRejectedError,
    VenueUnavailableError,
)
from tradeplay.venues.bybit.errors import (
    RET_CODES,
    BybitRateLimitedError,
    RetCodePolicy,
    error_for_answer,
    retry_async,
    translate_ccxt_error,
)
from tradeplay.venues.bybit.limits import BYBIT_UID_LIMITS, Limit, RateLimiter


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (10001, VenueRejectedError),
        (10003, VenueRejectedError),
        (10006, RateLimitedError),
        (10016, VenueUnavailableError),
        (10002, VenueUnavailableError),
        (110007, OrderRejectedError),
        (110017, OrderRejectedError),
        (110072, OrderRejectedError),
        (110094, OrderRejectedError),
        (999999, VenueRejectedError),  # unlisted: refused, with Bybit's words
    ],
)
def test_each_ret_code_maps_to_what_the_caller_does_next(code: int, expected: type) -> None:
    error = error_for_answer(code, "bybit words", what="order create BTCUSDT tp-1")
    assert isinstance(error, expected)
    assert "bybit words" in str(error)
    assert f"retCode {code}" in str(error)


@pytest.mark.parametrize("code", [0, 110043, 34040, 110025])
def test_not_modified_answers_are_success(code: int) -> None:
    assert error_for_answer(code, "leverage not modified", what="leverage BTCUSDT") is None


SIGN_ERROR = "error sign! origin_string[1700000000000AKsecretkey12345000category=linear]"


def test_a_signature_error_does_not_echo_the_signed_string_and_its_api_key() -> None:
    """Bybit answers a bad signature with the string it signed, our API key inside."""
    answer = error_for_answer(10004, SIGN_ERROR, what="wallet balance")
    raised = translate_ccxt_error(
        ccxt.AuthenticationError(f'bybit {{"retCode":10004,"retMsg":"{SIGN_ERROR}"}}'),
        venue="bybit",
        symbol="BTCUSDT",
    )
    for error in (answer, raised):
        assert "AKsecretkey" not in str(error)
        assert "error sign! origin_string[redacted: it holds the API key]" in str(error)


def test_every_listed_code_has_a_policy_and_a_meaning() -> None:
    assert all(isinstance(policy, RetCodePolicy) for policy, _ in RET_CODES.values())
    assert all(meaning for _, meaning in RET_CODES.values())
    assert RET_CODES[110043][0] is RetCodePolicy.SUCCESS


def test_a_rate_limit_waits_until_bybit_s_reset_time_then_succeeds() -> None:
    time = FakeTime()
    answers: list[Exception | str] = [
        BybitRateLimitedError("busy", ret_msg="Too many visits!", reset_ms=4_500),
        "ok",
    ]

    async def call() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    result = asyncio.run(retry_async(call, what="x", sleep=time.sleep, now_ms=lambda: 1_000))
    assert result == "ok"
    assert time.sleeps == [3.5]  # until the reset header, longer than the 1 s backoff


def test_temporary_errors_are_tried_three_times_with_doubling_waits() -> None:
    time = FakeTime()
    calls = 0

    async def call() -> str:
        nonlocal calls
        calls += 1
        raise VenueUnavailableError(f"down {calls}")

    with pytest.raises(VenueUnavailableError, match="down 3"):
        asyncio.run(retry_async(call, what="x", sleep=time.sleep, now_ms=lambda: 0))
    assert (calls, time.sleeps) == (3, [1.0, 2.0])


def test_a_rejection_is_not_retried() -> None:
    time = FakeTime()

    async def call() -> str:
        raise OrderRejectedError("no")

    with pytest.raises(OrderRejectedError):
        asyncio.run(retry_async(call, what="x", sleep=time.sleep, now_ms=lambda: 0))
    assert time.sleeps == []


# ------------------------------------------------------------------------------ rate limiter


def test_order_create_is_held_to_ten_per_second_per_account() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)

    async def burst() -> None:
        await asyncio.gather(*(limiter.acquire("/v5/order/create") for _ in range(25)))

    asyncio.run(burst())
    assert BYBIT_UID_LIMITS["/v5/order/create"] == Limit(10, 10)
    assert time.now == pytest.approx(1.5)  # 10 at once, then one every 0.1 s


def test_endpoints_have_their_own_buckets() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)

    async def mixed() -> None:
        for _ in range(10):
            await limiter.acquire("/v5/order/create")
        for _ in range(50):
            await limiter.acquire("/v5/order/realtime")  # queries do not wait for orders

    asyncio.run(mixed())
    assert time.sleeps == []


def test_a_10006_holds_the_endpoint_for_every_engine_of_the_account() -> None:
    time = FakeTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    limiter.hold_until("/v5/order/create", 0.8)

    async def two_engines() -> float:
        first, second = await asyncio.gather(
            limiter.acquire("/v5/order/create"), limiter.acquire("/v5/order/create")
        )
        return first + second

    asyncio.run(two_engines())
    assert time.now >= 0.8
    # held until the reset, then the emptied bucket lets one through every 0.1 s
    assert time.now == pytest.approx(0.8 + 0.1 + 0.1)
