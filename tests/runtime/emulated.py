"""Driving a stepped emulator with a runner: in lock step (demo) or as fast as it goes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from tests.emulator.conftest import Signed
from tests.features.conftest import load_bars
from tests.runtime.test_parity import gap_free
from tradeplay.data.candles import Candles
from tradeplay.domain.fill import Fill
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play.compiler import CompiledPlay
from tradeplay.reports.model import DataLabel, RunResult
from tradeplay.runtime.deployment import Deployment, read_deployment
from tradeplay.runtime.live import LiveRun, RunEnvironment, RunOutcome, VenueTiming, run_play_live
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.preflight import warm_up_bars
from tradeplay.runtime.runner import BarStep
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.config import BybitCredentials

KEY, SECRET = "demo-key", "demo-secret"
"""The emulator account a demo run trades with."""
BARS_TOPIC = "kline.1.BTCUSDT"
TOPICS = {BARS_TOPIC, "order", "execution", "position", "wallet"}
"""What a BTCUSDT 1m demo run listens to (shadow and paper: only the bars)."""
MINUTE = 60_000


TWO_ACCOUNTS: Final = {
    "DEMO_KEY": "demo-key",
    "DEMO_SECRET": "demo-secret",
    "LIVE_KEY": "live-key",
    "LIVE_SECRET": "live-secret",
}
"""The keys of the emulator's two accounts in the deployment tests (``${DEMO_KEY}`` …)."""


def deployment_on(folder: Path, url: str, text: str, symbols: Sequence[str]) -> Deployment:
    """The deployment ``text`` read in ``folder`` against the emulator at ``url`` (its two
    accounts' keys and ``${EMULATOR}``), each symbol's wave play written as ``btc.yaml`` …"""
    for symbol in symbols:
        (folder / f"{symbol[:3].lower()}.yaml").write_text(wave_play(symbol))
    environ = {**TWO_ACCOUNTS, "EMULATOR": url}
    return read_deployment(text, folder / "deploy.yaml", environ)


def wave_play(symbol: str = "BTCUSDT") -> str:
    """The play text most runtime tests trade: a fast EMA cross (3 / 8) on 1-minute bars, long
    only, 20 % of equity, a 3 % stop: on the wave markets it trades every half hour."""
    return f"""\
schema_version: 1
name: wave {symbol}
symbol: {symbol}
timeframe: 1m
features: {{fast: {{kind: ema, period: 3}}, slow: {{kind: ema, period: 8}}}}
long: {{entry: "crosses_above(fast, slow)", exit: "crosses_below(fast, slow)"}}
sizing: {{method: percent_equity, percent: 20}}
stop_loss: {{method: percent, percent: 3}}
account: {{capital: 10000, leverage: 1, margin_mode: isolated}}
"""


@dataclass
class DemoRun:
    """A demo run on its own daemon thread and the emulator it trades on."""

    play: CompiledPlay
    handle: EmulatorThread
    emulator: Emulator
    taken: threading.Semaphore
    """Released once per bar the runner took."""
    steps: list[BarStep]
    """What each bar the runner took did (its signals …), in order."""
    outcome: list[RunOutcome]
    thread: threading.Thread
    deadline_s: float

    def step(self) -> None:
        """One bar at the emulator, then wait until the runner took it."""
        assert self.handle.step() == 1, "the emulator has no more bars"
        assert self.taken.acquire(timeout=self.deadline_s), (
            f"the runner did not take the bar within {self.deadline_s:g} s"
        )

    def replay(self, bars: int) -> None:
        """``bars`` bars at the emulator as fast as it publishes them, not waiting for the
        runner (whose closed-bar queue takes them in order), then wait until it took them all.
        For shadow and paper, whose fills do not depend on when the venue sees an order."""
        for _ in range(bars):
            assert self.handle.step() == 1, "the emulator has no more bars"
        for _ in range(bars):
            assert self.taken.acquire(timeout=self.deadline_s), (
                f"the runner did not take a bar within {self.deadline_s:g} s"
            )

    def venue_book(self) -> tuple[list[Order], list[Fill]]:
        """The orders and fills the emulator holds for the demo account."""
        sim = self.handle.call(lambda: self.emulator.venue.books[KEY].slots["BTCUSDT"].sim)
        return self.handle.call(lambda: (list(sim.orders()), list(sim.fills())))

    def finish(self) -> RunOutcome:
        self.thread.join(timeout=2 * self.deadline_s)
        assert not self.thread.is_alive(), "the runner did not stop after its last bar"
        assert self.outcome, "the live run ended without an outcome"
        assert self.outcome[0].preflight.passed, self.outcome[0].preflight.checks
        return self.outcome[0]


@contextmanager
def demo_run(
    emulator: Emulator,
    play: CompiledPlay,
    bars: int,
    *,
    order_prefix: str,
    timing: VenueTiming | None = None,
    deadline_s: float = 30.0,
) -> Iterator[DemoRun]:
    """``play`` in ``demo`` mode on BTCUSDT against ``emulator`` for ``bars`` bars, started and
    listening; the caller steps it (``deadline_s`` per bar, twice that to start and to stop)."""
    with live_run(
        emulator,
        play,
        bars,
        environment=RunEnvironment.DEMO,
        order_prefix=order_prefix,
        timing=timing,
        deadline_s=deadline_s,
    ) as run:
        yield run


@contextmanager
def live_run(
    emulator: Emulator,
    play: CompiledPlay,
    bars: int,
    *,
    environment: RunEnvironment,
    order_prefix: str,
    timing: VenueTiming | None = None,
    deadline_s: float = 30.0,
    record: bool = True,
) -> Iterator[DemoRun]:
    """``play`` in ``environment`` on BTCUSDT against ``emulator`` for ``bars`` bars (the
    real ``tradeplay run --env … --emulator URL`` path), started and listening."""
    taken = threading.Semaphore(0)
    steps: list[BarStep] = []

    def on_step(step: BarStep) -> None:
        steps.append(step)
        taken.release()

    keyed = not environment.local_fills
    with EmulatorThread(emulator) as handle:
        run = LiveRun(
            play=play,
            environment=environment,
            symbol="BTCUSDT",
            emulator_url=handle.url,
            credentials=BybitCredentials(KEY, SECRET) if keyed else None,
            order_prefix=order_prefix,
            max_bars=bars,
            timing=timing or VenueTiming(),
            record=record,  # most tests compare the paper account's record with a backtest's
        )
        outcome: list[RunOutcome] = []
        thread = threading.Thread(
            target=lambda: outcome.append(run_play_live(run, on_step=on_step)), daemon=True
        )
        thread.start()
        topics = TOPICS if keyed else {BARS_TOPIC}
        wait_for_topics(handle, topics, timeout_s=2 * deadline_s)
        yield DemoRun(play, handle, emulator, taken, steps, outcome, thread, deadline_s)


def assert_book_matches(orders: list[Order], fills: list[Fill], backtest: RunResult) -> None:
    """The venue holds the backtest's orders and fills (but the backtest's end-of-data close)."""
    assert [order_fields(o) for o in orders] == [order_fields(o) for o in backtest.orders]
    expected = [f for f in backtest.fills if Origin.of(f.client_order_id) is not Origin.END_OF_DATA]
    assert [fill_fields(f) for f in fills] == [fill_fields(f) for f in expected]


def order_fields(order: Order) -> tuple[object, ...]:
    return (order.created_at, order.side, order.order_type, order.qty, order.price, order.status)


def fill_fields(fill: Fill) -> tuple[object, ...]:
    return (fill.time, fill.side, fill.qty, fill.price, fill.fee)


def wait_for_topics(handle: EmulatorThread, topics: set[str], timeout_s: float = 60) -> None:
    """Until the runner listens to every topic: a bar stepped earlier would reach it only by
    the REST gap fill on the next bar, which a lock-step replay never sends."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if topics <= listening(handle):
            return
        time.sleep(0.05)
    raise AssertionError(f"the runner never subscribed to {sorted(topics)}")


def listening(handle: EmulatorThread) -> set[str]:
    connections = handle.emulator.streams.connections
    return handle.call(lambda: {topic for c in connections for topic in c.topics})


@dataclass(frozen=True)
class RealMinutes:
    """Consecutive real 1-minute BTCUSDT bars: the play's warm-up, then ``live`` bars."""

    bars: NDArray[np.float64]
    warm: int

    @property
    def live(self) -> int:
        return len(self.bars) - self.warm

    @property
    def candles(self) -> Candles:
        return Candles(self.bars[:, 0].astype(np.int64), *(self.bars[:, c] for c in range(1, 6)))

    def emulator(self, play: CompiledPlay) -> Emulator:
        """An emulator whose replay starts at the first live bar (the warm-up is its past),
        with the demo account funded with the play's capital."""
        capital = play.play.account.capital
        return Emulator(
            Market.from_candles({bybit_linear("BTCUSDT"): self.candles}, play.play.timeframe),
            [AccountSpec(name="demo", api_key=KEY, secret=SECRET, balance=capital)],
            EmulatorOptions(
                start_ms=int(self.bars[self.warm - 1, 0]) + MINUTE, enforce_rate_limits=False
            ),
        )

    def backtest(self, play: CompiledPlay) -> RunResult:
        """The backtest of the same bars (the warm-up only warms the features up)."""
        return run_backtest(
            Backtest(
                play=play,
                symbol="BTCUSDT",
                instrument=bybit_linear("BTCUSDT"),
                candles=self.candles,
                data=DataLabel("binance BTCUSDT 1m", generated=False),
                funding_rate=Decimal("0.0001"),
                warm_up=self.warm,
            )
        )


def real_minutes(shared_data: Path, play: CompiledPlay, live: int) -> RealMinutes:
    """The last ``warm-up + live`` gap-free real BTCUSDT minutes of the shared data."""
    warm = warm_up_bars(play)
    bars = gap_free(load_bars(shared_data / "binance_BTCUSDT_1m.parquet"), MINUTE, warm + live)
    return RealMinutes(bars, warm)


class Steps:
    """Counts the bars each pair took, and lets the test wait for a count."""

    def __init__(self) -> None:
        self._taken: Counter[PairKey] = Counter()
        self._changed = threading.Condition()

    def __call__(self, pair: Pair, step: BarStep) -> None:
        with self._changed:
            self._taken[pair.key] += 1
            self._changed.notify_all()

    def wait(self, keys: Sequence[PairKey], count: int) -> None:
        with self._changed:
            ok = self._changed.wait_for(lambda: all(self._taken[k] >= count for k in keys), 30)
        assert ok, f"not every pair took bar {count}: {dict(self._taken)}"


def venue_rows(api: Signed, path: str, query: str) -> list[dict[str, Any]]:
    """Every row of a paged REST list of the emulator (``query`` without a cursor)."""
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(path, query + (f"&cursor={cursor}" if cursor else ""))
        assert page["retCode"] == 0, page
        rows += page["result"]["list"]
        cursor = page["result"]["nextPageCursor"]
        if not cursor:
            return rows
