"""``tradeplay quickstart`` and ``tradeplay backtest``: a play over stored data, and its report."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tradeplay import services
from tradeplay.backtesting import BacktestRequest
from tradeplay.cli._shell import (
    PlayFileArg,
    friendly,
    now_ms,
    out,
    parse_time,
    progress_bar,
    settings_of,
)
from tradeplay.cli.data import bybit_source, datasets_table
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import to_decimal
from tradeplay.reports.summary import summary_rows
from tradeplay.settings import Settings


@friendly
def quickstart(
    ctx: typer.Context,
    play: Annotated[Path, typer.Argument(help="Play to backtest.")] = Path("plays/ema_cross.yaml"),
    offline: Annotated[bool, typer.Option(help="Do not try the network; use the sample.")] = False,
) -> None:
    """Get market data (real from Bybit, else a generated sample) and backtest an example play."""
    settings = settings_of(ctx)
    if not play.is_file():
        raise InputError(f"{play}: no such play file; run this from the repository root")
    with progress_bar("downloading BTCUSDT 1h from Bybit") as progress:
        result = services.quickstart(
            settings,
            offline=offline,
            source_factory=bybit_source,
            now_ms=now_ms(),
            progress=progress,
        )
    style = "green" if result.real_data else "yellow"
    out.print(f"[{style}]{escape(result.note)}[/]")
    out.print(datasets_table(result.datasets))
    _backtest(settings, play, BacktestRequest(out_dir=services.default_run_folder(settings, play)))


@friendly
def backtest(
    ctx: typer.Context,
    play: PlayFileArg,
    symbol: Annotated[str | None, typer.Option(help="Symbol; default the play's.")] = None,
    start: Annotated[str, typer.Option("--from", help="Start (UTC), e.g. 2024-01-01.")] = "",
    until: Annotated[str, typer.Option(help="End (UTC, exclusive).")] = "",
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", "-t", help="Must equal the play's timeframe.")
    ] = None,
    capital: Annotated[str | None, typer.Option(help="Starting capital in USDT.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report folder.")] = None,
    allow_no_trades: Annotated[
        bool, typer.Option(help="Do not fail the quality gate when the play never trades.")
    ] = False,
) -> None:
    """Backtest a play on stored data (or the labelled sample market) and write the report."""
    settings = settings_of(ctx)
    request = BacktestRequest(
        symbol=symbol,
        timeframe=Timeframe.parse(timeframe) if timeframe else None,
        start_ms=parse_time(start, "--from") if start else None,
        until_ms=parse_time(until, "--until") if until else None,
        capital=_parse_money(capital, "--capital") if capital is not None else None,
        out_dir=out_dir or services.default_run_folder(settings, play),
        allow_no_trades=allow_no_trades,
    )
    _backtest(settings, play, request)


def _parse_money(text: str, option: str) -> Decimal:
    try:
        return to_decimal(text, option)
    except InputError:
        raise InputError(f"{option} {text!r} is not an amount: expected e.g. 10000") from None


def _backtest(settings: Settings, play: Path, request: BacktestRequest) -> None:
    with progress_bar(f"backtesting {play.name}") as progress:
        outcome = services.run_backtest_file(settings, play, request, progress)
    files = outcome.files
    table = Table(
        title=f"{outcome.result.play} — {outcome.result.symbol} {outcome.result.timeframe}",
        title_justify="left",
        show_header=False,
    )
    for name, value in summary_rows(files.metrics, outcome.result.data):
        table.add_row(name, escape(value))
    out.print(table)
    if outcome.result.data.generated:
        out.print("[yellow]GENERATED data: these results say nothing about real markets.[/]")
    out.print(f"fingerprint {files.fingerprint}")
    out.print(f"report      {files.html}")
    out.print(f"files       {files.folder}")
