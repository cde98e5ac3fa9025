"""The HTML report: one self-contained file, every section, the GENERATED banner, downsampling."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from tests.reports.builders import ramp_bars, run, trade
from tradeplay.domain.timeframe import Timeframe
from tradeplay.reports import charts
from tradeplay.reports.html import GENERATED_BANNER, SECTION_TITLES, render_html
from tradeplay.reports.metrics import compute_metrics
from tradeplay.reports.model import RunResult
from tradeplay.reports.report import write_report


def _traded(*, generated: bool = False, bars: int = 48) -> RunResult:
    rng = np.random.default_rng(5)
    equity = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    trades = [
        trade("3", mae="0.5", mfe="4", opened=timedelta(hours=2)),
        trade("-2", side="short", mae="2", mfe="1", opened=timedelta(hours=10)),
    ]
    ema = ramp_bars(bars, Timeframe.parse("1h")).close * 0.99
    return run(equity, trades=trades, generated=generated, overlays={"ema_20": ema})


def _html(result: RunResult) -> str:
    return render_html(result, compute_metrics(result), "f" * 64)


@pytest.fixture(scope="module")
def page() -> str:
    return _html(_traded())


def test_the_page_loads_nothing_from_the_network(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # no external script at all
    assert not re.search(r"<link[^>]*href\s*=\s*[\"']?https?://", page, re.I)
    assert not re.search(r"src\s*=\s*[\"']https?://", page, re.I)


def test_the_page_embeds_plotly_js_once(page: str) -> None:
    library = get_plotlyjs()
    assert library[:2000] in page
    assert library[-2000:] in page
    assert page.count(library[:2000]) == 1


def test_the_page_has_every_section(page: str) -> None:
    for title in SECTION_TITLES:
        assert f"<h2>{title.replace('/', '/')}</h2>" in page, title
    for chart_id in (
        "chart-price",
        "chart-equity",
        "chart-monthly",
        "chart-pnl",
        "chart-excursions",
    ):
        assert f'id="{chart_id}"' in page, chart_id
    assert "ema_20" in page  # the indicator overlay is drawn
    assert "Sharpe ratio" in page  # the metrics table
    assert "&quot;fast&quot;: 12" in page  # the configuration, escaped
    assert "f" * 64 in page  # the fingerprint


def test_real_data_shows_its_label_and_no_banner(page: str) -> None:
    assert "real data — download: bybit" in page
    assert GENERATED_BANNER not in page


def test_generated_data_gets_a_banner_title_and_watermark() -> None:
    page = _html(_traded(generated=True))
    assert f'<div class="banner" id="generated-banner">{GENERATED_BANNER}</div>' in page
    assert page.index("generated-banner") < page.index("<h2>")  # at the top
    assert "<title>[GENERATED DATA]" in page
    assert page.count('"text":"GENERATED DATA"') == 5  # on every chart


def test_a_run_without_trades_renders_every_section_and_says_so(tmp_path: Path) -> None:
    files = write_report(run([100.0] * 30), tmp_path)
    page = files.html.read_text(encoding="utf-8")
    for title in SECTION_TITLES:
        assert f"<h2>{title}</h2>" in page, title
    assert page.count("No trades in this run") == 2  # PnL histogram and MAE / MFE
    assert "n/a" in page


def test_a_run_without_bars_still_renders() -> None:
    assert "<h2>Price and trades</h2>" in _html(run([]))


def test_user_text_is_escaped() -> None:
    result = run([100.0, 101.0], config={"note": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in _html(result)


# ------------------------------------------------------------------ downsampling


def test_short_runs_are_drawn_bar_for_bar() -> None:
    buckets = charts.buckets_for(np.arange(100, dtype=np.int64) * 60_000, Timeframe.parse("1m"))
    assert buckets.factor == 1
    assert len(buckets.starts) == 100
    assert buckets.note(Timeframe.parse("1m"), 100) == ""


def test_long_runs_are_downsampled_keeping_open_high_low_close() -> None:
    minute = Timeframe.parse("1m")
    bars = ramp_bars(50_000, minute)
    buckets = charts.buckets_for(bars.ts, minute)
    assert (buckets.factor, str(buckets.timeframe)) == (3, "3m")
    assert len(buckets.starts) <= charts.MAX_CHART_POINTS
    drawn = charts.price_figure(run(np.full(50_000, 100.0)), buckets).data[0]
    highs, lows = np.asarray(drawn.high), np.asarray(drawn.low)
    assert highs.max() == bars.high.max()
    assert lows.min() == bars.low.min()
    assert drawn.open[0] == bars.open[0]
    assert drawn.close[-1] == bars.close[-1]
    # every candle spans exactly the bars of its epoch-aligned bucket
    first = buckets.starts[1]
    assert highs[1] == bars.high[first : first + 3].max()
    assert bool((bars.ts[buckets.starts[1:]] % (3 * 60_000) == 0).all())  # epoch-aligned


def test_the_price_chart_title_states_the_downsampling() -> None:
    page = _html(run(np.full(30_000, 100.0), timeframe="1m"))
    assert "downsampled for display: 1 candle = 2 × 1m = 2m" in page
    assert "30,000 bars → 15,000 candles" in page


def test_a_million_bar_report_stays_small(tmp_path: Path) -> None:
    """About 8 MB: plotly.js (~5 MB) plus ≤ 20,000 candles and equity points."""
    rng = np.random.default_rng(9)
    equity = 1000.0 * np.exp(np.cumsum(rng.normal(0, 0.0005, 1_000_000)))
    result = run(equity, timeframe="1m", capital="1000", overlays={"ema": equity * 0.99})
    page = _html(result)
    assert len(page.encode()) < 15_000_000
    assert re.search(r"1 candle = 5\d × 1m = 5\dm, .*1,000,000 bars → 1\d,\d{3} candles", page)
