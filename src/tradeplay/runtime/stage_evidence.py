"""A graduating play's record in its running stage, as stored, and the parity verdict on it.

:func:`stage_evidence` rebuilds a stage's record from what the deployment stored — the bars its
play took with the rules that fired on each (its tape), its fills and the orders its engine
sent — and replays the tape through the backtester (the parity gate, which also gives the fees
and prices the simulator expected). The running pipeline judges from it
(:mod:`tradeplay.runtime.graduating`), and an audit re-runs the same function.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import ClientOrderId, ms_from_utc, utc_from_ms
from tradeplay.graduation import Stage, StageRecord
from tradeplay.graduation.parity import ParityVerdict, SentOrder, StageTape, TakenFill, check_parity
from tradeplay.graduation.records import record_of_stage
from tradeplay.play.evaluate import RULES
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.paper import with_margin_tiers
from tradeplay.runtime.recovery import RECOVERY_PREFIX
from tradeplay.runtime.worker import PANIC_PREFIX
from tradeplay.sim.book import Origin
from tradeplay.store import Records, StoredPlacement

__all__ = ["StageEvidence", "stage_evidence"]

_NOT_THE_RUNTIMES = (PANIC_PREFIX, RECOVERY_PREFIX)
"""Order ids the runtime itself gives (a panic's close, a recovery's): not the play's orders."""


@dataclass(frozen=True, slots=True)
class StageEvidence:
    """A stage's record and the parity gate's verdict on its tape."""

    record: StageRecord
    parity: ParityVerdict


def stage_evidence(
    records: Records,
    pair: Pair,
    stage: Stage,
    placement: StoredPlacement,
    *,
    venue_tolerance_bps: Decimal,
    local_fills: bool,
    as_of_ms: int | None = None,
) -> StageEvidence | None:
    """The record of ``pair`` in ``stage`` since ``placement`` entered it, as stored (up to
    the bar closing at ``as_of_ms`` when given); ``None`` before it traded a bar."""
    bar_ms = pair.play.play.timeframe.ms
    until = None if as_of_ms is None else as_of_ms - bar_ms + 1
    stored = records.graduations.bars(placement.play, placement.entered_at, until)
    warm = sum(1 for bar in stored if bar.signals is None)
    if warm == len(stored):
        return None
    rows = np.asarray([bar.row for bar in stored], np.float64)
    traded = rows[warm:]
    start, end = utc_from_ms(int(traded[0, 0])), utc_from_ms(int(traded[-1, 0]) + bar_ms)
    environment = pair.key.environment
    # The play's fills — its orders', its stop's and target's, a liquidation's — in the bars
    # traded; the orders its engine sent, up to the last bar's close.
    fills = [
        f
        for f in records.fills.since(environment, start)
        if f.symbol == pair.symbol and f.time < end and not _runtimes(f.client_order_id)
    ]
    sent = records.orders.changed_since(environment, start)
    orders = sorted(
        (o for o in sent if o.symbol == pair.symbol and start <= o.created_at <= end),
        key=lambda o: (o.created_at, o.client_order_id),
    )
    orders = [o for o in orders if _engines(o.client_order_id)]
    capital = pair.capital * placement.share
    tape = StageTape(
        play=pair.play,
        instrument=with_margin_tiers(bybit_linear(pair.symbol)),
        bars=rows,
        warm_up=warm,
        capital=capital,
        signals=[{rule: rule in (bar.signals or ()) for rule in RULES} for bar in stored[warm:]],
        traded=[bar.traded for bar in stored[warm:]],
        orders=[SentOrder.of(o) for o in orders],
        fills=[TakenFill.of(f) for f in fills] if stage is not Stage.SHADOW else [],
        funding_rate=Decimal("0.0001"),  # a paper account's (it moves no price or size)
    )
    tolerance = Decimal(0) if local_fills else venue_tolerance_bps
    parity = check_parity(tape, fill_price_tolerance_bps=tolerance)
    entered_ms = ms_from_utc(placement.entered_at)
    record = record_of_stage(
        placement.play,
        stage,
        symbol=pair.symbol,
        bars=traded,
        bar_ms=bar_ms,
        fills=fills,
        capital=capital,
        entered_ms=min(entered_ms, int(traded[0, 0])),
        traded=tape.traded,
    )
    if not local_fills:  # the venue's costs against what the simulator expected
        paid = sum((f.fee for f in fills), Decimal(0))
        record = replace(
            record,
            slippage_bps=parity.slippage_bps,
            fees_paid=paid,
            fees_expected=parity.fees_expected,
        )
    return StageEvidence(record, parity)


def _engines(link: str | None) -> bool:
    """Whether ``link`` is the id of an order the play's engine sent."""
    if link is None or Origin.of(ClientOrderId(link)) is not Origin.USER:
        return False
    return not _runtimes(link)


def _runtimes(link: str | None) -> bool:
    """Whether ``link`` is the id of an order the runtime sent itself (a panic's close …)."""
    return link is not None and link.startswith(_NOT_THE_RUNTIMES)
