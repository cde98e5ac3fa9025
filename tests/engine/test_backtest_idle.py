"""Bars the engine did not run on (a live pair paused, or not yet reconciled) replayed: the
exchange works through them, the engine acts on none of their signals, and a holding time that
ends on one is acted on at the next bar the engine runs on — as the live runner does."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from tests.engine.test_engine import _bars
from tradeplay.data.candles import Candles
from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order
from tradeplay.domain.values import ms_from_utc
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import compile_play
from tradeplay.reports.model import DataLabel
from tradeplay.sim.book import Origin

HOUR = 3_600_000
PLAY = """\
schema_version: 1
symbol: BTCUSDT
timeframe: 1h
long:
  entry: close > 40005
  exit: close < 0
max_holding: 3
"""
# The entry rule fires on bars 0 and 20 only: the exit of a trade is the holding time's.
BARS = _bars([40_010.0 if i in {0, 20} else 40_000.0 for i in range(30)])


def _backtest(idle: np.ndarray | None) -> Backtest:
    return Backtest(
        play=compile_play(PLAY, "idle.yaml"),
        symbol="BTCUSDT",
        instrument=bybit_linear("BTCUSDT"),
        candles=Candles(BARS[:, 0].astype(np.int64), *(BARS[:, c] for c in range(1, 6))),
        data=DataLabel("test bars", generated=True),
        funding_rate=Decimal(0),
        idle=idle,
    )


def _sent_at_bars(idle: np.ndarray | None) -> list[int]:
    """The bar at whose close each of the engine's orders was sent."""
    orders: list[Order] = [
        o
        for o in run_backtest(_backtest(idle)).orders
        if Origin.of(o.client_order_id) is Origin.USER
    ]
    return sorted((ms_from_utc(o.created_at) - HOUR - int(BARS[0, 0])) // HOUR for o in orders)


def _idle(*spans: range) -> np.ndarray:
    idle = np.zeros(len(BARS), dtype=np.bool_)
    for span in spans:
        idle[span.start : span.stop] = True
    return idle


def test_no_order_is_sent_on_an_idle_bar() -> None:
    assert _sent_at_bars(None)[0] == 0
    assert _sent_at_bars(_idle(range(1)))[0] == 20  # the signal of bar 0 was let pass


def test_a_holding_time_ending_on_an_idle_bar_is_acted_on_at_the_next_bar_run() -> None:
    entry, exit_, *_ = _sent_at_bars(None)  # entry at bar 0, filled at bar 1's open
    assert (entry, exit_) == (0, 4)  # three bars held from the fill
    # Idle from before the exit's bar to some bars after: the exit waits for the engine.
    resumed = exit_ + 4
    entry_idle, exit_idle, *_ = _sent_at_bars(_idle(range(exit_ - 1, resumed)))
    assert (entry_idle, exit_idle) == (entry, resumed)


def test_an_idle_mask_of_another_length_is_refused() -> None:
    with pytest.raises(InputError, match="one flag per bar"):
        _backtest(np.zeros(3, dtype=np.bool_))
