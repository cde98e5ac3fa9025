"""``tradeplay pipeline …``: where each play stands on the ladder, its record against the
thresholds, and the operator's moves."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tradeplay import services
from tradeplay.cli._shell import friendly, out, parse_time, settings_of
from tradeplay.domain.values import utc_from_ms
from tradeplay.runtime.supervisor import SystemClock

pipeline_app = typer.Typer(
    help="The graduation pipeline: stages, records against thresholds, promotions.",
    no_args_is_help=True,
)

DeploymentOpt = Annotated[
    Path | None,
    typer.Option("--deployment", help="Deployment file whose pipeline: section sets the ladder."),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]


@pipeline_app.command("status")
@friendly
def pipeline_status(ctx: typer.Context, deployment: DeploymentOpt = None) -> None:
    """Every play: stage, when it entered it, capital share, and its last judgement's numbers
    (its days there count only the bars it traded)."""
    clock = SystemClock()
    found = services.pipeline_status(settings_of(ctx), deployment, os.environ, clock)
    if not found:
        out.print("no play in the pipeline yet")
    for standing in found:
        place = standing.placement
        out.print(
            f"[bold]{escape(place.play)}[/]  {place.stage}  entered "
            f"{standing.days(clock.now()):.1f} days ago  share {_percent(place.share)}"
        )
        if place.held_in is not None:
            out.print(
                f"  [red]held[/]: not flat in {escape(place.held_in)} when it moved; trades "
                "nowhere until it is (close it at the venue, or `tradeplay panic "
                f"{escape(place.held_in)}`: halts every play there)"
            )
        last = standing.last
        if last is None:
            continue
        out.print(
            f"  last: {last.verdict} at {last.decided_at:%Y-%m-%d %H:%M} UTC: {escape(last.reason)}"
        )
        for check in standing.checks():
            out.print(f"    {check.describe()}")
        if "parity" in last.metrics:
            out.print(f"    {escape(str(last.metrics['parity']))}")


def _percent(share: Decimal) -> str:
    return f"{float(share) * 100:g} %"


def _move(ctx: typer.Context, play: str, reason: str, deployment: Path | None, *, up: bool) -> None:
    decision = services.pipeline_move(
        settings_of(ctx), deployment, os.environ, SystemClock(), play=play, up=up, reason=reason
    )
    then = " (flatten it there first)" if decision.flatten else ""
    out.print(
        f"{escape(play)}: {decision.from_stage} → {decision.to_stage}, "
        f"share {_percent(decision.share)}{then}"
    )


@pipeline_app.command("promote")
@friendly
def pipeline_promote(
    ctx: typer.Context,
    play: Annotated[str, typer.Argument(help="The play's name.")],
    reason: ReasonOpt,
    deployment: DeploymentOpt = None,
) -> None:
    """Move a play one stage up (into live: the operator's approval)."""
    _move(ctx, play, reason, deployment, up=True)


@pipeline_app.command("demote")
@friendly
def pipeline_demote(
    ctx: typer.Context,
    play: Annotated[str, typer.Argument(help="The play's name.")],
    reason: ReasonOpt,
    deployment: DeploymentOpt = None,
) -> None:
    """Move a play one stage down (out of live, it is flattened first)."""
    _move(ctx, play, reason, deployment, up=False)


@pipeline_app.command("release")
@friendly
def pipeline_release(
    ctx: typer.Context,
    play: Annotated[str, typer.Argument(help="The play's name.")],
    reason: ReasonOpt,
) -> None:
    """Release a play held by a failed flatten: you say its pair there is flat."""
    released = services.pipeline_release(settings_of(ctx), SystemClock(), play=play, reason=reason)
    out.print(
        f"{escape(play)}: released; it trades in {released.stage} from a running "
        "deployment's next bar"
    )


@pipeline_app.command("backtest")
@friendly
def pipeline_backtest(
    ctx: typer.Context,
    play: Annotated[str, typer.Argument(help="The play's name in the deployment.")],
    deployment: Annotated[
        Path, typer.Option("--deployment", help="Deployment file the play graduates in.")
    ],
    start: Annotated[
        str,
        typer.Option("--from", help="Out-of-sample start (UTC): bars the play was not tuned on."),
    ],
    until: Annotated[
        str, typer.Option(help="End (UTC, exclusive); the data's end if left out.")
    ] = "",
) -> None:
    """Judge a play in the backtest stage on stored data it was not tuned on."""
    decision = services.pipeline_backtest(
        settings_of(ctx),
        deployment,
        os.environ,
        SystemClock(),
        play=play,
        out_of_sample_from=utc_from_ms(parse_time(start, "--from")),
        until=utc_from_ms(parse_time(until, "--until")) if until else None,
    )
    out.print(
        f"{escape(play)}: {decision.action}, {decision.from_stage} → {decision.to_stage}: "
        f"{escape(decision.reason)}"
    )


@pipeline_app.command("history")
@friendly
def pipeline_history(
    ctx: typer.Context, play: Annotated[str, typer.Argument(help="The play's name.")]
) -> None:
    """Every decision about a play, oldest first, with its reason."""
    for decision in services.pipeline_history(settings_of(ctx), play, SystemClock()):
        share = "" if decision.share is None else f", share {_percent(decision.share)}"
        out.print(
            f"{decision.decided_at:%Y-%m-%d %H:%M} UTC  {decision.verdict}  "
            f"{decision.from_stage} → {decision.to_stage}{share}: {escape(decision.reason)}"
        )
