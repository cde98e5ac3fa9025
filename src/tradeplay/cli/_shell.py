"""What every command shares: the app and its settings callback, the consoles, error
handling, time parsing and progress bars."""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich import progress as bars
from rich.console import Console
from rich.markup import escape

from tradeplay.domain.errors import FatalError, InputError, TemporaryError, TradeplayError
from tradeplay.logs import configure_logging
from tradeplay.ports import Progress
from tradeplay.settings import LogFormat, Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="tradeplay",
    help="Systematic trading of crypto perpetual futures: one play from backtest to live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Piped output is not squeezed to rich's 80-column default: a log file or `less` has room.
_PIPE_WIDTH = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
out = Console(highlight=False, width=_PIPE_WIDTH)
err = Console(stderr=True, highlight=False)


def settings_of(ctx: typer.Context) -> Settings:
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


def utc_text(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


@contextmanager
def progress_bar(description: str) -> Iterator[Progress]:
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

TimeframeOpt = Annotated[str, typer.Option("--timeframe", "-t", help="Bar length: 1m, 5m, 1h …")]
PlayFileArg = Annotated[Path, typer.Argument(help="Play file (YAML).")]


def parse_time(text: str, option: str) -> int:
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


def now_ms() -> int:
    # The CLI is the outermost shell: the one place allowed to read the wall clock.
    return int(time.time() * 1000)
