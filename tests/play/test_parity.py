"""Every example play gives the same signals in backtest and live, and never looks ahead.

On real data at each play's trading timeframe: the streaming path fed bar by bar emits exactly the
batch signals (replay identity), and cutting the data at a random bar changes no column and no
signal before it (future invariance).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from tests.features.conftest import load_bars
from tradeplay.data.candles import Candles
from tradeplay.data.resample import resample
from tradeplay.domain.timeframe import Timeframe
from tradeplay.features.compute import bar_matrix
from tradeplay.play import load_play
from tradeplay.play.evaluate import RULES
from tradeplay.play.runner import PlaySignals

PLAYS = sorted((Path(__file__).resolve().parents[2] / "plays").glob("*.yaml"))
BARS = 3_000


@cache
def _bars_for(shared_data: Path, timeframe: Timeframe) -> NDArray[np.float64]:
    """Real BTCUSDT perpetual bars at ``timeframe``, resampled from the real 5-minute file."""
    five = load_bars(shared_data / "binance_BTCUSDT_5m.parquet")
    candles = Candles(five[:, 0].astype(np.int64), *(five[:, c] for c in range(1, 6)))
    return bar_matrix(resample(candles, Timeframe.parse("5m"), timeframe))[-BARS:]


def _play(path: Path, shared_data: Path) -> tuple[PlaySignals, NDArray[np.float64]]:
    play = PlaySignals(load_play(path))
    return play, _bars_for(shared_data, play.compiled.play.timeframe)


def _identical(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    return a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


@pytest.mark.parametrize("path", PLAYS, ids=lambda p: p.stem)
def test_streaming_the_play_emits_exactly_the_backtest_signals(
    path: Path, shared_data: Path
) -> None:
    play, bars = _play(path, shared_data)
    batch = play.batch(bars).signals
    stream = play.stream()
    streamed = [stream.step(bar) for bar in bars]
    for rule in RULES:
        assert [row[rule] for row in streamed] == batch[rule].tolist(), rule
    assert any(batch["long.entry"]) or any(batch["short.entry"]), "a play that never trades"


@pytest.mark.parametrize("path", PLAYS, ids=lambda p: p.stem)
@settings(max_examples=10, deadline=None)
@given(cut=st.integers(min_value=1, max_value=BARS - 1))
def test_cutting_the_data_changes_no_earlier_column_or_signal(
    path: Path, cut: int, shared_data: Path
) -> None:
    play, bars = _play(path, shared_data)
    full, short = play.batch(bars), play.batch(bars[:cut])
    for name, values in short.columns.items():
        assert _identical(values, full.columns[name][:cut]), name
    for rule in RULES:
        assert np.array_equal(short.signals[rule], full.signals[rule][:cut]), rule
