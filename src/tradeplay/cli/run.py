"""``tradeplay run``: one play live, with its preflight checklist and a line per bar."""

from __future__ import annotations

import os
import threading
from typing import Annotated

import typer
from rich.markup import escape

from tradeplay import services
from tradeplay.cli._shell import (
    PlayFileArg,
    friendly,
    out,
)
from tradeplay.domain.errors import InputError
from tradeplay.domain.values import utc_from_ms
from tradeplay.runtime.live import RunEnvironment
from tradeplay.runtime.preflight import Preflight
from tradeplay.runtime.runner import BarStep


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
