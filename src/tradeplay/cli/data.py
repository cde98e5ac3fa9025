"""``tradeplay data …``: list, inspect, import, resample and download market data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tradeplay import services
from tradeplay.cli._shell import (
    TimeframeOpt,
    friendly,
    now_ms,
    out,
    parse_time,
    progress_bar,
    settings_of,
    utc_text,
)
from tradeplay.data.download import HistorySource
from tradeplay.data.gaps import Gap, GapPolicy
from tradeplay.data.store import DatasetInfo, DatasetKey
from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe

data_app = typer.Typer(
    help="Market data: list, inspect, import, resample, download.", no_args_is_help=True
)


SymbolArg = Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")]
ExchangeOpt = Annotated[str, typer.Option(help="Exchange name of the dataset, e.g. bybit, sample.")]
FundingOpt = Annotated[bool, typer.Option("--funding", help="The funding-rate dataset instead.")]


def datasets_table(datasets: list[DatasetInfo]) -> Table:
    table = Table(title="Stored market data", title_justify="left")
    for column in ("exchange", "symbol", "timeframe", "rows", "first (UTC)", "last (UTC)", "gaps"):
        numeric = column in {"rows", "gaps"}
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    table.add_column("prices", no_wrap=True)
    table.add_column("source", overflow="fold", ratio=1)
    for info in datasets:
        table.add_row(
            info.key.exchange,
            info.key.symbol,
            str(info.key.timeframe) if info.key.timeframe else "funding",
            f"{info.rows:,}",
            utc_text(info.first_ms),
            utc_text(info.last_ms),
            str(info.gaps),
            "[yellow]GENERATED[/]" if info.generated else "real",
            info.source,
        )
    return table


def _gaps_table(gaps: list[Gap], timeframe: Timeframe, limit: int) -> Table:
    table = Table(title=f"{len(gaps)} gaps", title_justify="left")
    for column in ("#", "last bar before", "first bar after", "missing bars", "duration"):
        table.add_column(column)
    for number, gap in enumerate(gaps[:limit], start=1):
        hours = gap.missing_bars * timeframe.ms / 3_600_000
        table.add_row(
            str(number),
            utc_text(gap.after_ms),
            utc_text(gap.before_ms),
            f"{gap.missing_bars:,}",
            f"{hours:,.2f} h",
        )
    return table


def _key(exchange: str, symbol: str, timeframe: str | None) -> DatasetKey:
    return DatasetKey(exchange, symbol.upper(), Timeframe.parse(timeframe) if timeframe else None)


def bybit_source(name: str) -> HistorySource:
    # Imported here so that commands which never download do not pay for loading ccxt.
    from tradeplay.venues.bybit.history import BybitHistory  # noqa: PLC0415

    if name != "bybit":
        raise InputError(f"exchange {name!r} cannot be downloaded from yet: expected bybit")
    return BybitHistory()


@data_app.command("list")
@friendly
def data_list(ctx: typer.Context) -> None:
    """List every stored dataset: span, rows, gaps and where it came from."""
    datasets = services.list_datasets(settings_of(ctx))
    if not datasets:
        out.print(
            f"No market data in {settings_of(ctx).store_root}. Run `tradeplay quickstart`, "
            "`tradeplay data download SYMBOL` or `tradeplay data import FILE`."
        )
        return
    out.print(datasets_table(datasets))
    if any(info.generated for info in datasets):
        out.print("[yellow]GENERATED datasets are a synthetic sample market, not real prices.[/]")


@data_app.command("info")
@friendly
def data_info(
    ctx: typer.Context,
    symbol: SymbolArg,
    exchange: ExchangeOpt = "bybit",
    timeframe: TimeframeOpt = "1m",
    funding: FundingOpt = False,
) -> None:
    """Details of one dataset: file, span, first and last close, gaps."""
    details = services.dataset_details(
        settings_of(ctx), _key(exchange, symbol, None if funding else timeframe)
    )
    info = details.info
    table = Table(show_header=False, title=f"{exchange}/{symbol.upper()}", title_justify="left")
    rows = {
        "timeframe": str(info.key.timeframe or "funding"),
        "rows": f"{info.rows:,}",
        "first (UTC)": utc_text(info.first_ms),
        "last (UTC)": utc_text(info.last_ms),
        "first close": f"{details.first_close}" if details.first_close is not None else "-",
        "last close": f"{details.last_close}" if details.last_close is not None else "-",
        "gaps": f"{len(details.gaps)}",
        "source": info.source,
        "generated": "YES: synthetic prices, not real" if info.generated else "no",
        "file": f"{info.path} ({info.size_bytes / 1e6:.2f} MB)",
    }
    for name, value in rows.items():
        table.add_row(name, value)
    out.print(table)


@data_app.command("gaps")
@friendly
def data_gaps(
    ctx: typer.Context,
    symbol: SymbolArg,
    exchange: ExchangeOpt = "bybit",
    timeframe: TimeframeOpt = "1m",
    limit: Annotated[int, typer.Option(help="Show at most this many.")] = 50,
) -> None:
    """Report missing bars (gaps) in a candle dataset."""
    key = _key(exchange, symbol, timeframe)
    gaps = services.gap_report(settings_of(ctx), key)
    if not gaps:
        out.print(f"{exchange}/{key.symbol}/{timeframe}: no gaps.")
        return
    assert key.timeframe is not None
    out.print(_gaps_table(gaps, key.timeframe, limit))
    missing = sum(gap.missing_bars for gap in gaps)
    out.print(f"{len(gaps)} gaps, {missing:,} missing bars in total.")


@data_app.command("import")
@friendly
def data_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file.", exists=False)],
    symbol: Annotated[str, typer.Option(help="Symbol, e.g. BTCUSDT.")],
    exchange: ExchangeOpt = "bybit",
    timeframe: TimeframeOpt = "1m",
    funding: FundingOpt = False,
    gaps: Annotated[
        GapPolicy, typer.Option(help="refuse, fill (flat bars) or leave.")
    ] = GapPolicy.REFUSE,
) -> None:
    """Validate a CSV or Parquet file and add it to the store."""
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    report = services.import_file(
        settings_of(ctx), file, _key(exchange, symbol, None if funding else timeframe), gaps
    )
    out.print(
        f"[green]imported[/] {report.path}: {report.rows:,} rows "
        f"({utc_text(report.first_ms)} .. {utc_text(report.last_ms)} UTC), {report.gaps} gaps, "
        f"{report.filled_bars:,} flat bars filled, {report.added:,} new rows stored in {report.key}"
    )


@data_app.command("resample")
@friendly
def data_resample(
    ctx: typer.Context,
    symbol: SymbolArg,
    to: Annotated[list[str], typer.Option("--to", help="Target timeframe(s), e.g. --to 1h.")],
    exchange: ExchangeOpt = "bybit",
    source_timeframe: Annotated[str, typer.Option("--from", help="Base timeframe.")] = "1m",
) -> None:
    """Build larger bars (5m, 15m, 1h, 4h, 1d …) from a stored base timeframe, aligned to UTC."""
    key = _key(exchange, symbol, source_timeframe)
    written = [services.resample_dataset(settings_of(ctx), key, Timeframe.parse(t)) for t in to]
    out.print(datasets_table(written))


@data_app.command("download")
@friendly
def data_download(
    ctx: typer.Context,
    symbol: SymbolArg,
    timeframe: TimeframeOpt = "1m",
    since: Annotated[str, typer.Option(help="Start (UTC), e.g. 2024-01-01.")] = "",
    until: Annotated[str, typer.Option(help="End (UTC, exclusive); default now.")] = "",
    exchange: ExchangeOpt = "bybit",
) -> None:
    """Fetch candles and funding rates from the exchange's public API (resumes where it stopped)."""
    now = now_ms()
    tf = Timeframe.parse(timeframe)
    since_ms = parse_time(since, "--since") if since else now - 30 * services.DAY_MS
    until_ms = parse_time(until, "--until") if until else now
    if until_ms <= since_ms:
        raise InputError(f"--until {utc_text(until_ms)} must be after --since {utc_text(since_ms)}")
    source = bybit_source(exchange)
    with progress_bar(f"downloading {symbol.upper()} {tf}") as progress:
        request = services.DownloadRequest(symbol.upper(), tf, since_ms, until_ms)
        candles, funding = services.download(
            settings_of(ctx), source, request, now_ms=now, progress=progress
        )
    out.print(f"[green]candles[/] {candles}")
    out.print(f"[green]funding[/] {funding}")
