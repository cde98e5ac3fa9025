"""Instrument rules: rounding to tick and step, minimums with exact messages, margin tiers."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from tradeplay.domain.errors import InstrumentDefinitionError, InstrumentRuleError
from tradeplay.domain.instrument import MarginTier, Rounding
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import OrderType

D = Decimal
BTC = bybit_linear("BTCUSDT")
ETH = bybit_linear("ETHUSDT")
# A half-dollar tick (as nautilus' test data has it) checks grids that are not powers of ten.
HALF_TICK = replace(BTC, tick_size=D("0.5"), min_price=D("0.5"))


def _rule_error(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(InstrumentRuleError, match=f"^{re.escape(message)}$"):
        call()


# ------------------------------------------------------------------------------------ rounding


@pytest.mark.parametrize(
    ("price", "mode", "expected"),
    [
        ("65000.07", Rounding.DOWN, "65000.00"),
        ("65000.07", Rounding.UP, "65000.10"),
        ("65000.07", Rounding.NEAREST, "65000.10"),
        ("65000.04", Rounding.NEAREST, "65000.00"),
        ("65000.05", Rounding.NEAREST, "65000.10"),  # an exact half goes up
        ("65000.1", Rounding.REFUSE, "65000.10"),
        ("65000", Rounding.DOWN, "65000.00"),
        ("0.1", Rounding.UP, "0.10"),
    ],
)
def test_prices_round_onto_the_tick_grid(price: str, mode: Rounding, expected: str) -> None:
    rounded = BTC.round_price(D(price), mode)
    assert str(rounded) == expected  # carries the tick's decimals, like the venue's strings


@pytest.mark.parametrize(
    ("price", "mode", "expected"),
    [
        ("100.2", Rounding.DOWN, "100.0"),
        ("100.2", Rounding.UP, "100.5"),
        ("100.2", Rounding.NEAREST, "100.0"),
        ("100.3", Rounding.NEAREST, "100.5"),
        ("100.25", Rounding.NEAREST, "100.5"),
        ("100.75", Rounding.DOWN, "100.5"),
    ],
)
def test_a_half_unit_tick_rounds_to_halves(price: str, mode: Rounding, expected: str) -> None:
    assert HALF_TICK.round_price(D(price), mode) == D(expected)


@pytest.mark.parametrize(
    ("qty", "mode", "expected"),
    [
        ("0.0125", Rounding.DOWN, "0.012"),
        ("0.0125", Rounding.UP, "0.013"),
        ("0.0125", Rounding.NEAREST, "0.013"),
        ("0.01249", Rounding.NEAREST, "0.012"),
        ("0.0009", Rounding.DOWN, "0.000"),
        ("0", Rounding.DOWN, "0.000"),
        ("1.5", Rounding.REFUSE, "1.500"),
    ],
)
def test_quantities_round_onto_the_step_grid(qty: str, mode: Rounding, expected: str) -> None:
    assert str(BTC.round_qty(D(qty), mode)) == expected


def test_quantity_rounding_defaults_to_down_so_an_order_never_grows() -> None:
    assert BTC.round_qty(D("0.0129")) == D("0.012")


def test_refuse_names_the_step_and_both_nearest_valid_quantities() -> None:
    _rule_error(
        lambda: BTC.round_qty(D("0.0125"), Rounding.REFUSE),
        "BTCUSDT: quantity 0.0125 is not a multiple of the quantity step 0.001 "
        "(nearest valid: 0.012 or 0.013)",
    )


def test_refuse_names_the_tick_and_both_nearest_valid_prices() -> None:
    _rule_error(
        lambda: BTC.round_price(D("65000.05"), Rounding.REFUSE),
        "BTCUSDT: price 65000.05 is not a multiple of the tick size 0.1 "
        "(nearest valid: 65000 or 65000.1)",
    )


def test_a_price_must_be_positive_and_a_quantity_not_negative() -> None:
    _rule_error(lambda: BTC.round_price(D("0")), "BTCUSDT: price 0 must be positive")
    _rule_error(lambda: BTC.round_qty(D("-1")), "BTCUSDT: quantity -1 must not be negative")


# ------------------------------------------------------------------------------- order checks


def test_a_valid_order_passes_every_check() -> None:
    BTC.check_order(D("65000.1"), D("0.001"))
    BTC.check_order(D("65000.1"), D("119"), OrderType.MARKET)
    ETH.check_order(D("2500.01"), D("0.01"))


@pytest.mark.parametrize(
    ("price", "qty", "order_type", "message"),
    [
        (
            "65000",
            "0.0004",
            OrderType.LIMIT,
            "BTCUSDT: quantity 0.0004 is below the minimum order quantity 0.001",
        ),
        (
            "4990",
            "0.001",
            OrderType.LIMIT,
            "BTCUSDT: order value 4.99 USDT (qty 0.001 × price 4990) is below the minimum "
            "order value 5 USDT",
        ),
        (
            "65000",
            "0.0125",
            OrderType.LIMIT,
            "BTCUSDT: quantity 0.0125 is not a multiple of the quantity step 0.001 "
            "(nearest valid: 0.012 or 0.013)",
        ),
        (
            "65000",
            "1190.001",
            OrderType.LIMIT,
            "BTCUSDT: quantity 1190.001 is above the maximum order quantity 1190",
        ),
        (
            "65000",
            "120",
            OrderType.MARKET,
            "BTCUSDT: quantity 120 is above the maximum market order quantity 119",
        ),
        (
            "65000",
            "120",
            OrderType.STOP_MARKET,
            "BTCUSDT: quantity 120 is above the maximum market order quantity 119",
        ),
        (
            "65000.05",
            "0.001",
            OrderType.LIMIT,
            "BTCUSDT: price 65000.05 is not a multiple of the tick size 0.1 "
            "(nearest valid: 65000 or 65000.1)",
        ),
        (
            "2000000",
            "0.001",
            OrderType.STOP_LIMIT,
            "BTCUSDT: price 2000000 is above the maximum price 1999999.8",
        ),
    ],
)
def test_an_order_breaking_a_rule_is_refused_with_a_message_naming_the_rule(
    price: str, qty: str, order_type: OrderType, message: str
) -> None:
    _rule_error(lambda: BTC.check_order(D(price), D(qty), order_type), message)


def test_a_market_order_price_is_only_a_reference_for_the_order_value() -> None:
    BTC.check_order(D("65000.05"), D("0.001"), OrderType.MARKET)  # mark price, not on the grid
    _rule_error(
        lambda: BTC.check_order(D("4999.99"), D("0.001"), OrderType.MARKET),
        "BTCUSDT: order value 4.99999 USDT (qty 0.001 × price 4999.99) is below the minimum "
        "order value 5 USDT",
    )


def test_the_minimum_order_value_itself_is_allowed() -> None:
    BTC.validate_notional(D("0.001"), D("5000"))


def test_a_price_below_the_venue_band_is_refused() -> None:
    _rule_error(lambda: HALF_TICK.validate_price(D("0")), "BTCUSDT: price 0 must be positive")
    low = replace(BTC, min_price=D("100"))
    _rule_error(
        lambda: low.validate_price(D("99.9")), "BTCUSDT: price 99.9 is below the minimum price 100"
    )


@pytest.mark.parametrize(
    ("leverage", "message"),
    [
        ("0.5", "BTCUSDT: leverage 0.5 is outside 1 to 100"),
        ("100.01", "BTCUSDT: leverage 100.01 is outside 1 to 100"),
        ("10.005", "BTCUSDT: leverage 10.005 is not a multiple of the leverage step 0.01"),
    ],
)
def test_leverage_outside_the_range_or_step_is_refused(leverage: str, message: str) -> None:
    _rule_error(lambda: BTC.validate_leverage(D(leverage)), message)


def test_leverage_inside_the_range_on_the_step_is_accepted() -> None:
    for leverage in ("1", "12.5", "100"):
        BTC.validate_leverage(D(leverage))


# --------------------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"tick_size": D("0")}, "tick size 0 must be positive"),
        ({"qty_step": D("-0.001")}, "quantity step -0.001 must be positive"),
        ({"min_qty": D("2000")}, "minimum quantity 2000 is above maximum quantity 1190.000"),
        ({"max_market_qty": D("0.0001")}, "is above maximum market quantity 0.0001"),
        ({"min_price": D("5"), "max_price": D("1")}, "minimum price 5 is above maximum price 1"),
        ({"min_notional": D("-5")}, "minimum order value -5 is negative"),
        ({"max_leverage": D("0.5")}, "maximum leverage 0.5 is below 1"),
        ({"funding_interval": timedelta(0)}, "funding interval 0:00:00 must be positive"),
        ({"symbol": ""}, "symbol, base, quote and settle coin must all be given"),
    ],
)
def test_an_instrument_that_contradicts_itself_cannot_be_built(
    changes: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(InstrumentDefinitionError, match=re.escape(fragment)):
        replace(BTC, **changes)


def test_margin_tiers_must_grow_in_position_value_and_never_lower_the_rate() -> None:
    small = MarginTier(up_to=D("1000"), max_leverage=D("50"), maintenance_margin_rate=D("0.01"))
    large = MarginTier(up_to=D("500"), max_leverage=D("25"), maintenance_margin_rate=D("0.005"))
    with pytest.raises(InstrumentDefinitionError) as raised:
        replace(BTC, margin_tiers=(small, large))
    assert str(raised.value) == (
        "instrument BTCUSDT: margin tiers are not in increasing order of position value "
        "(1000 then 500); maintenance margin rate falls from 0.01 to 0.005 at tier up to 500"
    )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"up_to": D("0")}, "must be positive"),
        ({"max_leverage": D("0.5")}, "max leverage 0.5 is below 1"),
        ({"maintenance_margin_rate": D("1")}, "is not a fraction between 0 and 1"),
        ({"maintenance_deduction": D("-1")}, "maintenance deduction -1 is negative"),
    ],
)
def test_a_margin_tier_must_make_sense_on_its_own(
    fields: dict[str, Decimal], fragment: str
) -> None:
    base = {"up_to": D("1000"), "max_leverage": D("10"), "maintenance_margin_rate": D("0.01")}
    with pytest.raises(InstrumentDefinitionError, match=re.escape(fragment)):
        MarginTier(**(base | fields))


# ------------------------------------------------------------------------------ margin tiers


@pytest.mark.parametrize(
    ("position_value", "rate", "max_leverage"),
    [
        ("0", "0.005", "100"),
        ("1999999.99", "0.005", "100"),
        ("2000000", "0.005", "100"),  # a tier includes its upper bound
        ("2000000.01", "0.01", "50"),
        ("10000000", "0.01", "50"),
        ("10000000.01", "0.025", "20"),
        ("160000000", "0.125", "4"),
        ("160000000.01", "0.15", "3"),
        ("9999999999", "0.15", "3"),
    ],
)
def test_the_maintenance_rate_and_max_leverage_come_from_the_tier_of_the_position_value(
    position_value: str, rate: str, max_leverage: str
) -> None:
    assert BTC.maintenance_margin_rate(D(position_value)) == D(rate)
    assert BTC.max_leverage_for(D(position_value)) == D(max_leverage)


def test_maintenance_margin_uses_the_tier_deduction_and_is_continuous_at_boundaries() -> None:
    assert BTC.maintenance_margin(D("100000")) == D("500")  # 100 000 * 0.5 %
    assert BTC.maintenance_margin(D("2000000")) == D("10000")
    assert BTC.maintenance_margin(D("2000000.01")) == D("10000.0001")  # * 1 % - 10 000
    assert BTC.maintenance_margin(D("5000000")) == D("40000")


def test_max_leverage_never_exceeds_the_instruments_own_maximum() -> None:
    generous = MarginTier(up_to=D("1e6"), max_leverage=D("200"), maintenance_margin_rate=D("0.002"))
    capped = replace(BTC, max_leverage=D("50"), margin_tiers=(generous,))
    assert capped.max_leverage_for(D("1000")) == D("50")


def test_a_position_above_the_largest_risk_limit_has_no_tier() -> None:
    tier = MarginTier(up_to=D("1000000"), max_leverage=D("10"), maintenance_margin_rate=D("0.05"))
    finite = replace(BTC, margin_tiers=(tier,))
    _rule_error(
        lambda: finite.tier_for(D("1000000.5")),
        "BTCUSDT: position value 1000000.5 USDT is above the largest risk limit 1000000 USDT",
    )


def test_tier_lookup_needs_tiers_and_a_non_negative_value() -> None:
    _rule_error(
        lambda: replace(BTC, margin_tiers=()).tier_for(D("1")),
        "BTCUSDT: no margin tiers are known for this instrument; load its risk-limit table "
        "before computing margins",
    )
    _rule_error(lambda: BTC.tier_for(D("-1")), "BTCUSDT: position value -1 must not be negative")
