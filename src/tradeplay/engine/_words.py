"""Sizing arithmetic in words: a template and its exact values, written out only when read.

Numbers read as a trader reads them: money, prices and percentages with at most 2 decimals,
four significant digits when smaller (:func:`amount`); quantities to four significant digits.
"""

from __future__ import annotations

import string
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final, TypeAlias

from tradeplay.domain.values import format_decimal

Words: TypeAlias = tuple[str, tuple[Any, ...]]
"""A step of the arithmetic not yet in words: a template (``{:amount}`` and ``{:approx}`` fields
for exact numbers) and its values. Writing out the words of every entry cost more than sizing
it, and a run reads few of them; plain values keep the garbage collector out of it too."""


class _Numbers(string.Formatter):
    """Templates whose ``{:amount}`` and ``{:approx}`` fields are exact numbers in words."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "amount":
            return amount(value)
        if format_spec == "approx":
            return approx(value)
        return str(super().format_field(value, format_spec))


_NUMBERS: Final = _Numbers()


def then(words: Words, template: str, *values: Any) -> Words:
    """``words`` and one more step: still one template, one object to keep per entry."""
    return f"{words[0]}; {template}", words[1] + values


def said(words: Words) -> str:
    template, values = words
    return _NUMBERS.vformat(template, values, {})


def amount(value: Decimal) -> str:
    """Money, prices and percentages as a trader reads them: at most 2 decimals, more when
    smaller than 1 (four significant digits)."""
    return approx(value, 2)


def truncated(value: Decimal) -> Decimal:
    """Four significant digits, towards zero (a value below a minimum stays below it)."""
    if value.is_zero():
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 3), rounding=ROUND_DOWN)


def approx(value: Decimal, places: int = 0) -> str:
    """Four significant digits, with at least ``places`` decimals kept for large values."""
    if value.is_zero() or not value.is_finite():
        return format_decimal(value) if value.is_finite() else str(value)
    exponent = min(value.adjusted() - 3, -places)
    return format_decimal(value.quantize(Decimal(1).scaleb(exponent)))
