"""The ``tradeplay`` command line: parse, call :mod:`tradeplay.services`, render with rich.

A TradeplayError becomes one clear red line on stderr and an exit code (1 fatal, 2 rejected or
bad input, 3 temporary: try again later); a user never sees a traceback for an expected error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich import progress as bars
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tradeplay import services
from tradeplay.backtesting import BacktestRequest
from tradeplay.data.download import HistorySource
from tradeplay.data.gaps import Gap, GapPolicy
from tradeplay.data.store import DatasetInfo, DatasetKey
from tradeplay.domain.errors import FatalError, InputError, TemporaryError, TradeplayError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import to_decimal, utc_from_ms
from tradeplay.emulator import Emulator
from tradeplay.emulator.launch import EmulatorRequest, build_emulator
from tradeplay.logs import configure_logging
from tradeplay.ports import Progress
from tradeplay.reports.summary import summary_rows
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.preflight import Preflight
from tradeplay.runtime.runner import BarStep
from tradeplay.runtime.supervisor import SystemClock
from tradeplay.settings import LogFormat, Settings, load_settings
from tradeplay.store import SecretCipher

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="tradeplay",
    help="Systematic trading of crypto perpetual futures: one play from backtest to live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Market data: list, inspect, import, resample, download.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
play_app = typer.Typer(help="Play files: check and show.", no_args_is_help=True)
app.add_typer(play_app, name="play")

# Piped output is not squeezed to rich's 80-column default: a log file or `less` has room.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
out = Console(highlight=False, width=_PIPE_WIDTH)
err = Console(stderr=True, highlight=False)


def _settings(ctx: typer.Context) -> Settings:
    """The settings the root callback built once for this invocation."""
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):  # pragma: no cover - the root callback always runs
        raise TypeError("settings were not built by the root callback")
    return settings


def _exit_code(exc: TradeplayError) -> int:
    if isinstance(exc, TemporaryError):
        return 3
    if isinstance(exc, FatalError):
        return 1
    return 2


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn expected errors into one readable line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TradeplayError as exc:
            # Escaped: messages quote rules such as ``close[1]``, which are not rich markup.
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(_exit_code(exc)) from None

    return wrapper


@app.callback()
@friendly
def root(
    ctx: typer.Context,
    data_home: Annotated[
        Path | None, typer.Option(help="Data folder [env TRADEPLAY_DATA_HOME].")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="debug, info, warning, error [env TRADEPLAY_LOG_LEVEL].")
    ] = None,
    log_format: Annotated[
        LogFormat | None, typer.Option(help="auto, console or json [env TRADEPLAY_LOG_FORMAT].")
    ] = None,
) -> None:
    """Settings come from these options, TRADEPLAY_* variables and $TRADEPLAY_CONFIG (TOML)."""
    settings = load_settings(data_home=data_home, log_level=log_level, log_format=log_format)
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = settings


# --- rendering -------------------------------------------------------------------------------


def _utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _datasets_table(datasets: list[DatasetInfo]) -> Table:
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
            _utc(info.first_ms),
            _utc(info.last_ms),
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
            _utc(gap.after_ms),
            _utc(gap.before_ms),
            f"{gap.missing_bars:,}",
            f"{hours:,.2f} h",
        )
    return table


@contextmanager
def _progress(description: str) -> Iterator[Progress]:
    columns = (
        bars.TextColumn("{task.description}"),
        bars.BarColumn(),
        bars.MofNCompleteColumn(),
        bars.TimeRemainingColumn(),
    )
    with bars.Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --- arguments -------------------------------------------------------------------------------

SymbolArg = Annotated[str, typer.Argument(help="Symbol, e.g. BTCUSDT.")]
ExchangeOpt = Annotated[str, typer.Option(help="Exchange name of the dataset, e.g. bybit, sample.")]
TimeframeOpt = Annotated[str, typer.Option("--timeframe", "-t", help="Bar length: 1m, 5m, 1h …")]
FundingOpt = Annotated[bool, typer.Option("--funding", help="The funding-rate dataset instead.")]


def _key(exchange: str, symbol: str, timeframe: str | None) -> DatasetKey:
    return DatasetKey(exchange, symbol.upper(), Timeframe.parse(timeframe) if timeframe else None)


def _parse_time(text: str, option: str) -> int:
    """ISO date or date-time; a time without an offset is taken as UTC (said in --help)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a date: expected e.g. 2024-01-31 or 2024-01-31T12:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _now_ms() -> int:
    # The CLI is the outermost shell: the one place allowed to read the wall clock.
    return int(time.time() * 1000)


def _bybit_source(name: str) -> HistorySource:
    # Imported here so that commands which never download do not pay for loading ccxt.
    from tradeplay.venues.bybit.history import BybitHistory  # noqa: PLC0415

    if name != "bybit":
        raise InputError(f"exchange {name!r} cannot be downloaded from yet: expected bybit")
    return BybitHistory()


# --- commands --------------------------------------------------------------------------------


@app.command()
@friendly
def quickstart(
    ctx: typer.Context,
    play: Annotated[Path, typer.Argument(help="Play to backtest.")] = Path("plays/ema_cross.yaml"),
    offline: Annotated[bool, typer.Option(help="Do not try the network; use the sample.")] = False,
) -> None:
    """Get market data (real from Bybit, else a generated sample) and backtest an example play."""
    settings = _settings(ctx)
    if not play.is_file():
        raise InputError(f"{play}: no such play file; run this from the repository root")
    with _progress("downloading BTCUSDT 1h from Bybit") as progress:
        result = services.quickstart(
            settings,
            offline=offline,
            source_factory=_bybit_source,
            now_ms=_now_ms(),
            progress=progress,
        )
    style = "green" if result.real_data else "yellow"
    out.print(f"[{style}]{escape(result.note)}[/]")
    out.print(_datasets_table(result.datasets))
    _backtest(settings, play, BacktestRequest(out_dir=services.default_run_folder(settings, play)))


@data_app.command("list")
@friendly
def data_list(ctx: typer.Context) -> None:
    """List every stored dataset: span, rows, gaps and where it came from."""
    datasets = services.list_datasets(_settings(ctx))
    if not datasets:
        out.print(
            f"No market data in {_settings(ctx).store_root}. Run `tradeplay quickstart`, "
            "`tradeplay data download SYMBOL` or `tradeplay data import FILE`."
        )
        return
    out.print(_datasets_table(datasets))
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
        _settings(ctx), _key(exchange, symbol, None if funding else timeframe)
    )
    info = details.info
    table = Table(show_header=False, title=f"{exchange}/{symbol.upper()}", title_justify="left")
    rows = {
        "timeframe": str(info.key.timeframe or "funding"),
        "rows": f"{info.rows:,}",
        "first (UTC)": _utc(info.first_ms),
        "last (UTC)": _utc(info.last_ms),
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
    gaps = services.gap_report(_settings(ctx), key)
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
        _settings(ctx), file, _key(exchange, symbol, None if funding else timeframe), gaps
    )
    out.print(
        f"[green]imported[/] {report.path}: {report.rows:,} rows "
        f"({_utc(report.first_ms)} .. {_utc(report.last_ms)} UTC), {report.gaps} gaps, "
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
    written = [services.resample_dataset(_settings(ctx), key, Timeframe.parse(t)) for t in to]
    out.print(_datasets_table(written))


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
    now = _now_ms()
    tf = Timeframe.parse(timeframe)
    since_ms = _parse_time(since, "--since") if since else now - 30 * services.DAY_MS
    until_ms = _parse_time(until, "--until") if until else now
    if until_ms <= since_ms:
        raise InputError(f"--until {_utc(until_ms)} must be after --since {_utc(since_ms)}")
    source = _bybit_source(exchange)
    with _progress(f"downloading {symbol.upper()} {tf}") as progress:
        request = services.DownloadRequest(symbol.upper(), tf, since_ms, until_ms)
        candles, funding = services.download(
            _settings(ctx), source, request, now_ms=now, progress=progress
        )
    out.print(f"[green]candles[/] {candles}")
    out.print(f"[green]funding[/] {funding}")


PlayFileArg = Annotated[Path, typer.Argument(help="Play file (YAML).")]


@app.command()
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
    settings = _settings(ctx)
    request = BacktestRequest(
        symbol=symbol,
        timeframe=Timeframe.parse(timeframe) if timeframe else None,
        start_ms=_parse_time(start, "--from") if start else None,
        until_ms=_parse_time(until, "--until") if until else None,
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
    with _progress(f"backtesting {play.name}") as progress:
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


@play_app.command("check")
@friendly
def play_check(play: PlayFileArg) -> None:
    """Validate a play file and explain what was checked (exit code 2 with the reasons if not)."""
    report = services.check_play_file(play)
    for line in report.lines():
        out.print(escape(line))


@play_app.command("show")
@friendly
def play_show(play: PlayFileArg) -> None:
    """Print the compiled play: features and their warm-up, rules, sizing and protections."""
    out.print(escape(services.show_play_file(play)))


@app.command()
@friendly
def emulator(
    ctx: typer.Context,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="Symbol to replay (repeatable).")
    ] = None,
    timeframe: TimeframeOpt = "1m",
    sample: Annotated[
        bool,
        typer.Option(help="Replay the generated sample market (not real prices), not the store."),
    ] = False,
    sample_days: Annotated[int, typer.Option(help="Days of sample market to generate.")] = 30,
    data_from: Annotated[str, typer.Option("--from", help="First bar (UTC) of the data.")] = "",
    until: Annotated[str, typer.Option(help="End (UTC, exclusive) of the data.")] = "",
    replay_from: Annotated[
        str,
        typer.Option(
            help="Replay starts here (UTC); earlier bars are history. Default: 1000 bars in."
        ),
    ] = "",
    speed: Annotated[
        str,
        typer.Option(help="realtime, a factor (x60 = one 1m bar per second), max, or step."),
    ] = "realtime",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port for REST and WebSocket (0: any free port).")
    ] = 8080,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            help="NAME:API_KEY:SECRET[:BALANCE_USDT] (repeatable). Default: "
            "demo:emulator-key:emulator-secret:10000.",
        ),
    ] = None,
    accounts_file: Annotated[
        Path | None,
        typer.Option(
            help="Accounts file (TOML, YAML or JSON): a list 'accounts' of name, api_key, "
            "api_secret, balance."
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="KIND[,key=value...] (repeatable). Kinds: rate-limit, server-error, timeout, "
            "latency, drop, stale; keys: path, every, count, ms, status, period, duration. E.g. "
            "rate-limit,every=10  latency,ms=250  timeout,count=1,path=/v5/order/create  "
            "drop,period=60  stale,period=120,duration=30.",
        ),
    ] = None,
    rate_limits: Annotated[
        bool, typer.Option(help="Answer 10006 above Bybit's per-endpoint limits (10/s orders).")
    ] = True,
) -> None:
    """Run a local Bybit V5 exchange (REST + WebSocket) that replays stored candles.

    Point any Bybit client at http://HOST:PORT (REST) and ws://HOST:PORT/v5/public/linear,
    ws://HOST:PORT/v5/private (streams); orders fill on the simulated exchange, exactly as
    in a backtest. Stop with Ctrl-C.
    """
    request = EmulatorRequest(
        symbols=symbol or ["BTCUSDT"],
        timeframe=Timeframe.parse(timeframe),
        sample=sample,
        sample_days=sample_days,
        sample_seed=_settings(ctx).sample_seed,
        data_from_ms=_parse_time(data_from, "--from") if data_from else None,
        data_until_ms=_parse_time(until, "--until") if until else None,
        replay_from_ms=_parse_time(replay_from, "--replay-from") if replay_from else None,
        speed=speed,
        host=host,
        port=port,
        accounts=account or [],
        accounts_file=accounts_file,
        faults=fault or [],
        rate_limits=rate_limits,
    )
    server = build_emulator(services.open_store(_settings(ctx)), request)

    def started(running: Emulator) -> None:
        out.print(f"[green]Bybit V5 emulator[/] {escape(running.market.label)}")
        out.print(f"REST        {running.url}")
        out.print(f"WebSocket   {running.ws_url}/v5/public/linear  {running.ws_url}/v5/private")
        for book in running.venue.books.values():
            spec = book.spec
            out.print(f"account     {spec.name}: key {spec.api_key}, {spec.balance} USDT")
        out.print(f"speed       {running.options.speed}; Ctrl-C stops", soft_wrap=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever(started))


@app.command()
@friendly
def run(
    play: PlayFileArg,
    env: Annotated[
        RunEnvironment,
        typer.Option(
            "--env",
            help="shadow (would-be orders), paper (local fills), demo, testnet or live.",
            case_sensitive=False,
        ),
    ],
    symbol: Annotated[str | None, typer.Option(help="Symbol; default the play's.")] = None,
    emulator_url: Annotated[
        str | None,
        typer.Option("--emulator", help="Use the local emulator at this URL instead of Bybit."),
    ] = None,
    confirm: Annotated[
        bool, typer.Option(help="Required for --env live (with CONFIRM_LIVE_TRADING=true).")
    ] = False,
    bars: Annotated[
        int | None, typer.Option(help="Stop after this many live bars (default: run until Ctrl-C).")
    ] = None,
) -> None:
    """Run a play live: preflight checklist, warm-up, then one engine step per closed bar.

    Keys come from BYBIT_DEMO_API_KEY / BYBIT_DEMO_API_SECRET (TESTNET, LIVE likewise). Ctrl-C
    stops cleanly: open orders and positions stay as they are and are reported.
    """
    request = services.LiveRunRequest(
        environment=env, symbol=symbol, emulator_url=emulator_url, confirm=confirm, max_bars=bars
    )
    if env is RunEnvironment.LIVE:
        out.print("[bold red]LIVE[/]: this places real orders with real money on Bybit mainnet.")
    stop = threading.Event()
    try:
        outcome = services.run_play_file(
            play,
            request,
            os.environ,
            on_preflight=_print_preflight,
            on_step=_print_step,
            stop=stop,
        )
    except KeyboardInterrupt:
        stop.set()
        out.print("stopped: open orders and positions were left as they are")
        return
    if not outcome.preflight.passed:
        failed = outcome.preflight.failure
        raise InputError(f"preflight failed: {failed.name}: {failed.detail}" if failed else "")
    position = outcome.position
    out.print(f"stopped after {outcome.bars} bars")
    if position is not None and not position.is_flat:
        out.print(f"open position: {position.size} {position.symbol} at {position.entry_price}")
    for order in outcome.open_orders:
        out.print(f"open order: {order.ref} {order.side} {order.qty} {order.order_type}")


def _print_preflight(preflight: Preflight) -> None:
    marks = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[dim]-[/]"}
    for check in preflight.checks:
        out.print(f"{marks[check.passed]} {check.name}: {escape(check.detail)}")


def _print_step(step: BarStep) -> None:
    fired = ", ".join(rule for rule, on in step.signals.items() if on) or "-"
    when = utc_from_ms(step.open_ms)
    out.print(f"{when:%Y-%m-%d %H:%M} bar {step.index}: {fired}", highlight=False)


# --- deployments: several environments in one process ----------------------------------------

keys_app = typer.Typer(
    help="API keys, encrypted at rest with TRADEPLAY_SECRET_KEY.", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@app.command()
@friendly
def up(
    ctx: typer.Context,
    deployment: Annotated[Path, typer.Argument(help="The deployment file (YAML).")],
    confirm: Annotated[
        bool, typer.Option(help="Required when a live environment is deployed.")
    ] = False,
) -> None:
    """Run every play of a deployment in its environments, in this process, until Ctrl-C."""
    stop = threading.Event()
    try:
        services.up_deployment(_settings(ctx), deployment, os.environ, confirm=confirm, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        out.print("stopped: open orders and positions were left as they are")


@app.command()
@friendly
def status(ctx: typer.Context) -> None:
    """Each environment's lifecycle, equity, daily PnL, positions and open orders."""
    found = services.deployment_status(_settings(ctx), SystemClock())
    if not found:
        out.print("nothing deployed yet: start a deployment with `tradeplay up FILE`")
    for env in found:
        equity = "-" if env.equity is None else f"{env.equity.equity:.2f}"
        pnl = "-" if env.daily_pnl is None else f"{env.daily_pnl:+.2f}"
        out.print(f"[bold]{env.name}[/]  equity {equity}  today {pnl}")
        for item in env.deployments:
            why = f" ({escape(item.reason)})" if item.reason else ""
            out.print(f"  {item.name}: {item.state}{why}")
        for position in env.positions:
            out.print(f"  position {position.symbol} {position.size} @ {position.entry_price}")
        for order in env.open_orders:
            out.print(f"  order {order.ref} {order.side} {order.qty} {order.order_type}")


def _request(ctx: typer.Context, target: str, action: str) -> None:
    moved = services.request_deployments(_settings(ctx), target, action, SystemClock())
    for item in moved:
        out.print(f"{item.name}@{item.environment}: {item.state}")


@app.command()
@friendly
def pause(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Stop taking signals (bars still stream, so features stay warm)."""
    _request(ctx, target, "pause")


@app.command()
@friendly
def resume(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Trade again (also the operator's way out of an emergency)."""
    _request(ctx, target, "resume")


@app.command()
@friendly
def stop(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Stop the play(s); open orders and positions stay as they are."""
    _request(ctx, target, "stop")


@keys_app.command("init")
@friendly
def keys_init() -> None:
    """Print a new TRADEPLAY_SECRET_KEY (keep it outside the database and deployment files)."""
    out.print(SecretCipher.generate_key())


@keys_app.command("add")
@friendly
def keys_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name the deployment file refers to.")],
) -> None:
    """Store an API key pair (prompted, never echoed)."""
    api_key = typer.prompt("API key", hide_input=True)
    api_secret = typer.prompt("API secret", hide_input=True)
    stored = services.add_key(_settings(ctx), os.environ, name, api_key, api_secret)
    out.print(f"stored {stored.name} ({stored.masked_key})")


@keys_app.command("list")
@friendly
def keys_list(ctx: typer.Context) -> None:
    """Stored keys, masked."""
    for stored in services.list_keys(_settings(ctx), os.environ):
        out.print(f"{stored.name}  {stored.masked_key}  added {stored.created_at:%Y-%m-%d %H:%M}")


@keys_app.command("remove")
@friendly
def keys_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Forget a stored key pair."""
    services.remove_key(_settings(ctx), os.environ, name)
    out.print(f"removed {name}")


def main() -> None:
    """Console-script entry point."""
    app()
