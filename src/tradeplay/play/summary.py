"""A compiled play as readable text: what ``tradeplay play show`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from tradeplay.play.risk import VolatilityTarget

if TYPE_CHECKING:
    from tradeplay.play.compiler import CompiledPlay

_LABEL: Final = 15


def describe(compiled: CompiledPlay) -> str:
    play = compiled.play
    rows: list[tuple[str, str]] = [
        ("play", play.name),
        ("source", compiled.source),
    ]
    if play.description:
        rows.append(("description", " ".join(play.description.split())))
    rows.append(("symbols", ", ".join(play.instruments)))
    also = f"; also loads {', '.join(str(tf) for tf in play.timeframes)}" if play.timeframes else ""
    rows.append(("timeframe", f"{play.timeframe}{also}"))
    rows.extend(_feature_rows(compiled))
    for key, text in compiled.rule_texts.items():
        rows.append((key, " ".join(text.split())))
    rows.extend(_risk_rows(compiled))
    rows.append(("environments", ", ".join(play.environments)))
    rows.append(("warm-up", _warmup(compiled)))
    return "\n".join(_row(label, value) for label, value in rows)


def _row(label: str, value: str) -> str:
    return f"{label:<{_LABEL}}{value}".rstrip()


def _feature_rows(compiled: CompiledPlay) -> list[tuple[str, str]]:
    if not compiled.features:
        return [("features", "none")]
    width = max(len(ref.name) for ref in compiled.features) + 2
    used = {column.feature for column in compiled.columns.values()}
    rows = []
    for index, ref in enumerate(compiled.features):
        notes = [f"warm-up {ref.warmup} bars"] if ref.warmup else []
        if ref.name.startswith("_"):
            notes.append("added for an ATR distance")
        elif ref.name not in used:
            notes.append("not used by any rule")
        text = f"{ref.name:<{width}}{ref.describe()}" + (f"  ({'; '.join(notes)})" if notes else "")
        rows.append(("features" if index == 0 else "", text))
    return rows


def _risk_rows(compiled: CompiledPlay) -> list[tuple[str, str]]:
    play = compiled.play
    account = play.account
    holding = play.max_holding
    if holding is None:
        held = "no limit"
    elif isinstance(holding, int):
        held = f"{holding} bars"
    else:
        held = f"{holding} ({compiled.max_holding_bars} bars)"
    return [
        ("sizing", play.sizing.describe()),
        ("stop_loss", play.stop_loss.describe()),
        ("take_profit", play.take_profit.describe()),
        ("trailing_stop", play.trailing_stop.describe()),
        ("max_holding", held),
        (
            "account",
            f"{account.capital:,} USDT, {account.leverage}× {account.margin_mode} margin, "
            f"fee tier {account.fee_tier}",
        ),
    ]


def _warmup(compiled: CompiledPlay) -> str:
    parts = [f"features {compiled.feature_warmup_bars}"]
    if compiled.max_lookback:
        parts.append(f"rule look-back {compiled.max_lookback}")
    text = " + ".join(parts)
    sizing = compiled.play.sizing
    if isinstance(sizing, VolatilityTarget) and sizing.lookback == compiled.warmup_bars:
        text = f"sizing look-back {sizing.lookback}; {text}"
    return f"{compiled.warmup_bars} {compiled.play.timeframe} bars ({text})"
