"""The ``tradeplay`` command line: parse, call :mod:`tradeplay.services`, render with rich.

A TradeplayError becomes one clear red line on stderr and an exit code (1 fatal, 2 rejected or
bad input, 3 temporary: try again later); a user never sees a traceback for an expected error.

One module per command group. The commands are registered here, in the order ``--help`` lists
them: the way from data to a backtest to live.
"""

from __future__ import annotations

from tradeplay.cli import backtest, data, deploy, emulator, keys, pipeline, play, run
from tradeplay.cli._shell import app

for _command in (
    backtest.quickstart,
    backtest.backtest,
    emulator.emulator,
    run.run,
    deploy.up,
    deploy.status,
    deploy.pause,
    deploy.resume,
    deploy.stop,
    deploy.panic,
):
    app.command()(_command)
app.add_typer(data.data_app, name="data")
app.add_typer(play.play_app, name="play")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(pipeline.pipeline_app, name="pipeline")

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
