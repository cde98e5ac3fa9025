"""A play in ``demo`` mode against the emulator replaying real minutes equals its backtest.

The emulator replays two days of real Binance BTCUSDT 1-minute bars, one bar per step; after
each step the test waits until the runner has taken that bar (so orders placed at a close meet
the next bar's open, as in the backtest). The live path is the real one end to end: the Bybit
adapter over HTTP and WebSocket, the preflight, warm-up from REST history, closed bars from the
kline ``confirm`` flag, orders through ``/v5/order/create``. Its orders (time, side, type,
quantity, price) and its fills must equal the backtest of the same bars exactly.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import numpy as np

from tests.features.conftest import load_bars
from tests.runtime.emulated import wait_for_topics
from tests.runtime.test_parity import gap_free
from tradeplay.data.candles import Candles
from tradeplay.domain.fill import Fill
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel
from tradeplay.runtime.live import LiveRun, RunEnvironment, RunOutcome, run_play_live
from tradeplay.runtime.preflight import warm_up_bars
from tradeplay.runtime.runner import BarStep
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.config import BybitCredentials

ROOT = Path(__file__).resolve().parents[2]
PLAY = ROOT / "bench" / "plays" / "ema_20_50_long_1m.yaml"
LIVE_BARS = 2 * 1_440
MINUTE = 60_000
TOPICS = {"kline.1.BTCUSDT", "order", "execution", "position", "wallet"}


def test_a_demo_run_against_the_emulator_equals_the_backtest(shared_data: Path) -> None:
    play = load_play(PLAY)
    warm = warm_up_bars(play)
    bars = gap_free(load_bars(shared_data / "binance_BTCUSDT_1m.parquet"), MINUTE, warm + LIVE_BARS)
    candles = Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))
    instrument = bybit_linear("BTCUSDT")
    capital = play.play.account.capital
    emulator = Emulator(
        Market.from_candles({instrument: candles}, play.play.timeframe),
        [AccountSpec(name="demo", api_key="demo-key", secret="demo-secret", balance=capital)],
        EmulatorOptions(start_ms=int(bars[warm - 1, 0]) + MINUTE, enforce_rate_limits=False),
    )
    taken = threading.Semaphore(0)

    def on_step(step: BarStep) -> None:
        taken.release()

    with EmulatorThread(emulator) as handle:
        outcome: list[RunOutcome] = []
        run = LiveRun(
            play=play,
            environment=RunEnvironment.DEMO,
            symbol="BTCUSDT",
            emulator_url=handle.url,
            credentials=BybitCredentials("demo-key", "demo-secret"),
            order_prefix="bt",
            max_bars=LIVE_BARS,
        )
        live = threading.Thread(
            target=lambda: outcome.append(run_play_live(run, on_step=on_step)), daemon=True
        )
        live.start()
        wait_for_topics(handle, TOPICS)
        for _ in range(LIVE_BARS):
            assert handle.step() == 1
            assert taken.acquire(timeout=30), "the runner did not take the bar"
        live.join(timeout=60)
        sim = handle.call(lambda: emulator.venue.books["demo-key"].slots["BTCUSDT"].sim)
        venue_orders, venue_fills = handle.call(lambda: (sim.orders(), sim.fills()))

    assert outcome, "the live run ended without an outcome"
    assert outcome[0].preflight.passed, outcome[0].preflight.checks
    backtest = run_backtest(
        Backtest(
            play=play,
            symbol="BTCUSDT",
            instrument=instrument,
            candles=candles,
            data=DataLabel("binance BTCUSDT 1m", generated=False),
            funding_rate=Decimal("0.0001"),
            warm_up=warm,
        )
    )
    assert len(backtest.orders) > 10
    assert [order_fields(o) for o in venue_orders] == [order_fields(o) for o in backtest.orders]
    expected = [f for f in backtest.fills if Origin.of(f.client_order_id) is not Origin.END_OF_DATA]
    assert [fill_fields(f) for f in venue_fills] == [fill_fields(f) for f in expected]


def order_fields(order: Order) -> tuple[object, ...]:
    return (order.created_at, order.side, order.order_type, order.qty, order.price, order.status)


def fill_fields(fill: Fill) -> tuple[object, ...]:
    return (fill.time, fill.side, fill.qty, fill.price, fill.fee)
