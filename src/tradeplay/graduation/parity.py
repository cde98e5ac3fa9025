"""The parity gate: a stage's recorded bars, replayed through the backtester, must give what the
stage did — the same signals on every bar, the same orders, and fills equal or within a stated
tolerance. A stage that did something else is not yet the play that was backtested (a lookahead
feature, a wiring difference, a venue that fills otherwise), and may not be promoted.

What is compared, in this order (the first difference is reported, with its bar):

1. the signals of every rule on every bar the stage traded;
2. the orders the engine sent: time, side, type, quantity and price, one by one;
3. the fills, unless the stage has none (shadow): side and quantity exactly, time within one
   bar and price within ``fill_price_tolerance_bps`` (``0``: exactly; a venue's fills, which the
   simulator cannot know, get a stated tolerance).

The replay is the ordinary backtest of the tape's bars, its first ``warm_up`` bars warming the
features as the stage's runner warmed up on them, funded with the stage's starting capital.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from tradeplay.data.candles import Candles
from tradeplay.domain.fill import Fill
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.order import Order
from tradeplay.domain.values import OrderType, Side, utc_from_ms
from tradeplay.engine.backtest import Backtest, run_backtest
from tradeplay.play import CompiledPlay
from tradeplay.play.evaluate import RULES
from tradeplay.play.runner import PlaySignals
from tradeplay.reports.model import DataLabel
from tradeplay.sim.book import Origin

__all__ = ["Divergence", "ParityVerdict", "SentOrder", "StageTape", "TakenFill", "check_parity"]

_BPS = Decimal(10_000)

Item = TypeVar("Item", "SentOrder", "TakenFill")


@dataclass(frozen=True, slots=True)
class SentOrder:
    """An order as the stage sent it."""

    time: datetime
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None

    @classmethod
    def of(cls, order: Order) -> SentOrder:
        return cls(order.created_at, order.side, order.order_type, order.qty, order.price)


@dataclass(frozen=True, slots=True)
class TakenFill:
    """A fill as the stage got it."""

    time: datetime
    side: Side
    qty: Decimal
    price: Decimal

    @classmethod
    def of(cls, fill: Fill) -> TakenFill:
        return cls(fill.time, fill.side, fill.qty, fill.price)


@dataclass(frozen=True, slots=True, kw_only=True)
class StageTape:
    """What a stage saw and did: its bars (warm-up first) and its recorded decisions."""

    play: CompiledPlay
    instrument: Instrument
    bars: NDArray[np.float64]
    """``(n, 6)``: open time (ms), open, high, low, close, volume."""
    warm_up: int
    capital: Decimal
    signals: Sequence[Mapping[str, bool]]
    """Each rule's signal on every bar from ``bars[warm_up]`` on."""
    orders: Sequence[SentOrder]
    fills: Sequence[TakenFill] = ()
    funding_rate: Decimal | None = None
    traded: Sequence[bool] | None = None
    """Whether the engine ran on each bar from ``bars[warm_up]`` on (it does not while the pair
    is paused or its account not yet reconciled); ``None``: on every one."""


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first place where the stage and its replay differ."""

    bar: int
    """Index of the bar among the stage's bars (after the warm-up)."""
    time: datetime
    what: str
    replay: str
    stage: str

    def describe(self) -> str:
        return (
            f"{self.what} differ first on bar {self.bar} ({self.time:%Y-%m-%d %H:%M} UTC): "
            f"the backtest gives {self.replay}, the stage did {self.stage}"
        )


@dataclass(frozen=True, slots=True)
class ParityVerdict:
    divergence: Divergence | None
    bars: int
    orders: int
    fills: int
    fees_expected: Decimal = Decimal(0)
    """The fees the replay paid on the stage's bars: what the simulator expected."""
    slippage_bps: float | None = None
    """Mean of how much worse than the replay's each stage fill was, in basis points of the
    replay's price (fills paired in order; ``None`` without fills on both sides)."""

    @property
    def passed(self) -> bool:
        return self.divergence is None

    def describe(self) -> str:
        if self.divergence is not None:
            return f"parity failed: {self.divergence.describe()}"
        return f"parity holds over {self.bars} bars, {self.orders} orders and {self.fills} fills"


def check_parity(
    tape: StageTape, *, fill_price_tolerance_bps: Decimal = Decimal(0)
) -> ParityVerdict:
    """Replay ``tape`` through the backtester and compare (see the module docstring)."""
    if len(tape.signals) != len(tape.bars) - tape.warm_up:
        raise ValueError(
            f"the tape has {len(tape.bars) - tape.warm_up} bars after its warm-up but signals "
            f"for {len(tape.signals)}"
        )
    if tape.traded is not None and len(tape.traded) != len(tape.signals):
        raise ValueError(
            f"the tape has {len(tape.signals)} bars after its warm-up but says for "
            f"{len(tape.traded)} whether its engine ran"
        )
    divergence = _signals(tape)
    result = run_backtest(_backtest(tape))
    own = sorted(
        (o for o in result.orders if Origin.of(o.client_order_id) is Origin.USER),
        key=lambda o: int(o.client_order_id.rpartition("-")[2]),
    )
    replayed_orders = [SentOrder.of(o) for o in own]
    fills = [f for f in result.fills if Origin.of(f.client_order_id) is not Origin.END_OF_DATA]
    replayed_fills = [TakenFill.of(f) for f in fills]
    if divergence is None:
        divergence = _sequence(tape, "orders", replayed_orders, list(tape.orders), _same_order)
    if divergence is None and tape.fills:

        def same_fill(a: TakenFill, b: TakenFill) -> bool:
            return _close_fill(a, b, tape, fill_price_tolerance_bps)

        divergence = _sequence(tape, "fills", replayed_fills, list(tape.fills), same_fill)
    return ParityVerdict(
        divergence,
        len(tape.signals),
        len(tape.orders),
        len(tape.fills),
        fees_expected=sum((f.fee for f in fills), Decimal(0)),
        slippage_bps=_slippage_bps(replayed_fills, tape.fills),
    )


def _slippage_bps(replayed: Sequence[TakenFill], stage: Sequence[TakenFill]) -> float | None:
    paired = list(zip(replayed, stage, strict=False))
    if not paired:
        return None
    worse = [
        float((theirs.price - mine.price) * mine.side.sign * _BPS / mine.price)
        for mine, theirs in paired
    ]
    return sum(worse) / len(worse)


def _backtest(tape: StageTape) -> Backtest:
    bars = tape.bars
    candles = Candles(bars[:, 0].astype(np.int64), *(bars[:, c] for c in range(1, 6)))
    return Backtest(
        play=tape.play,
        symbol=tape.instrument.symbol,
        instrument=tape.instrument,
        candles=candles,
        data=DataLabel("a stage's recorded bars", generated=False),
        capital=tape.capital,
        funding_rate=tape.funding_rate,
        warm_up=tape.warm_up,
        idle=None if tape.traded is None else _idle(tape, tape.traded),
    )


def _idle(tape: StageTape, traded: Sequence[bool]) -> NDArray[np.bool_]:
    """The bars the stage took without running its engine: the replay does not run it there."""
    idle = np.zeros(len(tape.bars), dtype=np.bool_)
    idle[tape.warm_up :] = ~np.asarray(traded, dtype=np.bool_)
    return idle


def _signals(tape: StageTape) -> Divergence | None:
    output = PlaySignals(tape.play).batch(tape.bars)
    for index, recorded in enumerate(tape.signals):
        row = tape.warm_up + index
        replayed = {rule: bool(output.signals[rule][row]) for rule in RULES}
        stage = {rule: bool(recorded.get(rule, False)) for rule in RULES}
        if replayed != stage:
            return Divergence(
                index, _bar_time(tape, row), "signals", _fired(replayed), _fired(stage)
            )
    return None


def _fired(signals: Mapping[str, bool]) -> str:
    fired = [rule for rule, on in signals.items() if on]
    return ", ".join(fired) if fired else "no signal"


def _same_order(a: SentOrder, b: SentOrder) -> bool:
    return a == b


def _close_fill(a: TakenFill, b: TakenFill, tape: StageTape, tolerance_bps: Decimal) -> bool:
    bar_ms = tape.play.play.timeframe.ms
    apart_ms = abs((a.time - b.time).total_seconds()) * 1000
    if a.side is not b.side or a.qty != b.qty or apart_ms > bar_ms:
        return False
    return abs(a.price - b.price) * _BPS <= tolerance_bps * a.price


def _sequence(
    tape: StageTape,
    what: str,
    replayed: list[Item],
    stage: list[Item],
    same: Callable[[Item, Item], bool],
) -> Divergence | None:
    for index in range(max(len(replayed), len(stage))):
        mine = replayed[index] if index < len(replayed) else None
        theirs = stage[index] if index < len(stage) else None
        if mine is not None and theirs is not None and same(mine, theirs):
            continue
        first = mine if mine is not None else theirs
        assert first is not None
        row = _row_at(tape, first.time)
        return Divergence(
            row - tape.warm_up, _bar_time(tape, row), what, _shown(mine), _shown(theirs)
        )
    return None


def _shown(item: SentOrder | TakenFill | None) -> str:
    if item is None:
        return "nothing"
    if isinstance(item, SentOrder):
        price = "" if item.price is None else f" @ {item.price}"
        return f"{item.side} {item.order_type} {item.qty}{price} at {item.time:%H:%M}"
    return f"{item.side} {item.qty} @ {item.price} at {item.time:%H:%M}"


def _row_at(tape: StageTape, time: datetime) -> int:
    """The bar during which ``time`` falls (an order sent at a bar's close: that bar)."""
    ms = int(time.timestamp() * 1000)
    bar_ms = tape.play.play.timeframe.ms
    row = int(np.searchsorted(tape.bars[:, 0], ms - bar_ms, side="right")) - 1
    return max(tape.warm_up, min(row, len(tape.bars) - 1))


def _bar_time(tape: StageTape, row: int) -> datetime:
    return utc_from_ms(int(tape.bars[row, 0]))
