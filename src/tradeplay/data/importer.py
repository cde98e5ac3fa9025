"""Importing candle and funding files (CSV or Parquet) into the store.

Reading is strict: columns are found by name (aliases below, case-insensitive, extra columns
ignored), times may be epoch seconds / milliseconds or ISO-8601 with an offset (see
:mod:`tradeplay.data._file_columns`), and rows are **never re-ordered**: an unsorted file fails
validation at its first out-of-order row rather than being silently "fixed", because a file in
the wrong order is often a file with the wrong content.

Row numbers in errors are 1-based data rows: in a CSV with a header, row ``r`` is line
``r + 1`` (blank lines, which are skipped, are not counted). CSV files must have a header line.

Importing **merges** into an existing dataset (:meth:`CandleStore.append_candles`): bars
already stored must match exactly and are skipped, new bars are added wherever they fall.
To replace a dataset, delete it first. A "fill" gap policy stores the flat bars it creates;
the dataset's source records how many, so synthetic bars stay traceable.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradeplay.data._file_columns import find_column, numbers, times_ms
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.gaps import GapPolicy, apply_gap_policy, count_gaps
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.data.validation import validate_candles, validate_funding
from tradeplay.domain.errors import DataValidationError, InputError

__all__ = [
    "ImportReport",
    "import_candles",
    "import_funding",
    "read_candle_file",
    "read_funding_file",
]

TIME_ALIASES: Final = ("ts", "timestamp", "time", "open_time", "date", "datetime")
FUNDING_TIME_ALIASES: Final = (*TIME_ALIASES, "funding_time", "fundingtime", "fundingratetimestamp")
RATE_ALIASES: Final = ("rate", "funding_rate", "fundingrate")
PRICE_ALIASES: Final = {
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "volume": ("volume", "vol"),
}


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import read and stored."""

    path: Path
    key: DatasetKey
    rows: int  #: rows read from the file
    first_ms: int  #: first timestamp in the file
    last_ms: int  #: last timestamp in the file
    gaps: int  #: gaps found in the file (before the gap policy)
    filled_bars: int  #: flat bars inserted by the "fill" policy
    added: int  #: rows new to the store (rows already stored are not counted)


def _open_text(path: Path) -> io.TextIOWrapper:
    """The file as text, decompressed if its suffix says so (``.csv.gz``, ``.csv.zst`` ...)."""
    # Undecodable bytes are replaced here; Arrow reports them properly when it reads the data.
    stream = pa.input_stream(str(path))
    return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")


def _csv_header(path: Path, source: str) -> list[str]:
    with _open_text(path) as handle:
        header = next(csv.reader(handle), [])
    if not header or all(_looks_numeric(cell) for cell in header):
        raise DataValidationError(
            source, "columns_present", "the first line must be a header naming the columns"
        )
    return header


def _looks_numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _ragged_row(path: Path, width: int) -> int | None:
    """1-based data row of the first line with the wrong number of fields (error path only)."""
    with _open_text(path) as handle:
        rows = (row for row in csv.reader(handle) if row)  # blank lines are skipped, as by Arrow
        next(rows, None)
        for number, row in enumerate(rows, start=1):
            if len(row) != width:
                return number
    return None


def _read_csv(path: Path, source: str) -> pa.Table:
    header = _csv_header(path, source)
    # Everything is read as text and converted by us, so a bad value is reported with its row
    # instead of Arrow guessing a type from the first rows.
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()))
    try:
        return pacsv.read_csv(path, convert_options=options)
    except pa.ArrowInvalid as error:
        detail = str(error).removeprefix("CSV parse error: ")
        row = _ragged_row(path, len(header))
        raise DataValidationError(source, "csv_format", detail, row=row) from None


def _read_table(path: Path) -> pa.Table:
    """The file as an Arrow table; the format is chosen by the file suffix."""
    source = str(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        try:
            return pq.read_table(path)
        except pa.ArrowInvalid as error:
            raise DataValidationError(source, "parquet_format", str(error)) from None
    if ".csv" in suffixes or ".txt" in suffixes:
        return _read_csv(path, source)
    raise InputError(f"{path}: unknown file type; expected .csv (or .csv.gz) or .parquet")


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def read_candle_file(path: Path) -> Candles:
    """Read OHLCV bars from a CSV or Parquet file, in file order, unvalidated."""
    table = _read_table(Path(path))
    source, names = str(path), table.column_names
    ts_name = find_column(names, TIME_ALIASES, "time", source)
    columns = {
        field: find_column(names, aliases, field, source)
        for field, aliases in PRICE_ALIASES.items()
    }
    return Candles.from_columns(
        ts=times_ms(_column(table, ts_name), ts_name, source),
        **{field: numbers(_column(table, name), name, source) for field, name in columns.items()},
    )


def read_funding_file(path: Path) -> FundingRates:
    """Read funding settlements (time + rate per settlement) from CSV or Parquet, unvalidated."""
    table = _read_table(Path(path))
    source, names = str(path), table.column_names
    ts_name = find_column(names, FUNDING_TIME_ALIASES, "time", source)
    rate_name = find_column(names, RATE_ALIASES, "funding rate", source)
    return FundingRates.from_columns(
        ts=times_ms(_column(table, ts_name), ts_name, source),
        rate=numbers(_column(table, rate_name), rate_name, source),
    )


def _require_rows(count: int, source: str) -> None:
    if count == 0:
        raise DataValidationError(source, "not_empty", "the file holds no rows")


def import_candles(
    store: CandleStore, path: Path, key: DatasetKey, gap_policy: GapPolicy = GapPolicy.REFUSE
) -> ImportReport:
    """Read, validate (source = the file), apply the gap policy, merge into the store."""
    path = Path(path)
    if key.timeframe is None:
        raise InputError(f"{key} is a funding dataset; use import_funding for {path}")
    source = str(path)
    candles = read_candle_file(path)
    _require_rows(len(candles), source)
    validate_candles(candles, key.timeframe, source)
    gaps = count_gaps(candles.ts, key.timeframe)
    stored = apply_gap_policy(candles, key.timeframe, gap_policy, source)
    filled = len(stored) - len(candles)
    provenance = f"import: {path.resolve()}"
    if filled:
        provenance += f" ({filled} missing bars filled flat)"
    added = store.append_candles(key, stored, source=provenance)
    return ImportReport(
        path=path,
        key=key,
        rows=len(candles),
        first_ms=int(candles.ts[0]),
        last_ms=int(candles.ts[-1]),
        gaps=gaps,
        filled_bars=filled,
        added=added,
    )


def import_funding(store: CandleStore, path: Path, exchange: str, symbol: str) -> ImportReport:
    """Read and validate a funding file, then merge it into the symbol's funding history."""
    path = Path(path)
    key = DatasetKey.funding(exchange, symbol)
    source = str(path)
    rates = read_funding_file(path)
    _require_rows(len(rates), source)
    validate_funding(rates, source)
    added = store.append_funding(exchange, symbol, rates, source=f"import: {path.resolve()}")
    return ImportReport(
        path=path,
        key=key,
        rows=len(rates),
        first_ms=int(rates.ts[0]),
        last_ms=int(rates.ts[-1]),
        gaps=0,
        filled_bars=0,
        added=added,
    )
