"""How many play-environment pairs one process sustains, bars arriving every second (not pytest).

    .venv/bin/python bench/bench_runtime.py                 # 13 environments, 104 pairs, 120 s
    .venv/bin/python bench/bench_runtime.py --seconds 300 --demo 6 --paper 4 --shadow 3

One deployment runs in this process, as ``tradeplay up`` runs it (the supervisor, one venue
session per environment, a worker thread per pair, the store on SQLite, the event bus), against
the local emulator in a process of its own replaying the generated sample market of every
built-in symbol at one 1-minute bar per second (``--speed x60``). Each environment trades each
symbol with a fast EMA-cross play with a stop, so orders are frequent: demo environments on
accounts of their own at the emulator, paper and shadow environments on the emulator's public
data with local fills.

Measured, per environment and bar: from the moment the **first** closed-bar message of that
bar reached the environment (any symbol of its source) to the first order each pair then
hands its exchange port — on its way to the emulator for demo, to the local simulated exchange
for paper and shadow, and in every case after it is durable in the store. As in the live-path
bench, a multi-step instruction's later orders wait for the earlier ones' answers by design
and the venue's own follow-ups (an entry's protection, after its fill) are not counted. Timing
every pair from the first message of the bar makes the figure an upper bound: the pair whose
own bar came last is charged for the wait. Figures: median and 99th percentile (target: p99
under 50 ms for 100 pairs), bars taken per pair against bars replayed (a pair that falls
behind shows here), and the runtime's memory per pair (resident memory after the run minus
before the deployment started, divided by the pairs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear_symbols
from tradeplay.logs import configure_logging
from tradeplay.notify import LocalBus
from tradeplay.ports import Exchange
from tradeplay.runtime.deployment import load_deployment
from tradeplay.runtime.forwarding import ForwardingExchange
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.runner import BarStep, Market
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock, settle_heap
from tradeplay.settings import LogFormat
from tradeplay.store import Database, default_url

P99_TARGET_MS = 50.0
PAIRS_TARGET = 100
NEW_TICK_NS = 300_000_000
"""Bar messages more than this apart belong to different bars (they come once a second)."""
PLAY = """\
schema_version: 1
name: fast ema {symbol}
symbol: {symbol}
timeframe: 1m
features: {{fast: {{kind: ema, period: 3}}, slow: {{kind: ema, period: 8}}}}
long: {{entry: "crosses_above(fast, slow)", exit: "crosses_below(fast, slow)"}}
short: {{entry: "crosses_below(fast, slow)", exit: "crosses_above(fast, slow)"}}
sizing: {{method: percent_equity, percent: 5}}
stop_loss: {{method: percent, percent: 2}}
account: {{capital: 10000, leverage: 1, margin_mode: isolated}}
"""


class Ticks:
    """One environment's bars and orders: each pair's first order after a bar, timed from that
    bar's first message (as the live-latency bench, a second order of a multi-step instruction
    waits for the first one's answer by design)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tick_ns: int | None = None
        self._timed: set[str] = set()
        self.latencies_ms: list[float] = []

    def __call__(self, event: str, ns: int, pair: str = "") -> None:
        with self._lock:
            if event == "bar":
                if self._tick_ns is None or ns - self._tick_ns > NEW_TICK_NS:
                    self._tick_ns = ns
                    self._timed.clear()
            elif event == "submitted" and self._tick_ns is not None and pair not in self._timed:
                self._timed.add(pair)
                self.latencies_ms.append((ns - self._tick_ns) / 1e6)


class TimedExchange(ForwardingExchange):
    """A pair's exchange port: tells its environment's :class:`Ticks` when the engine hands it
    an order (then it goes to the venue's loop, or to the local simulated exchange). Orders the
    venue layer places by itself — an entry's protection, after its fill — are not counted."""

    def __init__(self, inner: Exchange, ticks: Ticks, pair: str) -> None:
        super().__init__(inner)
        self._ticks = ticks
        self._pair = pair

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        self._ticks("submitted", time.perf_counter_ns(), self._pair)
        return super().submit(order)


class TimedMarket:
    def __init__(self, inner: Market, ticks: Ticks, pair: str) -> None:
        self._inner = inner
        self._exchange = TimedExchange(inner.exchange, ticks, pair)

    @property
    def exchange(self) -> Exchange:
        return self._exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        return self._inner.on_bar(row)


def deployment_text(url: str, demo: int, paper: int, shadow: int) -> tuple[str, dict[str, str]]:
    symbols = bybit_linear_symbols()
    environments, environ = [], {}
    for i in range(demo):
        environ[f"K{i}"], environ[f"S{i}"] = f"bench-key-{i}", f"bench-secret-{i}"
        environments.append(
            f'  demo{i}: {{kind: demo, api_key: "${{K{i}}}", api_secret: "${{S{i}}}", '
            f'emulator: "{url}", capital: 100000}}'
        )
    environments += [
        f'  {kind}{i}: {{kind: {kind}, emulator: "{url}", capital: 100000}}'
        for kind, count in (("paper", paper), ("shadow", shadow))
        for i in range(count)
    ]
    plays = [
        f"  - {{play: {s.lower()}.yaml, name: {s.lower()}, environments: all}}" for s in symbols
    ]
    text = "\n".join(
        ["schema_version: 1", "name: bench", "environments:", *environments, "plays:", *plays]
    )
    return text + "\n", environ


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_emulator(home: str, accounts: int) -> tuple[subprocess.Popen[str], str]:
    command = [str(Path(sys.executable).with_name("tradeplay")), "emulator", "--sample"]
    command += ["--sample-days", "5", "--speed", "x60", "--port", "0"]
    for symbol in bybit_linear_symbols():
        command += ["--symbol", symbol]
    for i in range(accounts):
        command += ["--account", f"demo{i}:bench-key-{i}:bench-secret-{i}:100000"]
    env = {**os.environ, "TRADEPLAY_DATA_HOME": home, "COLUMNS": "200"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("REST"):
            return server, line.split()[1]
    raise SystemExit("the emulator did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to run")
    parser.add_argument("--demo", type=int, default=5, help="demo environments (own accounts)")
    parser.add_argument("--paper", type=int, default=4, help="paper environments")
    parser.add_argument("--shadow", type=int, default=4, help="shadow environments")
    args = parser.parse_args()
    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "ERROR"), LogFormat.auto)
    with tempfile.TemporaryDirectory() as home:
        server, url = start_emulator(home, args.demo)
        try:
            text, environ = deployment_text(url, args.demo, args.paper, args.shadow)
            folder = Path(home)
            for symbol in bybit_linear_symbols():
                (folder / f"{symbol.lower()}.yaml").write_text(PLAY.format(symbol=symbol))
            (folder / "bench.yaml").write_text(text)
            deployment = load_deployment(folder / "bench.yaml", environ)
            ticks = {name: Ticks() for name in deployment.model.environments}
            steps: Counter[str] = Counter()
            lock = threading.Lock()

            def decorate(pair: Pair, market: Market) -> Market:
                return TimedMarket(market, ticks[pair.key.environment], str(pair.key))

            def on_step(pair: Pair, step: BarStep) -> None:
                with lock:
                    steps[str(pair.key)] += 1

            database = Database.open(default_url(folder / "state"))
            options = SupervisorOptions(environ=environ, decorate_market=decorate, on_step=on_step)
            before = resident_mb()
            started = time.monotonic()
            supervisor = Supervisor(deployment, database, LocalBus(), SystemClock(), options)
            supervisor.start()
            settle_heap()  # as tradeplay up's Supervisor.run does once started
            for name, connection in supervisor.connections.items():
                connection.session.venue.probe = ticks[name]
            print(
                f"{len(supervisor.workers)} pairs in {len(supervisor.connections)} environments "
                f"started in {time.monotonic() - started:.1f} s; running {args.seconds:g} s"
            )
            cpu = time.process_time()
            time.sleep(args.seconds)
            cpu = time.process_time() - cpu
            after = resident_mb()
            pairs = len(supervisor.workers)
            supervisor.stop("benchmark over")
            database.close()
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"  CPU: {cpu:.1f} s in {args.seconds:g} s of running ({cpu / args.seconds:.0%} of a core)"
    )
    return report(ticks, steps, pairs, args.seconds, after - before)


def report(
    ticks: dict[str, Ticks], steps: Counter[str], pairs: int, seconds: float, memory_mb: float
) -> int:
    latencies = [ms for t in ticks.values() for ms in t.latencies_ms]
    taken = sorted(steps.values())
    print(f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, about {seconds:g} bars replayed per pair")
    print(
        f"  bars taken per pair: least {taken[0] if taken else 0}, most {taken[-1] if taken else 0}"
    )
    print(
        f"  memory: {memory_mb:.0f} MB for {pairs} pairs, {memory_mb / max(pairs, 1):.2f} MB/pair"
    )
    if not latencies:
        print("  no orders: nothing measured")
        return 1
    for kind in ("demo", "paper", "shadow"):
        of_kind = [
            ms for name, t in ticks.items() if name.startswith(kind) for ms in t.latencies_ms
        ]
        if of_kind:
            low, high = np.percentile(of_kind, [50, 99])
            print(
                f"    {kind:<7} {len(of_kind):>6} orders, median {low:7.2f} ms, p99 {high:7.2f} ms"
            )
    median, p99 = np.percentile(latencies, [50, 99])
    ok = p99 < P99_TARGET_MS and pairs >= PAIRS_TARGET
    print(
        f"  bar → order: {len(latencies)} orders, median {median:.2f} ms, p99 {p99:.2f} ms "
        f"(target p99 < {P99_TARGET_MS:g} ms with ≥ {PAIRS_TARGET} pairs) "
        + ("ok" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
