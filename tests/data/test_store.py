"""CandleStore: round trips, ranges, append semantics, metadata, listing and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.data.factories import (
    HOUR,
    JAN_1_2024,
    MINUTE,
    funding_every_8h,
    ramp_candles,
    read_real_candles,
)
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.store import SCHEMA_VERSION, CandleStore, DatasetInfo, DatasetKey
from tradeplay.domain.errors import (
    DataNotFoundError,
    DataValidationError,
    InputError,
    StateCorruptionError,
)

BTC_1M = DatasetKey.candles("bybit", "BTCUSDT", "1m")
BTC_1H = DatasetKey.candles("bybit", "BTCUSDT", "1h")


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "store")


def _gapped(candles: Candles, *rows: int) -> Candles:
    return candles.take(np.setdiff1d(np.arange(len(candles)), rows))


# -- keys ------------------------------------------------------------------------------------


def test_keys_name_their_file_and_print_as_words() -> None:
    assert BTC_1H.file_name == "1h.parquet"
    assert str(BTC_1H) == "bybit BTCUSDT 1h"
    assert DatasetKey.funding("bybit", "BTCUSDT").file_name == "funding.parquet"
    assert str(DatasetKey.funding("bybit", "BTCUSDT")) == "bybit BTCUSDT funding"
    assert DatasetKey.candles("bybit", "BTCUSDT", "60m") == BTC_1H


@pytest.mark.parametrize(
    ("exchange", "symbol"),
    [("Bybit", "BTCUSDT"), ("by-bit", "BTCUSDT"), ("bybit", "btcusdt"), ("bybit", "BTC/USDT"),
     ("bybit", "../X"), ("", "BTCUSDT"), ("bybit\n", "BTCUSDT")],
)  # fmt: skip
def test_names_that_are_not_safe_folder_names_are_refused(exchange: str, symbol: str) -> None:
    with pytest.raises(InputError, match="is not a valid name"):
        DatasetKey(exchange, symbol, None)


# -- round trips -----------------------------------------------------------------------------


def test_a_timeframe_must_be_a_timeframe_object_or_none() -> None:
    with pytest.raises(TypeError, match=r"DatasetKey.candles\(\) accepts text"):
        DatasetKey("bybit", "BTCUSDT", "1h")  # type: ignore[arg-type]


def test_candles_round_trip_exactly_with_their_dtypes(store: CandleStore) -> None:
    candles = ramp_candles(1000, start_price=1.1)  # inexact binary fractions

    info = store.write_candles(BTC_1M, candles, source="test")
    loaded = store.load_candles(BTC_1M)

    assert loaded == candles
    assert loaded.ts.dtype == np.int64
    assert all(a.flags["C_CONTIGUOUS"] for a in loaded.columns().values())
    assert info.path == store.root / "bybit" / "BTCUSDT" / "1m.parquet"
    assert (info.rows, info.first_ms, info.last_ms) == (1000, JAN_1_2024, JAN_1_2024 + 999 * MINUTE)


def test_real_candles_round_trip_bit_for_bit(store: CandleStore, shared_data: Path) -> None:
    real = read_real_candles(shared_data, "binancespot_BTCUSDT_1h")
    key = DatasetKey.candles("binancespot", "BTCUSDT", "1h")

    info = store.write_candles(key, real, source="import: shared")

    assert store.load_candles(key) == real
    assert info.gaps == 27


def test_funding_round_trips_exactly(store: CandleStore) -> None:
    rates = funding_every_8h(100)

    info = store.write_funding("bybit", "BTCUSDT", rates, source="download: bybit")

    assert store.load_funding("bybit", "BTCUSDT") == rates
    assert info.key == DatasetKey.funding("bybit", "BTCUSDT")
    assert info.path.name == "funding.parquet"
    assert info.gaps == 0


def test_writing_replaces_the_whole_dataset(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(100), source="first")
    store.write_candles(BTC_1M, ramp_candles(10, start_price=5.0), source="second")

    assert store.load_candles(BTC_1M) == ramp_candles(10, start_price=5.0)
    assert store.info(BTC_1M).source == "second"


def test_invalid_or_empty_data_is_never_written(store: CandleStore) -> None:
    broken = ramp_candles(5).take(np.array([0, 2, 1, 3, 4]))

    with pytest.raises(DataValidationError, match="row 3: rule 'timestamps_increasing'"):
        store.write_candles(BTC_1M, broken, source="broken.csv")
    with pytest.raises(InputError, match="nothing to write to bybit BTCUSDT 1m"):
        store.write_candles(BTC_1M, Candles.empty(), source="empty")
    assert not store.exists(BTC_1M)


def test_candle_and_funding_methods_refuse_each_others_keys(store: CandleStore) -> None:
    with pytest.raises(InputError, match="is a funding dataset"):
        store.write_candles(DatasetKey.funding("bybit", "BTCUSDT"), ramp_candles(3), source="x")


# -- ranges ----------------------------------------------------------------------------------


def test_range_loads_include_the_start_and_exclude_the_end(store: CandleStore) -> None:
    candles = ramp_candles(500_000)  # several row groups, so range loads skip some of them
    store.write_candles(BTC_1M, candles, source="test")
    start, end = JAN_1_2024 + 200_000 * MINUTE, JAN_1_2024 + 300_000 * MINUTE

    assert store.load_candles(BTC_1M, start, end) == candles.between(start, end)
    assert store.load_candles(BTC_1M, None, JAN_1_2024 + 3 * MINUTE) == candles[:3]
    assert store.load_candles(BTC_1M, JAN_1_2024 + 499_998 * MINUTE) == candles[-2:]


def test_a_range_outside_the_data_is_empty_not_an_error(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(10), source="test")

    assert len(store.load_candles(BTC_1M, 0, JAN_1_2024)) == 0
    assert len(store.load_candles(BTC_1M, JAN_1_2024 + HOUR, None)) == 0
    assert store.load_candles(BTC_1M, 0, JAN_1_2024).ts.dtype == np.int64


def test_funding_range_loads(store: CandleStore) -> None:
    rates = funding_every_8h(30)
    store.write_funding("bybit", "BTCUSDT", rates, source="test")

    loaded = store.load_funding("bybit", "BTCUSDT", int(rates.ts[3]), int(rates.ts[6]))

    assert loaded == rates[3:6]


# -- append ----------------------------------------------------------------------------------


def test_append_creates_the_dataset_then_adds_only_new_bars(store: CandleStore) -> None:
    candles = ramp_candles(100)

    assert store.append_candles(BTC_1M, candles[:60], source="download: bybit") == 60
    assert store.append_candles(BTC_1M, candles[40:], source="download: bybit") == 40

    assert store.load_candles(BTC_1M) == candles
    assert store.info(BTC_1M).source == "download: bybit"


def test_appending_only_duplicates_adds_nothing_and_leaves_the_file_alone(
    store: CandleStore,
) -> None:
    store.write_candles(BTC_1M, ramp_candles(10), source="test")
    before = store.path(BTC_1M).stat().st_mtime_ns

    assert store.append_candles(BTC_1M, ramp_candles(10)[3:8], source="again") == 0
    assert store.append_candles(BTC_1M, Candles.empty(), source="nothing") == 0
    assert store.path(BTC_1M).stat().st_mtime_ns == before


def test_a_bar_that_differs_from_the_stored_one_is_a_conflict(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(10), source="test")
    columns = {name: values.copy() for name, values in ramp_candles(10)[5:].columns().items()}
    columns["close"][2] = 108.5  # the bar at 00:07 closed at 108.0 (its high is 108.5)

    with pytest.raises(DataValidationError) as caught:
        store.append_candles(BTC_1M, Candles.from_columns(**columns), source="download: bybit")

    assert caught.value.rule == "overlap_conflict"
    assert caught.value.row == 3
    assert caught.value.detail == (
        "the bar at 2024-01-01T00:07:00Z is already stored with close 108.0, the new data has "
        "close 108.5; stored history never changes, so one of the two sources is wrong "
        "(delete the dataset to replace it)"
    )
    assert store.load_candles(BTC_1M) == ramp_candles(10)  # nothing written


def test_bars_before_the_first_and_inside_gaps_are_merged_in_order(store: CandleStore) -> None:
    candles = ramp_candles(20)
    store.append_candles(BTC_1M, _gapped(candles, 10, 11)[5:], source="late")

    assert store.info(BTC_1M).gaps == 1
    assert store.append_candles(BTC_1M, candles[:5], source="back-fill") == 5
    assert store.append_candles(BTC_1M, candles[9:13], source="gap-fill") == 2

    assert store.load_candles(BTC_1M) == candles
    info = store.info(BTC_1M)
    assert info.gaps == 0
    assert info.source == "late; back-fill; gap-fill"


def test_generated_and_real_bars_never_mix(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(10), source="sample (seed 7)", generated=True)

    with pytest.raises(InputError, match="holds generated data; refusing to merge real rows"):
        store.append_candles(BTC_1M, ramp_candles(20), source="download: bybit")


def test_funding_append_follows_the_same_rules(store: CandleStore) -> None:
    rates = funding_every_8h(10)
    store.append_funding("bybit", "BTCUSDT", rates[:6], source="download: bybit")

    assert store.append_funding("bybit", "BTCUSDT", rates[4:], source="download: bybit") == 4
    assert store.load_funding("bybit", "BTCUSDT") == rates
    changed = FundingRates(rates.ts[:1], np.array([0.5]))
    with pytest.raises(DataValidationError, match="overlap_conflict"):
        store.append_funding("bybit", "BTCUSDT", changed, source="other")


# -- metadata, listing, deletion, errors ----------------------------------------------------


def test_the_file_describes_itself_in_its_parquet_metadata(store: CandleStore) -> None:
    store.write_candles(BTC_1H, ramp_candles(5, timeframe="1h"), source="sample", generated=True)

    raw = pq.read_schema(store.path(BTC_1H)).metadata[b"tradeplay"]

    assert json.loads(raw) == {
        "schema_version": SCHEMA_VERSION,
        "kind": "candles",
        "exchange": "bybit",
        "symbol": "BTCUSDT",
        "timeframe": "1h",
        "sources": ["sample"],
        "generated": True,
        "first_ms": JAN_1_2024,
        "last_ms": JAN_1_2024 + 4 * HOUR,
        "gaps": 0,
    }


def test_listing_describes_every_dataset_from_the_footers(store: CandleStore) -> None:
    eth = DatasetKey.candles("binance", "ETHUSDT", "5m")
    store.write_candles(BTC_1H, ramp_candles(48, timeframe="1h"), source="b", generated=True)
    store.write_candles(BTC_1M, _gapped(ramp_candles(100), 50), source="a")
    store.write_funding("bybit", "BTCUSDT", funding_every_8h(3), source="c")
    store.write_candles(eth, ramp_candles(12, timeframe="5m"), source="d")
    (store.root / "bybit" / "BTCUSDT" / "notes.parquet").write_bytes(b"not ours")

    listed = store.list_datasets()

    assert [str(i.key) for i in listed] == [
        "binance ETHUSDT 5m",
        "bybit BTCUSDT 1m",
        "bybit BTCUSDT 1h",
        "bybit BTCUSDT funding",
    ]
    minute = listed[1]
    assert minute == DatasetInfo(
        key=BTC_1M,
        path=store.path(BTC_1M),
        rows=99,
        first_ms=JAN_1_2024,
        last_ms=JAN_1_2024 + 99 * MINUTE,
        size_bytes=store.path(BTC_1M).stat().st_size,
        generated=False,
        source="a",
        gaps=1,
    )
    assert listed[2].generated is True
    assert store.info(BTC_1M) == minute
    assert CandleStore(store.root / "nowhere").list_datasets() == []


def test_a_missing_dataset_error_lists_what_is_stored_for_the_symbol(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(5), source="x")
    store.write_funding("bybit", "BTCUSDT", funding_every_8h(2), source="x")
    store.write_candles(DatasetKey.candles("binance", "BTCUSDT", "1m"), ramp_candles(2), source="x")

    with pytest.raises(DataNotFoundError) as caught:
        store.load_candles(BTC_1H)

    assert str(caught.value) == (
        f"no dataset bybit BTCUSDT 1h in the store (expected {store.path(BTC_1H)}); "
        "stored for bybit BTCUSDT: 1m, funding; BTCUSDT is stored for binance"
    )


def test_a_missing_symbol_says_nothing_is_stored(store: CandleStore) -> None:
    with pytest.raises(DataNotFoundError, match=r"nothing is stored for bybit SOLUSDT$"):
        store.load_funding("bybit", "SOLUSDT")
    with pytest.raises(DataNotFoundError, match="no dataset bybit BTCUSDT 1h"):
        store.info(BTC_1H)


def test_delete_removes_the_dataset(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(5), source="x")

    store.delete(BTC_1M)

    assert not store.exists(BTC_1M)
    assert store.list_datasets() == []
    with pytest.raises(DataNotFoundError):
        store.delete(BTC_1M)
    with pytest.raises(DataNotFoundError):
        store.delete(DatasetKey.funding("okx", "ETHUSDT"))
    assert not (store.root / "okx").exists()


def test_a_writer_removes_temporary_files_left_by_a_crashed_writer(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(5), source="x")
    leftover = store.path(BTC_1M).parent / ".1m.parquet.k3j4h5.tmp"
    leftover.write_bytes(b"half a file")

    store.append_candles(BTC_1M, ramp_candles(6), source="x")

    assert not leftover.exists()
    assert sorted(p.name for p in store.path(BTC_1M).parent.iterdir()) == [
        "1m.parquet",
        "1m.parquet.lock",
    ]


def test_a_file_renamed_to_another_timeframe_is_refused(store: CandleStore) -> None:
    store.write_candles(BTC_1H, ramp_candles(5, timeframe="1h"), source="x")
    store.path(BTC_1H).rename(store.path(BTC_1M))

    with pytest.raises(StateCorruptionError, match=r"1m.parquet holds 1h data, not 1m$"):
        store.load_candles(BTC_1M)


def test_a_file_from_a_newer_store_version_is_refused(store: CandleStore) -> None:
    store.write_candles(BTC_1M, ramp_candles(5), source="x")
    path = store.path(BTC_1M)
    table = pq.read_table(path)
    metadata = json.loads(table.schema.metadata[b"tradeplay"]) | {"schema_version": 99}
    pq.write_table(table.replace_schema_metadata({"tradeplay": json.dumps(metadata)}), path)

    with pytest.raises(StateCorruptionError, match="schema version 99; this tradeplay reads up"):
        store.load_candles(BTC_1M)
