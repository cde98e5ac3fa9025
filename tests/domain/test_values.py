"""Domain values: exact numbers in, plain text out, UTC only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tradeplay.domain.errors import InputError
from tradeplay.domain.values import (
    OrderType,
    Side,
    format_decimal,
    ms_from_utc,
    require_utc,
    to_decimal,
    utc_from_ms,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, "0.1"),
        (65000.1, "65000.1"),
        (1e-7, "1E-7"),
        (3, "3"),
        ("  65000.10 ", "65000.10"),
        ("0.001", "0.001"),
        (Decimal("4.990"), "4.990"),
    ],
)
def test_to_decimal_is_exact_and_reads_floats_through_their_repr(
    value: float | int | str | Decimal, expected: str
) -> None:
    assert str(to_decimal(value)) == expected


def test_a_float_never_brings_its_binary_noise_along() -> None:
    assert to_decimal(0.1) != Decimal(0.1)  # noqa: RUF032 - the binary value is the point
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "price True is not a number"),
        ("abc", "price 'abc' is not a number"),
        ("", "price '' is not a number"),
        (float("nan"), "price nan is not a finite number"),
        ("Infinity", "price 'Infinity' is not a finite number"),
    ],
)
def test_to_decimal_refuses_what_is_not_a_finite_number(
    value: float | str | bool, message: str
) -> None:
    with pytest.raises(InputError) as raised:
        to_decimal(value, "price")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "text"),
    [("4.990", "4.99"), ("5E+1", "50"), ("0.0004", "0.0004"), ("0.000", "0"), ("-0", "0")],
)
def test_format_decimal_gives_plain_text_without_exponent_or_trailing_zeros(
    value: str, text: str
) -> None:
    assert format_decimal(Decimal(value)) == text


def test_require_utc_accepts_aware_utc_only() -> None:
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    assert require_utc(moment) is moment
    with pytest.raises(InputError, match="has no timezone; expected UTC"):
        require_utc(datetime(2025, 1, 1))  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(InputError, match="is not in UTC"):
        require_utc(datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=2))))


def test_venue_milliseconds_become_aware_utc_datetimes() -> None:
    assert utc_from_ms(1_694_668_718_723) == datetime(2023, 9, 14, 5, 18, 38, 723_000, tzinfo=UTC)


def test_sides_know_their_sign_and_opposite() -> None:
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)
    assert Side.BUY.opposite() is Side.SELL
    assert Side("sell") is Side.SELL


@pytest.mark.parametrize(
    ("order_type", "limit_price", "conditional"),
    [
        (OrderType.MARKET, False, False),
        (OrderType.LIMIT, True, False),
        (OrderType.STOP_MARKET, False, True),
        (OrderType.STOP_LIMIT, True, True),
    ],
)
def test_order_types_say_whether_they_need_a_price_and_a_trigger(
    order_type: OrderType, limit_price: bool, conditional: bool
) -> None:
    assert order_type.has_limit_price is limit_price
    assert order_type.is_conditional is conditional


def test_milliseconds_and_utc_times_convert_both_ways_exactly() -> None:
    for ms in (0, 1, 1_746_711_420_000, 1_746_711_420_007, 253_402_300_799_999):
        assert ms_from_utc(utc_from_ms(ms)) == ms
    assert ms_from_utc(utc_from_ms(5) + timedelta(microseconds=999)) == 5  # whole ms, down
