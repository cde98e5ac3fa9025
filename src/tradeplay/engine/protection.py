"""The play's stop-loss, take-profit and trailing stop, turned into levels for one entry.

Distances that depend on the market (an ATR multiple, a structure level) are measured on the
decision bar, from the columns the play computes; distances from the entry (percent, a multiple of
the risk) are resolved by the exchange at the fill, see :mod:`tradeplay.domain.protection`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tradeplay.domain.protection import Level, LevelKind, Protection
from tradeplay.domain.values import HUNDRED, Price, Side, to_decimal
from tradeplay.play.compiler import CompiledPlay
from tradeplay.play.risk import (
    AtrStop,
    AtrTarget,
    AtrTrailing,
    PercentStop,
    PercentTarget,
    PercentTrailing,
    RiskRewardTarget,
    StructureStop,
)


@dataclass(frozen=True, slots=True)
class Trailing:
    """A trailing stop: ``distance`` behind the best price once ``activation`` is reached."""

    distance: Price
    activation_fraction: Decimal


class MissingLevel(Exception):  # noqa: N818 - a value-like outcome, not an error to report as such
    """A protection level is not known on this bar (NaN: warm-up, or no swing yet)."""


def _column(columns: Mapping[str, float], name: str) -> Decimal:
    value = columns[name]
    if math.isnan(value):
        raise MissingLevel(name)
    return to_decimal(value, name)


def entry_protection(
    play: CompiledPlay, side: Side, columns: Mapping[str, float]
) -> Protection | None:
    """Stop and target for an entry of ``side`` decided on a bar with these column values.

    Raises :class:`MissingLevel` when a level the play asks for is unknown on this bar: the
    entry is then skipped, because entering without the protection the play promises would be
    taking a risk the trader did not agree to.
    """
    stop = _stop(play, side, columns)
    target = _target(play, columns)
    if stop is None and target is None:
        return None
    return Protection(stop, target)


def measured_on_the_bar(play: CompiledPlay) -> bool:
    """Whether the stop or the target reads the decision bar's columns (an ATR, a structure
    level); if not, :func:`entry_protection` gives the same protection on every bar."""
    return isinstance(play.play.stop_loss, AtrStop | StructureStop) or isinstance(
        play.play.take_profit, AtrTarget
    )


def _stop(play: CompiledPlay, side: Side, columns: Mapping[str, float]) -> Level | None:
    section = play.play.stop_loss
    match section:
        case PercentStop():
            return Level(LevelKind.FRACTION, to_decimal(section.percent) / HUNDRED)
        case AtrStop():
            atr = _column(columns, play.levels["stop_loss.atr"])
            return Level(LevelKind.DISTANCE, to_decimal(section.multiple) * atr)
        case StructureStop():
            return _structure_stop(play, section, side, columns)
    return None


def _structure_stop(
    play: CompiledPlay, section: StructureStop, side: Side, columns: Mapping[str, float]
) -> Level | None:
    key = "stop_loss.below" if side is Side.BUY else "stop_loss.above"
    if key not in play.levels:
        return None
    level = _column(columns, play.levels[key])
    buffer = to_decimal(section.buffer_percent) / HUNDRED
    price = level * (1 - buffer) if side is Side.BUY else level * (1 + buffer)
    return Level(LevelKind.PRICE, price)


def _target(play: CompiledPlay, columns: Mapping[str, float]) -> Level | None:
    section = play.play.take_profit
    match section:
        case PercentTarget():
            return Level(LevelKind.FRACTION, to_decimal(section.percent) / HUNDRED)
        case AtrTarget():
            atr = _column(columns, play.levels["take_profit.atr"])
            return Level(LevelKind.DISTANCE, to_decimal(section.multiple) * atr)
        case RiskRewardTarget():
            return Level(LevelKind.RISK_MULTIPLE, to_decimal(section.multiple))
    return None


def trailing_stop(
    play: CompiledPlay, entry_price: Price, columns: Mapping[str, float]
) -> Trailing | None:
    """The trailing stop for a position entered at ``entry_price``, measured on this bar."""
    section = play.play.trailing_stop
    match section:
        case PercentTrailing():
            distance = entry_price * to_decimal(section.percent) / HUNDRED
            return Trailing(distance, to_decimal(section.activation_percent) / HUNDRED)
        case AtrTrailing():
            atr = _column(columns, play.levels["trailing_stop.atr"])
            activation = to_decimal(section.activation_percent) / HUNDRED
            return Trailing(to_decimal(section.multiple) * atr, activation)
    return None
