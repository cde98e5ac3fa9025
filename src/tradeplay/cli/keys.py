"""``tradeplay keys …``: API keys, encrypted at rest with TRADEPLAY_SECRET_KEY."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tradeplay import services
from tradeplay.cli._shell import (
    friendly,
    out,
    settings_of,
)
from tradeplay.store import SecretCipher

keys_app = typer.Typer(
    help="API keys, encrypted at rest with TRADEPLAY_SECRET_KEY.", no_args_is_help=True
)


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
    stored = services.add_key(settings_of(ctx), os.environ, name, api_key, api_secret)
    out.print(f"stored {stored.name} ({stored.masked_key})")


@keys_app.command("list")
@friendly
def keys_list(ctx: typer.Context) -> None:
    """Stored keys, masked."""
    for stored in services.list_keys(settings_of(ctx), os.environ):
        out.print(f"{stored.name}  {stored.masked_key}  added {stored.created_at:%Y-%m-%d %H:%M}")


@keys_app.command("remove")
@friendly
def keys_remove(ctx: typer.Context, name: Annotated[str, typer.Argument()]) -> None:
    """Forget a stored key pair."""
    services.remove_key(settings_of(ctx), os.environ, name)
    out.print(f"removed {name}")
