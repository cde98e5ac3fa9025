"""Small domain values: sides, order types, ids, exact numbers and UTC times.

Numbers
    Every price, quantity and amount of money is a :class:`~decimal.Decimal`. ``Price``,
    ``Quantity`` and ``Money`` are aliases that say what a ``Decimal`` means; they add no
    runtime check, so arithmetic between them stays plain ``Decimal`` arithmetic.
    :func:`to_decimal` is the one door in from ``str`` / ``int`` / ``float``: a float goes through
    ``str()`` first, so ``0.1`` becomes ``Decimal("0.1")`` and not the binary
    ``0.1000000000000000055511151231257827…``.

Times
    Domain objects carry timezone-aware UTC ``datetime`` values; :func:`require_utc` enforces it
    at construction. Venue timestamps in milliseconds convert with :func:`utc_from_ms`.

Ids
    ``ClientOrderId`` is ours (Bybit's ``orderLinkId``, known before we send the order);
    ``OrderId`` is the venue's (known once the venue acknowledges); ``TradeId`` identifies one
    execution (Bybit's ``execId``). They are ``NewType`` over ``str`` so that mypy refuses to
    mix them up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final, NewType, TypeAlias

from tradeplay.domain.errors import InputError

Price: TypeAlias = Decimal
"""A price in the quote coin per one unit of the base coin."""
Quantity: TypeAlias = Decimal
"""An amount of the base coin (contracts of a linear perpetual are 1 base coin each)."""
Money: TypeAlias = Decimal
"""An amount of the settle coin (USDT for Bybit linear perpetuals)."""
Symbol: TypeAlias = str
"""The venue's instrument name, e.g. ``BTCUSDT``."""

OrderId = NewType("OrderId", str)
ClientOrderId = NewType("ClientOrderId", str)
TradeId = NewType("TradeId", str)

ZERO: Final = Decimal(0)
HUNDRED: Final = Decimal(100)
"""For percentages: ``part / whole × HUNDRED``."""


class Side(StrEnum):
    """The side of an order or a fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """``+1`` for a buy (the position grows), ``-1`` for a sell."""
        return _SIGNS[self]

    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"

    @property
    def has_limit_price(self) -> bool:
        return self in _WITH_LIMIT_PRICE

    @property
    def is_conditional(self) -> bool:
        """Stop orders wait for a trigger price (Bybit status ``Untriggered``)."""
        return self in _CONDITIONAL


# These are asked per order and per fill. Looking a member up on an enum class costs several
# times a plain attribute, so the answers are sets (hashed by the member's text, matched by
# identity first) and a dict, built once.
_SIGNS: Final = {Side.BUY: 1, Side.SELL: -1}
_WITH_LIMIT_PRICE: Final = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_CONDITIONAL: Final = frozenset({OrderType.STOP_MARKET, OrderType.STOP_LIMIT})


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class PositionMode(StrEnum):
    """One position per symbol (Bybit ``positionIdx`` 0) or a long and a short one (1 and 2)."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class MarginMode(StrEnum):
    ISOLATED = "isolated"
    CROSS = "cross"


class PositionSide(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class Liquidity(StrEnum):
    """Whether a fill added liquidity to the book (maker) or took it (taker)."""

    MAKER = "maker"
    TAKER = "taker"


def to_decimal(value: Decimal | str | int | float, what: str = "value") -> Decimal:
    """Convert a number from JSON, a file or a float computation to an exact, finite ``Decimal``.

    A float is converted through ``str()`` (its shortest repr), never bit for bit. ``bool``,
    NaN, infinities and unparsable text raise :class:`InputError` naming ``what``.
    """
    if type(value) is float:  # the common case (feature values, closes): one test, not three
        result = Decimal(str(value))
    elif isinstance(value, bool):
        raise InputError(f"{what} {value!r} is not a number")
    elif isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, int):
        result = Decimal(value)
    else:
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InputError(f"{what} {value!r} is not a number") from None
    if not result.is_finite():
        raise InputError(f"{what} {value!r} is not a finite number")
    return result


def format_decimal(value: Decimal) -> str:
    """Plain text for a trader: ``4.990`` → ``4.99``, ``5E+1`` → ``50``, never an exponent."""
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def require_utc(moment: datetime, what: str = "time") -> datetime:
    """Return ``moment`` if it is timezone-aware UTC; raise :class:`InputError` otherwise."""
    if moment.tzinfo is UTC:  # how every time inside tradeplay is made: no offset to compute
        return moment
    offset = moment.utcoffset()
    if offset is None:
        raise InputError(f"{what} {moment.isoformat()} has no timezone; expected UTC")
    if offset != timedelta(0):
        raise InputError(f"{what} {moment.isoformat()} is not in UTC")
    return moment


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


_MS: Final = timedelta(milliseconds=1)


def ms_from_utc(moment: datetime) -> int:
    """Whole milliseconds since the Unix epoch, by integer arithmetic (``timestamp()`` is a
    float: times 1000 it may fall a millisecond short)."""
    return (moment - _EPOCH) // _MS


def utc_from_ms(ms: int) -> datetime:
    """A venue timestamp in milliseconds since the Unix epoch as an aware UTC ``datetime``."""
    return _EPOCH + timedelta(0, 0, 0, ms)  # positional (days, s, µs, ms): a third cheaper
