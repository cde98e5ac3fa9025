"""Which Bybit to talk to: environment, hosts, keys. Built once at start-up and passed in.

Hosts per environment (bybit_v5.md §1)::

    environment  REST                           public WS                      private WS
    mainnet      https://api.bybit.com          wss://stream.bybit.com         wss://stream.bybit.com
    testnet      https://api-testnet.bybit.com  wss://stream-testnet.bybit.com wss://stream-testnet…
    demo         https://api-demo.bybit.com     wss://stream.bybit.com (!)     wss://stream-demo.bybit.com

Demo trading has no public stream of its own: it trades mainnet prices, so its market data
comes from the mainnet public stream. Every URL can be replaced (:meth:`BybitEndpoints.local`)
so the local emulator can stand in for Bybit.

Keys come from ``BYBIT_{LIVE,DEMO,TESTNET}_API_KEY`` / ``_SECRET``. :func:`credentials_from`
reads them from the mapping it is given — the caller that builds the settings passes
``os.environ`` — so nothing below reads the environment by itself. A key works only on its own
environment's host (10003 elsewhere, §1), so each environment has its own pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from tradeplay.domain.errors import ConfigError

__all__ = [
    "BybitCredentials",
    "BybitEndpoints",
    "BybitEnvironment",
    "VenueConfig",
    "credentials_from",
]


class BybitEnvironment(StrEnum):
    MAINNET = "mainnet"
    TESTNET = "testnet"
    DEMO = "demo"

    @property
    def key_prefix(self) -> str:
        """``BYBIT_LIVE`` for mainnet (the project calls real money "live")."""
        name = "LIVE" if self is BybitEnvironment.MAINNET else self.name
        return f"BYBIT_{name}"


@dataclass(frozen=True, slots=True)
class BybitEndpoints:
    """Base URLs: REST root, public linear stream, private stream."""

    rest: str
    ws_public: str
    ws_private: str

    @classmethod
    def of(cls, environment: BybitEnvironment) -> BybitEndpoints:
        return _HOSTS[environment]

    @classmethod
    def local(cls, base_url: str) -> BybitEndpoints:
        """Everything on one server, e.g. the emulator at ``http://127.0.0.1:8080``; its
        streams are at ``ws://…/v5/public/linear`` and ``ws://…/v5/private`` like Bybit's."""
        rest = base_url.rstrip("/")
        ws = "ws" + rest.removeprefix("http")  # http → ws, https → wss
        return cls(rest, f"{ws}/v5/public/linear", f"{ws}/v5/private")


_HOSTS: Final = {
    BybitEnvironment.MAINNET: BybitEndpoints(
        "https://api.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream.bybit.com/v5/private",
    ),
    BybitEnvironment.TESTNET: BybitEndpoints(
        "https://api-testnet.bybit.com",
        "wss://stream-testnet.bybit.com/v5/public/linear",
        "wss://stream-testnet.bybit.com/v5/private",
    ),
    BybitEnvironment.DEMO: BybitEndpoints(
        "https://api-demo.bybit.com",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream-demo.bybit.com/v5/private",
    ),
}


@dataclass(frozen=True, slots=True)
class BybitCredentials:
    """An API key pair. The secret never appears in a repr or a log line."""

    api_key: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.api_key or not self.secret:
            raise ConfigError("a Bybit API key and secret must both be given")


def credentials_from(
    environ: Mapping[str, str], environment: BybitEnvironment
) -> BybitCredentials | None:
    """The key pair of ``environment`` from ``environ`` (``BYBIT_DEMO_API_KEY`` …), ``None``
    when neither is set; half a pair is a configuration error worth stopping for."""
    prefix = environment.key_prefix
    key = environ.get(f"{prefix}_API_KEY", "").strip()
    secret = (
        environ.get(f"{prefix}_API_SECRET", "").strip()
        or environ.get(f"{prefix}_SECRET", "").strip()
    )
    if not key and not secret:
        return None
    if not key or not secret:
        raise ConfigError(
            f"{prefix}_API_KEY and {prefix}_API_SECRET must both be set for {environment}"
        )
    return BybitCredentials(key, secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueConfig:
    """Everything a :class:`~tradeplay.venues.bybit.venue.BybitVenue` needs to know."""

    environment: BybitEnvironment
    credentials: BybitCredentials | None = None
    endpoints: BybitEndpoints | None = None
    """``None``: the environment's own hosts."""
    settle_coin: str = "USDT"
    recv_window_ms: int = 5000
    """Bybit's default validity window of a signed request (bybit_v5.md §3.1)."""
    request_timeout_s: float = 10.0
    ping_interval_s: float = 20.0
    """Bybit recommends a ping every 20 s (bybit_v5.md §4.3); ccxt fails the socket after
    two intervals without a pong."""
    kline_stale_after_s: float = 120.0
    """Silence after which the kline stream counts as dead and is reconnected (the heartbeat):
    Bybit sends a kline update every 1 to 60 s (bybit_v5.md §7.1)."""

    @property
    def urls(self) -> BybitEndpoints:
        return self.endpoints or BybitEndpoints.of(self.environment)
