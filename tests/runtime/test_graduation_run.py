"""The graduation pipeline in a running deployment, against the emulator replaying real
minutes fast (the emulator is stepped bar by bar; the pipeline's clock is market time).

A trend play that earns on the replayed BTCUSDT minutes climbs shadow → demo → live pilot →
live and ramps to its full capital; a play losing on ETHUSDT stays in shadow. Every decision
is stored with its numbers, and judging each one again from the store gives the same verdict.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.features.conftest import load_bars
from tests.runtime.emulated import TWO_ACCOUNTS, Steps, wait_for_topics
from tradeplay.data.candles import Candles
from tradeplay.domain.events import OrderEvent, OrderFilled
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.order import Order
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import Side
from tradeplay.emulator import AccountSpec, Emulator, EmulatorOptions, EmulatorThread, Market
from tradeplay.graduation import Ladder, Placement, Stage, decide, evaluate
from tradeplay.notify import LocalBus
from tradeplay.ports import Exchange
from tradeplay.runtime.deployment import read_deployment
from tradeplay.runtime.graduating import MarketClock
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.pipeline import Pipeline
from tradeplay.runtime.runner import Market as PairMarket
from tradeplay.runtime.stage_evidence import stage_evidence
from tradeplay.runtime.supervisor import Supervisor, SupervisorOptions, SystemClock
from tradeplay.store import Database, DeploymentState, StoredPlacement, default_url

MINUTE = 60_000
DAY_MS = 86_400_000
WINDOW_START = 5_620
"""Row of the replay's first bar in the shared minutes (early May 2025: BTC rises steadily)."""
HISTORY = 400
BARS = 500
TREND = """\
schema_version: 1
name: trend {symbol}
symbol: {symbol}
timeframe: 1m
features: {{fast: {{kind: ema, period: 20}}, slow: {{kind: ema, period: 120}}}}
{side}: {{entry: "fast {enter} slow", exit: "fast {leave} slow"}}
sizing: {{method: fixed_notional, amount: 500}}
stop_loss: {{method: percent, percent: 0.3}}
account: {{capital: 10000, leverage: 1, margin_mode: isolated}}
"""
LOSING = """\
schema_version: 1
name: fading ETHUSDT
symbol: ETHUSDT
timeframe: 1m
features: {fast: {kind: ema, period: 5}, slow: {kind: ema, period: 20}}
short: {entry: "crosses_below(fast, slow)", exit: "crosses_above(fast, slow)"}
sizing: {method: fixed_notional, amount: 500}
account: {capital: 10000, leverage: 1, margin_mode: isolated}
"""
"""Sells every dip of a market that rises through the window: it loses."""
ACCOUNTS = """\
  demo: {kind: demo, api_key: "${DEMO_KEY}", api_secret: "${DEMO_SECRET}",
         emulator: "${EMULATOR}", capital: 10000}
  live: {kind: live, api_key: "${LIVE_KEY}", api_secret: "${LIVE_SECRET}",
         emulator: "${EMULATOR}", capital: 10000,
         risk: {max_drawdown_percent: 30, max_daily_loss_percent: 20}}
plays:
  - {play: good.yaml, name: good, environments: pipeline}
  - {play: bad.yaml, name: bad, environments: pipeline}
"""
"""The two emulator accounts (demo, and live with its safety limits) and the two plays."""
DEPLOYMENT = """\
schema_version: 1
name: graduation
environments:
  shadow: {kind: shadow, emulator: "${EMULATOR}", capital: 10000}
ACCOUNTS
pipeline:
  stages: [shadow, demo, live_pilot, live]
  live_approval: automatic
  evaluate_every_minutes: 15
  criteria:
    shadow: {min_days: 0.02, min_trades: 0, min_return_percent: 0, min_psr: 0.5,
             return_period_minutes: 5}
    demo: {min_days: 0.02, min_trades: 0, min_psr: 0.5, min_profit_factor: null,
           return_period_minutes: 5}
    live_pilot: {min_days: 0.02, min_trades: 0, min_psr: 0.5, min_profit_factor: null,
                 return_period_minutes: 5}
    live: {min_days: 0.02, min_trades: 0, return_period_minutes: 5}
""".replace("ACCOUNTS\n", ACCOUNTS)


@pytest.fixture
def emulator(shared_data: Path) -> Iterator[EmulatorThread]:
    candles = {}
    for symbol in ("BTCUSDT", "ETHUSDT"):
        bars = load_bars(shared_data / f"binance_{symbol}_1m.parquet")
        rows = bars[WINDOW_START - HISTORY : WINDOW_START + BARS + 5]
        assert np.all(np.diff(rows[:, 0]) == MINUTE), "the replayed minutes have a gap"
        candles[bybit_linear(symbol)] = Candles(
            rows[:, 0].astype(np.int64), *(rows[:, c] for c in range(1, 6))
        )
    start_ms = int(candles[bybit_linear("BTCUSDT")].ts[HISTORY])
    emulator = Emulator(
        Market.from_candles(candles, Timeframe.parse("1m")),
        [
            AccountSpec(name="demo", api_key="demo-key", secret="demo-secret"),
            AccountSpec(name="live", api_key="live-key", secret="live-secret"),
        ],
        EmulatorOptions(start_ms=start_ms, enforce_rate_limits=False),
    )
    with EmulatorThread(emulator) as handle:
        yield handle


def started(
    folder: Path,
    emulator: EmulatorThread,
    text: str,
    decorate: Callable[[Pair, PairMarket], PairMarket] = lambda _pair, market: market,
) -> tuple[Supervisor, Database, Steps]:
    """The deployment ``text`` (the trend play as ``good``, the losing one as ``bad``) up on
    the emulator, every stream subscribed."""
    (folder / "good.yaml").write_text(
        TREND.format(symbol="BTCUSDT", side="long", enter=">", leave="<")
    )
    (folder / "bad.yaml").write_text(LOSING)
    environ = {**TWO_ACCOUNTS, "EMULATOR": emulator.url}
    deployment = read_deployment(text, folder / "deploy.yaml", environ)
    database = Database.open(default_url(folder))
    steps = Steps()
    options = SupervisorOptions(on_step=steps, poll_s=3600, decorate_market=decorate)
    supervisor = Supervisor(deployment, database, LocalBus(), SystemClock(), options)
    supervisor.start()
    wait_for_topics(emulator, {"kline.1.BTCUSDT", "kline.1.ETHUSDT", "order", "wallet"})
    return supervisor, database, steps


def replay(emulator: EmulatorThread, supervisor: Supervisor, steps: Steps, bars: range) -> None:
    """Step the emulator through ``bars``, each taken by every pair, then judged."""
    keys = list(supervisor.workers)
    for bar in bars:
        assert emulator.step() == 1
        steps.wait(keys, bar)
        supervisor.poll()


def test_a_play_with_an_edge_graduates_and_a_losing_one_stays(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    supervisor, database, steps = started(tmp_path, emulator, DEPLOYMENT)
    try:
        replay(emulator, supervisor, steps, range(1, BARS + 1))
        left_demo = demo_position(emulator)
    finally:
        supervisor.stop("test over")
    assert left_demo == 0, "the play left a position behind in demo"
    try:
        check_outcome(database)
        check_audit(database, supervisor)
    finally:
        database.close()


def test_a_stage_paused_for_a_while_is_replayed_with_its_engine_idle_there(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    """Paused by its operator in shadow while its entry rule fired, the play sent nothing: its
    tape says so bar by bar, and the parity gate's replay acts on none of those bars (a replay
    that did would enter where the stage did not, and the play could never graduate)."""
    supervisor, database, steps = started(tmp_path, emulator, DEPLOYMENT)
    shadow = supervisor.workers[PairKey("shadow", "good")]
    try:
        replay(emulator, supervisor, steps, range(1, 11))
        shadow.pause()
        replay(emulator, supervisor, steps, range(11, 41))
        shadow.resume()
        replay(emulator, supervisor, steps, range(41, 76))
    finally:
        supervisor.stop("test over")
    try:
        placement = database.graduations.history("good")[0]
        entered = datetime.fromisoformat(str(placement.metrics["entered_at"]))
        tape = [
            bar for bar in database.graduations.bars("good", entered) if bar.signals is not None
        ]
        assert [bar.traded for bar in tape] == [True] * 10 + [False] * 30 + [True] * 35
        idle = tape[10:40]
        assert any("long.entry" in (bar.signals or ()) for bar in idle), "no entry while paused"
        judged = [d for d in database.graduations.history("good") if d.from_stage == "shadow"]
        assert judged
        for decision in judged:
            assert str(decision.metrics["parity"]).startswith("parity holds"), decision
            # Its days are the bars it traded up to the judgement, not the thirty paused.
            as_of = int(decision.metrics["as_of_ms"])
            ran = [bar for bar in tape if bar.traded and bar.row[0] + MINUTE <= as_of]
            assert decision.metrics["days"] == pytest.approx(len(ran) * MINUTE / DAY_MS)
        assert any(int(d.metrics["as_of_ms"]) > tape[40].row[0] for d in judged), "none after"
        check_audit(database, supervisor)
    finally:
        database.close()


DEMO_TO_LIVE = """\
schema_version: 1
name: graduation
environments:
ACCOUNTS
pipeline:
  stages: [demo, live]
  evaluate_every_minutes: 15
  criteria:
    demo: {min_days: 30}
""".replace("ACCOUNTS\n", ACCOUNTS)
"""Demo, then live: demo's position is the venue's, and outlives the process."""


def test_a_move_decided_while_the_deployment_was_down_leaves_nothing_open(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    """Holding a long in demo when it stopped, promoted into live by the operator while it was
    down: the next start closes demo's position before live trades, one bar later (a market
    order meets the next bar in the stepped emulator), and live then trades."""
    supervisor, database, steps = started(tmp_path, emulator, DEMO_TO_LIVE)
    bar = 0
    try:
        while demo_position(emulator) == 0 and bar < 200:
            bar += 1
            replay(emulator, supervisor, steps, range(bar, bar + 1))
    finally:
        supervisor.stop("down for the night")
    assert demo_position(emulator) > 0, "the play holds nothing in demo: the test proves nothing"
    ladder = Ladder(stages=(Stage.DEMO, Stage.LIVE))
    try:
        Pipeline(database.graduations, ladder, MarketClock()).promote("good", "proven enough")
    finally:
        database.close()

    supervisor, database, steps = started(tmp_path, emulator, DEMO_TO_LIVE)
    try:
        placement = database.graduations.placement("good")
        assert placement is not None
        assert (placement.stage, placement.held_in) == ("live", "demo")  # its close is on its way
        assert supervisor.graduation is not None
        assert supervisor.graduation.parked(PairKey("live", "good")) is not None
        replay(emulator, supervisor, steps, range(1, 3))  # bars counted from the restart
        assert demo_position(emulator) == 0
        placement = database.graduations.placement("good")
        assert placement is not None
        assert (placement.stage, placement.held_in) == ("live", None)
        assert supervisor.graduation.parked(PairKey("live", "good")) is None
        bar = 2
        while live_position(emulator) == 0 and bar < 200:
            bar += 1
            replay(emulator, supervisor, steps, range(bar, bar + 1))
        assert live_position(emulator) > 0, "live never traded"
    finally:
        supervisor.stop("test over")
        database.close()


def check_outcome(database: Database) -> None:
    good = database.graduations.history("good")
    moves = [(d.from_stage, d.to_stage, d.verdict) for d in good if d.verdict != "hold"]
    assert moves[:3] == [
        ("shadow", "demo", "promote"),
        ("demo", "live_pilot", "promote"),
        ("live_pilot", "live", "promote"),
    ], "\n".join(f"{d.from_stage} {d.verdict} {d.reason}" for d in good)
    assert [d.share for d in good if d.verdict == "ramp"] == [Decimal("0.5"), Decimal(1)]
    for decision in good:
        if decision.verdict == "promote":
            assert str(decision.metrics["parity"]).startswith("parity holds"), decision
    placement = database.graduations.placement("good")
    assert placement is not None
    assert (placement.stage, placement.share) == ("live", Decimal(1))
    bad = database.graduations.history("bad")
    assert bad, "the losing play was never judged"
    assert {d.verdict for d in bad} == {"hold"}
    last = bad[-1].metrics
    assert last["trades"] > 5, last  # it traded …
    assert last["return_percent"] < 0, last  # … and lost
    assert "return_percent" in bad[-1].reason
    stays = database.graduations.placement("bad")
    assert stays is not None
    assert stays.stage == "shadow"


def check_audit(database: Database, supervisor: Supervisor) -> None:
    """Every judgement, rebuilt from the store and judged again, gives the stored verdict."""
    graduation = supervisor.graduation
    assert graduation is not None
    ladder = graduation.ladder
    for play in ("good", "bad"):
        for decision in database.graduations.history(play):
            stage = Stage(decision.from_stage)
            entered = datetime.fromisoformat(str(decision.metrics["entered_at"]))
            placed = StoredPlacement(
                play=play,
                stage=str(stage),
                entered_at=entered,
                share=Decimal(str(decision.metrics["stage_share"])),
                updated_at=entered,
            )
            key = PairKey(supervisor.deployment.stage_environment(stage), play)
            evidence = stage_evidence(
                database,
                graduation.pairs[key],
                stage,
                placed,
                venue_tolerance_bps=ladder.venue_fill_tolerance_bps,
                local_fills=supervisor.deployment.model.environments[
                    key.environment
                ].kind.local_fills,
                as_of_ms=int(decision.metrics["as_of_ms"]),
            )
            assert evidence is not None
            evaluation = evaluate(
                evidence.record, ladder.criteria[stage], has_next=ladder.above(stage) is not None
            )
            approval = {"live_approval": decision.metrics["live_approval"]}  # as it applied
            again = decide(
                Placement(play, stage, int(entered.timestamp() * 1000), placed.share),
                evaluation,
                evidence.parity,
                ladder.model_copy(update=approval),
                live_safety=True,
            )
            assert str(again.action) == decision.verdict, (decision, again)
            assert again.share == decision.share


GATES = """\
schema_version: 1
name: gates
environments:
ACCOUNTS
pipeline:
  stages: [demo, live_pilot, live]
  live_approval: automatic
  evaluate_every_minutes: 15
  criteria:
    demo: {min_days: 0.01, min_trades: 1, min_return_percent: null, min_psr: null,
           min_profit_factor: null}
    live_pilot: {max_drawdown_percent: 1, return_period_minutes: 5}
""".replace("ACCOUNTS\n", ACCOUNTS)
"""Into the pilot on any record, but a pilot that loses 1 % of its capital is demoted (and
goes back only with the operator's approval)."""


class SkewedFills:
    """A venue whose fills the stage records 1 % dearer than they were (a wiring fault)."""

    def __init__(self, inner: PairMarket) -> None:
        self._inner = inner

    @property
    def exchange(self) -> Exchange:
        return self._inner.exchange

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        return [skew(event) for event in self._inner.on_bar(row)]


def skew(event: OrderEvent) -> OrderEvent:
    if not isinstance(event, OrderFilled):
        return event
    fill = event.fill
    price = fill.price * Decimal("1.01") if fill.side is Side.BUY else fill.price
    return dataclasses.replace(event, fill=dataclasses.replace(fill, price=price))


def test_a_live_breach_is_demoted_and_flattened_and_a_divergence_blocked(
    tmp_path: Path, emulator: EmulatorThread
) -> None:
    supervisor, database, steps = started(
        tmp_path,
        emulator,
        GATES,
        lambda pair, market: SkewedFills(market) if pair.key == PairKey("demo", "good") else market,
    )
    try:
        replay(emulator, supervisor, steps, range(1, BARS + 2))  # the last close meets a bar
        live = live_account(emulator)
        stored = {(d.environment, d.name): d for d in database.deployments.all()}
    finally:
        supervisor.stop("test over")
    try:
        bad = [(d.from_stage, d.to_stage, d.verdict) for d in database.graduations.history("bad")]
        assert ("demo", "live_pilot", "promote") in bad, bad
        assert ("live_pilot", "demo", "demote") in bad, bad
        demoted = next(d for d in database.graduations.history("bad") if d.verdict == "demote")
        assert "max_drawdown_percent" in demoted.reason
        assert bad[-1] == ("demo", "demo", "awaiting_approval"), "back into live unasked"
        assert live == ([], Decimal(0)), "the demoted play left orders or a position in live"
        assert stored["live", "bad"].state is DeploymentState.PAUSED
        good = database.graduations.history("good")
        blocked = [d for d in good if d.verdict == "blocked"]
        assert blocked, [(d.verdict, d.reason) for d in good]
        assert blocked[0].reason.startswith("parity failed: fills differ first on bar")
        assert {d.from_stage for d in good} == {"demo"}, "a diverging play was promoted"
        check_audit(database, supervisor)
    finally:
        database.close()


def demo_position(handle: EmulatorThread) -> Decimal:
    slot = handle.emulator.venue.books["demo-key"].slots["BTCUSDT"]
    return handle.call(lambda: slot.sim.position("BTCUSDT").size)


def live_position(handle: EmulatorThread) -> Decimal:
    slot = handle.emulator.venue.books["live-key"].slots["BTCUSDT"]
    return handle.call(lambda: slot.sim.position("BTCUSDT").size)


def live_account(handle: EmulatorThread) -> tuple[list[Order], Decimal]:
    """The live account's open ETHUSDT orders and position size, at the emulator."""
    slot = handle.emulator.venue.books["live-key"].slots["ETHUSDT"]
    return handle.call(lambda: (list(slot.sim.open_orders()), slot.sim.position("ETHUSDT").size))
