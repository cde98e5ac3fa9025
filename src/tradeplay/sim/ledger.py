"""The simulated account's cash journal in its settle coin (USDT): append-only, exact, checked.

Every change of the wallet balance is one :class:`LedgerEntry` whose ``amount`` is that change
(positive = money in, negative = money out), with a time, a kind and a reference a report can
show (trade id, funding settlement time, transfer name):

==================  ============================================  ===========================
kind                amount                                        reference
==================  ============================================  ===========================
``deposit``         + deposit, − withdrawal                        caller's text
``realized_pnl``    PnL a fill realized (gross of fees)            trade id
``fee``             − fee paid, + maker rebate                     trade id
``liquidation_fee`` − taker fee charged on a liquidation takeover  trade id
``funding``         − payment (+ when received)                    settlement time (ISO, UTC)
``insurance``       + shortfall covered by the insurance fund      caller's text
==================  ============================================  ===========================

Totals follow the trader's sign conventions instead: ``fees_paid``, ``liquidation_fees`` and
``funding_paid`` are positive when paid, as on :class:`~tradeplay.domain.position.Position`.

The identity :meth:`Ledger.check` enforces, after every booking if the caller likes::

    wallet = Σ entries
           = deposits + realized PnL − fees − liquidation fees − funding + insurance

and, given the positions, that their realized PnL, fees and funding are the ledger's to the
cent. Sums use a 60-digit context, so the ledger's own arithmetic is exact for any realistic
account and its identities are checked exactly.

Equity and available balance (Bybit ``wallet-balance``)
    equity = wallet + unrealized PnL. Available = equity − position initial margin − order
    margin, not below zero (cross, unified account: unrealized profit counts as collateral);
    isolated: wallet − position IM − order IM (Bybit's isolated rule; each position's losses stay
    inside its own margin).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from typing import Final, TypeAlias

from tradeplay.domain.account import Account
from tradeplay.domain.errors import InputError, LedgerImbalanceError
from tradeplay.domain.events import FundingApplied
from tradeplay.domain.fill import Fill
from tradeplay.domain.position import Position
from tradeplay.domain.slots import quick_init
from tradeplay.domain.values import (
    ZERO,
    MarginMode,
    Money,
    Symbol,
    format_decimal,
    require_utc,
)

__all__ = ["EntryKind", "Ledger", "LedgerEntry"]

_CONTEXT: Final = Context(prec=60, rounding=ROUND_HALF_EVEN)
_HALF_CENT: Final = Decimal("0.005")


class EntryKind(StrEnum):
    DEPOSIT = "deposit"
    REALIZED_PNL = "realized_pnl"
    FEE = "fee"
    LIQUIDATION_FEE = "liquidation_fee"
    FUNDING = "funding"
    INSURANCE = "insurance"


@quick_init
@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One change of the wallet balance: ``amount`` > 0 in, < 0 out."""

    time: datetime
    kind: EntryKind
    amount: Money
    reference: str
    symbol: Symbol = ""

    def __post_init__(self) -> None:
        if self.time.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(self.time, f"ledger entry {self.reference} time")


_Row: TypeAlias = tuple[datetime, str, Money, str, Symbol]
"""``(time, kind's value, amount, reference, symbol)``. The kind is kept as its text: a tuple of
plain values is one the garbage collector stops tracking, and a run keeps tens of thousands of
rows alive (an enum member would keep each one under watch at every full collection)."""
_KINDS: Final = {kind.value: kind for kind in EntryKind}
_TEXT: Final = {kind: kind.value for kind in EntryKind}
"""Each kind's text, looked up per booking (``kind.value`` is a descriptor call on an enum)."""

# Members read per order and per fill, bound once: on Python 3.11 every ``Enum.MEMBER`` read
# goes through the enum metaclass's ``__getattr__`` hook, ten times a module global.
_REALIZED_PNL, _FEE, _LIQUIDATION_FEE = (
    EntryKind.REALIZED_PNL,
    EntryKind.FEE,
    EntryKind.LIQUIDATION_FEE,
)
_DEPOSIT, _FUNDING, _INSURANCE = EntryKind.DEPOSIT, EntryKind.FUNDING, EntryKind.INSURANCE


class Ledger:
    """The journal of one account. Append-only: entries are added, never changed or removed."""

    __slots__ = ("_account", "_last", "_record", "_rows", "_totals", "_wallet", "coin")

    def __init__(self, coin: str = "USDT", *, record: bool = True) -> None:
        """``record=False``: keep the totals, not the entries (an account that runs for months
        and whose bookings are stored elsewhere); :meth:`entries`, :meth:`by_reference` and
        :meth:`check` then refuse, having nothing to read."""
        self.coin = coin
        self._record = record
        self._rows: list[_Row] = []
        """The entries as plain rows: a backtest books tens of thousands and reads them once,
        so each becomes a :class:`LedgerEntry` only when read (:meth:`entries`)."""
        self._last: datetime | None = None
        """The time of the last booking."""
        self._totals: dict[EntryKind, Money] = dict.fromkeys(EntryKind, ZERO)
        self._wallet: Money = ZERO
        self._account: Account | None = None
        """The :meth:`account` view until the next booking."""

    # ---------------------------------------------------------------- views

    @property
    def wallet_balance(self) -> Money:
        return self._wallet

    @property
    def deposits(self) -> Money:
        """Net transfers in (withdrawals subtracted)."""
        return self._totals[_DEPOSIT]

    @property
    def realized_pnl(self) -> Money:
        """Gross realized PnL of all fills, liquidation takeovers included."""
        return self._totals[_REALIZED_PNL]

    @property
    def fees_paid(self) -> Money:
        """Trading fees paid (rebates subtracted), liquidation fees not included."""
        return -self._totals[_FEE]

    @property
    def liquidation_fees(self) -> Money:
        return -self._totals[_LIQUIDATION_FEE]

    @property
    def funding_paid(self) -> Money:
        """Funding paid minus funding received."""
        return -self._totals[_FUNDING]

    @property
    def insurance_credit(self) -> Money:
        """Shortfalls the insurance fund covered (the trader never owes)."""
        return self._totals[_INSURANCE]

    def entries(self, kind: EntryKind | None = None) -> tuple[LedgerEntry, ...]:
        """All entries in booking order, or those of one ``kind``."""
        self._require_entries("its entries")
        wanted = None if kind is None else kind.value
        return tuple(
            LedgerEntry(
                time=time, kind=_KINDS[kind_], amount=amount, reference=reference, symbol=symbol
            )
            for time, kind_, amount, reference, symbol in self._rows
            if wanted is None or kind_ == wanted
        )

    def by_reference(self, kind: EntryKind) -> dict[str, Money]:
        """The amounts of one ``kind`` by reference (a trade id's realized PnL …); a reference
        booked twice shows its last amount. Read from the rows: no entry is built."""
        self._require_entries(f"its {kind} entries by reference")
        wanted = kind.value
        return {
            reference: amount for _, kind_, amount, reference, _ in self._rows if kind_ == wanted
        }

    def equity(self, unrealized_pnl: Money) -> Money:
        """Wallet balance + unrealized PnL of the open positions."""
        return self._wallet + unrealized_pnl

    def available(
        self,
        unrealized_pnl: Money,
        position_margin: Money,
        order_margin: Money,
        mode: MarginMode = MarginMode.CROSS,
    ) -> Money:
        """What new orders may use, never below zero (see the module docstring)."""
        base = self.equity(unrealized_pnl) if mode is MarginMode.CROSS else self._wallet
        return max(ZERO, base - position_margin - order_margin)

    def account(self) -> Account:
        """The domain :class:`Account` view (an insurance credit counts as realized PnL)."""
        if self._account is None:  # rebuilt after every booking, once asked
            self._account = Account(
                coin=self.coin,
                wallet_balance=self._wallet,
                net_deposits=self.deposits,
                realized_pnl=self.realized_pnl + self.insurance_credit,
                fees_paid=self.fees_paid + self.liquidation_fees,
                funding_paid=self.funding_paid,
                updated_at=self._last,
            )
        return self._account

    # ---------------------------------------------------------------- bookings

    def deposit(self, amount: Money, time: datetime, reference: str = "deposit") -> None:
        """Money into the account (the starting cash of a backtest)."""
        if not amount > 0:
            raise InputError(f"a deposit must be positive, got {format_decimal(amount)}")
        self._append(time, EntryKind.DEPOSIT, amount, reference)

    def withdraw(self, amount: Money, time: datetime, reference: str = "withdrawal") -> None:
        """Money out of the account; never more than the wallet holds."""
        if not 0 < amount <= self._wallet:
            raise InputError(
                f"cannot withdraw {format_decimal(amount)} {self.coin}: the wallet holds "
                f"{format_decimal(self._wallet)} {self.coin}"
            )
        self._append(time, EntryKind.DEPOSIT, -amount, reference)

    def book_fill(self, fill: Fill, realized_pnl: Money, *, liquidation: bool = False) -> None:
        """A fill's realized PnL (from the position's change) and its fee.

        ``liquidation=True`` books the fee as a liquidation fee (the takeover fill).
        Zero amounts are not journaled.
        """
        if fill.fee_currency != self.coin:
            raise InputError(
                f"fill {fill.trade_id} charged its fee in {fill.fee_currency}; this ledger "
                f"holds {self.coin}"
            )
        if realized_pnl:
            self._append(fill.time, _REALIZED_PNL, realized_pnl, fill.trade_id, fill.symbol)
        if fill.fee:
            kind = _LIQUIDATION_FEE if liquidation else _FEE
            self._append(fill.time, kind, -fill.fee, fill.trade_id, fill.symbol)

    def book_funding(self, event: FundingApplied) -> None:
        """A funding settlement (``event.payment`` > 0 paid, < 0 received)."""
        if event.payment:
            reference = event.time.isoformat()
            self._append(event.time, EntryKind.FUNDING, -event.payment, reference, event.symbol)

    def cover_shortfall(self, time: datetime, reference: str = "liquidation") -> Money:
        """Bring a negative wallet back to zero from the insurance fund; returns the credit.

        Call after booking a liquidation takeover (isolated), or once no cross position is left:
        a Bybit account never ends a liquidation owing money.
        """
        if self._wallet >= 0:
            return ZERO
        credit = -self._wallet
        self._append(time, EntryKind.INSURANCE, credit, reference)
        return credit

    def _append(
        self, time: datetime, kind: EntryKind, amount: Money, reference: str, symbol: Symbol = ""
    ) -> None:
        if time.tzinfo is not UTC:  # the message is only written when it is needed
            require_utc(time, f"ledger entry {reference} time")
        if self._record:
            self._rows.append((time, _TEXT[kind], amount, reference, symbol))
        self._last = time
        self._account = None
        self._totals[kind] = _CONTEXT.add(self._totals[kind], amount)
        self._wallet = _CONTEXT.add(self._wallet, amount)

    # ---------------------------------------------------------------- the identity

    def check(self, positions: Iterable[Position] = ()) -> None:
        """Raise :class:`LedgerImbalanceError` with the numbers unless everything adds up.

        ``positions``: every position this account ever booked fills for, each carrying its
        whole history (a ``Position`` keeps its realized PnL, fees and funding when flat).
        Costs one pass over the entries: call it after a run or at checkpoints, not per fill.
        """
        self._require_entries("a check against its entries")
        entries = _sum(row[2] for row in self._rows)
        by_kind = _sum(self._totals.values())
        if not self._wallet == entries == by_kind:
            raise LedgerImbalanceError(
                f"{self.coin} wallet balance {format_decimal(self._wallet)} differs from the sum "
                f"of its entries {format_decimal(entries)} or of deposits "
                f"{format_decimal(self.deposits)} + realized PnL "
                f"{format_decimal(self.realized_pnl)} − fees {format_decimal(self.fees_paid)} − "
                f"liquidation fees {format_decimal(self.liquidation_fees)} − funding "
                f"{format_decimal(self.funding_paid)} + insurance "
                f"{format_decimal(self.insurance_credit)} = {format_decimal(by_kind)}"
            )
        self._check_positions(list(positions))

    def _require_entries(self, what: str) -> None:
        if not self._record:
            raise InputError(
                f"this {self.coin} ledger keeps its totals, not its entries (record=False): "
                f"{what} cannot be read"
            )

    def _check_positions(self, positions: list[Position]) -> None:
        if not positions:
            return
        pairs = {
            "realized PnL": (_sum(p.realized_pnl for p in positions), self.realized_pnl),
            "fees": (
                _sum(p.fees_paid for p in positions),
                self.fees_paid + self.liquidation_fees,
            ),
            "funding": (_sum(p.funding_paid for p in positions), self.funding_paid),
        }
        wrong = [
            f"{what}: positions {format_decimal(held)}, ledger {format_decimal(booked)}"
            for what, (held, booked) in pairs.items()
            if abs(held - booked) >= _HALF_CENT
        ]
        if wrong:
            raise LedgerImbalanceError(
                f"{self.coin} ledger and positions disagree by a cent or more: " + "; ".join(wrong)
            )


def _sum(amounts: Iterable[Money]) -> Money:
    total = ZERO
    for amount in amounts:
        total = _CONTEXT.add(total, amount)
    return total
