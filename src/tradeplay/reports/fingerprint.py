"""A run's fingerprint: one SHA-256 over its fills, so two runs compare exactly.

Fills are what a run *did*; two runs with the same fingerprint traded the same quantities at
the same prices and times with the same fees. The hash is taken over canonical text, one line
per fill in the order given (execution order), preceded by a format tag::

    tradeplay-fills/1
    <trade_id>|<time ms>|<symbol>|<side>|<qty>|<price>|<fee>

Numbers are rendered by :func:`~tradeplay.domain.values.format_decimal`: no exponent, no
trailing zeros, so ``Decimal("1.50")`` and ``Decimal("1.5")`` — the same amount — hash alike.
Times are whole milliseconds since the epoch, the venue's precision. Text fields escape
``\\``, ``|`` and line breaks, so no two different fill lists share a canonical text. What else a
fill carries (order ids, liquidity, fee currency) is left out: the trade id already names the
execution, and liquidity shows in the fee.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final

from tradeplay.domain.fill import Fill
from tradeplay.domain.values import format_decimal, ms_from_utc

__all__ = ["FORMAT_TAG", "canonical_fill_text", "fingerprint"]

FORMAT_TAG: Final = "tradeplay-fills/1"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r")


def _fill_line(fill: Fill) -> str:
    fields = (
        _escaped(fill.trade_id),
        str(ms_from_utc(fill.time)),
        _escaped(fill.symbol),
        str(fill.side),
        format_decimal(fill.qty),
        format_decimal(fill.price),
        format_decimal(fill.fee),
    )
    return "|".join(fields)


def canonical_fill_text(fills: Iterable[Fill]) -> str:
    """The exact text that is hashed: diff two of these to find where runs part ways."""
    return "".join(f"{line}\n" for line in (FORMAT_TAG, *map(_fill_line, fills)))


def fingerprint(fills: Iterable[Fill]) -> str:
    """SHA-256 (hex) of :func:`canonical_fill_text`; identical fills give identical hashes."""
    return hashlib.sha256(canonical_fill_text(fills).encode("utf-8")).hexdigest()
