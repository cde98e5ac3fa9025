"""Benchmark of features: every example play's features over a million bars, and streaming.

Run from the repository root::

    .venv/bin/python bench/bench_features.py [--rows 1000000] [--repeat 5]

Uses the generated sample market (deterministic, no network): ``rows`` one-minute bars. Each play
computes its features over that many bars of its own trading timeframe (the bars are re-stamped
at the play's timeframe, so its larger timeframes are aggregated from them exactly as in a
backtest). Kernels are compiled (or loaded from the on-disk cache) before the clock starts; the
first-run compile time is reported separately. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.sample import generate_sample_market
from tradeplay.features import Feature, bar_matrix
from tradeplay.play import load_play
from tradeplay.play.runner import PlaySignals

PLAYS = Path(__file__).resolve().parent.parent / "plays"
STREAM_BARS = 20_000


def _best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times), sum(times) / len(times)


def _restamped(bars: NDArray[np.float64], step_ms: int) -> NDArray[np.float64]:
    copy = bars.copy()
    copy[:, 0] = copy[0, 0] + step_ms * np.arange(len(copy), dtype=np.float64)
    return copy


def _row(name: str, best: float, mean: float, target: float | None, unit: str = "ms") -> bool:
    scale = 1e3 if unit == "ms" else 1e6
    verdict = "" if target is None else ("PASS" if mean < target else "MISS")
    limit = "" if target is None else f"< {target * scale:g} {unit}"
    print(
        f"{name:<52} {best * scale:9.2f} {unit} {mean * scale:9.2f} {unit} {limit:>10}  {verdict}"
    )
    return target is None or mean < target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    bars = bar_matrix(generate_sample_market(seed=7, minutes=args.rows).candles)
    print(f"features benchmark: {len(bars):,} bars of the generated sample market")
    print(f"{'operation':<52} {'best':>12} {'mean':>12} {'target':>10}")
    ok = True

    ema = Feature.of("ema", {"period": 20})
    started = time.perf_counter()
    ema.batch(bars[:100])
    compile_s = time.perf_counter() - started
    ok &= _row("single EMA(20), batch", *_best(lambda: ema.batch(bars), args.repeat), 0.010)

    for path in sorted(PLAYS.glob("*.yaml")):
        play = PlaySignals(load_play(path))
        own = _restamped(bars, play.compiled.play.timeframe.ms)
        started = time.perf_counter()
        play.frame.batch(own[:1_000])  # compile or load every kernel first
        compile_s += time.perf_counter() - started
        label = f"{path.stem}: all features, batch"
        ok &= _row(label, *_best(lambda p=play, b=own: p.frame.batch(b), args.repeat), 0.5)
        _row(
            f"{path.stem}: features + signals, batch",
            *_best(lambda p=play, b=own: p.batch(b), 1),
            None,
        )

    for path, target in ((PLAYS / "ema_cross.yaml", 50e-6), (PLAYS / "smc_structure.yaml", None)):
        play = PlaySignals(load_play(path))
        own = _restamped(bars[:STREAM_BARS], play.compiled.play.timeframe.ms)
        frame = play.frame.stream()
        frame.step(own[0])
        started = time.perf_counter()
        for bar in own[1:]:
            frame.step(bar)
        per_bar = (time.perf_counter() - started) / (len(own) - 1)
        ok &= _row(f"{path.stem}: features streamed, per bar", per_bar, per_bar, target, "µs")
        signals = play.stream()
        started = time.perf_counter()
        for bar in own:
            signals.step(bar)
        per_bar = (time.perf_counter() - started) / len(own)
        _row(f"{path.stem}: features + signals streamed, per bar", per_bar, per_bar, None, "µs")

    print(f"compile or cache load before timing: {compile_s:.2f} s (first run compiles)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
