"""From the command line's words to a running emulator (the CLI stays a thin shell)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tradeplay.data.store import CandleStore
from tradeplay.domain.timeframe import Timeframe
from tradeplay.emulator.config import AccountSpec, ReplaySpeed, load_accounts, parse_account
from tradeplay.emulator.faults import Faults, parse_fault
from tradeplay.emulator.server import Emulator, EmulatorOptions
from tradeplay.emulator.sources import market_from_store, sample_market

__all__ = ["DEFAULT_ACCOUNT", "EmulatorRequest", "build_emulator"]

DEFAULT_ACCOUNT: Final = "demo:emulator-key:emulator-secret:10000"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorRequest:
    """What ``tradeplay emulator`` was asked for."""

    symbols: Sequence[str] = ("BTCUSDT",)
    timeframe: Timeframe = field(default_factory=lambda: Timeframe.parse("1m"))
    sample: bool = False
    sample_days: int = 30
    sample_seed: int = 7
    data_from_ms: int | None = None
    data_until_ms: int | None = None
    replay_from_ms: int | None = None
    speed: str = "realtime"
    host: str = "127.0.0.1"
    port: int = 8080
    accounts: Sequence[str] = ()
    accounts_file: Path | None = None
    faults: Sequence[str] = ()
    rate_limits: bool = True


def build_emulator(store: CandleStore, request: EmulatorRequest) -> Emulator:
    """The emulator the request describes (not started); raises ``InputError`` on bad input."""
    speed = ReplaySpeed.parse(request.speed)
    accounts: list[AccountSpec] = [parse_account(text) for text in request.accounts]
    if request.accounts_file is not None:
        accounts += load_accounts(request.accounts_file)
    if not accounts:
        accounts = [parse_account(DEFAULT_ACCOUNT)]
    faults = Faults([parse_fault(text) for text in request.faults])
    if request.sample:
        market = sample_market(
            symbols=request.symbols,
            seed=request.sample_seed,
            days=request.sample_days,
            timeframe=request.timeframe,
        )
    else:
        market = market_from_store(
            store,
            [symbol.upper() for symbol in request.symbols],
            request.timeframe,
            start_ms=request.data_from_ms,
            until_ms=request.data_until_ms,
        )
    options = EmulatorOptions(
        host=request.host,
        port=request.port,
        speed=speed,
        start_ms=request.replay_from_ms,
        enforce_rate_limits=request.rate_limits,
    )
    return Emulator(market, accounts, options, faults=faults)
