"""The live path's internal latency: closed-bar message in → order request out (not in pytest).

    .venv/bin/python bench/bench_live_latency.py              # every play in bench/plays
    .venv/bin/python bench/bench_live_latency.py --bars 600   # a quick look (about 15 orders)

A play runs in ``demo`` mode — the real live path: the Bybit adapter over HTTP and WebSocket,
the preflight, warm-up, supervised streams, the runner and the engine — against the local
emulator on loopback, replaying a wave market (a EMA-cross every half hour, no network) in lock
step. Two timestamps (``perf_counter_ns``, the adapter's latency probe) bound what is measured:

* when the WebSocket message carrying the closed bar was **received by the adapter** (before it
  is parsed), and
* when the order-create request is **handed to the transport** (signed and sent by ccxt next).

Between them: kline parsing, the bar queue to the engine's thread, features, rules, the
monitors' reads of the position and the balance, sizing, risk and the order's request
building. The reads are served from the account's private streams (``position``, ``wallet``,
``order``, ``execution``, kept in ``AccountView``); they go to REST only when the view cannot
vouch for itself (an order or a fill still on its way, a bar that reached a stop or a funding
time), which is rare on a bar that trades. Only the first order after each bar counts (a second
one waits for the first's answer). Figures: median and 99th percentile per play; exit 1 if any
p99 misses :data:`P99_TARGET_MS`. The default 4,000 bars give about a hundred orders per play,
the fewest for which a 99th percentile is more than the single slowest order.

Bars are paced (``--bar-interval-ms``, default 25 ms, forty times a second). With no REST read
per bar the account's rate limits no longer bound the pace; what does is CPU: the emulator in
its own process publishes every bar, and a faster replay only measures how the runner, the
emulator and whatever else runs on the machine share its cores (the figure is sensitive to
that: state the load with it). A live 1-minute play sees one bar a minute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradeplay.data.candles import Candles
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.logs import configure_logging
from tradeplay.play import load_play
from tradeplay.runtime.live import LiveRun, RunEnvironment, run_play_live
from tradeplay.runtime.preflight import warm_up_bars
from tradeplay.runtime.runner import BarStep
from tradeplay.settings import LogFormat
from tradeplay.venues.bybit.config import BybitCredentials

PLAYS = Path(__file__).resolve().parent / "plays"
P99_TARGET_MS = 5.0
KEY, SECRET = "bench-key", "bench-secret"
START_MS = 1_704_067_200_000
MINUTE = 60_000
DEADLINE_S = 30.0


def wave(n: int) -> Candles:
    """1m candles along a 60-minute wave of ±600 around 60,000 (tests/emulator/conftest.py)."""
    path = np.round(60_000 + 600 * np.sin(2 * np.pi * np.arange(n + 1) / 60), 1)
    opens, closes = path[:-1], path[1:]
    return Candles.from_columns(
        ts=START_MS + MINUTE * np.arange(n),
        open=opens,
        high=np.round(np.maximum(opens, closes) + 20, 1),
        low=np.round(np.minimum(opens, closes) - 20, 1),
        close=closes,
        volume=np.full(n, 25.0),
    )


class Probe:
    """Pairs each closed bar's arrival with the first order request that followed it."""

    def __init__(self) -> None:
        self._bar_ns: int | None = None
        self.latencies_ms: list[float] = []

    def __call__(self, event: str, ns: int) -> None:
        if event == "bar":
            self._bar_ns = ns
        elif event == "order_create" and self._bar_ns is not None:
            self.latencies_ms.append((ns - self._bar_ns) / 1e6)
            self._bar_ns = None


def measure(play_path: Path, bars: int, interval_s: float) -> list[float]:
    play = load_play(play_path)
    warm = warm_up_bars(play)
    emulator = Emulator(
        Market.from_candles({bybit_linear("BTCUSDT"): wave(warm + bars)}, play.play.timeframe),
        [AccountSpec(name="bench", api_key=KEY, secret=SECRET, balance=Decimal(10_000))],
        EmulatorOptions(start_ms=START_MS + warm * MINUTE, enforce_rate_limits=False),
    )
    probe = Probe()
    taken = threading.Semaphore(0)
    started = threading.Event()

    def on_step(_: BarStep) -> None:
        taken.release()

    def on_preflight(_: object) -> None:
        started.set()

    with EmulatorThread(emulator) as handle:
        run = LiveRun(
            play=play,
            environment=RunEnvironment.DEMO,
            symbol="BTCUSDT",
            emulator_url=handle.url,
            credentials=BybitCredentials(KEY, SECRET),
            max_bars=bars,
        )
        thread = threading.Thread(
            target=run_play_live,
            args=(run,),
            kwargs={"on_step": on_step, "on_preflight": on_preflight, "probe": probe},
            daemon=True,
        )
        thread.start()
        wait_until_listening(handle)
        due = time.monotonic()
        for _ in range(bars):
            handle.step()
            if not taken.acquire(timeout=DEADLINE_S):
                raise SystemExit(f"{play_path.name}: the runner did not take a bar in time")
            due += interval_s
            time.sleep(max(0.0, due - time.monotonic()))
        thread.join(DEADLINE_S)
    return probe.latencies_ms


def measure_apart(play_path: Path, bars: int, interval_s: float) -> list[float]:
    """The emulator in a process of its own (``tradeplay emulator``, the generated sample
    market at a bar every ``interval_s``), so nothing else in this process competes with the
    live path for the interpreter — as on a real deployment, where Bybit is elsewhere."""
    play = load_play(play_path)
    speed = f"x{round(play.play.timeframe.ms / 1000 / interval_s)}"
    with tempfile.TemporaryDirectory() as home:
        command = [
            str(Path(sys.executable).with_name("tradeplay")),
            "emulator",
            "--sample",
            "--sample-days",
            "7",
            "--speed",
            speed,
            "--port",
            "0",
            "--account",
            f"bench:{KEY}:{SECRET}:10000",
        ]
        env = {**os.environ, "TRADEPLAY_DATA_HOME": home, "COLUMNS": "200"}
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        try:
            url = _announced_url(server)
            probe = Probe()
            run = LiveRun(
                play=play,
                environment=RunEnvironment.DEMO,
                symbol="BTCUSDT",
                emulator_url=url,
                credentials=BybitCredentials(KEY, SECRET),
                max_bars=bars,
            )
            outcome = run_play_live(run, probe=probe)
            if not outcome.preflight.passed:
                raise SystemExit(f"{play_path.name}: preflight failed: {outcome.preflight.failure}")
            return probe.latencies_ms
        finally:
            server.terminate()
            server.wait(10)


def _announced_url(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("REST"):
            return line.split()[1]
    raise SystemExit("the emulator did not start")


def wait_until_listening(handle: EmulatorThread) -> None:
    topics = {"kline.1.BTCUSDT", "order", "execution", "position", "wallet"}
    connections = handle.emulator.streams.connections
    deadline = time.monotonic() + DEADLINE_S
    while not topics <= handle.call(lambda: {t for c in connections for t in c.topics}):
        if time.monotonic() > deadline:
            raise SystemExit("the runner never subscribed to its topics")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=4000, help="live bars per play")
    parser.add_argument(
        "--bar-interval-ms", type=float, default=25.0, help="time between two replayed bars"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the emulator in this process, stepped in lock step with the runner "
        "(deterministic wave market; the emulator then shares the interpreter)",
    )
    parser.add_argument("plays", nargs="*", type=Path, default=sorted(PLAYS.glob("*.yaml")))
    args = parser.parse_args()
    configure_logging("WARNING", LogFormat.auto)
    missed = False
    where = "in this process, lock step" if args.in_process else "in its own process"
    print(
        f"closed-bar message received → order request sent (loopback, emulator {where}, "
        f"{args.bars} bars, one every {args.bar_interval_ms:g} ms)"
    )
    for play_path in args.plays:
        interval_s = args.bar_interval_ms / 1000
        latencies = (
            measure(play_path, args.bars, interval_s)
            if args.in_process
            else measure_apart(play_path, args.bars, interval_s)
        )
        if not latencies:
            print(f"  {play_path.name:<32} no orders: nothing measured")
            missed = True
            continue
        median, p99 = np.percentile(latencies, [50, 99])
        ok = p99 < P99_TARGET_MS
        missed |= not ok
        print(
            f"  {play_path.name:<32} orders {len(latencies):>4}  median {median:6.2f} ms  "
            f"p99 {p99:6.2f} ms  (target p99 < {P99_TARGET_MS:g} ms) {'ok' if ok else 'MISSED'}"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
