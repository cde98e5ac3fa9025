"""Importing CSV and Parquet files: column discovery, time formats, and errors that name the row."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.data.factories import HOUR, JAN_1_2024, MINUTE, ramp_candles, read_real_candles
from tradeplay.data.candles import Candles
from tradeplay.data.gaps import GapPolicy
from tradeplay.data.importer import (
    ImportReport,
    import_candles,
    import_funding,
    read_candle_file,
    read_funding_file,
)
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import DataValidationError, InputError

BTC_1M = DatasetKey.candles("bybit", "BTCUSDT", "1m")
HEADER = "ts,open,high,low,close,volume\n"


def _csv(tmp_path: Path, text: str, name: str = "btc.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(candles: Candles) -> str:
    return "".join(
        f"{t},{o!r},{h!r},{lo!r},{c!r},{v!r}\n"
        for t, o, h, lo, c, v in zip(*(a.tolist() for a in candles.columns().values()), strict=True)
    )


def _error_of(path: Path) -> DataValidationError:
    with pytest.raises(DataValidationError) as caught:
        read_candle_file(path)
    return caught.value


# -- reading ---------------------------------------------------------------------------------


def test_a_csv_with_epoch_milliseconds_reads_exactly(tmp_path: Path) -> None:
    candles = ramp_candles(50, start_price=1.1)

    assert read_candle_file(_csv(tmp_path, HEADER + _rows(candles))) == candles


def test_epoch_seconds_are_recognised_by_their_magnitude(tmp_path: Path) -> None:
    text = "timestamp,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,10\n1704067260,1,2,1,1,0\n"

    candles = read_candle_file(_csv(tmp_path, text))

    assert candles.ts.tolist() == [JAN_1_2024, JAN_1_2024 + MINUTE]


def test_iso_times_with_z_or_an_offset_are_read_as_utc(tmp_path: Path) -> None:
    text = (
        "Date,Open,High,Low,Close,Vol\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n"
        "2024-01-01 02:00:00+01:00,1,2,0.5,1.5,10\n"
        "2024-01-01T02:00:00.000+0000,1,2,0.5,1.5,10\n"
    )

    candles = read_candle_file(_csv(tmp_path, text))

    assert candles.ts.tolist() == [JAN_1_2024, JAN_1_2024 + HOUR, JAN_1_2024 + 2 * HOUR]


def test_iso_times_without_an_offset_are_refused_with_the_row(tmp_path: Path) -> None:
    text = "time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
    text += "2024-01-01T00:01:00,1,2,0.5,1.5,1\n"

    error = _error_of(_csv(tmp_path, text))

    assert str(error) == (
        f"{tmp_path / 'btc.csv'}, row 2: rule 'time_format' failed: time "
        "'2024-01-01T00:01:00' has no UTC offset: write it as 2024-01-01T00:00:00Z or add +00:00"
    )


def test_a_column_mixing_seconds_and_milliseconds_is_refused(tmp_path: Path) -> None:
    text = HEADER + "1704067200,1,2,0.5,1.5,1\n1704067260000,1,2,0.5,1.5,1\n"

    error = _error_of(_csv(tmp_path, text))

    assert (error.rule, error.row) == ("time_format", 2)
    assert error.detail == (
        "ts 1704067260000 is not in seconds like the first row (1704067200); "
        "a column must use one unit"
    )


def test_a_missing_column_names_the_file_the_column_and_the_columns_found(tmp_path: Path) -> None:
    path = _csv(tmp_path, "time,open,high,close,volume\n1704067200000,1,2,1,1\n")

    error = _error_of(path)

    assert str(error) == (
        f"{path}: rule 'columns_present' failed: no low column: expected one of low; "
        "found columns: time, open, high, close, volume"
    )


def test_a_missing_time_column_lists_every_accepted_name(tmp_path: Path) -> None:
    error = _error_of(_csv(tmp_path, "when,open,high,low,close,volume\n1,1,1,1,1,1\n"))

    assert error.detail.startswith(
        "no time column: expected one of ts, timestamp, time, open_time, date, datetime;"
    )


def test_an_unparsable_number_is_reported_with_its_row_and_column(tmp_path: Path) -> None:
    rows = _rows(ramp_candles(1000)).splitlines(keepends=True)
    rows[736] = rows[736].replace(",837.0,", ",8x7,", 1)  # the close of data row 737

    error = _error_of(_csv(tmp_path, HEADER + "".join(rows)))

    assert (error.rule, error.row) == ("number_format", 737)
    assert error.detail == "close '8x7' is not a number"


def test_a_row_with_too_few_fields_is_a_format_error_with_its_row(tmp_path: Path) -> None:
    text = HEADER + _rows(ramp_candles(3)) + "1704067380000,1,2,0.5\n"

    error = _error_of(_csv(tmp_path, text))

    assert (error.rule, error.row) == ("csv_format", 4)
    assert error.detail.startswith("Expected 6 columns, got 4")


def test_empty_values_are_reported(tmp_path: Path) -> None:
    text = HEADER + "1704067200000,1,2,0.5,1.5,\n"

    error = _error_of(_csv(tmp_path, text))

    assert (error.rule, error.row, error.detail) == (
        "number_format",
        1,
        "volume '' is not a number",
    )


def test_a_file_without_a_header_is_refused(tmp_path: Path) -> None:
    error = _error_of(_csv(tmp_path, _rows(ramp_candles(2))))

    assert error.detail == "the first line must be a header naming the columns"


def test_unknown_or_missing_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_candle_file(tmp_path / "absent.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputError, match="unknown file type"):
        read_candle_file(tmp_path / "x.json")


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "btc.csv.gz"
    path.write_bytes(gzip.compress((HEADER + _rows(ramp_candles(5))).encode()))

    assert read_candle_file(path) == ramp_candles(5)


def test_a_real_parquet_file_reads_like_pyarrow_reads_it(shared_data: Path) -> None:
    path = shared_data / "binance_SOLUSDT_1h.parquet"

    assert read_candle_file(path) == read_real_candles(shared_data, "binance_SOLUSDT_1h")


def test_parquet_timestamps_need_a_time_zone(tmp_path: Path) -> None:
    candles = ramp_candles(3)
    columns = {name: pa.array(values) for name, values in candles.columns().items()}
    zoned = pa.array(candles.ts, pa.timestamp("ms", tz="UTC"))
    pq.write_table(pa.table(columns | {"ts": zoned}), tmp_path / "zoned.parquet")
    naive = pa.array(candles.ts, pa.timestamp("ms"))
    pq.write_table(pa.table(columns | {"ts": naive}), tmp_path / "naive.parquet")

    assert read_candle_file(tmp_path / "zoned.parquet") == candles
    with pytest.raises(DataValidationError, match=r"ts has type timestamp\[ms\]; expected"):
        read_candle_file(tmp_path / "naive.parquet")


def test_funding_files_accept_the_usual_column_names(tmp_path: Path) -> None:
    text = "fundingTime,fundingRate\n2024-01-01T00:00:00Z,0.0001\n2024-01-01T08:00:00Z,-0.00005\n"

    rates = read_funding_file(_csv(tmp_path, text, "funding.csv"))

    assert rates.ts.tolist() == [JAN_1_2024, JAN_1_2024 + 8 * HOUR]
    assert rates.rate.tolist() == [0.0001, -0.00005]


# -- importing -------------------------------------------------------------------------------


def test_importing_validates_with_the_file_as_source_and_does_not_sort(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "store")
    unsorted = ramp_candles(5).take(np.array([0, 1, 3, 2, 4]))
    path = _csv(tmp_path, HEADER + _rows(unsorted))

    with pytest.raises(DataValidationError) as caught:
        import_candles(store, path, BTC_1M, GapPolicy.LEAVE)

    assert str(caught.value).startswith(f"{path}, row 4: rule 'timestamps_increasing' failed")
    assert not store.exists(BTC_1M)


def test_importing_a_gapped_file_reports_and_fills_the_gaps(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "store")
    gapped = ramp_candles(10).take(np.array([0, 1, 2, 5, 6, 9]))
    path = _csv(tmp_path, HEADER + _rows(gapped))

    with pytest.raises(DataValidationError, match="2 gaps in the 1m series"):
        import_candles(store, path, BTC_1M, GapPolicy.REFUSE)
    report = import_candles(store, path, BTC_1M, GapPolicy.FILL)

    assert report == ImportReport(
        path=path, key=BTC_1M, rows=6, first_ms=JAN_1_2024, last_ms=JAN_1_2024 + 9 * MINUTE,
        gaps=2, filled_bars=4, added=10,
    )  # fmt: skip
    info = store.info(BTC_1M)
    assert (info.rows, info.gaps, info.generated) == (10, 0, False)
    assert info.source == f"import: {path.resolve()} (4 missing bars filled flat)"


def test_importing_again_merges_and_counts_only_new_bars(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "store")
    first = _csv(tmp_path, HEADER + _rows(ramp_candles(20)[:12]), "first.csv")
    second = _csv(tmp_path, HEADER + _rows(ramp_candles(20)[8:]), "second.csv")

    assert import_candles(store, first, BTC_1M, GapPolicy.REFUSE).added == 12
    assert import_candles(store, second, BTC_1M, GapPolicy.REFUSE).added == 8
    assert store.load_candles(BTC_1M) == ramp_candles(20)


def test_importing_funding(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "store")
    path = _csv(tmp_path, "ts,rate\n1704067200000,0.0001\n1704096000000,0.0002\n", "f.csv")

    report = import_funding(store, path, "bybit", "BTCUSDT")

    assert (report.rows, report.added, report.key) == (2, 2, DatasetKey.funding("bybit", "BTCUSDT"))
    assert store.load_funding("bybit", "BTCUSDT").rate.tolist() == [0.0001, 0.0002]


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "store")

    with pytest.raises(
        DataValidationError, match="rule 'not_empty' failed: the file holds no rows"
    ):
        import_candles(store, _csv(tmp_path, HEADER), BTC_1M, GapPolicy.REFUSE)
