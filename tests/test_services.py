"""The main job: real candles when the venue answers, the labelled sample market otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes import FakeSource
from tradeplay.data.candles import Candles
from tradeplay.data.download import HistorySource
from tradeplay.data.resample import resample
from tradeplay.data.sample import generate_sample_market
from tradeplay.data.store import DatasetKey
from tradeplay.domain.errors import VenueRejectedError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.services import (
    DAY_MS,
    DownloadRequest,
    dataset_details,
    download,
    quickstart,
    resample_dataset,
)
from tradeplay.settings import Settings

START = 1_704_067_200_000  # 2024-01-01T00:00Z
NOW = START + 380 * DAY_MS + 90_000  # a minute and a half into an hour: that bar is still open


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_home=tmp_path / "home")


def _venue(fail_on_call: int | None = None, *, hourly: bool = True) -> FakeSource:
    """Bybit as a fake: 400 days of generated hourly bars (or 21 days of minutes)."""
    minutes = (400 if hourly else 21) * 24 * 60
    market = generate_sample_market(seed=5, start_ms=START, minutes=minutes)
    candles, timeframe = market.candles, Timeframe.parse("1m")
    if hourly:
        timeframe = Timeframe.parse("1h")
        candles = resample(candles, Timeframe.parse("1m"), timeframe)
    return FakeSource(
        candles, market.funding, fail_on_call=fail_on_call, name="bybit", timeframe=timeframe
    )


def test_quickstart_fetches_a_year_of_real_hours_when_the_venue_answers(
    settings: Settings,
) -> None:
    venue = _venue()
    result = quickstart(settings, offline=False, source_factory=lambda _: venue, now_ms=NOW)
    assert result.real_data
    candles = next(info for info in result.datasets if info.key.timeframe is not None)
    assert (candles.key.exchange, candles.key.symbol, str(candles.key.timeframe)) == (
        "bybit",
        "BTCUSDT",
        "1h",
    )
    # From the first whole hour after now - 365 days to the last closed one: the hour that is
    # still open at now (1.5 min into day 380) is not stored.
    assert candles.rows == 365 * 24 - 1
    assert candles.last_ms == START + 380 * DAY_MS - 3_600_000
    assert not candles.generated
    assert all(not info.generated for info in result.datasets)


def test_quickstart_falls_back_to_the_labelled_sample_when_the_venue_is_unreachable(
    settings: Settings,
) -> None:
    result = quickstart(
        settings, offline=False, source_factory=lambda _: _venue(fail_on_call=1), now_ms=NOW
    )
    assert not result.real_data
    assert "could not be used" in result.note
    assert "generated, not real" in result.note
    assert {info.key.exchange for info in result.datasets} == {"sample"}
    assert all(info.generated for info in result.datasets)


def test_offline_quickstart_never_asks_the_venue(settings: Settings) -> None:
    def no_venue(_: str) -> HistorySource:
        raise AssertionError("offline must not build a venue client")

    result = quickstart(settings, offline=True, source_factory=no_venue, now_ms=NOW)
    assert not result.real_data
    assert len(result.datasets) == 2  # 1m candles and funding


def test_download_stops_at_now_and_resampling_keeps_the_provenance(settings: Settings) -> None:
    now = START + 20 * DAY_MS + 90_000
    request = DownloadRequest("BTCUSDT", Timeframe.parse("1m"), START, START + 30 * DAY_MS)
    candles, funding = download(settings, _venue(hourly=False), request, now_ms=now)
    assert candles.added == 20 * 24 * 60 + 1
    assert funding.added == 61  # three a day for 20 days, and the one at day 20 00:00
    hourly = resample_dataset(
        settings, DatasetKey("bybit", "BTCUSDT", Timeframe.parse("1m")), Timeframe.parse("1h")
    )
    assert hourly.rows == 20 * 24  # the partial last hour is dropped
    assert "resample: bybit/BTCUSDT/1m" in hourly.source
    details = dataset_details(settings, hourly.key)
    assert details.gaps == []
    assert details.last_close is not None


def test_a_venue_refusal_makes_quickstart_fall_back_to_the_sample(settings: Settings) -> None:
    class Refusing(FakeSource):
        def fetch_candles(self, *args: object, **kwargs: object) -> Candles:
            raise VenueRejectedError("bybit refused the request (PermissionDenied): region")

    venue = Refusing(_venue().candles)
    result = quickstart(settings, offline=False, source_factory=lambda _: venue, now_ms=NOW)
    assert not result.real_data
    assert "region" in result.note
