"""``tradeplay play …``: check and show play files."""

from __future__ import annotations

import typer
from rich.markup import escape

from tradeplay import services
from tradeplay.cli._shell import (
    PlayFileArg,
    friendly,
    out,
)

play_app = typer.Typer(help="Play files: check and show.", no_args_is_help=True)


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
