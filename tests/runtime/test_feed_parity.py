"""Shadow and paper runs fed by the emulator's kline stream equal the backtest of the same bars.

The real ``tradeplay run --env shadow|paper --emulator URL`` path: the preflight, the warm-up
from the emulator's REST klines, then closed bars from its WebSocket ``kline`` topic (the
``confirm`` flag) into the runner — while the emulator replays three days of real Binance
BTCUSDT 1-minute bars as fast as it can publish them. Shadow and paper fill on the local
simulator, so the bars need no lock step: the stream must only deliver every bar once, in
order. Every bar's signals must equal the batch signals of the same bars; shadow's would-be
orders (time, side, type, quantity, price) the backtest's own orders; paper's orders and fills
the backtest's, every field.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.runtime.emulated import DemoRun, RealMinutes, live_run, real_minutes
from tests.runtime.test_parity import traded_fills
from tradeplay.domain.fill import Fill
from tradeplay.domain.order import Order
from tradeplay.domain.values import ClientOrderId, OrderId, TradeId
from tradeplay.play import load_play
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.evaluate import RULES
from tradeplay.play.runner import PlaySignals
from tradeplay.reports.model import RunResult
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.paper import PaperMarket, ShadowMarket
from tradeplay.sim.book import Origin

ROOT = Path(__file__).resolve().parents[2]
PLAYS = ["ema_20_50_long_1m.yaml", "ema_20_50_bracket_1m.yaml"]
LIVE_BARS = 3 * 1_440


def replayed(
    shared_data: Path, play_file: str, environment: RunEnvironment
) -> tuple[CompiledPlay, RealMinutes, DemoRun]:
    """``play_file`` run in ``environment`` over three days of real minutes, finished."""
    play = load_play(ROOT / "bench" / "plays" / play_file)
    minutes = real_minutes(shared_data, play, LIVE_BARS)
    emulator = minutes.emulator(play)
    with live_run(emulator, play, LIVE_BARS, environment=environment, order_prefix="bt") as run:
        run.replay(LIVE_BARS)
        outcome = run.finish()
    assert outcome.bars == LIVE_BARS
    return play, minutes, run


def assert_signals_match(play: CompiledPlay, minutes: RealMinutes, run: DemoRun) -> None:
    """Every live bar was taken once, in order, with the batch path's signals."""
    assert [step.index for step in run.steps] == list(range(minutes.warm, len(minutes.bars)))
    assert [step.open_ms for step in run.steps] == minutes.bars[minutes.warm :, 0].tolist()
    output = PlaySignals(play).batch(minutes.bars)
    for step in run.steps:
        expected = {rule: bool(output.signals[rule][step.index]) for rule in RULES}
        assert step.signals == expected, f"signals differ on bar {step.index}"


@pytest.mark.parametrize("play_file", PLAYS)
def test_a_shadow_run_on_the_emulator_feed_would_send_the_backtests_orders(
    shared_data: Path, play_file: str
) -> None:
    play, minutes, run = replayed(shared_data, play_file, RunEnvironment.SHADOW)
    assert_signals_match(play, minutes, run)
    market = run.outcome[0].market
    assert isinstance(market, ShadowMarket)
    backtest = minutes.backtest(play)
    own = own_orders(backtest)
    assert len(own) > 10, "the window must trade for the comparison to mean anything"
    sent = [w.order for w in market.shadow.would_be if w.order is not None]
    assert [(o.client_order_id, o.time, o.side, o.order_type, o.qty, o.price) for o in sent] == [
        (o.client_order_id, o.created_at, o.side, o.order_type, o.qty, o.price) for o in own
    ]


@pytest.mark.parametrize("play_file", PLAYS)
def test_a_paper_run_on_the_emulator_feed_gets_the_backtests_orders_and_fills(
    shared_data: Path, play_file: str
) -> None:
    play, minutes, run = replayed(shared_data, play_file, RunEnvironment.PAPER)
    assert_signals_match(play, minutes, run)
    market = run.outcome[0].market
    assert isinstance(market, PaperMarket)
    backtest = minutes.backtest(play)
    assert len(backtest.orders) > 10, "the window must trade for the comparison to mean anything"
    space = f"{play.play.instruments[0]}_"  # the paper account's own ids are in its symbol's
    assert list(market.simulator.orders()) == [spaced_order(o, space) for o in backtest.orders]
    assert list(market.simulator.fills()) == [spaced_fill(f, space) for f in traded_fills(backtest)]


def spaced(link: ClientOrderId | None, space: str) -> ClientOrderId | None:
    """The exchange's own order ids carry the id space; the engine's are its own."""
    if link is None or Origin.of(link) is Origin.USER:
        return link
    return ClientOrderId(space + link)


def spaced_order(order: Order, space: str) -> Order:
    return dataclasses.replace(
        order,
        client_order_id=spaced(order.client_order_id, space),
        order_id=None if order.order_id is None else OrderId(space + order.order_id),
    )


def spaced_fill(fill: Fill, space: str) -> Fill:
    return dataclasses.replace(
        fill,
        trade_id=TradeId(space + fill.trade_id),
        order_id=OrderId(space + fill.order_id),
        client_order_id=spaced(fill.client_order_id, space),
    )


def own_orders(backtest: RunResult) -> list[Order]:
    """The engine's orders in the order it sent them (the backtest's record also holds the
    exchange's own — a take-profit firing — and lists orders as they finished)."""
    return sorted(
        (o for o in backtest.orders if Origin.of(o.client_order_id) is Origin.USER),
        key=lambda o: int(o.client_order_id.rpartition("-")[2]),
    )


def test_a_paper_run_keeps_no_record_unless_asked(shared_data: Path) -> None:
    """``tradeplay run`` may last months: its simulated account keeps its figures, not a
    record of every order and fill (nothing reads it back)."""
    play = load_play(ROOT / "bench" / "plays" / PLAYS[0])
    minutes = real_minutes(shared_data, play, 600)
    emulator = minutes.emulator(play)
    with live_run(
        emulator, play, 600, environment=RunEnvironment.PAPER, order_prefix="bt", record=False
    ) as run:
        run.replay(600)
        outcome = run.finish()
    market = outcome.market
    assert isinstance(market, PaperMarket)
    assert market.simulator.account().fees_paid > 0, "the run must trade to mean anything"
    assert market.simulator.fills() == ()
    # Only the working orders are kept (a run that kept its record has its finished ones too).
    assert tuple(market.simulator.orders()) == tuple(market.simulator.open_orders())
