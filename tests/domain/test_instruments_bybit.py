"""Bybit linear instruments: the built-in snapshot, and parsing instruments-info / risk-limit."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tradeplay.domain.errors import InstrumentDefinitionError, UnknownInstrumentError
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import (
    bybit_linear,
    bybit_linear_symbols,
    instrument_from_bybit,
    margin_tiers_from_bybit,
)

D = Decimal
EIGHT = ("ADAUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "ETHUSDT", "LTCUSDT", "SOLUSDT", "XRPUSDT")


def _items(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    items = data if isinstance(data, list) else data["result"]["list"]
    assert isinstance(items, list)
    return items


# ------------------------------------------------------------------------------ built-in


def test_the_eight_majors_have_built_in_definitions() -> None:
    assert bybit_linear_symbols() == EIGHT


@pytest.mark.parametrize("symbol", EIGHT)
def test_every_built_in_definition_is_a_usdt_perpetual_with_8h_funding_and_a_source(
    symbol: str,
) -> None:
    instrument = bybit_linear(symbol)
    assert (instrument.symbol, instrument.quote, instrument.settle) == (symbol, "USDT", "USDT")
    assert instrument.base + "USDT" == symbol
    assert instrument.funding_interval == timedelta(hours=8)
    assert instrument.min_notional == D(5)
    assert instrument.margin_tiers, "every built-in instrument has margin tiers"
    assert instrument.margin_tiers[0].max_leverage == instrument.max_leverage
    assert "filters:" in instrument.snapshot
    assert "tiers:" in instrument.snapshot


@pytest.mark.parametrize("symbol", EIGHT)
def test_built_in_maintenance_margin_is_continuous_at_every_tier_boundary(symbol: str) -> None:
    for lower, upper in pairwise(bybit_linear(symbol).margin_tiers):
        assert lower.maintenance_margin(lower.up_to) == upper.maintenance_margin(lower.up_to)


def test_btc_tiers_carry_the_published_deductions() -> None:
    deductions = [tier.maintenance_deduction for tier in bybit_linear("BTCUSDT").margin_tiers]
    assert deductions == [D(n) for n in (0, 10000, 160000, 660000, 2660000, 4660000, 8660000)]


def test_unverified_and_illustrative_numbers_say_so() -> None:
    assert "UNVERIFIED" in bybit_linear("SOLUSDT").snapshot
    assert "UNVERIFIED" in bybit_linear("BNBUSDT").snapshot
    assert "NOT Bybit's table" in bybit_linear("XRPUSDT").snapshot
    assert "ccxt" in bybit_linear("BTCUSDT").snapshot


def test_lookup_ignores_case_and_surrounding_blanks() -> None:
    assert bybit_linear(" ethusdt ") is bybit_linear("ETHUSDT")


def test_an_unknown_symbol_is_refused_with_the_list_of_known_ones() -> None:
    with pytest.raises(UnknownInstrumentError) as raised:
        bybit_linear("PEPEUSDT")
    assert str(raised.value) == (
        "no built-in Bybit linear instrument 'PEPEUSDT'; known symbols: ADAUSDT, BNBUSDT, "
        "BTCUSDT, DOGEUSDT, ETHUSDT, LTCUSDT, SOLUSDT, XRPUSDT (others are loaded from the venue)"
    )


# ------------------------------------------------------------------------ instruments-info


def test_the_recorded_linear_instruments_parse_exactly(bybit_fixtures: Path) -> None:
    path = bybit_fixtures / "nautilus_trader/python_adapter_resources"
    btc, eth = (
        instrument_from_bybit(item)
        for item in _items(path / "http_responses__linear__instruments.json")
    )
    assert btc == Instrument(
        symbol="BTCUSDT",
        base="BTC",
        quote="USDT",
        settle="USDT",
        tick_size=D("0.10"),
        min_price=D("0.10"),
        max_price=D("199999.80"),
        qty_step=D("0.001"),
        min_qty=D("0.001"),
        max_qty=D("100.000"),
        max_market_qty=D("500.000"),
        min_notional=D("5"),
        max_leverage=D("100.00"),
        leverage_step=D("0.01"),
        funding_interval=timedelta(minutes=480),
    )
    assert (eth.symbol, eth.tick_size, eth.qty_step, eth.max_qty) == (
        "ETHUSDT",
        D("0.01"),
        D("0.01"),
        D("1500.00"),
    )
    assert str(btc.tick_size) == "0.10"  # the venue's text is kept, not re-formatted


def test_the_parsed_btc_filters_agree_with_the_built_in_snapshot(bybit_fixtures: Path) -> None:
    path = bybit_fixtures / "nautilus_trader/python_adapter_resources"
    (item,) = _items(path / "http_responses__linear__instrument_btc_usdt.json")
    parsed, built_in = instrument_from_bybit(item), bybit_linear("BTCUSDT")
    for name in ("tick_size", "qty_step", "min_qty", "min_notional", "max_leverage"):
        assert getattr(parsed, name) == getattr(built_in, name), name


def test_a_funding_interval_given_in_hours_is_refused(bybit_fixtures: Path) -> None:
    """nautilus' Rust test data says 8 where Bybit sends 480 (minutes)."""
    path = bybit_fixtures / "nautilus_trader/crate_test_data/http_get_instruments_linear.json"
    item = _items(path)[0]
    with pytest.raises(InstrumentDefinitionError) as raised:
        instrument_from_bybit(item)
    assert str(raised.value) == (
        "Bybit instrument BTCUSDT: fundingInterval 8 is not a whole number of hours when read "
        "as minutes, the unit Bybit uses (480 = 8 h)"
    )
    fixed = instrument_from_bybit(item | {"fundingInterval": 480})
    assert (fixed.tick_size, fixed.leverage_step, fixed.max_market_qty) == (
        D("0.5"),
        D("1"),
        D("50.0"),
    )
    assert fixed.funding_interval == timedelta(hours=8)


@pytest.mark.parametrize(("value", "hours"), [("480", 8), (60, 1), (240, 4)])
def test_funding_interval_is_read_in_minutes_as_number_or_text(
    bybit_fixtures: Path, value: object, hours: int
) -> None:
    path = bybit_fixtures / "nautilus_trader/python_adapter_resources"
    item = _items(path / "http_responses__linear__instrument_btc_usdt.json")[0]
    parsed = instrument_from_bybit(item | {"fundingInterval": value})
    assert parsed.funding_interval == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("relative_path", "message"),
    [
        (
            "python_adapter_resources/http_responses__http_market_instruments_linear.json",
            "Bybit instrument BTCUSDT: field lotSizeFilter.maxMktOrderQty is missing",
        ),
        (
            "crate_test_data/http_get_instruments_linear_symbol_type.json",
            "Bybit instrument TSLAUSDT: field lotSizeFilter.maxMktOrderQty is missing",
        ),
        (
            "crate_test_data/http_get_instruments_inverse.json",
            "Bybit instrument BTCUSD: contractType 'InversePerpetual' is not supported; "
            "expected LinearPerpetual",
        ),
    ],
)
def test_items_we_cannot_trust_or_trade_are_refused_naming_the_field(
    bybit_fixtures: Path, relative_path: str, message: str
) -> None:
    item = _items(bybit_fixtures / "nautilus_trader" / relative_path)[0]
    with pytest.raises(InstrumentDefinitionError, match=f"^{re.escape(message)}$"):
        instrument_from_bybit(item)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"priceFilter": {"minPrice": "0.10", "maxPrice": "199999.80", "tickSize": ""}},
            "Bybit instrument BTCUSDT: field priceFilter.tickSize should be a number, got ''",
        ),
        (
            {"priceFilter": {"minPrice": "0.10", "maxPrice": "199999.80", "tickSize": "x"}},
            "Bybit instrument BTCUSDT: priceFilter.tickSize 'x' is not a number",
        ),
        (
            {"priceFilter": {"minPrice": "0.10", "maxPrice": "199999.80", "tickSize": "0"}},
            "instrument BTCUSDT: tick size 0 must be positive",
        ),
        ({"settleCoin": ""}, "Bybit instrument BTCUSDT: field settleCoin should be a non-empty"),
    ],
)
def test_a_broken_field_is_refused_with_its_name_and_value(
    bybit_fixtures: Path, patch: dict[str, object], message: str
) -> None:
    path = bybit_fixtures / "nautilus_trader/python_adapter_resources"
    item = _items(path / "http_responses__linear__instrument_btc_usdt.json")[0]
    with pytest.raises(InstrumentDefinitionError, match=f"^{re.escape(message)}"):
        instrument_from_bybit(item | patch)


def test_parsed_instruments_take_margin_tiers_and_a_snapshot_note(bybit_fixtures: Path) -> None:
    path = bybit_fixtures / "nautilus_trader/python_adapter_resources"
    item = _items(path / "http_responses__linear__instrument_btc_usdt.json")[0]
    tiers = bybit_linear("BTCUSDT").margin_tiers
    parsed = instrument_from_bybit(item, tiers, snapshot="loaded 2023-09-14")
    assert parsed.margin_tiers == tiers
    assert parsed.snapshot == "loaded 2023-09-14"
    assert parsed.maintenance_margin_rate(D("2000000.01")) == D("0.01")


# ------------------------------------------------------------------------------ risk-limit


def test_risk_limit_rows_become_ordered_tiers_with_derived_deductions() -> None:
    rows: list[dict[str, object]] = [  # shape of /v5/market/risk-limit, out of order on purpose
        {"id": 2, "symbol": "BTCUSDT", "riskLimitValue": "10000000", "maintenanceMargin": 0.01,
         "initialMargin": 0.02, "isLowestRisk": 0, "maxLeverage": "50.00", "mmDeduction": ""},
        {"id": 1, "symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005",
         "initialMargin": "0.01", "isLowestRisk": 1, "maxLeverage": "100.00", "mmDeduction": ""},
        {"id": 3, "symbol": "BTCUSDT", "riskLimitValue": "20000000", "maintenanceMargin": "0.025",
         "initialMargin": "0.05", "isLowestRisk": 0, "maxLeverage": "20.00",
         "mmDeduction": "160000"},
    ]  # fmt: skip
    tiers = margin_tiers_from_bybit(rows)
    assert [tier.up_to for tier in tiers] == [D("2000000"), D("10000000"), D("20000000")]
    assert [tier.maintenance_margin_rate for tier in tiers] == [D("0.005"), D("0.01"), D("0.025")]
    assert [tier.maintenance_deduction for tier in tiers] == [D(0), D(10000), D(160000)]
    assert [tier.max_leverage for tier in tiers] == [D(100), D(50), D(20)]


def test_a_risk_limit_rate_that_is_not_a_fraction_is_refused() -> None:
    row = {"symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "1",
           "maxLeverage": "100", "mmDeduction": ""}  # fmt: skip
    with pytest.raises(InstrumentDefinitionError, match="is not a fraction between 0 and 1"):
        margin_tiers_from_bybit([row])


def test_two_risk_limit_rows_with_the_same_limit_are_refused() -> None:
    row = {"symbol": "BTCUSDT", "riskLimitValue": "2000000", "maintenanceMargin": "0.005",
           "maxLeverage": "100", "mmDeduction": ""}  # fmt: skip
    with pytest.raises(
        InstrumentDefinitionError,
        match=re.escape("Bybit risk limits of BTCUSDT: two tiers up to 2000000"),
    ):
        margin_tiers_from_bybit([row, row])
