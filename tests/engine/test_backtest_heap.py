"""A backtest command sets the process's heap aside from the garbage collector while it runs,
and only then: afterwards the collector sees everything again, a heap the process froze itself
(a running deployment) stays frozen, and ``run_backtest`` alone freezes nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tradeplay.data.resample import resample
from tradeplay.data.sample import generate_sample_market
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.engine.backtest import Backtest, heap_set_aside, run_backtest
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel

PLAY = Path(__file__).resolve().parents[2] / "plays" / "ema_cross.yaml"


@pytest.fixture
def backtest() -> Backtest:
    market = generate_sample_market(seed=5, minutes=60 * 300)
    play = load_play(PLAY)
    return Backtest(
        play=play,
        symbol="BTCUSDT",
        instrument=bybit_linear("BTCUSDT"),
        candles=resample(market.candles, Timeframe.parse("1m"), play.play.timeframe),
        data=DataLabel(market.label, generated=True),
        capital=Decimal(10_000),
    )


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("thawed")
def test_the_heap_is_frozen_during_a_backtest_command_and_thawed_after(
    backtest: Backtest,
) -> None:
    seen: list[int] = []
    with heap_set_aside():
        run_backtest(backtest, progress=lambda done, total: seen.append(gc.get_freeze_count()))
    assert seen
    assert min(seen) > 0  # what existed before the run was set aside throughout
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("thawed")
def test_the_heap_is_set_aside_only_inside() -> None:
    assert gc.get_freeze_count() == 0
    with heap_set_aside():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("thawed")
def test_a_heap_the_process_froze_itself_stays_frozen(backtest: Backtest) -> None:
    gc.freeze()
    assert gc.get_freeze_count() > 0
    with heap_set_aside():
        run_backtest(backtest)
    assert gc.get_freeze_count() > 0  # not thawed (a dropped frozen object leaves the count)
    seen: list[int] = []
    gc.unfreeze()
    run_backtest(backtest, progress=lambda done, total: seen.append(gc.get_freeze_count()))
    assert set(seen) == {0}  # run_backtest alone freezes nothing
