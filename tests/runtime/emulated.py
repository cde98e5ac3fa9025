"""Driving a stepped emulator in lock step with a runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.emulator import Emulator, EmulatorThread
from tradeplay.play.compiler import CompiledPlay
from tradeplay.reports.model import RunResult
from tradeplay.runtime.live import LiveRun, RunEnvironment, RunOutcome, VenueTiming, run_play_live
from tradeplay.runtime.runner import BarStep
from tradeplay.sim.book import Origin
from tradeplay.venues.bybit.config import BybitCredentials

KEY, SECRET = "demo-key", "demo-secret"
"""The emulator account a demo run trades with."""
TOPICS = {"kline.1.BTCUSDT", "order", "execution", "position", "wallet"}
"""What a BTCUSDT 1m demo run listens to."""


@dataclass
class DemoRun:
    """A demo run on its own daemon thread and the emulator it trades on."""

    play: CompiledPlay
    handle: EmulatorThread
    emulator: Emulator
    taken: threading.Semaphore
    """Released once per bar the runner took."""
    outcome: list[RunOutcome]
    thread: threading.Thread
    deadline_s: float

    def step(self) -> None:
        """One bar at the emulator, then wait until the runner took it."""
        assert self.handle.step() == 1, "the emulator has no more bars"
        assert self.taken.acquire(timeout=self.deadline_s), (
            f"the runner did not take the bar within {self.deadline_s:g} s"
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
    taken = threading.Semaphore(0)

    def on_step(_: BarStep) -> None:
        taken.release()

    with EmulatorThread(emulator) as handle:
        run = LiveRun(
            play=play,
            environment=RunEnvironment.DEMO,
            symbol="BTCUSDT",
            emulator_url=handle.url,
            credentials=BybitCredentials(KEY, SECRET),
            order_prefix=order_prefix,
            max_bars=bars,
            timing=timing or VenueTiming(),
        )
        outcome: list[RunOutcome] = []
        thread = threading.Thread(
            target=lambda: outcome.append(run_play_live(run, on_step=on_step)), daemon=True
        )
        thread.start()
        wait_for_topics(handle, TOPICS, timeout_s=2 * deadline_s)
        yield DemoRun(play, handle, emulator, taken, outcome, thread, deadline_s)


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
