"""A demo run survives the faults a real Bybit throws, and still equals its backtest.

Each test runs a play in ``demo`` mode against the stepped emulator in lock step (as
``test_demo_parity``): one bar per step, the test waits until the runner took it. The market is
the wave of ``tests/emulator/conftest.py`` (a cross of EMA 20/50 every half hour, so the play
trades every few dozen bars). A fault is switched on, the run goes on, and:

* the runner refuses a missed, doubled or out-of-order bar (``InputError``), so a run that
  takes every bar proves none was lost or repeated;
* the orders (time, side, type, quantity, price, status) and fills the emulator holds equal the
  backtest of the same bars, so nothing was lost, doubled or placed late;
* every order id is unique at the venue (no duplicate after an uncertain create).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from tests.emulator.conftest import MINUTE, START_MS, wave_candles
from tests.runtime import emulated
from tests.runtime.emulated import (
    KEY,
    SECRET,
    TOPICS,
    DemoRun,
    assert_book_matches,
    wait_for_topics,
)
from tradeplay.domain.events import OrderRejected, OrderSubmitted
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import ClientOrderId, OrderType, Side
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import load_play
from tradeplay.play.compiler import CompiledPlay
from tradeplay.reports.model import DataLabel, RunResult
from tradeplay.runtime.live import VenueTiming
from tradeplay.runtime.preflight import run_preflight, warm_up_bars
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.venues.bybit.config import (
    BybitCredentials,
    BybitEndpoints,
    BybitEnvironment,
    VenueConfig,
)

ROOT = Path(__file__).resolve().parents[2]
LONG = ROOT / "bench" / "plays" / "ema_20_50_long_1m.yaml"
BRACKET = ROOT / "bench" / "plays" / "ema_20_50_bracket_1m.yaml"
LIVE_BARS = 240
#: Short timeouts so a fault costs a second, not Bybit's ten.
FAST = VenueTiming(request_timeout_s=1.0, kline_stale_after_s=1.0)
STEP_DEADLINE_S = 15.0


def wave_emulator(play: CompiledPlay, live_bars: int) -> Emulator:
    warm = warm_up_bars(play)
    candles = wave_candles(warm + live_bars)
    return Emulator(
        Market.from_candles({bybit_linear("BTCUSDT"): candles}, play.play.timeframe),
        [AccountSpec(name="demo", api_key=KEY, secret=SECRET, balance=play.play.account.capital)],
        EmulatorOptions(start_ms=START_MS + warm * MINUTE, enforce_rate_limits=False),
    )


@contextmanager
def demo_run(
    play_path: Path = LONG,
    live_bars: int = LIVE_BARS,
    *,
    faults: Callable[[Emulator], object] = lambda _: None,
) -> Iterator[DemoRun]:
    play = load_play(play_path)
    emulator = wave_emulator(play, live_bars)
    faults(emulator)
    with emulated.demo_run(
        emulator, play, live_bars, order_prefix="ft", timing=FAST, deadline_s=STEP_DEADLINE_S
    ) as run:
        yield run


def backtest_of(run: DemoRun, live_bars: int = LIVE_BARS) -> RunResult:
    warm = warm_up_bars(run.play)
    return run_backtest(
        Backtest(
            play=run.play,
            symbol="BTCUSDT",
            instrument=bybit_linear("BTCUSDT"),
            candles=wave_candles(warm + live_bars),
            data=DataLabel("wave BTCUSDT 1m", generated=True),
            funding_rate=Decimal("0.0001"),
            warm_up=warm,
        )
    )


def assert_equals_backtest(run: DemoRun) -> None:
    orders, fills = run.venue_book()
    backtest = backtest_of(run)
    assert len(backtest.orders) >= 6, "the window should trade several times"
    assert_book_matches(orders, fills, backtest)
    ids = Counter(o.client_order_id for o in orders)
    assert max(ids.values()) == 1, f"an order was placed twice: {ids.most_common(1)}"


def run_all_bars(run: DemoRun, between: Callable[[int], None] = lambda _: None) -> None:
    for bar in range(LIVE_BARS):
        between(bar)
        run.step()
    outcome = run.finish()
    assert outcome.bars == LIVE_BARS


def test_a_baseline_run_on_the_wave_equals_its_backtest() -> None:
    """The harness itself: no fault, the same orders and fills as the backtest."""
    with demo_run() as run:
        run_all_bars(run)
        assert_equals_backtest(run)


def test_sockets_dropped_mid_run_lose_no_bar_and_no_order() -> None:
    """Every 40 bars the server closes every socket and the next bar closes at once, while the
    runner is disconnected: it reconnects, re-syncs (the missed bar from REST klines, the
    account's orders, positions and executions) and carries on as if nothing happened."""
    with demo_run() as run:
        drops: list[int] = []

        def drop(bar: int) -> None:
            if bar and bar % 40 == 0:
                drops.append(run.handle.drop_connections())

        run_all_bars(run, drop)
        assert drops
        assert all(sockets >= 2 for sockets in drops)
        assert_equals_backtest(run)


def test_rate_limit_answers_are_waited_out_and_nothing_is_lost() -> None:
    """Three 10006 answers on order endpoints (creates and lookups): the adapter waits until
    Bybit's reset time and tries again; the orders still equal the backtest."""
    with demo_run(faults=lambda e: e.faults.rate_limit(path="/v5/order", every=3, count=3)) as run:
        run_all_bars(run)
        rule = run.emulator.faults.rules[0]
        assert rule.fired == 3
        assert_equals_backtest(run)


def test_server_error_bursts_are_retried_and_nothing_is_lost() -> None:
    """Bursts of two 503 pages in a row on order and position requests: retried with backoff.
    (Positions are read over REST only on re-syncs and when the streamed view cannot answer,
    so the position burst hits the first read: the re-sync as the streams start.)"""

    def bursts(emulator: Emulator) -> None:
        emulator.faults.server_error(path="/v5/order/create", count=2)
        emulator.faults.server_error(path="/v5/position/list", count=2)

    with demo_run(faults=bursts) as run:
        run_all_bars(run)
        assert [rule.fired for rule in run.emulator.faults.rules] == [2, 2]
        assert_equals_backtest(run)


def test_an_order_create_that_times_out_after_acceptance_is_found_not_resent() -> None:
    """The first create is carried out but never answered: the adapter times out, looks the
    order up by its ``orderLinkId`` and finds it — one order at the venue, not two."""

    def hold(emulator: Emulator) -> None:
        emulator.faults.timeout_after_accept(hold_ms=3_000, path="/v5/order/create", count=1)

    with demo_run(faults=hold) as run:
        run_all_bars(run)
        assert run.emulator.faults.rules[0].fired == 1
        assert_equals_backtest(run)  # includes: every orderLinkId exactly once


def test_a_stale_stream_is_noticed_by_the_heartbeat_and_recovered() -> None:
    """The sockets stay open but go silent, and a bar closes meanwhile: after
    ``kline_stale_after_s`` of silence the runner closes the kline socket itself and opens a
    new one (the server never dropped it); once Bybit speaks again it resubscribes, reads the
    missed bar over REST and carries on."""
    with demo_run() as run:
        streams = run.emulator.streams

        def public_sockets() -> set[object]:
            return run.handle.call(lambda: {c for c in streams.connections if not c.private})

        def silence(bar: int) -> None:
            if bar != 40:
                return
            before = public_sockets()
            run.handle.call(lambda: run.emulator.faults.set_stale(True))
            run.handle.step()  # the bar closes while the stream is silent
            deadline = time.monotonic() + STEP_DEADLINE_S
            while not public_sockets() - before:
                assert time.monotonic() < deadline, "the silent stream was never noticed"
                time.sleep(0.05)
            assert run.taken.acquire(timeout=0) is False  # the bar is still missing
            run.handle.call(lambda: run.emulator.faults.set_stale(False))
            assert run.taken.acquire(timeout=STEP_DEADLINE_S), "the missed bar never came"
            wait_for_topics(run.handle, TOPICS, timeout_s=STEP_DEADLINE_S)

        for bar in range(LIVE_BARS - 1):
            silence(bar)
            run.step()
        assert run.finish().bars == LIVE_BARS
        assert_equals_backtest(run)


def test_an_entry_filled_after_submit_returned_still_gets_its_protection() -> None:
    """In lock step a market entry fills only at the next bar's open, after ``submit`` (which
    does not wait for fills) returned: its fill-relative stop-loss and take-profit are placed
    when the fill is seen, so the position is never left unprotected at a bar."""
    with demo_run(BRACKET) as run:
        protected: list[tuple[Decimal, Decimal, Decimal]] = []
        for _ in range(LIVE_BARS):
            run.step()
            found = run.handle.call(lambda: position_and_stop(run.emulator))
            if found is not None:
                protected.append(found)
        run.finish()
    assert protected, "the play never held a position"
    tick = Decimal("0.1")
    for entry, stop_loss, take_profit in protected:  # 2 % below, 4 % above, on the tick grid
        assert abs(stop_loss - entry * Decimal("0.98")) <= tick
        assert abs(take_profit - entry * Decimal("1.04")) <= tick


def position_and_stop(emulator: Emulator) -> tuple[Decimal, Decimal, Decimal] | None:
    """(entry price, stop-loss, take-profit) of the open position; raises if unprotected."""
    sim = emulator.venue.books[KEY].slots["BTCUSDT"].sim
    position = sim.position("BTCUSDT")
    if position.size == 0:
        return None
    stop = sim.trading_stop("BTCUSDT")
    unprotected = f"the position {position.size} @ {position.entry_price} has no protection"
    assert stop.stop_loss is not None, unprotected
    assert stop.take_profit is not None, unprotected
    assert position.entry_price is not None
    return position.entry_price, stop.stop_loss, stop.take_profit


def test_an_order_below_the_minimum_is_refused_with_the_minimum_named() -> None:
    """A quantity under Bybit's minimum order quantity never leaves: the refusal says which
    minimum it missed and what it is."""
    play = load_play(LONG)
    emulator = wave_emulator(play, 10)
    with EmulatorThread(emulator) as handle:
        session = VenueSession(venue_config(handle.url, KEY), "BTCUSDT", play.play.timeframe)
        try:
            events = session.exchange.submit(
                OrderSubmitted(
                    client_order_id=ClientOrderId("tiny-1"),
                    time=session.clock.now(),
                    symbol="BTCUSDT",
                    side=Side.BUY,
                    order_type=OrderType.MARKET,
                    qty=Decimal("0.0001"),
                )
            )
        finally:
            session.close()
        slots = handle.call(lambda: emulator.venue.books[KEY].slots)
        assert "BTCUSDT" not in slots or handle.call(slots["BTCUSDT"].sim.orders) == []
    assert len(events) == 1
    assert isinstance(events[0], OrderRejected)
    assert "minimum" in events[0].reason, events[0].reason
    assert "0.001" in events[0].reason, events[0].reason


def test_keys_of_another_environment_are_refused_by_the_preflight() -> None:
    """Live keys offered to the demo venue: the preflight stops at the key check and says
    that demo, testnet and mainnet keys are separate; nothing after it is checked."""
    play = load_play(LONG)
    emulator = wave_emulator(play, 10)
    with EmulatorThread(emulator) as handle:
        session = VenueSession(venue_config(handle.url, "live-key"), "BTCUSDT", play.play.timeframe)
        try:
            preflight = run_preflight(session, play, "BTCUSDT")
        finally:
            session.close()
    assert not preflight.passed
    failure = preflight.failure
    assert failure is not None
    assert failure.name == "keys valid for demo"
    assert "another environment's key" in failure.detail
    assert [c.passed for c in preflight.checks][-3:] == [None, None, None]


def venue_config(url: str, key: str) -> VenueConfig:
    return VenueConfig(
        environment=BybitEnvironment.DEMO,
        credentials=BybitCredentials(key, SECRET),
        endpoints=BybitEndpoints.local(url),
        request_timeout_s=FAST.request_timeout_s,
    )
