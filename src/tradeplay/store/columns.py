"""Column types that keep domain values exact on every database.

Money, prices and quantities are stored as text (``str(Decimal)``), not as ``NUMERIC``: SQLite
has no exact numeric storage (its ``NUMERIC`` affinity turns ``0.1`` into a binary float), and
text keeps a value's own scale (``4.990`` comes back as ``4.990``) on both databases. Nothing
in SQL adds these up; the domain does its arithmetic in ``Decimal``.

Times are timezone-aware UTC in and out. PostgreSQL stores ``timestamptz``; SQLite has no time
type, so the value is written as naive UTC text in one fixed format (which also sorts and
compares correctly) and given back its UTC zone when read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

from tradeplay.domain.errors import InputError, StateCorruptionError
from tradeplay.domain.values import require_utc


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` stored losslessly as its text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise InputError(f"expected a finite Decimal to store, got {type(value).__name__}")
        return str(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            raise StateCorruptionError(f"stored number {value!r} is not a decimal") from None


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime``; a naive or non-UTC time is refused on write."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        require_utc(value, "stored time")
        if dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
