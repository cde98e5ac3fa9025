"""Turning the columns of a foreign file into numpy arrays, with errors that name the row.

Files come from exchanges' exports, other tools and spreadsheets, so this accepts what they
write and refuses, with the row number, anything it would have to guess:

* **Column names** are matched case-insensitively against a list of aliases; extra columns are
  ignored. A missing column names the file, what was expected and what was found.
* **Epoch numbers** (integers, or floats holding whole numbers) are read by magnitude, one unit
  for the whole column: below 1e11 seconds, below 1e14 milliseconds, below 1e17 microseconds,
  else nanoseconds. In milliseconds 1e11 is March 1973 and in seconds it is the year 5138, so
  for any market data the ranges cannot be confused. Sub-millisecond parts are refused.
* **ISO-8601 strings** must say where they are: ``Z`` or an offset (``+00:00``, ``+0100``).
  A time without an offset is refused: assuming UTC silently shifts a file written in local
  time by hours, which no validation rule could notice afterwards.
* **Arrow timestamp columns** (Parquet) must carry a time zone, for the same reason.

Rows are 1-based data rows (row 1 = the first row under a CSV header).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from tradeplay.domain.errors import DataValidationError

__all__ = ["find_column", "numbers", "times_ms"]

# Magnitude limits of epoch units, and how to get milliseconds from each: (name, multiply, divide).
_UNIT_LIMITS: Final = np.array([1e11, 1e14, 1e17])
_UNITS: Final = (
    ("seconds", 1000, 1),
    ("milliseconds", 1, 1),
    ("microseconds", 1, 1000),
    ("nanoseconds", 1, 1_000_000),
)


def find_column(names: Sequence[str], aliases: Sequence[str], role: str, source: str) -> str:
    """The file's name for the first alias present (case-insensitive), or a clear error."""
    lowered: dict[str, str] = {}
    for name in names:
        lowered.setdefault(name.strip().lower(), name)
    for alias in aliases:
        if alias in lowered:
            return lowered[alias]
    found = ", ".join(names) if names else "none"
    detail = f"no {role} column: expected one of {', '.join(aliases)}; found columns: {found}"
    raise DataValidationError(source, "columns_present", detail)


def _fails(convert: Callable[[pa.Array], Any], values: pa.Array) -> bool:
    try:
        convert(values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return True
    return False


def _first_failing_row(values: pa.Array, convert: Callable[[pa.Array], Any]) -> int:
    """Index of the first value ``convert`` rejects, found by bisection (~20 vectorised tries).

    Only called after the whole column failed, so the error path stays fast on big files
    without a per-value Python loop.
    """
    lo, hi = 0, len(values)  # invariant: values[lo:hi] contains a failing value
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _fails(convert, values[lo:mid]):
            hi = mid
        else:
            lo = mid
    return lo


def _first_null(values: pa.Array) -> int | None:
    if values.null_count == 0:
        return None
    return int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])


def _check_no_nulls(values: pa.Array, column: str, source: str) -> None:
    row = _first_null(values)
    if row is not None:
        raise DataValidationError(source, "value_present", f"{column} is empty", row=row + 1)


def numbers(values: pa.Array, column: str, source: str) -> NDArray[np.float64]:
    """A column of prices or volumes as float64; text is parsed, an unparsable value is refused."""
    _check_no_nulls(values, column, source)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = pc.utf8_trim_whitespace(values)

    def convert(array: pa.Array) -> pa.Array:
        return pc.cast(array, pa.float64())

    try:
        converted = convert(values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        row = _first_failing_row(values, convert)
        detail = f"{column} {values[row].as_py()!r} is not a number"
        raise DataValidationError(source, "number_format", detail, row=row + 1) from None
    return np.asarray(converted.to_numpy(zero_copy_only=False), dtype=np.float64)


def epoch_to_ms(
    values: NDArray[np.int64] | NDArray[np.float64], column: str, source: str
) -> NDArray[np.int64]:
    """Epoch numbers in one unit, detected by magnitude (module docstring), as int64 ms.

    Integers must be whole milliseconds; floats are rounded to the nearest millisecond, since
    a float cannot hold a time more exactly and bars are aligned to whole minutes anyway.
    """
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    not_finite = np.flatnonzero(~np.isfinite(values))
    if len(not_finite):
        row = int(not_finite[0])
        detail = f"{column} {values[row].item()!r} is not a time"
        raise DataValidationError(source, "time_format", detail, row=row + 1)
    unit_index = np.searchsorted(_UNIT_LIMITS, np.abs(values), side="right")
    name, multiply, divide = _UNITS[int(unit_index[0])]
    odd = np.flatnonzero(unit_index != unit_index[0])
    if len(odd):
        row = int(odd[0])
        detail = (
            f"{column} {values[row].item()!r} is not in {name} like the first row "
            f"({values[0].item()!r}); a column must use one unit"
        )
        raise DataValidationError(source, "time_format", detail, row=row + 1)
    if values.dtype.kind == "f":
        return np.round(values * multiply / divide).astype(np.int64)
    scaled = values.astype(np.int64) * multiply
    partial = np.flatnonzero(scaled % divide)
    if len(partial):
        row = int(partial[0])
        detail = f"{column} {values[row].item()!r} ({name}) is not a whole number of milliseconds"
        raise DataValidationError(source, "time_format", detail, row=row + 1)
    return scaled // divide


def _describe_bad_iso(text: str) -> str:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return "is not an ISO-8601 time (e.g. 2024-01-01T00:00:00Z)"
    if parsed.tzinfo is None:
        return "has no UTC offset: write it as 2024-01-01T00:00:00Z or add +00:00"
    return "could not be read as a time"


def _iso_to_ms(values: pa.Array, column: str, source: str) -> NDArray[np.int64]:
    def convert(array: pa.Array) -> pa.Array:
        # Arrow's cast refuses strings without an offset for a zoned type: exactly our rule.
        return pc.cast(array, pa.timestamp("ms", tz="UTC"))

    try:
        converted = convert(values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        row = _first_failing_row(values, convert)
        text = values[row].as_py()
        detail = f"{column} {text!r} {_describe_bad_iso(text)}"
        raise DataValidationError(source, "time_format", detail, row=row + 1) from None
    return np.asarray(pc.cast(converted, pa.int64()).to_numpy(), dtype=np.int64)


def _text_times_ms(values: pa.Array, column: str, source: str) -> NDArray[np.int64]:
    """Text times: epoch numbers if the first value is a number, else ISO-8601 strings."""
    values = pc.utf8_trim_whitespace(values)
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    try:
        float(values[0].as_py())
    except ValueError:
        return _iso_to_ms(values, column, source)
    for target in (pa.int64(), pa.float64()):
        try:
            parsed = pc.cast(values, target).to_numpy()
        except pa.ArrowInvalid:
            continue
        return epoch_to_ms(parsed, column, source)
    row = _first_failing_row(values, lambda a: pc.cast(a, pa.float64()))
    detail = f"{column} {values[row].as_py()!r} is not a number like the rows before it"
    raise DataValidationError(source, "time_format", detail, row=row + 1)


def times_ms(values: pa.Array, column: str, source: str) -> NDArray[np.int64]:
    """A time column of any supported kind (module docstring) as int64 epoch milliseconds."""
    _check_no_nulls(values, column, source)
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _text_times_ms(values, column, source)
    if pa.types.is_integer(kind):
        return epoch_to_ms(pc.cast(values, pa.int64()).to_numpy(), column, source)
    if pa.types.is_floating(kind):
        return epoch_to_ms(pc.cast(values, pa.float64()).to_numpy(), column, source)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        try:
            as_ms = pc.cast(values, pa.timestamp("ms", tz="UTC"))  # safe: refuses to drop µs
        except pa.ArrowInvalid:
            detail = f"{column} holds times finer than a millisecond ({kind})"
            raise DataValidationError(source, "time_format", detail) from None
        return np.asarray(pc.cast(as_ms, pa.int64()).to_numpy(), dtype=np.int64)
    detail = (
        f"{column} has type {kind}; expected epoch numbers, ISO-8601 text with an offset, "
        "or timestamps with a time zone"
    )
    raise DataValidationError(source, "time_format", detail)
