"""A play in ``demo`` mode against the emulator replaying real minutes equals its backtest.

The emulator replays two days of real Binance BTCUSDT 1-minute bars, one bar per step; after
each step the test waits until the runner has taken that bar (so orders placed at a close meet
the next bar's open, as in the backtest). The live path is the real one end to end: the Bybit
adapter over HTTP and WebSocket, the preflight, warm-up from REST history, closed bars from the
kline ``confirm`` flag, orders through ``/v5/order/create``. Its orders (time, side, type,
quantity, price) and its fills must equal the backtest of the same bars exactly.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np

from tests.features.conftest import load_bars
from tests.runtime.emulated import KEY, SECRET, assert_book_matches, demo_run
from tests.runtime.test_parity import gap_free
from tradeplay.data.candles import Candles
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, Market
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel
from tradeplay.runtime.preflight import warm_up_bars

ROOT = Path(__file__).resolve().parents[2]
PLAY = ROOT / "bench" / "plays" / "ema_20_50_long_1m.yaml"
LIVE_BARS = 2 * 1_440
MINUTE = 60_000


def test_a_demo_run_against_the_emulator_equals_the_backtest(shared_data: Path) -> None:
    play = load_play(PLAY)
    warm = warm_up_bars(play)
    bars = gap_free(load_bars(shared_data / "binance_BTCUSDT_1m.parquet"), MINUTE, warm + LIVE_BARS)
    candles = Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))
    instrument = bybit_linear("BTCUSDT")
    capital = play.play.account.capital
    emulator = Emulator(
        Market.from_candles({instrument: candles}, play.play.timeframe),
        [AccountSpec(name="demo", api_key=KEY, secret=SECRET, balance=capital)],
        EmulatorOptions(start_ms=int(bars[warm - 1, 0]) + MINUTE, enforce_rate_limits=False),
    )
    with demo_run(emulator, play, LIVE_BARS, order_prefix="bt") as run:
        for _ in range(LIVE_BARS):
            run.step()
        run.finish()
        venue_orders, venue_fills = run.venue_book()

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
    assert_book_matches(venue_orders, venue_fills, backtest)
