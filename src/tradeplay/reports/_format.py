"""How report values become text: exact in files, rounded for a trader's eyes.

Files (CSV, JSON) keep every digit: ``Decimal`` without exponent or trailing zeros, floats as
their shortest round-tripping ``repr``, times ISO-8601 in UTC with milliseconds and ``Z``.
Screens (the summary table, the HTML report) round: percentages and money to two decimals,
durations in days / hours / minutes; "n/a" for a statistic that does not apply.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.values import format_decimal

NOT_APPLICABLE: Final = "n/a"


# ------------------------------------------------------------------------------ files


def iso_time(moment: datetime) -> str:
    """``2024-05-01T13:00:00.000Z``: ISO-8601, UTC, milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_times(ms: NDArray[np.int64]) -> list[str]:
    """:func:`iso_time` of many epoch milliseconds at once (vectorised)."""
    texts = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    result: list[str] = texts.tolist()
    return result


def exact_text(value: object) -> str:
    """A cell of a CSV file: every digit kept, empty for nothing or NaN."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, datetime):
        return iso_time(value)
    return str(value)


# ------------------------------------------------------------------------------ screens


def percent(value: float | None, *, signed: bool = False) -> str:
    """A fraction as a percentage: ``0.1234`` → ``12.34 %`` (``+12.34 %`` when signed)."""
    if value is None or not math.isfinite(value):
        return NOT_APPLICABLE
    return f"{value * 100:+,.2f} %" if signed else f"{value * 100:,.2f} %"


def ratio(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return NOT_APPLICABLE
    return f"{value:,.2f}"


def money(value: Decimal | float | None, currency: str, *, signed: bool = False) -> str:
    """``1,234.50 USDT``; ``+1,234.50 USDT`` when signed."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NOT_APPLICABLE
    text = f"{value:+,.2f}" if signed else f"{value:,.2f}"
    return f"{text} {currency}"


def duration(value: timedelta | None) -> str:
    """``3d 04h 05m``, ``4h 05m``, ``5m 30s``, ``42s``."""
    if value is None:
        return NOT_APPLICABLE
    seconds = round(value.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def moment(value: datetime | None, *, missing: str = NOT_APPLICABLE) -> str:
    """``2024-05-01 13:00 UTC`` (seconds shown only when not zero)."""
    if value is None:
        return missing
    utc = value.astimezone(UTC)
    pattern = "%Y-%m-%d %H:%M:%S" if utc.second or utc.microsecond else "%Y-%m-%d %H:%M"
    return f"{utc.strftime(pattern)} UTC"
