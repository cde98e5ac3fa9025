"""The cash side of an environment in one settle coin (USDT for Bybit linear perpetuals).

The wallet balance moves only by transfers, realized PnL, fees and funding, so it always equals
``net_deposits + realized_pnl - fees_paid - funding_paid``; :meth:`Account.check_balanced`
asserts that ledger identity. Unrealized PnL and margin are not stored here: they depend on mark
prices and positions, which the caller passes in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from tradeplay.domain.errors import InputError, LedgerImbalanceError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import ZERO, Money, format_decimal, require_utc


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """Balances of one account in ``coin``. Immutable: every change returns a new account."""

    coin: str
    wallet_balance: Money = ZERO
    net_deposits: Money = ZERO
    realized_pnl: Money = ZERO
    fees_paid: Money = ZERO
    funding_paid: Money = ZERO
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        # The message is only written for a time that is not already UTC (the usual case).
        if self.updated_at is not None and self.updated_at.tzinfo is not UTC:
            require_utc(self.updated_at, f"{self.coin} account updated_at")

    @classmethod
    def funded(cls, coin: str, amount: Money) -> Account:
        """A fresh account holding ``amount`` of ``coin``."""
        return cls(coin=coin).transfer(amount)

    def transfer(self, amount: Money, time: datetime | None = None) -> Account:
        """Money in (positive) or out (negative) of the account."""
        if self.wallet_balance + amount < 0:
            raise InputError(
                f"cannot withdraw {format_decimal(-amount)} {self.coin}: the wallet holds "
                f"{format_decimal(self.wallet_balance)} {self.coin}"
            )
        return replace(
            self,
            wallet_balance=self.wallet_balance + amount,
            net_deposits=self.net_deposits + amount,
            updated_at=time or self.updated_at,
        )

    def apply_fill(self, fill: Fill, realized_pnl: Money) -> Account:
        """Book a fill's fee and the PnL it realized (from :meth:`Position.apply_fill`)."""
        if fill.fee_currency != self.coin:
            raise InputError(
                f"fill {fill.trade_id} charged its fee in {fill.fee_currency}; this account "
                f"holds {self.coin}"
            )
        return replace(
            self,
            wallet_balance=self.wallet_balance + realized_pnl - fill.fee,
            realized_pnl=self.realized_pnl + realized_pnl,
            fees_paid=self.fees_paid + fill.fee,
            updated_at=fill.time,
        )

    def apply_funding(self, event: FundingApplied) -> Account:
        """Book a funding settlement (positive payment = paid, as on the position)."""
        return replace(
            self,
            wallet_balance=self.wallet_balance - event.payment,
            funding_paid=self.funding_paid + event.payment,
            updated_at=event.time,
        )

    def equity(self, unrealized_pnl: Money) -> Money:
        """Wallet balance plus the unrealized PnL of the open positions."""
        return self.wallet_balance + unrealized_pnl

    def available(self, unrealized_pnl: Money, initial_margin: Money) -> Money:
        """What new orders may still use: equity minus the margin already held, not below 0.

        This is the unified-account rule (Bybit ``totalAvailableBalance`` = margin balance -
        initial margin), where unrealized profit counts as collateral.
        """
        return max(ZERO, self.equity(unrealized_pnl) - initial_margin)

    def check_balanced(self) -> None:
        """Raise :class:`LedgerImbalanceError` if the wallet no longer matches its history."""
        expected = self.net_deposits + self.realized_pnl - self.fees_paid - self.funding_paid
        if self.wallet_balance != expected:
            raise LedgerImbalanceError(
                f"{self.coin} wallet balance {format_decimal(self.wallet_balance)} differs from "
                f"deposits + realized PnL - fees - funding = {format_decimal(expected)}"
            )
