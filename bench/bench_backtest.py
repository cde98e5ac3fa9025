"""Benchmark of the backtester: a million 1-minute bars, from data in memory to trades and equity.

Run from the repository root::

    .venv/bin/python bench/bench_backtest.py [--rows 1000000] [--repeat 3]

Workloads (the issue's independent check, on 1-minute bars): EMA(20)/EMA(50) long-only cross
with next-open market fills, 0.055 % taker fee and 95 % of equity per entry; the same with a 2 %
stop-loss / 4 % take-profit bracket. Data: the generated sample market (a realistic random walk
with volatility clustering; deterministic, no network). Timed: ``run_backtest`` — features,
signals, engine, simulated exchange, trade list and equity curve — not report writing. The first
run's compile (or cache load) time and the peak memory are reported, and the machine's load
average before and after (timings on a shared machine are only comparable at a similar load).
Exit 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

from tradeplay.data.sample import generate_sample_market
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.backtest import Backtest, heap_set_aside, run_backtest
from tradeplay.logs import configure_logging
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel
from tradeplay.settings import LogFormat

PLAYS = Path(__file__).resolve().parent / "plays"
TARGETS = {"ema_20_50_long_1m": 1.0, "ema_20_50_bracket_1m": 1.2}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    configure_logging("warning", LogFormat.console)
    market = generate_sample_market(seed=11, minutes=args.rows)
    print(f"backtest benchmark: {len(market.candles):,} generated 1-minute bars")
    print(f"load average before {_load()}")
    ok = True
    for name, target in TARGETS.items():
        backtest = Backtest(
            play=load_play(PLAYS / f"{name}.yaml"),
            symbol="BTCUSDT",
            instrument=bybit_linear("BTCUSDT"),
            candles=market.candles,
            data=DataLabel(market.label, generated=True),
            funding_rate=Decimal(0),
            # Fees drain any account over ~20,000 round trips; a large one keeps every entry
            # above the instrument's minimum so the whole workload is measured.
            capital=Decimal(10) ** 12,
        )
        started = time.perf_counter()
        # As ``tradeplay backtest`` runs it: the heap from before the run set aside.
        with heap_set_aside():
            first = run_backtest(backtest)
        first_s = time.perf_counter() - started
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with heap_set_aside():
                run_backtest(backtest)
            times.append(time.perf_counter() - started)
        best, mean = min(times), sum(times) / len(times)
        verdict = "PASS" if mean < target else "MISS"
        ok &= mean < target
        print(
            f"{name:<24} trades {len(first.trades):>6,}  fills {len(first.fills):>6,}  "
            f"first run {first_s:6.2f} s  best {best:6.2f} s  mean {mean:6.2f} s  "
            f"target < {target} s  {verdict}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:,.0f} MB (target < 1,024 MB)")
    print(f"load average after {_load()} on {os.cpu_count()} cores")
    return 0 if ok and peak_mb < 1024 else 1


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine slows every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
