"""What a paper pair of a running deployment keeps in memory as it trades, per order.

Run from the repository root::

    .venv/bin/python bench/bench_memory.py [--bars 300000] [--from-bar 100000] [--ids-kept N]

A deployment runs for months: whatever a pair keeps per order must be bounded. The EMA 20/50
cross of the backtest bench trades a paper account bar by bar (the runner, the engine, the
simulated account: what a deployment's paper pair runs) over the generated sample market, once
as a deployment builds it (the engine keeps a window of its decisions, the account keeps no
record: its orders and fills are stored as they happen) and once keeping everything, as a
backtest does. Memory held (``tracemalloc``, after a collection) is read at ``--from-bar`` and
at the end; the figure is the growth per order in between. Until a pair's windows are full
(1,000 decisions, order timings and would-be actions; 10,000 order ids) it still grows by what
they take in. Reported only, no target.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.sample import generate_sample_market
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.engine import EngineConfig
from tradeplay.engine.risk import RiskLimits
from tradeplay.features.compute import bar_matrix
from tradeplay.logs import configure_logging
from tradeplay.play import load_play
from tradeplay.runtime.paper import PaperMarket
from tradeplay.runtime.runner import DECISIONS_KEPT, PlayRunner
from tradeplay.settings import LogFormat
from tradeplay.sim import book

PLAY = Path(__file__).resolve().parent / "plays" / "ema_20_50_long_1m.yaml"
WARM_UP = 100


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, default=300_000)
    parser.add_argument("--from-bar", type=int, default=100_000)
    parser.add_argument(
        "--ids-kept",
        type=int,
        default=book.IDS_KEPT,
        help="the order-id window (the runtime's by default); a smaller one fills within the run",
    )
    args = parser.parse_args(argv)
    if not 0 < args.from_bar < args.bars:
        parser.error(f"--from-bar {args.from_bar} must lie inside the {args.bars:,} bars")
    book.IDS_KEPT = args.ids_kept  # read by every order book at each order
    configure_logging("warning", LogFormat.console)
    bars = bar_matrix(generate_sample_market(seed=11, minutes=args.bars + WARM_UP).candles)
    print(f"memory benchmark: a paper pair over {args.bars:,} generated 1-minute bars")
    for lean in (True, False):
        orders, first, last = _run(bars, lean=lean, from_bar=args.from_bar)
        since, grown = orders[1] - orders[0], last - first
        what = "as a deployment runs it" if lean else "keeping everything"
        print(
            f"  {what}: {since:,} orders from bar {args.from_bar:,} to the end, memory held "
            f"grew {grown / 1e6:.2f} MB: {grown / max(1, since):,.0f} bytes per order, "
            f"{grown / (args.bars - args.from_bar):,.1f} per bar"
        )
        if lean:  # a window still filling is growth that stops once it is full
            state = "full" if orders[0] >= args.ids_kept else "still filling"
            print(
                f"    {orders[0]:,} orders sent before bar {args.from_bar:,}: the order-id "
                f"window of {args.ids_kept:,} was {state} there"
            )
    return 0


def _run(
    bars: NDArray[np.float64], *, lean: bool, from_bar: int
) -> tuple[tuple[int, int], int, int]:
    play = load_play(PLAY)
    tracemalloc.start()
    market = PaperMarket.for_play(
        play, bybit_linear("BTCUSDT"), start_ms=int(bars[0, 0]), run="b3c4d5", record=not lean
    )
    keep = DECISIONS_KEPT if lean else None
    config = EngineConfig("BTCUSDT", Decimal(1), RiskLimits(), keep_decisions=keep)
    runner = PlayRunner(play, market, config, start_ms=int(bars[0, 0]))
    runner.warm(bars[:WARM_UP])
    first = sent_then = 0
    for index, row in enumerate(bars[WARM_UP:], 1):
        runner.step(row)
        if index == from_bar:
            first, sent_then = _held(), runner.engine.execution.orders_sent
    last, sent = _held(), runner.engine.execution.orders_sent
    tracemalloc.stop()
    return (sent_then, sent), first, last


def _held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
