"""The backtest stage is judged on bars the play was not tuned on: the bars before the
out-of-sample start only warm the features up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.features.conftest import load_bars
from tradeplay.data.candles import Candles
from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.graduation import DEFAULT_CRITERIA, Stage, evaluate
from tradeplay.graduation.records import backtest_out_of_sample
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_SAMPLE = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def candles(shared_data: Path) -> Candles:
    bars = load_bars(shared_data / "binance_BTCUSDT_1h.parquet")
    bars = bars[bars[:, 0] >= datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000]
    return Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))


def test_nothing_is_traded_before_the_out_of_sample_start(candles: Candles) -> None:
    play = load_play(ROOT / "plays" / "ema_cross.yaml")
    result, record = backtest_out_of_sample(
        play,
        bybit_linear("BTCUSDT"),
        candles,
        out_of_sample_from=OUT_OF_SAMPLE,
        data=DataLabel("binance BTCUSDT 1h", generated=False),
    )
    assert result.orders, "the window must trade for the test to mean anything"
    assert min(order.created_at for order in result.orders) >= OUT_OF_SAMPLE
    assert record.stage is Stage.BACKTEST
    assert record.entered_ms == int(OUT_OF_SAMPLE.timestamp() * 1000)
    assert record.equity[0] == float(result.starting_capital)
    assert record.as_of_ms == int(result.end.timestamp() * 1000)
    assert len(record.trade_pnls) == len(result.trades)
    evaluation = evaluate(record, DEFAULT_CRITERIA[Stage.BACKTEST])
    days = (result.end - OUT_OF_SAMPLE).total_seconds() / 86_400
    assert evaluation.metrics["days"] == pytest.approx(days)


def test_a_window_without_out_of_sample_bars_is_refused_by_name(candles: Candles) -> None:
    play = load_play(ROOT / "plays" / "ema_cross.yaml")
    with pytest.raises(InputError, match=r"no out-of-sample bars from 2030-01-01 00:00 UTC on"):
        backtest_out_of_sample(
            play,
            bybit_linear("BTCUSDT"),
            candles,
            out_of_sample_from=datetime(2030, 1, 1, tzinfo=UTC),
            data=DataLabel("binance BTCUSDT 1h", generated=False),
        )
