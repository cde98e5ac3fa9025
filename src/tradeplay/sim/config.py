"""How a simulated exchange is set up: cash, leverage, margin, fees, slippage, volume, funding."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from tradeplay.domain.errors import ConfigError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import MarginMode, Money
from tradeplay.sim.fees import FeeSchedule
from tradeplay.sim.funding import FundingSource
from tradeplay.sim.slippage import FixedBps, SlippageModel

__all__ = ["SimConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """Settings of one simulated account trading one symbol."""

    starting_cash: Money = Decimal(10_000)
    """Deposited in the settle coin (USDT) at ``funded_at``."""
    funded_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    leverage: Decimal = Decimal(10)
    """Bybit's default for a new linear position; one leverage for both sides (one-way mode)."""
    margin_mode: MarginMode = MarginMode.CROSS
    fees: FeeSchedule = field(default_factory=FeeSchedule.bybit)
    slippage: SlippageModel = field(default_factory=FixedBps)
    """Applied to taker fills only; the default is none."""
    max_volume_share: Decimal | None = None
    """At most this share of a bar's volume fills in that bar (``None``: no limit)."""
    timeframe: Timeframe = field(default_factory=lambda: Timeframe.parse("1m"))
    """The length of the bars :meth:`SimulatedExchange.advance` receives."""
    funding: FundingSource | None = None
    """``None``: Bybit's baseline constant rate (0.01 % per 8 h) on the instrument's interval.
    Use :meth:`FundingSource.from_history` for real rates, or a constant 0 to switch it off."""
    id_space: str = ""
    """Put before the exchange's own ids (``BTCUSDT_sim-t1``, ``BTCUSDT_sl-2``) so that the
    ids of several simulated accounts recorded in one place do not collide."""
    record: bool = True
    """Keep the run's record — every finished order, fill and ledger entry — to be read at its
    end (:meth:`SimulatedExchange.orders`, ``fills``, ``ledger``). ``False`` for a paper or
    shadow account of a running deployment: its orders and fills are stored as they happen,
    and it runs for months; the account's figures (wallet, fees, funding, realized PnL, the
    position) are kept either way."""

    def __post_init__(self) -> None:
        if not self.starting_cash > 0:
            raise ConfigError(f"starting cash {self.starting_cash} must be positive")
        if self.max_volume_share is not None and not 0 < self.max_volume_share <= 1:
            raise ConfigError(
                f"max volume share {self.max_volume_share} must be a fraction in (0, 1]"
            )
