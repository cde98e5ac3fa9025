"""``tradeplay emulator``: a local Bybit V5 exchange replaying stored candles."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tradeplay import services
from tradeplay.cli._shell import (
    TimeframeOpt,
    friendly,
    out,
    parse_time,
    settings_of,
)
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator import Emulator
from tradeplay.emulator.launch import EmulatorRequest, build_emulator


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
        sample_seed=settings_of(ctx).sample_seed,
        data_from_ms=parse_time(data_from, "--from") if data_from else None,
        data_until_ms=parse_time(until, "--until") if until else None,
        replay_from_ms=parse_time(replay_from, "--replay-from") if replay_from else None,
        speed=speed,
        host=host,
        port=port,
        accounts=account or [],
        accounts_file=accounts_file,
        faults=fault or [],
        rate_limits=rate_limits,
    )
    server = build_emulator(services.open_store(settings_of(ctx)), request)

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
