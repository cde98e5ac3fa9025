"""Crash recovery: an environment's records reconciled with its venue before it trades again.

On start (and after a crash or a kill that is every start) each venue environment compares
what it stored with what the venue holds. **The venue's truth wins**; every difference is
settled, logged, published on the bus (:class:`~tradeplay.notify.events.Reconciled`) and
stored — the rows themselves, and the list of what was settled in the environment's state
snapshot ``recovery``:

====================================  =========================================================
found                                 settled as
====================================  =========================================================
an open venue order we never stored   **adopted**: stored as the venue reports it
a stored order still ``pending``      **looked up by its orderLinkId**: found → stored as the
                                      venue says; not found → ``rejected``, "never placed"
a stored open order the venue ended   stored as the venue says (found by orderLinkId)
a venue position we did not store     **adopted**: stored (and reported)
a stored position the venue differs   stored as the venue holds it (closed while we were down …)
a position without its stop / target  **restored** from the play's protection rules, measured
                                      from the position's entry price; refused (the price is
                                      already past a level) → closed at market, as the stop or
                                      target would have done
an open entry of ours, not yet filled its protection is placed when it fills
executions since the last recovery    every fill recorded once (no gap in the trade history)
====================================  =========================================================

The two sides **agree** when a pass finds nothing left to settle (fills may still arrive).
Until then the environment's engines do not trade: :meth:`Recovery.agreed` is their gate and
retries a failed recovery at most every ``retry_s``.

The position's own take-profit / stop-loss orders are its protection, checked as such, and are
not adopted as orders. Levels measured on the decision bar (an ATR, a structure level) are
measured again on the last closed bar before the restart: the decision bar's values died with
the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.errors import RejectedError, TradeplayError
from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.order import Order, OrderStatus
from tradeplay.domain.position import Position
from tradeplay.domain.protection import Protection
from tradeplay.domain.values import ClientOrderId, OrderType, Side, Symbol
from tradeplay.engine.protection import MissingLevel, entry_protection, measured_on_the_bar
from tradeplay.notify import EventBus, Health, HealthChanged
from tradeplay.notify.events import Reconciled
from tradeplay.play.runner import PlaySignals
from tradeplay.ports import Clock, TradingStop
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.venue_account import SessionAccount, VenueAccount
from tradeplay.runtime.venue_fills import PROTECTIVE_STOP_TYPES
from tradeplay.store import Records
from tradeplay.venues.bybit.order_params import needs_fill_price, protection_stop
from tradeplay.venues.bybit.reports import OrderReport, PositionReport

__all__ = ["Action", "Finding", "Recovery", "SessionAccount", "VenueAccount"]

log = structlog.get_logger(__name__)

STATE_KEY: Final = "recovery"
"""The environment's state snapshot this module keeps (see :meth:`Recovery.reconcile`)."""
NEVER_PLACED: Final = "never placed: the venue does not know it (the runtime stopped first)"
RECOVERY_PREFIX: Final = "rcv-"
"""Begins the id of a close recovery sends itself: an order of the runtime's, not a play's."""
_MAX_PASSES: Final = 4


class Action(StrEnum):
    """What recovery did about one difference."""

    ORDER_ADOPTED = "order_adopted"
    ORDER_UPDATED = "order_updated"
    PENDING_FOUND = "pending_found"
    PENDING_NOT_PLACED = "pending_not_placed"
    POSITION_ADOPTED = "position_adopted"
    POSITION_UPDATED = "position_updated"
    PROTECTION_RESTORED = "protection_restored"
    PROTECTION_ON_FILL = "protection_on_fill"
    POSITION_CLOSED = "position_closed"
    FILL_RECORDED = "fill_recorded"

    @property
    def settles(self) -> bool:
        """Whether the two sides disagreed (a fill arriving is no disagreement)."""
        return self is not Action.FILL_RECORDED


@dataclass(frozen=True, slots=True)
class Finding:
    action: Action
    symbol: Symbol
    ref: str
    """Our order id, the venue's, or the execution id."""
    detail: str = ""


class Recovery:
    """One environment's reconciliation, and the gate its engines trade behind."""

    def __init__(
        self,
        environment: str,
        venue: VenueAccount,
        records: Records,
        bus: EventBus,
        clock: Clock,
        *,
        retry_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.environment = environment
        self._venue = venue
        self._records = records
        self._bus = bus
        self._clock = clock
        self._retry_s = retry_s
        self._monotonic = monotonic
        self._pairs: dict[Symbol, Pair] = {}
        self._columns: dict[Symbol, Mapping[str, float]] = {}
        self._lock = threading.Lock()
        self._agreed = False
        self._tried_at: float | None = None
        self._closes = 0
        self._registered: set[ClientOrderId] = set()
        self.failure = ""
        """Why the last attempt failed ("" once agreed)."""

    def add(self, pair: Pair, history: NDArray[np.float64]) -> None:
        """A pair of the environment and its warm-up bars (to measure bar-dependent levels)."""
        self._pairs.setdefault(pair.symbol, pair)
        if measured_on_the_bar(pair.play) and len(history):
            stream = PlaySignals(pair.play).stream()
            for row in history:
                stream.step(row)
            self._columns[pair.symbol] = dict(stream.columns)

    def agreed(self) -> bool:
        """Whether the engines may trade: recovery succeeded, or succeeds now (retried at
        most every ``retry_s``). Thread-safe; every pair's worker asks at each bar: while one
        of them reconciles, the others do not wait for it (their bars go on, without trading)."""
        if self._agreed:
            return True
        if not self._lock.acquire(blocking=False):
            return False
        try:
            now = self._monotonic()
            if self._tried_at is not None and now - self._tried_at < self._retry_s:
                return False
            self._tried_at = now
            try:
                self.reconcile()
            except TradeplayError as error:  # the venue or the store failed: trade off, retry
                self.failure = f"{type(error).__name__}: {error}"
                log.error("recovery_failed", environment=self.environment, error=self.failure)
                self._health(Health.DEGRADED, f"not reconciled, trading off: {self.failure}")
                return False
            self._agreed = not self.failure
            return self._agreed
        finally:
            self._lock.release()

    def reconcile(self) -> list[Finding]:
        """Passes until one finds nothing to settle (at most four); every finding. Sets
        :attr:`failure` when the sides still disagree."""
        state = self._records.state_store(self.environment, self._clock)
        stored = state.load(STATE_KEY) or {}
        since: int | None = stored.get("executions_from_ms")
        findings: list[Finding] = []
        for _ in range(_MAX_PASSES):
            found, since = self._pass(since)
            findings += found
            if not any(f.action.settles for f in found):
                self.failure = ""
                break
        else:
            self.failure = f"still settling after {_MAX_PASSES} passes: {found[0].detail}"
            self._health(Health.DEGRADED, f"not reconciled, trading off: {self.failure}")
        state.save(STATE_KEY, _snapshot(since, self._clock.now(), findings, self.failure))
        if not self.failure:
            self._health(Health.OK, f"reconciled: {len(findings)} difference(s) settled")
        return findings

    # -- one pass --------------------------------------------------------------------------

    def _pass(self, since: int | None) -> tuple[list[Finding], int | None]:
        now = self._clock.now()
        open_orders = self._venue.open_orders()
        positions = {p.symbol: p for p in self._venue.positions()}
        symbols = set(self._pairs) | set(positions) | {o.symbol for o in open_orders}
        symbols |= {o.symbol for o in self._records.orders.open(self.environment)}
        fills, since = self._fills(sorted(symbols), since)
        findings = fills + self._orders(open_orders, now)
        findings += self._positions(positions, open_orders, now)
        balance = self._venue.balance()
        self._records.balances.record(self.environment, balance.to_account(now), now)
        for finding in findings:
            self._report(finding, now)
        return findings, since

    def _fills(
        self, symbols: Sequence[Symbol], since: int | None
    ) -> tuple[list[Finding], int | None]:
        findings: list[Finding] = []
        newest = since
        for symbol in symbols:
            for fill in self._venue.executions(symbol, since):
                ms = int(fill.time.timestamp() * 1000)
                newest = ms if newest is None else max(newest, ms)
                if self._records.fills.record(self.environment, fill):
                    detail = f"{fill.side} {fill.qty} at {fill.price} ({fill.client_order_id})"
                    findings.append(Finding(Action.FILL_RECORDED, symbol, fill.trade_id, detail))
        return findings, newest

    def _orders(self, open_orders: Sequence[OrderReport], now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        at_venue: set[str] = set()
        for report in open_orders:
            if report.client_order_id is None and report.stop_order_type in PROTECTIVE_STOP_TYPES:
                continue  # the position's own protection: checked with the position
            order = report.to_order()
            at_venue.add(order.client_order_id)
            known = self._records.orders.get(self.environment, order.client_order_id)
            if known is None:
                self._save(order, None)
                findings.append(
                    Finding(Action.ORDER_ADOPTED, order.symbol, order.client_order_id, _desc(order))
                )
            elif _differs(known, order):
                self._save(order, known)
                action = Action.PENDING_FOUND if known.status is _PENDING else Action.ORDER_UPDATED
                findings.append(Finding(action, order.symbol, order.client_order_id, _desc(order)))
            if not order.reduce_only and report.client_order_id is not None:
                findings += self._protect_on_fill(order)
        for known in self._records.orders.open(self.environment):
            if known.client_order_id not in at_venue:
                findings.append(self._settle_stored(known, now))
        return findings

    def _settle_stored(self, known: Order, now: datetime) -> Finding:
        """A stored open order that the venue does not list as open: ask for it by our id."""
        report = self._venue.find_order(known.symbol, known.client_order_id)
        if report is not None:
            order = report.to_order()
            self._save(order, known)
            action = Action.PENDING_FOUND if known.status is _PENDING else Action.ORDER_UPDATED
            return Finding(action, order.symbol, order.client_order_id, _desc(order))
        if known.status is _PENDING:
            status, reason, action = _S.REJECTED, NEVER_PLACED, Action.PENDING_NOT_PLACED
        else:
            status, reason = _S.CANCELLED, "no longer known to the venue"
            action = Action.ORDER_UPDATED
        self._save(replace(known, status=status, reason=reason, updated_at=now), known)
        return Finding(action, known.symbol, known.client_order_id, reason)

    def _save(self, order: Order, known: Order | None) -> None:
        """The venue's version wins, whatever the times say (a stored version never newer)."""
        if known is not None and known.updated_at > order.updated_at:
            order = replace(order, updated_at=known.updated_at)
        self._records.orders.save(self.environment, order)

    def _protect_on_fill(self, order: Order) -> list[Finding]:
        """An entry of ours still waiting to fill: the run that sent it would have placed its
        fill-relative protection at the fill, and died; this run does it instead."""
        protection = self._rules(order.symbol, order.side)
        if not needs_fill_price(protection) or order.client_order_id in self._registered:
            return []
        self._registered.add(order.client_order_id)
        self._venue.protect_on_fill(
            OrderSubmitted(
                client_order_id=order.client_order_id,
                time=order.created_at,
                symbol=order.symbol,
                side=order.side,
                order_type=order.order_type,
                qty=order.qty,
                price=order.price,
                trigger_price=order.trigger_price,
                protection=protection,
            )
        )
        return [
            Finding(Action.PROTECTION_ON_FILL, order.symbol, order.client_order_id, "on its fill")
        ]

    def _positions(
        self,
        positions: Mapping[Symbol, PositionReport],
        open_orders: Sequence[OrderReport],
        now: datetime,
    ) -> list[Finding]:
        findings: list[Finding] = []
        for symbol, report in sorted(positions.items()):
            venue = report.to_position()
            stored = self._records.positions.get(self.environment, symbol)
            if (
                stored is None
                or stored.size != venue.size
                or stored.entry_price != venue.entry_price
            ):
                action = (
                    Action.POSITION_ADOPTED
                    if stored is None or stored.is_flat
                    else Action.POSITION_UPDATED
                )
                detail = f"size {venue.size} at {venue.entry_price}"
                if symbol not in self._pairs:
                    detail += ": no play of this environment trades it, the operator's to manage"
                findings.append(Finding(action, symbol, symbol, detail))
            self._records.positions.save(self.environment, venue)
            closing = any(_closes(o, symbol) for o in open_orders)
            if not closing:
                findings += self._protection(report, now)
        for stored in self._records.positions.all(self.environment):
            if not stored.is_flat and stored.symbol not in positions:
                flat = Position(symbol=stored.symbol, updated_at=now)
                self._records.positions.save(self.environment, flat)
                findings.append(
                    Finding(Action.POSITION_UPDATED, stored.symbol, stored.symbol, "flat")
                )
        return findings

    def _protection(self, report: PositionReport, now: datetime) -> list[Finding]:
        """Restore a missing stop or target of an open position (the venue holds both)."""
        side = Side.BUY if report.size > 0 else Side.SELL
        protection = self._rules(report.symbol, side)
        if protection is None or report.entry_price is None:
            return []
        missing_stop = protection.stop_loss is not None and report.stop_loss is None
        missing_target = protection.take_profit is not None and report.take_profit is None
        if not (missing_stop or missing_target):
            return []
        instrument = self._venue.instrument(report.symbol)
        wanted = protection_stop(report.symbol, protection, side, report.entry_price, instrument)
        stop = TradingStop(
            report.symbol,
            take_profit=report.take_profit or wanted.take_profit,
            stop_loss=report.stop_loss or wanted.stop_loss,
            trailing_distance=report.trailing_stop or None,
        )
        try:
            self._venue.set_trading_stop(stop)
        except RejectedError as refused:  # the price is past a level: do what it would have
            return [self._close(report, side, now, str(refused))]
        detail = f"stop {stop.stop_loss}, target {stop.take_profit}"
        return [Finding(Action.PROTECTION_RESTORED, report.symbol, report.symbol, detail)]

    def _close(self, report: PositionReport, side: Side, now: datetime, why: str) -> Finding:
        self._closes += 1
        stamp = int(now.timestamp() * 1000)  # distinct from any earlier run's closes
        order = OrderSubmitted(
            client_order_id=ClientOrderId(f"{RECOVERY_PREFIX}{stamp}-{self._closes}"),
            time=now,
            symbol=report.symbol,
            side=side.opposite(),
            order_type=OrderType.MARKET,
            qty=abs(report.size),
            reduce_only=True,
        )
        self._records.orders.save(self.environment, Order.from_submitted(order))  # durable first
        self._venue.submit(order)
        detail = f"protection refused ({why}): closed at market by {order.client_order_id}"
        return Finding(Action.POSITION_CLOSED, report.symbol, order.client_order_id, detail)

    def _rules(self, symbol: Symbol, side: Side) -> Protection | None:
        pair = self._pairs.get(symbol)
        if pair is None:
            return None
        try:
            return entry_protection(pair.play, side, self._columns.get(symbol, {}))
        except (MissingLevel, KeyError):
            return None  # reported with the position; the engine's rules found no level either

    # -- reports ---------------------------------------------------------------------------

    def _report(self, finding: Finding, now: datetime) -> None:
        log.warning(
            "recovery_settled",
            environment=self.environment,
            action=str(finding.action),
            symbol=finding.symbol,
            ref=finding.ref,
            detail=finding.detail,
        )
        self._bus.publish(
            Reconciled(
                environment=self.environment,
                time=now,
                action=str(finding.action),
                symbol=finding.symbol,
                ref=finding.ref,
                detail=finding.detail,
            )
        )

    def _health(self, health: Health, detail: str) -> None:
        self._bus.publish(
            HealthChanged(
                environment=self.environment,
                time=self._clock.now(),
                component=f"recovery@{self.environment}",
                health=health,
                detail=detail,
            )
        )


_S = OrderStatus
_PENDING: Final = OrderStatus.PENDING


def _closes(order: OrderReport, symbol: Symbol) -> bool:
    """An open reduce-only order of a trader (not the position's own stop or target)."""
    return (
        order.symbol == symbol
        and order.reduce_only
        and order.is_open
        and order.stop_order_type not in PROTECTIVE_STOP_TYPES
    )


def _differs(known: Order, venue: Order) -> bool:
    return (known.status, known.filled_qty, known.order_id) != (
        venue.status,
        venue.filled_qty,
        venue.order_id,
    )


def _desc(order: Order) -> str:
    venue = "" if order.order_id is None else f" (venue id {order.order_id})"
    return f"{order.side} {order.qty} {order.order_type} {order.status}{venue}"


def _snapshot(
    since: int | None, now: datetime, findings: Sequence[Finding], failure: str
) -> dict[str, Any]:
    return {
        "executions_from_ms": since,
        "reconciled_at": now.isoformat(),
        "agreed": not failure,
        "failure": failure,
        "findings": [[str(f.action), f.symbol, f.ref, f.detail] for f in findings],
    }
