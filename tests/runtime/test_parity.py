"""Paper and shadow runs equal the backtest of the same bars: one engine, only the wiring differs.

Each example play runs over a gap-free window of real bars twice: as a backtest (the first
``WARM_UP`` bars only warm the features up) and bar by bar through a :class:`PlayRunner` on a
paper (or shadow) account that warmed up on the same bars. Signals on every bar, the orders
(every field: time, side, type, quantity, prices, status, fills) and the fills must be
identical; the backtest's end-of-data close is the only extra fill.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.features.conftest import load_bars
from tradeplay.data.candles import Candles
from tradeplay.data.resample import resample
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.engine.backtest import Backtest, engine_config, run_backtest, sim_config
from tradeplay.features.compute import bar_matrix
from tradeplay.play import load_play
from tradeplay.play.evaluate import RULES
from tradeplay.play.runner import PlaySignals
from tradeplay.reports.model import DataLabel, RunResult
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.runtime.runner import BarStep, PlayRunner
from tradeplay.sim.book import Origin

ROOT = Path(__file__).resolve().parents[2]
WARM_UP = 300
WINDOW = 2_000

# play file → (data file, its timeframe)
CASES = {
    "plays/ema_cross.yaml": ("binance_BTCUSDT_1h.parquet", "1h"),
    "plays/breakout_atr.yaml": ("binance_BTCUSDT_1h.parquet", "1h"),
    "plays/multi_timeframe.yaml": ("binance_BTCUSDT_5m.parquet", "5m"),
    "plays/rsi_mean_reversion.yaml": ("binance_ETHUSDT_5m.parquet", "5m"),
    "plays/smc_structure.yaml": ("binance_ETHUSDT_5m.parquet", "5m"),
    "bench/plays/ema_20_50_bracket_1m.yaml": ("binance_BTCUSDT_1m.parquet", "1m"),
}


def gap_free(bars: NDArray[np.float64], step_ms: int, rows: int) -> NDArray[np.float64]:
    """The last ``rows`` consecutive bars with no gap between them."""
    cuts = [0, *(np.flatnonzero(np.diff(bars[:, 0]) != step_ms) + 1).tolist(), len(bars)]
    for start, end in reversed(list(itertools.pairwise(cuts))):
        if end - start >= rows:
            return bars[end - rows : end]
    raise AssertionError(f"no {rows} consecutive bars in the data")


@dataclass(frozen=True)
class Case:
    backtest: Backtest
    bars: NDArray[np.float64]


def case(shared_data: Path, play_file: str) -> Case:
    data, source = CASES[play_file]
    play = load_play(ROOT / play_file)
    raw = load_bars(shared_data / data)
    candles = Candles(raw[:, 0].astype(np.int64), *(raw[:, c] for c in range(1, 6)))
    target = play.play.timeframe
    if Timeframe.parse(source) != target:
        candles = resample(candles, Timeframe.parse(source), target)
    bars = gap_free(bar_matrix(candles), target.ms, WINDOW)
    symbol = play.play.instruments[0]
    backtest = Backtest(
        play=play,
        symbol=symbol,
        instrument=bybit_linear(symbol),
        candles=Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6))),
        data=DataLabel(f"{data}, {WINDOW} bars", generated=False),
        funding_rate=Decimal("0.0001"),
        warm_up=WARM_UP,
    )
    return Case(backtest, bars)


def run_live(case: Case, market: PaperMarket) -> tuple[PlayRunner, list[BarStep]]:
    runner = PlayRunner(
        case.backtest.play,
        market,
        engine_config(case.backtest),
        start_ms=int(case.bars[0, 0]),
    )
    runner.warm(case.bars[:WARM_UP])
    return runner, runner.run(case.bars[WARM_UP:])


def traded_fills(result: RunResult) -> list[object]:
    return [f for f in result.fills if Origin.of(f.client_order_id) is not Origin.END_OF_DATA]


@pytest.fixture(scope="module", params=sorted(CASES))
def paired(request: pytest.FixtureRequest, shared_data: Path) -> tuple[Case, RunResult]:
    one = case(shared_data, request.param)
    return one, run_backtest(one.backtest)


def test_a_paper_run_sends_the_backtests_orders_and_gets_its_fills(
    paired: tuple[Case, RunResult],
) -> None:
    one, backtest = paired
    market = PaperMarket(one.backtest.instrument, sim_config(one.backtest, one.bars))
    _, steps = run_live(one, market)
    assert len(backtest.orders) > 0, "the window must trade for the comparison to mean anything"
    assert list(market.simulator.orders()) == list(backtest.orders)
    assert list(market.simulator.fills()) == traded_fills(backtest)
    output = PlaySignals(one.backtest.play).batch(one.bars)
    for step in steps:
        expected = {rule: bool(output.signals[rule][step.index]) for rule in RULES}
        assert step.signals == expected, f"signals differ on bar {step.index}"


def test_a_shadow_run_would_send_exactly_the_backtests_orders(
    paired: tuple[Case, RunResult],
) -> None:
    one, backtest = paired
    market = ShadowMarket(one.backtest.instrument, sim_config(one.backtest, one.bars))
    run_live(one, market)
    sent = [w.order for w in market.shadow.would_be if w.action == "submit"]
    # The backtest's record also holds the exchange's own orders (a take-profit firing), and
    # lists orders as they finished: the engine's, in the order it sent them, are these.
    own = sorted(
        (o for o in backtest.orders if Origin.of(o.client_order_id) is Origin.USER),
        key=lambda o: int(o.client_order_id.rpartition("-")[2]),
    )
    assert len(own) > 0
    assert [o.client_order_id for o in sent if o is not None] == [o.client_order_id for o in own]
    for would, order in zip(sent, own, strict=True):
        assert would is not None
        assert (would.time, would.side, would.order_type, would.qty, would.price) == (
            order.created_at,
            order.side,
            order.order_type,
            order.qty,
            order.price,
        )
