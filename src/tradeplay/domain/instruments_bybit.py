"""Bybit USDT linear perpetuals: a built-in snapshot of eight instruments, and the parsers for
Bybit's ``instruments-info`` and ``risk-limit`` list items.

**These built-in numbers are a snapshot, not live data.** They let a backtest and the simulated
exchange run offline. The venue adapter loads the live filters (``/v5/market/instruments-info``)
and risk limits (``/v5/market/risk-limit``) through :func:`instrument_from_bybit` and
:func:`margin_tiers_from_bybit` and those win over anything here. Each instrument's ``snapshot``
field says where its numbers come from:

* Trading filters of BTC, ETH, LTC, ADA, XRP and DOGE (tick, price band, step, min / max
  quantity, max market quantity, min order value, leverage) are copied from real linear
  ``instruments-info`` items captured in ccxt's static test data
  (``ccxt/ccxt ts/src/test/static/markets/bybit.json``, commit ``1f8d53ec``, captured about
  April 2025).
* SOL and BNB filters are from memory of Bybit's published values (2025) and **unverified**:
  their maximum quantities in particular are placeholders of the right order of magnitude.
* BTC and ETH margin tiers are the abbreviated risk-limit tables used by a third-party open-source
  Bybit tool that reports checking them against ``/v5/market/risk-limit`` in February 2026.
  Bybit's real tables have more, finer tiers and a finite last tier.
* The other margin tiers are an **illustrative ladder**, not Bybit's table: the first tier allows
  the instrument's maximum leverage, larger positions step down to 25x, 10x and 5x leverage.
* Fees are Bybit's base (non-VIP) derivatives rates: maker 0.02 %, taker 0.055 %.

Every funding interval is 480 minutes (8 h, settling 00:00, 08:00 and 16:00 UTC).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Final

from tradeplay.domain.errors import InputError, InstrumentDefinitionError, UnknownInstrumentError
from tradeplay.domain.instrument import Instrument, MarginTier
from tradeplay.domain.values import Symbol, to_decimal

_CCXT_CAPTURE: Final = (
    "filters: Bybit instruments-info (linear) captured in ccxt static test data, "
    "ccxt/ccxt@1f8d53ec ts/src/test/static/markets/bybit.json (about 2025-04)"
)
_FROM_MEMORY: Final = (
    "filters: from memory of Bybit's published values (2025), UNVERIFIED; "
    "max quantities are placeholders"
)
_THIRD_PARTY_TIERS: Final = (
    "tiers: abbreviated Bybit risk-limit table from a third-party tool (checked by its "
    "authors against /v5/market/risk-limit, 2026-02)"
)
_LADDER_TIERS: Final = "tiers: illustrative ladder, NOT Bybit's table"
_FUNDING_8H: Final = timedelta(minutes=480)


def _continuous_deduction(previous: MarginTier, rate: Decimal) -> Decimal:
    """The deduction that keeps the maintenance margin continuous at ``previous.up_to``.

    Bybit defines it so: ``d[i] = d[i-1] + up_to[i-1] * (rate[i] - rate[i-1])``.
    """
    return previous.maintenance_deduction + previous.up_to * (
        rate - previous.maintenance_margin_rate
    )


def _tiers(*rows: tuple[str, str, str]) -> tuple[MarginTier, ...]:
    """Tiers from (up to, max leverage, maintenance rate) rows, deductions by continuity."""
    tiers: list[MarginTier] = []
    for up_to, leverage, rate in rows:
        deduction = _continuous_deduction(tiers[-1], Decimal(rate)) if tiers else Decimal(0)
        tiers.append(
            MarginTier(
                up_to=Decimal(up_to),
                max_leverage=Decimal(leverage),
                maintenance_margin_rate=Decimal(rate),
                maintenance_deduction=deduction,
            )
        )
    return tuple(tiers)


def _ladder(first_up_to: str, max_leverage: str, first_rate: str) -> tuple[MarginTier, ...]:
    cap = Decimal(first_up_to)
    return _tiers(
        (first_up_to, max_leverage, first_rate),
        (str(cap * 5), "25", "0.02"),
        (str(cap * 10), "10", "0.05"),
        ("Infinity", "5", "0.1"),
    )


_BTC_TIERS: Final = _tiers(
    ("2000000", "100", "0.005"),
    ("10000000", "50", "0.01"),
    ("20000000", "20", "0.025"),
    ("40000000", "10", "0.05"),
    ("80000000", "5", "0.1"),
    ("160000000", "4", "0.125"),
    ("Infinity", "3", "0.15"),
)
_ETH_TIERS: Final = _tiers(
    ("1000000", "100", "0.005"),
    ("5000000", "50", "0.01"),
    ("10000000", "20", "0.025"),
    ("20000000", "10", "0.05"),
    ("40000000", "5", "0.1"),
    ("80000000", "4", "0.125"),
    ("Infinity", "3", "0.15"),
)


def _linear(
    base: str, filters: tuple[str, ...], tiers: tuple[MarginTier, ...], snapshot: str
) -> Instrument:
    """An ``<base>USDT`` instrument from its filter strings (order: see ``_CATALOG``)."""
    tick, min_price, max_price, step, min_qty, max_qty, max_mkt, max_lev = filters
    return Instrument(
        symbol=f"{base}USDT",
        base=base,
        quote="USDT",
        settle="USDT",
        tick_size=Decimal(tick),
        min_price=Decimal(min_price),
        max_price=Decimal(max_price),
        qty_step=Decimal(step),
        min_qty=Decimal(min_qty),
        max_qty=Decimal(max_qty),
        max_market_qty=Decimal(max_mkt),
        min_notional=Decimal(5),
        max_leverage=Decimal(max_lev),
        leverage_step=Decimal("0.01"),
        funding_interval=_FUNDING_8H,
        margin_tiers=tiers,
        snapshot=snapshot,
    )


_CATALOG: Final[Mapping[Symbol, Instrument]] = {
    instrument.symbol: instrument
    for instrument in (
        # filters: tick size, min price, max price, qty step, min qty, max limit-order qty,
        # max market-order qty, max leverage (the order of Bybit's instruments-info fields)
        _linear(
            "BTC",
            ("0.10", "0.10", "1999999.80", "0.001", "0.001", "1190.000", "119.000", "100.00"),
            _BTC_TIERS,
            f"{_CCXT_CAPTURE}; {_THIRD_PARTY_TIERS}",
        ),
        _linear(
            "ETH",
            ("0.01", "0.01", "199999.98", "0.01", "0.01", "7240.00", "724.00", "100.00"),
            _ETH_TIERS,
            f"{_CCXT_CAPTURE}; {_THIRD_PARTY_TIERS}",
        ),
        _linear(
            "SOL",
            ("0.010", "0.010", "19999.980", "0.1", "0.1", "80000.0", "8000.0", "100.00"),
            _ladder("1000000", "100", "0.005"),
            f"{_FROM_MEMORY}; {_LADDER_TIERS}",
        ),
        _linear(
            "XRP",
            ("0.0001", "0.0001", "1999.9998", "1", "1", "10965300", "2467800", "75.00"),
            _ladder("1000000", "75", "0.005"),
            f"{_CCXT_CAPTURE}; {_LADDER_TIERS}",
        ),
        _linear(
            "DOGE",
            ("0.00001", "0.00001", "199.99998", "1", "1", "43678900", "5991100", "75.00"),
            _ladder("1000000", "75", "0.005"),
            f"{_CCXT_CAPTURE}; {_LADDER_TIERS}",
        ),
        _linear(
            "LTC",
            ("0.01", "0.01", "199999.98", "0.1", "0.1", "28740.0", "6160.0", "50.00"),
            _ladder("500000", "50", "0.01"),
            f"{_CCXT_CAPTURE}; {_LADDER_TIERS}",
        ),
        _linear(
            "ADA",
            ("0.0001", "0.0001", "1999.9998", "1", "1", "6315500", "1109600", "75.00"),
            _ladder("500000", "75", "0.005"),
            f"{_CCXT_CAPTURE}; {_LADDER_TIERS}",
        ),
        _linear(
            "BNB",
            ("0.01", "0.01", "199999.98", "0.01", "0.01", "2000.00", "400.00", "75.00"),
            _ladder("1000000", "75", "0.005"),
            f"{_FROM_MEMORY}; {_LADDER_TIERS}",
        ),
    )
}


def bybit_linear_symbols() -> tuple[Symbol, ...]:
    """The symbols with a built-in definition, in alphabetical order."""
    return tuple(sorted(_CATALOG))


def bybit_linear(symbol: Symbol) -> Instrument:
    """The built-in snapshot definition of a Bybit USDT linear perpetual."""
    try:
        return _CATALOG[symbol.strip().upper()]
    except KeyError:
        known = ", ".join(bybit_linear_symbols())
        raise UnknownInstrumentError(
            f"no built-in Bybit linear instrument {symbol!r}; known symbols: {known} "
            "(others are loaded from the venue)"
        ) from None


# ---------------------------------------------------------------------------- parsers


def instrument_from_bybit(
    info: Mapping[str, object], tiers: Sequence[MarginTier] = (), *, snapshot: str = ""
) -> Instrument:
    """Build an :class:`Instrument` from one ``/v5/market/instruments-info`` linear list item.

    Every number is a string in Bybit's answer and is read exactly. ``fundingInterval`` is in
    **minutes** (480 = 8 h); a value that is not a whole number of hours is refused, because
    it almost certainly was given in hours. ``tiers`` come from :func:`margin_tiers_from_bybit`.
    """
    item = _Item(info)
    contract = item.text("contractType")
    if contract != "LinearPerpetual":
        raise item.error(f"contractType {contract!r} is not supported; expected LinearPerpetual")
    return Instrument(
        symbol=item.symbol,
        base=item.text("baseCoin"),
        quote=item.text("quoteCoin"),
        settle=item.text("settleCoin"),
        tick_size=item.number("priceFilter", "tickSize"),
        min_price=item.number("priceFilter", "minPrice"),
        max_price=item.number("priceFilter", "maxPrice"),
        qty_step=item.number("lotSizeFilter", "qtyStep"),
        min_qty=item.number("lotSizeFilter", "minOrderQty"),
        max_qty=item.number("lotSizeFilter", "maxOrderQty"),
        max_market_qty=item.number("lotSizeFilter", "maxMktOrderQty"),
        min_notional=item.number("lotSizeFilter", "minNotionalValue"),
        max_leverage=item.number("leverageFilter", "maxLeverage"),
        leverage_step=item.number("leverageFilter", "leverageStep"),
        funding_interval=item.funding_interval(),
        margin_tiers=tuple(tiers),
        snapshot=snapshot,
    )


def margin_tiers_from_bybit(rows: Sequence[Mapping[str, object]]) -> tuple[MarginTier, ...]:
    """Margin tiers from the list of ``/v5/market/risk-limit`` items of one symbol.

    Rates are fractions (``"0.005"`` = 0.5 %). Bybit leaves ``mmDeduction`` empty on the lowest
    tier and sometimes on others; an empty deduction is derived from continuity at the tier
    boundary, which is how Bybit defines it.
    """
    items = sorted((_Item(row) for row in rows), key=lambda it: it.number("riskLimitValue"))
    tiers: list[MarginTier] = []
    for item in items:
        rate = item.number("maintenanceMargin")
        deduction = item.optional_number("mmDeduction")
        if deduction is None:
            deduction = _continuous_deduction(tiers[-1], rate) if tiers else Decimal(0)
        tiers.append(
            MarginTier(
                up_to=item.number("riskLimitValue"),
                max_leverage=item.number("maxLeverage"),
                maintenance_margin_rate=rate,
                maintenance_deduction=deduction,
            )
        )
    for lower, upper in pairwise(tiers):
        if lower.up_to == upper.up_to:
            raise InstrumentDefinitionError(
                f"Bybit risk limits of {items[0].symbol}: two tiers up to {upper.up_to}"
            )
    return tuple(tiers)


class _Item:
    """Typed, error-reporting access to one JSON object from Bybit."""

    __slots__ = ("_data", "symbol")

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data
        symbol = data.get("symbol")
        self.symbol = symbol if isinstance(symbol, str) and symbol else "<no symbol>"

    def error(self, detail: str) -> InstrumentDefinitionError:
        return InstrumentDefinitionError(f"Bybit instrument {self.symbol}: {detail}")

    def _raw(self, path: tuple[str, ...]) -> object:
        node: object = self._data
        for key in path:
            if not isinstance(node, Mapping) or key not in node:
                raise self.error(f"field {'.'.join(path)} is missing")
            node = node[key]
        return node

    def text(self, *path: str) -> str:
        value = self._raw(path)
        if not isinstance(value, str) or not value:
            raise self.error(f"field {'.'.join(path)} should be a non-empty string, got {value!r}")
        return value

    def number(self, *path: str) -> Decimal:
        value = self._raw(path)
        if value == "" or not isinstance(value, str | int | float):
            raise self.error(f"field {'.'.join(path)} should be a number, got {value!r}")
        try:
            return to_decimal(value, ".".join(path))
        except InputError as error:
            raise self.error(str(error)) from None

    def optional_number(self, *path: str) -> Decimal | None:
        """``None`` when the field is absent, ``null`` or ``""``."""
        try:
            value = self._raw(path)
        except InstrumentDefinitionError:
            return None
        return None if value in (None, "") else self.number(*path)

    def funding_interval(self) -> timedelta:
        value = self._raw(("fundingInterval",))
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if not text.isdigit() or int(text) == 0 or int(text) % 60:
            raise self.error(
                f"fundingInterval {value!r} is not a whole number of hours when read as "
                "minutes, the unit Bybit uses (480 = 8 h)"
            )
        return timedelta(minutes=int(text))
