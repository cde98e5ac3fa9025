"""A deployment spelled out: one (play, environment) pair per engine, and each account's keys.

A pair's capital is its share of the environment's capital; its risk limits are the
environment's. Local environments (shadow, paper) give every pair a simulated account of its
own holding that capital; venue environments share one account, whose keys come from the key
ring, from ``${VAR}`` references in the file, or from ``BYBIT_{DEMO,TESTNET,LIVE}_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.values import Symbol
from tradeplay.engine.risk import RiskLimits
from tradeplay.play import load_play
from tradeplay.play.compiler import CompiledPlay
from tradeplay.runtime.deployment import Deployment, EnvironmentSpec
from tradeplay.runtime.deployment_checks import play_name
from tradeplay.runtime.live import credentials_for
from tradeplay.store.keys import KeyRing
from tradeplay.venues.bybit.config import BybitCredentials

__all__ = ["Pair", "PairKey", "account_credentials", "pairs_of"]


@dataclass(frozen=True, slots=True, order=True)
class PairKey:
    """Which engine: a play (by its name in the deployment) in an environment."""

    environment: str
    play: str

    def __str__(self) -> str:
        return f"{self.play}@{self.environment}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    key: PairKey
    play: CompiledPlay
    symbol: Symbol
    capital: Decimal
    limits: RiskLimits


def pairs_of(deployment: Deployment) -> list[Pair]:
    """Every pair, by environment in file order, then play in file order; each play file is
    compiled once."""
    found: list[Pair] = []
    traded: dict[tuple[str, str], str] = {}
    for spec in deployment.model.plays:
        play = load_play(deployment.play_path(spec))
        name = play_name(deployment, spec)
        symbol = spec.symbol or play.play.instruments[0]
        for env_name in deployment.environments_of(spec):
            environment = deployment.model.environments[env_name]
            other = traded.setdefault((env_name, symbol), name)
            if other != name:
                raise ConfigError(
                    f"{deployment.source}: {name} and {other} both trade {symbol} in {env_name}; "
                    "each play of an environment needs its own symbol"
                )
            found.append(
                Pair(
                    key=PairKey(env_name, name),
                    play=play,
                    symbol=symbol,
                    capital=environment.capital * spec.capital_share,
                    limits=environment.risk.limits(),
                )
            )
    order = list(deployment.model.environments)
    return sorted(found, key=lambda pair: order.index(pair.key.environment))


def account_credentials(
    name: str,
    spec: EnvironmentSpec,
    keys: KeyRing | None,
    environ: Mapping[str, str],
) -> BybitCredentials | None:
    """The keys of environment ``name`` (``None`` for shadow and paper: no account)."""
    if spec.kind.local_fills:
        return None
    if spec.credentials is not None:
        if keys is None:
            raise ConfigError(
                f"environment {name} uses the stored key {spec.credentials!r}, but no key ring "
                "is open (set TRADEPLAY_SECRET_KEY)"
            )
        stored = keys.reveal(spec.credentials)
        return BybitCredentials(stored.api_key, stored.api_secret)
    if spec.api_key is not None and spec.api_secret is not None:
        return BybitCredentials(spec.api_key, spec.api_secret)
    return credentials_for(spec.kind, environ)
