"""Downloading history page by page: paging, resume, open bars, stuck sources, funding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.fakes import SYMBOL, FakeSource
from tradeplay.data.candles import Candles, FundingRates
from tradeplay.data.download import DownloadReport, download_candles, download_funding
from tradeplay.data.sample import generate_sample_market
from tradeplay.data.store import CandleStore, DatasetKey
from tradeplay.domain.errors import DataValidationError, VenueUnavailableError
from tradeplay.domain.timeframe import Timeframe

M1 = Timeframe.parse("1m")
MIN = 60_000
HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01T00:00Z
KEY = DatasetKey("fake", SYMBOL, M1)
FUNDING_KEY = DatasetKey("fake", SYMBOL, None)
FAR_FUTURE = START + 10**12


def bars(count: int, *, start: int = START) -> Candles:
    """``count`` consecutive valid 1m bars (any valid series would do; the sample is at hand)."""
    return generate_sample_market(seed=3, start_ms=start, minutes=count).candles


def settlements(count: int) -> FundingRates:
    """8-hourly settlements stamped a few ms late, as venues do."""
    ts = START + 8 * HOUR * np.arange(count, dtype=np.int64) + np.arange(count) % 7
    return FundingRates(ts=ts, rate=0.0001 + 0.00001 * np.sin(np.arange(count)))


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "store")


def download(
    source: FakeSource,
    store: CandleStore,
    since: int = START,
    until: int = FAR_FUTURE,
    now: int = FAR_FUTURE,
) -> DownloadReport:
    return download_candles(source, store, SYMBOL, M1, since, until, now_ms=now)


# --- paging ----------------------------------------------------------------------------------


def test_a_download_pages_forward_until_the_source_runs_out(store: CandleStore) -> None:
    history = bars(2_500)
    source = FakeSource(history)
    report = download(source, store)
    assert store.load_candles(KEY) == history
    # A short page is not taken as the end (a venue may cap pages lower than it says): only an
    # empty one is.
    pages = [START, START + 1000 * MIN, START + 2000 * MIN, START + 2500 * MIN]
    assert [since for since, _, _ in source.calls] == pages
    assert report.added == 2_500
    assert report.pages == 3
    assert (report.first_ms, report.last_ms) == (START, START + 2_499 * MIN)
    assert report.resumed_from_ms is None
    assert store.info(KEY).source == "download: fake"
    assert not store.info(KEY).generated


def test_a_download_that_reaches_until_on_a_page_boundary_asks_no_further(
    store: CandleStore,
) -> None:
    source = FakeSource(bars(3_000))
    report = download(source, store, until=START + 2_000 * MIN)
    assert len(source.calls) == 2
    assert report.added == 2_000
    assert store.info(KEY).last_ms == START + 1_999 * MIN


def test_since_between_bars_starts_at_the_next_bar(store: CandleStore) -> None:
    source = FakeSource(bars(100))
    download(source, store, since=START + 10 * MIN + 1)
    assert source.calls[0][0] == START + 11 * MIN
    assert store.info(KEY).first_ms == START + 11 * MIN


def test_an_exchange_outage_in_the_history_is_paged_across(store: CandleStore) -> None:
    history = bars(3_000)
    with_gap = history.take(np.r_[0:500, 2_000:3_000])  # 1,500 minutes missing
    download(FakeSource(with_gap), store)
    assert store.load_candles(KEY) == with_gap
    assert store.info(KEY).gaps == 1


def test_a_source_without_data_in_the_range_writes_nothing(store: CandleStore) -> None:
    report = download(FakeSource(bars(100)), store, since=START + 500 * MIN)
    assert (report.added, report.pages, report.first_ms) == (0, 0, None)
    assert not store.exists(KEY)


def test_a_source_that_returns_bars_past_until_only_has_the_range_stored(
    store: CandleStore,
) -> None:
    history = bars(300)

    class Sloppy(FakeSource):
        def fetch_candles(
            self, symbol: str, timeframe: Timeframe, since_ms: int, until_ms: int, limit: int
        ) -> Candles:
            return self.candles.between(since_ms, None)[:limit]  # ignores until

    download(Sloppy(history), store, until=START + 120 * MIN)
    assert store.load_candles(KEY) == history[:120]


# --- open bars -------------------------------------------------------------------------------


def test_the_still_open_bar_is_never_stored(store: CandleStore) -> None:
    history = bars(200)  # the source already shows the bar that opened at 02:30
    now = START + 150 * MIN + 25_000  # 02:30:25, the 02:30 bar closes at 02:31
    report = download(FakeSource(history), store, now=now)
    assert store.info(KEY).last_ms == START + 149 * MIN
    assert report.added == 150


def test_a_bar_that_closes_exactly_now_is_closed(store: CandleStore) -> None:
    download(FakeSource(bars(200)), store, now=START + 150 * MIN)
    assert store.info(KEY).last_ms == START + 149 * MIN


def test_the_next_run_picks_up_the_bar_that_was_open_last_time(store: CandleStore) -> None:
    history = bars(200)
    download(FakeSource(history), store, now=START + 150 * MIN + 25_000)
    report = download(FakeSource(history), store, now=START + 180 * MIN)
    assert report.resumed_from_ms == START + 150 * MIN
    assert store.load_candles(KEY) == history[:180]


# --- resume ----------------------------------------------------------------------------------


def test_a_second_download_resumes_after_the_last_stored_bar(store: CandleStore) -> None:
    history = bars(2_500)
    download(FakeSource(history), store, until=START + 1_200 * MIN)
    source = FakeSource(history)
    report = download(source, store)
    assert source.calls[0][0] == START + 1_200 * MIN
    assert report.resumed_from_ms == START + 1_200 * MIN
    assert report.added == 1_300
    assert store.load_candles(KEY) == history


def test_a_complete_dataset_is_not_fetched_again(store: CandleStore) -> None:
    history = bars(500)
    download(FakeSource(history), store, until=START + 500 * MIN)
    source = FakeSource(history)
    report = download(source, store, until=START + 500 * MIN)
    assert source.calls == []
    assert report.added == 0


def test_an_earlier_since_back_fills_before_the_stored_bars(store: CandleStore) -> None:
    history = bars(3_000)
    download(FakeSource(history), store, since=START + 1_000 * MIN, until=START + 2_000 * MIN)
    source = FakeSource(history)
    download(source, store)
    assert store.load_candles(KEY) == history
    assert source.calls[0][:2] == (START, START + 1_000 * MIN)  # the missing head first


def test_an_interrupted_download_resumes_to_the_same_result_as_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    history = bars(3_500)
    interrupted = CandleStore(tmp_path / "interrupted")
    with pytest.raises(VenueUnavailableError):
        download(FakeSource(history, fail_on_call=3), interrupted)
    assert interrupted.info(KEY).rows == 2_000  # the pages before the failure were kept
    report = download(FakeSource(history), interrupted)
    assert report.resumed_from_ms == START + 2_000 * MIN

    uninterrupted = CandleStore(tmp_path / "uninterrupted")
    download(FakeSource(history), uninterrupted)
    assert interrupted.load_candles(KEY) == uninterrupted.load_candles(KEY) == history
    assert interrupted.info(KEY).source == uninterrupted.info(KEY).source


# --- sources that misbehave ------------------------------------------------------------------


def test_a_source_that_ignores_since_raises_instead_of_looping(store: CandleStore) -> None:
    class Stuck(FakeSource):
        def fetch_candles(
            self, symbol: str, timeframe: Timeframe, since_ms: int, until_ms: int, limit: int
        ) -> Candles:
            self.calls.append((since_ms, until_ms, limit))
            return self.candles[:limit]  # always the first page

    source = Stuck(bars(2_500))
    with pytest.raises(DataValidationError) as caught:
        download(source, store)
    assert caught.value.rule == "pages_advance"
    assert len(source.calls) == 2
    assert store.info(KEY).rows == 1000  # the one good page stays


def test_a_page_that_breaks_a_candle_rule_is_refused_and_not_stored(store: CandleStore) -> None:
    history = bars(1_500)
    high = history.high.copy()
    high[1_200] = history.low[1_200] - 1  # a high below the low, on the second page
    broken = Candles.from_columns(**{**history.columns(), "high": high})
    with pytest.raises(DataValidationError) as caught:
        download(FakeSource(broken), store)
    assert caught.value.rule == "high_ge_low"
    assert caught.value.source == "download: fake"
    assert store.info(KEY).rows == 1000


# --- progress and report ---------------------------------------------------------------------


def test_progress_counts_bars_up_to_the_total(store: CandleStore) -> None:
    seen: list[tuple[int, int]] = []
    download_candles(
        FakeSource(bars(2_500)),
        store,
        SYMBOL,
        M1,
        START,
        START + 3_000 * MIN,
        now_ms=FAR_FUTURE,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert {total for _, total in seen} == {3_000}
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[0] == (1_000, 3_000)
    assert seen[-1] == (3_000, 3_000)


def test_the_report_reads_like_a_sentence(store: CandleStore) -> None:
    report = download(FakeSource(bars(2_500)), store)
    assert str(report) == (
        "fake BTCUSDT 1m: 2,500 rows added (2024-01-01T00:00:00Z .. 2024-01-02T17:39:00Z) "
        "in 3 pages"
    )


# --- funding ---------------------------------------------------------------------------------


def test_funding_pages_through_settlements_and_resumes(store: CandleStore) -> None:
    rates = settlements(450)
    first = FakeSource(bars(1), rates)
    download_funding(first, store, SYMBOL, START, START + 300 * 8 * HOUR, now_ms=FAR_FUTURE)
    assert store.load_funding("fake", SYMBOL) == rates[:300]
    pages = [START, int(rates.ts[199]) + 1, int(rates.ts[299]) + 1]  # the last one comes back empty
    assert [since for since, _, _ in first.calls] == pages
    assert first.calls[0][1] == START + 300 * 8 * HOUR

    second = FakeSource(bars(1), rates)
    report = download_funding(second, store, SYMBOL, START, FAR_FUTURE, now_ms=FAR_FUTURE)
    assert report.resumed_from_ms == int(rates.ts[299]) + 1
    assert report.added == 150
    assert store.load_funding("fake", SYMBOL) == rates
    assert store.info(FUNDING_KEY).source == "download: fake"


def test_funding_after_now_is_not_stored(store: CandleStore) -> None:
    rates = settlements(10)
    now = int(rates.ts[6]) - 1
    download_funding(FakeSource(bars(1), rates), store, SYMBOL, START, FAR_FUTURE, now_ms=now)
    assert store.load_funding("fake", SYMBOL) == rates[:6]


def test_a_funding_source_that_ignores_since_raises(store: CandleStore) -> None:
    class Stuck(FakeSource):
        def fetch_funding(
            self, symbol: str, since_ms: int, until_ms: int, limit: int
        ) -> FundingRates:
            return self.funding[:limit]

    with pytest.raises(DataValidationError, match="does not move forward"):
        download_funding(
            Stuck(bars(1), settlements(450)), store, SYMBOL, START, FAR_FUTURE, now_ms=FAR_FUTURE
        )


# --- real data -------------------------------------------------------------------------------


def test_real_bybit_minutes_survive_a_paged_download_unchanged(
    shared_data: Path, store: CandleStore
) -> None:
    table = pq.read_table(shared_data / "bybit_BTCUSDT_1m.parquet").to_pydict()
    real = Candles.from_columns(**table)
    source = FakeSource(real, max_candles_per_page=200)
    now = int(real.ts[-1]) + MIN  # the last bar has just closed
    report = download(source, store, since=int(real.ts[0]), now=now)
    assert store.load_candles(KEY) == real
    assert report.pages == 4  # 721 bars, 200 a page
