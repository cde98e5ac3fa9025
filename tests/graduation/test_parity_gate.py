"""The parity gate: a stage that did what its backtest does passes; one that differs — in a
signal (a lookahead), an order or a fill beyond the tolerance — is stopped at the first
diverging bar, which the verdict names."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from tests.emulator.conftest import wave_candles
from tests.runtime.emulated import wave_play
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.engine.backtest import Backtest, engine_config
from tradeplay.features.compute import bar_matrix
from tradeplay.graduation.parity import SentOrder, StageTape, TakenFill, check_parity
from tradeplay.play import load_play
from tradeplay.reports.model import DataLabel
from tradeplay.runtime.paper import PaperMarket
from tradeplay.runtime.runner import PlayRunner
from tradeplay.sim.book import Origin

WARM_UP, LIVE = 60, 240


PAUSED = range(90, 150)
"""Bars (after the warm-up) on which the paused stage's engine did not run."""


@pytest.fixture(scope="module")
def paper_tape(tmp_path_factory: pytest.TempPathFactory) -> StageTape:
    """A paper stage over a wave market, as its runner recorded it."""
    return _paper_stage(tmp_path_factory, paused=range(0))


@pytest.fixture(scope="module")
def paused_tape(tmp_path_factory: pytest.TempPathFactory) -> StageTape:
    """The same stage, paused by its operator for the bars ``PAUSED``."""
    return _paper_stage(tmp_path_factory, paused=PAUSED)


def _paper_stage(tmp_path_factory: pytest.TempPathFactory, paused: range) -> StageTape:
    path = Path(tmp_path_factory.mktemp("play")) / "wave.yaml"
    path.write_text(wave_play())
    play = load_play(path)
    instrument = bybit_linear("BTCUSDT")
    bars = bar_matrix(wave_candles(WARM_UP + LIVE))
    market = PaperMarket.for_play(play, instrument, start_ms=int(bars[0, 0]))
    settings = Backtest(
        play=play,
        symbol="BTCUSDT",
        instrument=instrument,
        candles=wave_candles(WARM_UP + LIVE),
        data=DataLabel("wave", generated=True),
        warm_up=WARM_UP,
    )
    runner = PlayRunner(play, market, engine_config(settings), start_ms=int(bars[0, 0]))
    runner.warm(bars[:WARM_UP])
    steps = [
        runner.step(row, trade=index not in paused) for index, row in enumerate(bars[WARM_UP:])
    ]
    own = sorted(
        (o for o in market.simulator.orders() if Origin.of(o.client_order_id) is Origin.USER),
        key=lambda o: int(o.client_order_id.rpartition("-")[2]),
    )
    return StageTape(
        play=play,
        instrument=instrument,
        bars=bars,
        warm_up=WARM_UP,
        capital=play.play.account.capital,
        signals=[step.signals for step in steps],
        orders=[SentOrder.of(o) for o in own],
        fills=[TakenFill.of(f) for f in market.simulator.fills()],
        funding_rate=Decimal("0.0001"),
        traded=[step.traded for step in steps],
    )


def test_a_stage_that_did_what_its_backtest_does_passes(paper_tape: StageTape) -> None:
    assert len(paper_tape.orders) >= 6, "the wave must trade for the comparison to mean anything"
    verdict = check_parity(paper_tape)
    assert verdict.passed, verdict.describe()
    assert verdict.describe() == (
        f"parity holds over {LIVE} bars, {len(paper_tape.orders)} orders and "
        f"{len(paper_tape.fills)} fills"
    )


def test_a_lookahead_is_caught_at_the_first_signal_it_moved(paper_tape: StageTape) -> None:
    """The stage saw every signal one bar early, as a feature peeking at the next bar would."""
    early = [*paper_tape.signals[1:], paper_tape.signals[-1]]
    pairs = enumerate(zip(early, paper_tape.signals, strict=True))
    first = next(i for i, (a, b) in pairs if a != b)
    verdict = check_parity(dataclasses.replace(paper_tape, signals=early))
    assert verdict.divergence is not None
    assert (verdict.divergence.what, verdict.divergence.bar) == ("signals", first)
    assert verdict.describe().startswith(f"parity failed: signals differ first on bar {first} (")


def test_an_order_of_another_size_is_caught(paper_tape: StageTape) -> None:
    orders = list(paper_tape.orders)
    orders[2] = dataclasses.replace(orders[2], qty=orders[2].qty + Decimal("0.001"))
    verdict = check_parity(dataclasses.replace(paper_tape, orders=orders))
    assert verdict.divergence is not None
    assert verdict.divergence.what == "orders"
    assert str(orders[2].qty) in verdict.divergence.stage
    # Sent at the close of the bar whose signal it followed: that bar is named.
    close_ms = int(orders[2].time.timestamp() * 1000)
    assert paper_tape.bars[WARM_UP + verdict.divergence.bar, 0] + 60_000 == close_ms
    assert paper_tape.signals[verdict.divergence.bar] != dict.fromkeys(paper_tape.signals[0], False)


def test_a_missing_order_is_caught(paper_tape: StageTape) -> None:
    verdict = check_parity(dataclasses.replace(paper_tape, orders=paper_tape.orders[:-1]))
    assert verdict.divergence is not None
    assert (verdict.divergence.what, verdict.divergence.stage) == ("orders", "nothing")


def test_fills_are_held_to_the_stated_tolerance(paper_tape: StageTape) -> None:
    """A fill 10 bps off fails an exact gate and passes one that tolerates 15 bps."""
    fills = list(paper_tape.fills)
    worse = fills[1].price * Decimal("1.001")
    fills[1] = dataclasses.replace(fills[1], price=worse)
    shifted = dataclasses.replace(paper_tape, fills=fills)
    exact = check_parity(shifted)
    assert exact.divergence is not None
    assert exact.divergence.what == "fills"
    assert str(worse) in exact.divergence.stage
    assert check_parity(shifted, fill_price_tolerance_bps=Decimal(15)).passed


def test_a_stage_paused_for_a_while_passes_with_its_engine_idle_there_in_the_replay(
    paused_tape: StageTape, paper_tape: StageTape
) -> None:
    """While paused the stage took its bars and its rules fired, but it sent nothing: the
    replay does not run its engine on those bars either."""
    assert paused_tape.traded is not None
    fired_while_paused = [
        paused_tape.signals[i] for i in PAUSED if any(paused_tape.signals[i].values())
    ]
    assert fired_while_paused, "a rule must fire while paused for the test to mean anything"
    assert paused_tape.orders != paper_tape.orders  # the pause changed what the stage did
    verdict = check_parity(paused_tape)
    assert verdict.passed, verdict.describe()
    # Taken as traded throughout, the replay acts on a signal the stage let pass.
    blind = check_parity(dataclasses.replace(paused_tape, traded=None))
    assert blind.divergence is not None
    assert blind.divergence.what == "orders"
    assert blind.divergence.bar in PAUSED


def test_a_tape_saying_for_too_few_bars_whether_its_engine_ran_is_refused(
    paper_tape: StageTape,
) -> None:
    with pytest.raises(ValueError, match="whether its engine ran"):
        check_parity(dataclasses.replace(paper_tape, traded=[True]))
