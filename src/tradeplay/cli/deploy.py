"""Deployments, several environments in one process: ``tradeplay up``, ``status``, ``pause``,
``resume``, ``stop`` and ``panic``."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tradeplay import services
from tradeplay.cli._shell import (
    friendly,
    out,
    settings_of,
)
from tradeplay.runtime.supervisor import SystemClock


@friendly
def up(
    ctx: typer.Context,
    deployment: Annotated[Path, typer.Argument(help="The deployment file (YAML).")],
    confirm: Annotated[
        bool, typer.Option(help="Required when a live environment is deployed.")
    ] = False,
) -> None:
    """Run every play of a deployment in its environments, in this process, until Ctrl-C.

    Events are published in this process, or to Redis when TRADEPLAY_REDIS_URL is set.
    """
    stop = threading.Event()
    try:
        services.up_deployment(settings_of(ctx), deployment, os.environ, confirm=confirm, stop=stop)
    except KeyboardInterrupt:
        stop.set()
        out.print("stopped: open orders and positions were left as they are")


@friendly
def status(ctx: typer.Context) -> None:
    """Each environment's lifecycle, equity, daily PnL, positions and open orders."""
    found = services.deployment_status(settings_of(ctx), SystemClock())
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
    moved = services.request_deployments(settings_of(ctx), target, action, SystemClock())
    for item in moved:
        out.print(f"{item.name}@{item.environment}: {item.state}")


@friendly
def pause(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Stop taking signals (bars still stream, so features stay warm)."""
    _request(ctx, target, "pause")


@friendly
def resume(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Trade again (also the operator's way out of an emergency)."""
    _request(ctx, target, "resume")


@friendly
def stop(ctx: typer.Context, target: Annotated[str, typer.Argument(help="PLAY or ENV.")]) -> None:
    """Stop the play(s); open orders and positions stay as they are."""
    _request(ctx, target, "stop")


@friendly
def panic(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="ENV, or all.")],
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the running deployment to apply it.")
    ] = 10.0,
) -> None:
    """Cancel every order and close every position of ENV (or all), and halt it.

    The running `tradeplay up` applies it within about a second and this command reports what
    it did. With nothing running, the request is kept: the next `tradeplay up` starts those
    plays halted and flattens first. The environment stays halted until `tradeplay resume`.
    """
    settings = settings_of(ctx)
    requests = services.request_panic(settings, target, SystemClock())
    names = ", ".join(r.environment for r in requests)
    out.print(
        f"panic requested for {names}: the running deployment applies it within about "
        f"1 s (waiting up to {wait:g} s)"
    )
    found = services.await_panics(settings, requests, wait)
    missed = [r for r in found if r.applied_at is None]
    for request in found:
        if request.applied_at is not None:
            out.print(
                f"{request.environment}: applied at {request.applied_at:%H:%M:%S} UTC — "
                f"{escape(request.detail)}"
            )
        else:
            out.print(
                f"{request.environment}: [red]not applied within {wait:g} s[/]: no running "
                "deployment took it. Its plays are stored in emergency; the next `tradeplay up` "
                "starts them halted and flattens them first. Until then the venue's orders and "
                "positions stay as they are."
            )
    if missed:
        raise typer.Exit(3)
