"""Checks across fields of a play: what each field allows alone is in the schema.

Every check appends :class:`Problem` values instead of raising, so the compiler reports all of
them in one go.
"""

from __future__ import annotations

from typing import Final

from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.timeframe import Timeframe
from tradeplay.play.document import Document
from tradeplay.play.errors import Problem
from tradeplay.play.risk import Off, PercentEquity, RiskPercent, RiskRewardTarget, StructureStop
from tradeplay.play.schema import Play, SideRules

MAX_HOLDING_BARS: Final = 10_000_000
SIDES: Final = ("long", "short")


def check_market(play: Play, document: Document, problems: list[Problem]) -> None:
    """One of ``symbol`` / ``symbols``; timeframes that nest; leverage the venue allows."""
    if (play.symbol is None) == (play.symbols is None):
        message = (
            "write either symbol (one instrument) or symbols (a list), not both"
            if play.symbol
            else "required: symbol (e.g. symbol: BTCUSDT) or symbols (a list)"
        )
        problems.append(document.problem(("symbol",), message))
    repeated = sorted({s for s in play.instruments if play.instruments.count(s) > 1})
    if repeated:
        problems.append(document.problem(("symbols",), f"{', '.join(repeated)} listed twice"))
    for index, timeframe in enumerate(play.timeframes):
        message = _nesting(play.timeframe, timeframe, play.timeframes[:index])
        if message:
            problems.append(document.problem(("timeframes", index), message))
    for symbol in play.instruments:
        allowed = bybit_linear(symbol).max_leverage
        if play.account.leverage > allowed:
            message = (
                f"{symbol} allows at most {allowed.normalize():f}× leverage, "
                f"got {play.account.leverage}"
            )
            problems.append(document.problem(("account", "leverage"), message))


def _nesting(trading: Timeframe, larger: Timeframe, before: tuple[Timeframe, ...]) -> str:
    if larger in before:
        return f"{larger} is listed twice"
    if larger == trading:
        return f"{larger} is the trading timeframe already; list only larger ones"
    if not trading.divides(larger):
        return f"{larger} is not a whole multiple of the trading timeframe {trading}"
    return ""


def check_sides(play: Play, document: Document, problems: list[Problem]) -> None:
    """Something opens positions, and every position that opens can close."""
    sides = {side: getattr(play, side) for side in SIDES}
    entering = [side for side, rules in sides.items() if rules is not None and rules.entry]
    if all(rules is None for rules in sides.values()):
        message = "the play never enters a position: write long.entry or short.entry"
        problems.append(document.problem(("long",) if play.long else (), message))
    for side, rules in sides.items():
        if rules is not None and not rules.entry:
            message = (
                f"an exit rule without an entry rule never runs; add {side}.entry"
                if rules.exit
                else f"{side} has no rules; write {side}.entry or remove {side}"
            )
            problems.append(document.problem((side,), message))
    protected = any(
        not isinstance(section, Off)
        for section in (play.stop_loss, play.take_profit, play.trailing_stop)
    )
    for side in entering:
        rules = sides[side]
        assert isinstance(rules, SideRules)
        reversal = len(entering) == 2  # the other side's entry closes this side first
        if not (rules.exit or protected or play.max_holding or reversal):
            message = (
                f"{side} positions would never close: add {side}.exit, a stop_loss, a "
                "take_profit, a trailing_stop or max_holding"
            )
            problems.append(document.problem((side, "entry"), message))


def check_sizing(play: Play, document: Document, problems: list[Problem]) -> None:
    """Sizing and targets that measure against a stop need a stop; leverage caps the notional."""
    has_stop = not isinstance(play.stop_loss, Off)
    if isinstance(play.sizing, RiskPercent) and not has_stop:
        message = (
            "risk_percent sizes against the stop loss: set stop_loss (percent, atr, structure)"
        )
        problems.append(document.problem(("sizing", "method"), message))
    if isinstance(play.take_profit, RiskRewardTarget) and not has_stop:
        message = "risk_reward measures from the stop loss: set stop_loss or use percent / atr"
        problems.append(document.problem(("take_profit", "method"), message))
    if isinstance(play.sizing, PercentEquity):
        cap = 100 * play.account.leverage
        if play.sizing.percent > cap:
            message = (
                f"{play.sizing.percent:g} % of equity needs more than account.leverage "
                f"{play.account.leverage}× allows (at most {cap:g} %)"
            )
            problems.append(document.problem(("sizing", "percent"), message))
    if isinstance(play.stop_loss, StructureStop):
        _check_structure_sides(play, play.stop_loss, document, problems)


def _check_structure_sides(
    play: Play, stop: StructureStop, document: Document, problems: list[Problem]
) -> None:
    for side, field, example in (
        ("long", "below", "swing.last_low"),
        ("short", "above", "swing.last_high"),
    ):
        rules = getattr(play, side)
        if rules is not None and rules.entry and getattr(stop, field) is None:
            message = f"{side} entries need stop_loss.{field}, e.g. {field}: {example}"
            problems.append(document.problem(("stop_loss", "method"), message))


def holding_bars(play: Play, document: Document, problems: list[Problem]) -> int | None:
    """``max_holding`` in trading-timeframe bars."""
    holding = play.max_holding
    if holding is None:
        return None
    if isinstance(holding, int):
        bars = holding
    else:
        try:
            span = Timeframe.parse(holding)
        except InputError:  # pragma: no cover - the schema parsed it already
            return None
        if span.ms % play.timeframe.ms:
            message = f"{holding} is not a whole number of {play.timeframe} bars"
            problems.append(document.problem(("max_holding",), message))
            return None
        bars = span.ms // play.timeframe.ms
    if bars > MAX_HOLDING_BARS:
        message = f"{bars} bars is more than the limit of {MAX_HOLDING_BARS}"
        problems.append(document.problem(("max_holding",), message))
        return None
    return bars
