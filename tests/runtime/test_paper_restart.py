"""A paper environment restarted on the same store: its simulated accounts start afresh, and
the new run's fills are stored beside the last run's, none taken for one already stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.emulator.conftest import wave_candles
from tests.runtime.emulated import wave_play
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.backtest import Backtest, engine_config
from tradeplay.engine.clock import BarClock
from tradeplay.features.compute import bar_matrix
from tradeplay.notify import LocalBus, OrderFilled
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel
from tradeplay.runtime.pairs import PairKey
from tradeplay.runtime.paper import PaperMarket
from tradeplay.runtime.recorder import RecordedMarket, Recorder
from tradeplay.runtime.runner import PlayRunner
from tradeplay.store import Database, default_url

WARM_UP, LIVE = 60, 180


def test_a_restarted_paper_run_stores_every_fill_of_its_fresh_account(tmp_path: Path) -> None:
    path = tmp_path / "wave.yaml"
    path.write_text(wave_play())
    play = load_play(path)
    instrument = bybit_linear("BTCUSDT")
    candles = wave_candles(WARM_UP + LIVE)
    bars = bar_matrix(candles)
    settings = Backtest(
        play=play,
        symbol="BTCUSDT",
        instrument=instrument,
        candles=candles,
        data=DataLabel("wave", generated=True),
        warm_up=WARM_UP,
    )
    database = Database.open(default_url(tmp_path / "state"))
    bus = LocalBus()
    told: list[OrderFilled] = []
    bus.subscribe(told.append, OrderFilled)
    key = PairKey("paper", "wave")
    taken = []
    try:
        for run in ("a1b2", "c3d4"):  # the same bars, as a restart replaying them would see
            start = int(bars[0, 0])
            market = PaperMarket.for_play(play, instrument, start_ms=start, run=run)
            recorder = Recorder(key, database, bus, BarClock(start))
            recorded = RecordedMarket(market, recorder)
            config = replace(engine_config(settings), order_prefix=f"w{run}")
            runner = PlayRunner(play, recorded, config, start_ms=start)
            runner.warm(bars[:WARM_UP])
            runner.run(bars[WARM_UP:])
            taken.append(market.simulator.fills())
            ids = [o.client_order_id for o in market.simulator.orders()]  # records build
            assert all(f.trade_id.startswith(f"BTCUSDT-{run}_sim-t") for f in taken[-1])
            assert ids  # the records of its orders build
        first, second = taken
        assert len(first) >= 4, "the wave must trade for the test to mean anything"
        assert [f.qty for f in second] == [f.qty for f in first]  # the same trades again
        stored = database.fills.since("paper", datetime(2000, 1, 1, tzinfo=UTC))
        assert sorted(f.trade_id for f in stored) == sorted(f.trade_id for f in [*first, *second])
        assert len(told) == len(first) + len(second)
        assert not [o for o in database.orders.all("paper") if o.is_open and o.filled_qty]
    finally:
        database.close()
