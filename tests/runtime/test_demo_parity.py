"""A play in ``demo`` mode against the emulator replaying real minutes equals its backtest.

The emulator replays three days of real Binance BTCUSDT 1-minute bars, one bar per step; after
each step the test waits until the runner has taken that bar (so orders placed at a close meet
the next bar's open, as in the backtest). The live path is the real one end to end: the Bybit
adapter over HTTP and WebSocket, the preflight, warm-up from REST history, closed bars from the
kline ``confirm`` flag, the account read from its private streams, orders through
``/v5/order/create``. Its orders (time, side, type, quantity, price) and its fills must equal
the backtest of the same bars exactly.
"""

from __future__ import annotations

from pathlib import Path

from tests.runtime.emulated import assert_book_matches, demo_run, real_minutes
from tradeplay.play import load_play

ROOT = Path(__file__).resolve().parents[2]
PLAY = ROOT / "bench" / "plays" / "ema_20_50_long_1m.yaml"
LIVE_BARS = 3 * 1_440


def test_a_demo_run_against_the_emulator_equals_the_backtest(shared_data: Path) -> None:
    play = load_play(PLAY)
    minutes = real_minutes(shared_data, play, LIVE_BARS)
    with demo_run(minutes.emulator(play), play, LIVE_BARS, order_prefix="bt") as run:
        for _ in range(LIVE_BARS):
            run.step()
        run.finish()
        venue_orders, venue_fills = run.venue_book()

    backtest = minutes.backtest(play)
    assert len(backtest.orders) > 10
    assert_book_matches(venue_orders, venue_fills, backtest)
