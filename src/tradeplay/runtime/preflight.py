"""The preflight: what must hold before a play trades anywhere but a backtest.

Printed as a checklist; the first item that fails stops the run with its reason, and the items
that depend on it are reported as not checked:

1. **venue reachable** — Bybit's server time answers;
2. **clock drift** — the local clock within ``max_drift_ms`` of the venue's (signed requests
   older than the receive window are refused; re-checked periodically while running);
3. **keys valid for this environment** — a private request is accepted. Bybit's demo, testnet
   and mainnet keys are separate: a key of another environment answers 10003, which is
   reported as such;
4. **instrument** — the symbol exists and its trading rules are loaded;
5. **leverage** — set from the play's account (already set counts as set);
6. **balance** — the account can afford the play's first entry at the current price (sizing
   with a nominal 1 % stop for risk-based rules, refused below the instrument's minimums);
7. **warm-up history** — enough closed bars for the play's longest look-back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.errors import TradeplayError
from tradeplay.domain.values import Symbol, to_decimal
from tradeplay.engine.sizing import SizeRefused, size_entry
from tradeplay.play.compiler import CompiledPlay
from tradeplay.runtime.venue_session import VenueSession
from tradeplay.venues.bybit.errors import BybitRejectedError

__all__ = ["Check", "Preflight", "run_preflight"]

NOMINAL_STOP: Final = Decimal("0.01")
# Bybit's answers to a key it does not know (10003) or a secret that does not sign for it
# (10004): a key of another environment looks like either (bybit_v5.md, error codes).
_KEY_REFUSED: Final = frozenset({10003, 10004})


@dataclass(frozen=True, slots=True)
class Check:
    """One item of the checklist: passed, failed (with the reason) or not checked."""

    name: str
    passed: bool | None
    detail: str


@dataclass(frozen=True, slots=True)
class Preflight:
    checks: tuple[Check, ...]
    warm_up: NDArray[np.float64]
    """The warm-up history loaded by the last item (empty when it was not reached)."""

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failure(self) -> Check | None:
        return next((check for check in self.checks if check.passed is False), None)


class _CheckFailedError(Exception):
    """An item failed: the rest is not checked."""


def run_preflight(
    session: VenueSession,
    play: CompiledPlay,
    symbol: Symbol,
    *,
    keys: bool = True,
    max_drift_ms: int = 1_000,
) -> Preflight:
    """Run every item in order against ``session``'s venue (see the module docstring).
    ``keys=False`` (shadow, paper): no account at the venue, so no key, leverage or balance."""
    history: list[NDArray[np.float64]] = []
    account: list[tuple[str, Callable[[], str]]] = [
        (f"keys valid for {session.config.environment}", lambda: _keys(session)),
        ("leverage", lambda: _leverage(session, play, symbol)),
        ("balance", lambda: _balance(session, play, symbol)),
    ]
    items: list[tuple[str, Callable[[], str]]] = [
        ("venue reachable", lambda: _reachable(session)),
        ("clock drift", lambda: _drift(session, max_drift_ms)),
        (f"instrument {symbol}", lambda: _instrument(session, symbol)),
        *(account if keys else []),
        ("warm-up history", lambda: _history(session, play, history)),
    ]
    checks: list[Check] = []
    failed = False
    for name, item in items:
        if failed:
            checks.append(Check(name, None, "not checked"))
            continue
        try:
            checks.append(Check(name, True, item()))
        except (_CheckFailedError, TradeplayError) as error:
            checks.append(Check(name, False, str(error)))
            failed = True
    return Preflight(tuple(checks), history[0] if history else np.empty((0, 6)))


def _reachable(session: VenueSession) -> str:
    started = time.monotonic()
    session.run(session.venue.server_time_ms())
    return f"{session.config.urls.rest} answered in {(time.monotonic() - started) * 1e3:.0f} ms"


def _drift(session: VenueSession, max_drift_ms: int) -> str:
    local = int(time.time() * 1000)
    server = session.run(session.venue.server_time_ms())
    drift = server - local
    session.clock.offset_ms = drift
    if abs(drift) > max_drift_ms:
        raise _CheckFailedError(
            f"the local clock is {abs(drift):,} ms {'behind' if drift > 0 else 'ahead of'} the "
            f"venue (at most {max_drift_ms:,} ms allowed): synchronise the system clock (NTP)"
        )
    return f"{drift:+d} ms"


def _keys(session: VenueSession) -> str:
    if session.config.credentials is None:
        env = session.config.environment.key_prefix
        raise _CheckFailedError(f"no API key: set {env}_API_KEY and {env}_API_SECRET")
    try:
        balance = session.run(session.venue.balance())
    except BybitRejectedError as error:
        if error.ret_code in _KEY_REFUSED:
            raise _CheckFailedError(
                f"the key is not valid for {session.config.environment} ({error}); demo, testnet "
                "and mainnet keys are separate — is it another environment's key?"
            ) from None
        raise
    return f"accepted; wallet {balance.to_account().wallet_balance} {session.config.settle_coin}"


def _instrument(session: VenueSession, symbol: Symbol) -> str:
    instrument = session.run(session.venue.instrument(symbol))
    return (
        f"tick {instrument.tick_size}, step {instrument.qty_step}, min qty {instrument.min_qty}, "
        f"min value {instrument.min_notional} {instrument.settle}"
    )


def _leverage(session: VenueSession, play: CompiledPlay, symbol: Symbol) -> str:
    leverage = to_decimal(play.play.account.leverage, "account.leverage")
    session.run(session.venue.set_leverage(symbol, leverage))
    return f"{leverage}x"


def _balance(session: VenueSession, play: CompiledPlay, symbol: Symbol) -> str:
    account = session.run(session.venue.balance()).to_account()
    instrument = session.run(session.venue.instrument(symbol))
    price = session.run(session.venue.ticker(symbol)).last_price
    decision = size_entry(
        play.play.sizing,
        equity=account.wallet_balance,
        price=price,
        stop_price=price * (1 - NOMINAL_STOP),
        instrument=instrument,
        leverage=to_decimal(play.play.account.leverage, "account.leverage"),
        timeframe=play.play.timeframe,
    )
    if isinstance(decision, SizeRefused):
        raise _CheckFailedError(f"the first entry could not be sized: {decision.reason}")
    return f"{account.wallet_balance} {account.coin}; a first entry now: {decision.qty} {symbol}"


def _history(session: VenueSession, play: CompiledPlay, found: list[NDArray[np.float64]]) -> str:
    needed = warm_up_bars(play)
    bars = session.feed.history(session.symbol, play.play.timeframe, needed)
    if len(bars) < needed:
        raise _CheckFailedError(f"only {len(bars)} closed bars available, the play needs {needed}")
    found.append(bars)
    return f"{len(bars)} bars of {play.play.timeframe}"


def warm_up_bars(play: CompiledPlay) -> int:
    """Bars to stream before trading: the longest look-back of a feature or rule, with room
    for recursive features (EMA, ATR …) to settle."""
    return max(200, 3 * play.max_lookback)
