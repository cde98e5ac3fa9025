"""Benchmark of the simulated exchange's fast path (not part of the pytest suite).

    .venv/bin/python bench/bench_advance.py            # 1,000,000 1m bars
    .venv/bin/python bench/bench_advance.py --bars 100000 --per-bar

A deterministic random walk (seed 7, no network), an EMA(10) / EMA(30) cross as the signal,
long / flat: a market buy when the fast EMA crosses above, a reduce-only market sell when it
crosses below. The loop calls ``advance`` up to each signal bar (returning early at every
fill), then ``submit``; only the time inside ``submit`` and ``advance`` is counted. The
compiled scan is loaded (or compiled) before timing; its load time is printed separately.
``--per-bar`` also runs the live path (``advance(i, i + 1)`` for every bar) and checks it gives
the same equity curve.
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import ClientOrderId, OrderType, Side, utc_from_ms
from tradeplay.sim._scan import scan
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange

TARGET_SECONDS = 0.7


def market(n: int, seed: int = 7) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    start = 1_600_000_000_000 - 1_600_000_000_000 % 60_000
    close = np.round(30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, n))), 1)
    open_ = np.concatenate([[close[0]], close[:-1]])
    wick = np.round(np.abs(rng.normal(0, 0.0006, n)) * close, 1)
    high, low = np.maximum(open_, close) + wick, np.minimum(open_, close) - wick
    ts = start + np.arange(n) * 60_000.0
    return np.column_stack([ts, open_, high, low, close, rng.uniform(50, 150, n)])


def ema(values: NDArray[np.float64], period: int) -> NDArray[np.float64]:
    alpha, out = 2 / (period + 1), np.empty_like(values)
    out[0] = values[0]
    for i in range(1, len(values)):  # plain Python: the benchmark times the exchange, not this
        out[i] = out[i - 1] + alpha * (values[i] - out[i - 1])
    return out


def run(
    bars: NDArray[np.float64], long: NDArray[np.bool_], per_bar: bool
) -> tuple[float, int, int, NDArray[np.float64]]:
    exchange = SimulatedExchange(bybit_linear("BTCUSDT"), SimConfig(starting_cash=Decimal(100_000)))
    crosses = np.flatnonzero(long[1:] != long[:-1]) + 1
    inside, done, sent, calls, curve = 0.0, 0, 0, 0, []
    for bar in [*crosses[crosses < len(bars) - 1], len(bars) - 1]:
        while done <= bar:
            stop = done + 1 if per_bar else bar + 1
            began = time.perf_counter()
            result = exchange.advance(bars, done, stop)
            inside += time.perf_counter() - began
            calls += 1
            curve.append(result.equity)
            done = result.end
        if bar == len(bars) - 1:
            break
        flat = exchange.position("BTCUSDT").is_flat
        if long[bar] == flat:  # enter when flat and long, leave when long and not
            sent += 1
            order = OrderSubmitted(
                client_order_id=ClientOrderId(f"o{sent}"),
                time=utc_from_ms(int(bars[bar, 0]) + 60_000),
                symbol="BTCUSDT",
                side=Side.BUY if flat else Side.SELL,
                order_type=OrderType.MARKET,
                qty=Decimal("0.01"),
                reduce_only=not flat,
            )
            began = time.perf_counter()
            exchange.submit(order)
            inside += time.perf_counter() - began
    exchange.ledger().check([exchange.position("BTCUSDT")])
    return inside, sent, calls, np.concatenate(curve)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--per-bar", action="store_true", help="also time the live path")
    args = parser.parse_args()
    bars = market(args.bars)
    long = ema(bars[:, 4], 10) > ema(bars[:, 4], 30)
    began = time.perf_counter()
    scan(bars, 0, 1, 0.1, np.inf, -np.inf, np.inf, 60_000.0, np.zeros(5))
    print(f"compiled scan loaded in {time.perf_counter() - began:.3f} s")
    seconds, orders, calls, curve = run(bars, long, per_bar=False)
    print(
        f"fast path: {len(bars):,} bars, {orders:,} orders ({orders // 2:,} round trips), "
        f"{calls:,} advance calls: {seconds:.3f} s inside the exchange, "
        f"{seconds / max(orders, 1) * 1e6:.1f} µs per order (target {TARGET_SECONDS} s)"
    )
    if args.per_bar:
        slow, _, _, live_curve = run(bars, long, per_bar=True)
        same = np.array_equal(curve, live_curve)
        print(f"live path (one bar per call): {slow:.3f} s; same equity curve: {same}")
    return 0 if seconds < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
