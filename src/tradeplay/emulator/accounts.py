"""One account on the emulator: a simulated exchange per symbol, its orders and executions.

The simulated exchange trades one symbol, so an account holds one per symbol it trades (a
*slot*), created the first time the account touches the symbol and primed with the last closed
bar so it knows the price. **Cross margin across symbols is not modelled yet:** each slot is
funded with the account's whole balance for its own margin checks, and the wallet the account
reports is the starting balance plus what every slot booked (PnL, fees, funding). With one
symbol per account — the common case — this is exact.

Leverage lives in the simulator's configuration, which has no setter: a leverage change
replaces the slot's simulator with a fresh one funded with the current wallet, which is exact
only while the symbol has no position and no open order, so the emulator refuses the change
otherwise (Bybit would allow it; written in the README).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from tradeplay.domain.instrument import Instrument
from tradeplay.domain.values import ZERO, Symbol, format_decimal, utc_from_ms
from tradeplay.emulator.config import AccountSpec
from tradeplay.emulator.market import SymbolMarket
from tradeplay.emulator.orders import OrderRecord
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import AdvanceResult, SimulatedExchange
from tradeplay.sim.fees import FeeSchedule

__all__ = ["AccountBook", "Slot", "maintenance_margin"]

_MONEY_PLACES: Final = 8


def _money(value: Decimal) -> str:
    """Money as Bybit writes it: at most 8 decimals, no exponent, no trailing zeros."""
    return format_decimal(round(value, _MONEY_PLACES))


def maintenance_margin(instrument: Instrument, value: Decimal) -> Decimal:
    """Maintenance margin of a position worth ``value`` from the instrument's risk tiers."""
    for tier in instrument.margin_tiers:
        if value <= tier.up_to:
            return tier.maintenance_margin(value)
    return value * Decimal("0.005")  # no tier table: Bybit's first-tier rate for majors


class Slot:
    """One account's simulated exchange for one symbol."""

    def __init__(self, spec: AccountSpec, market: SymbolMarket) -> None:
        self.market = market
        self.fees = FeeSchedule.bybit(spec.fee_tier)
        self.leverage = min(spec.leverage, market.instrument.max_leverage)
        self.carried_wallet = ZERO
        """Wallet change booked by earlier simulators of this slot (before leverage changes)."""
        self.carried_pnl = ZERO
        self.running_size = ZERO
        """Position size after the last fill reported (for Bybit's ``closedSize``)."""
        self.created_ms = market.bars[max(0, market.cursor - 1), 0].astype(int).item()
        self.updated_ms = self.created_ms
        self.funded = spec.balance
        self.sim = self._new_sim(spec.balance)

    def _new_sim(self, cash: Decimal) -> SimulatedExchange:
        market = self.market
        config = SimConfig(
            starting_cash=cash,
            funded_at=utc_from_ms(int(market.bars[max(0, market.cursor - 1), 0])),
            leverage=self.leverage,
            fees=self.fees,
            timeframe=market.timeframe,
            funding=market.funding,
        )
        sim = SimulatedExchange(market.instrument, config)
        if market.cursor:  # learn the last price; no order exists, so nothing can happen
            sim.advance(market.bars, market.cursor - 1, market.cursor)
        return sim

    @property
    def symbol(self) -> Symbol:
        return self.market.symbol

    def is_idle(self) -> bool:
        return self.sim.position(self.symbol).is_flat and not self.sim.open_orders()

    def change_leverage(self, leverage: Decimal) -> None:
        """Replace the simulator (see the module docstring); the caller checked it is idle."""
        self.carried_wallet = self.wallet_change()
        self.carried_pnl = self.net_pnl()
        cash = self.sim.account().wallet_balance
        self.leverage = leverage
        self.funded = cash
        self.sim = self._new_sim(cash)

    def advance(self) -> AdvanceResult:
        """Process the bar the market just revealed."""
        i = self.market.cursor - 1
        return self.sim.advance(self.market.bars, i, i + 1)

    # ---------------------------------------------------------------- money

    def wallet_change(self) -> Decimal:
        return self.carried_wallet + self.sim.account().wallet_balance - self.funded

    def net_pnl(self) -> Decimal:
        return self.carried_pnl + self.sim.position(self.symbol).net_pnl

    def mark(self) -> Decimal:
        return self.sim.last_price or ZERO

    def unrealized(self) -> Decimal:
        return self.sim.position(self.symbol).unrealized_pnl(self.mark())

    def position_margin(self) -> tuple[Decimal, Decimal]:
        """Initial and maintenance margin of the position at the mark."""
        value = self.sim.position(self.symbol).notional(self.mark())
        return value / self.leverage, maintenance_margin(self.market.instrument, value)

    def order_margin(self) -> Decimal:
        """Margin held by open orders that can open a position (estimate for the wallet view;
        the simulator's own margin check decides acceptance)."""
        held = ZERO
        for order in self.sim.open_orders(self.symbol):
            if order.reduce_only or order.trigger_price is not None:
                continue
            price = order.price or self.mark()
            held += order.remaining_qty * price / self.leverage
        return held

    # ---------------------------------------------------------------- Bybit's position object

    def position_item(self, seq: int, *, stream: bool = False) -> dict[str, object]:
        """``/v5/position/list`` item (``stream``: the ``position`` topic's, with
        ``entryPrice`` where REST says ``avgPrice``)."""
        position = self.sim.position(self.symbol)
        stop = self.sim.trading_stop(self.symbol)
        mark = self.mark()
        flat = position.is_flat
        initial, maintenance = self.position_margin()
        entry = position.entry_price
        tier = next(
            (t for t in self.market.instrument.margin_tiers if position.notional(mark) <= t.up_to),
            None,
        )
        item: dict[str, object] = {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "0" if tier is None else format_decimal(tier.up_to),
            "symbol": self.symbol,
            "side": "" if flat else ("Buy" if position.size > 0 else "Sell"),
            "size": format_decimal(position.qty),
            ("entryPrice" if stream else "avgPrice"): "0" if entry is None else _money(entry),
            "positionValue": "" if flat or entry is None else _money(position.qty * entry),
            "tradeMode": 0,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": format_decimal(self.leverage),
            "markPrice": format_decimal(mark),
            # The liquidation price stays inside the simulator (which checks it every bar);
            # Bybit sends "" when it does not apply, which is what clients then see.
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": _money(initial),
            "positionMM": _money(maintenance),
            "positionIMByMp": _money(initial),
            "positionMMByMp": _money(maintenance),
            "positionBalance": _money(initial),
            "takeProfit": "" if stop.take_profit is None else format_decimal(stop.take_profit),
            "stopLoss": "" if stop.stop_loss is None else format_decimal(stop.stop_loss),
            "trailingStop": (
                "0" if stop.trailing_distance is None else format_decimal(stop.trailing_distance)
            ),
            "sessionAvgPrice": "",
            "unrealisedPnl": "" if flat else _money(position.unrealized_pnl(mark)),
            # Bybit's curRealisedPnl restarts with each holding; the simulator keeps one total
            # per symbol, so both figures are that net total (fees and funding included).
            "curRealisedPnl": _money(self.net_pnl()),
            "cumRealisedPnl": _money(self.net_pnl()),
            "adlRankIndicator": 0 if flat else 2,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(self.created_ms),
            "updatedTime": str(self.updated_ms),
            "seq": seq,
            "tpslMode": "Full",
            "breakEvenPrice": "",
        }
        if stream:
            item["category"] = "linear"
        return item


class AccountBook:
    """Everything one account has on the emulator."""

    def __init__(self, spec: AccountSpec) -> None:
        self.spec = spec
        self.slots: dict[Symbol, Slot] = {}
        self.orders: dict[str, OrderRecord] = {}
        """By Bybit ``orderId``, in creation order."""
        self.by_link: dict[str, OrderRecord] = {}
        self.by_sim: dict[str, OrderRecord] = {}
        self.executions: list[dict[str, object]] = []
        """Execution rows (trades and funding), oldest first."""

    def slot(self, market: SymbolMarket) -> Slot:
        slot = self.slots.get(market.symbol)
        if slot is None:
            slot = self.slots[market.symbol] = Slot(self.spec, market)
        return slot

    def find(self, order_id: str | None, link_id: str | None) -> OrderRecord | None:
        """By ``orderId`` when given (Bybit: it wins over ``orderLinkId``), else by link id."""
        if order_id:
            return self.orders.get(order_id)
        if link_id:
            return self.by_link.get(link_id)
        return None

    def wallet_item(self) -> dict[str, object]:
        """``/v5/account/wallet-balance`` ``list[0]`` (and the ``wallet`` topic's item), in USDT
        counted as USD one for one."""
        slots = list(self.slots.values())
        wallet = self.spec.balance + sum((s.wallet_change() for s in slots), ZERO)
        upl = sum((s.unrealized() for s in slots), ZERO)
        position_im = sum((s.position_margin()[0] for s in slots), ZERO)
        position_mm = sum((s.position_margin()[1] for s in slots), ZERO)
        order_im = sum((s.order_margin() for s in slots), ZERO)
        equity = wallet + upl
        initial = position_im + order_im
        available = max(ZERO, equity - initial)
        pnl = sum((s.net_pnl() for s in slots), ZERO)
        coin = {
            "coin": "USDT",
            "equity": _money(equity),
            "usdValue": _money(equity),
            "walletBalance": _money(wallet),
            "free": "",
            "locked": "0",
            "spotHedgingQty": "0",
            "borrowAmount": "0",
            "availableToWithdraw": "",
            "availableToBorrow": "",
            "accruedInterest": "0",
            "totalOrderIM": _money(order_im),
            "totalPositionIM": _money(position_im),
            "totalPositionMM": _money(position_mm),
            "unrealisedPnl": _money(upl),
            "cumRealisedPnl": _money(pnl),
            "bonus": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
            "spotBorrow": "0",
        }
        return {
            "accountType": "UNIFIED",
            "accountIMRate": _rate(initial, equity),
            "accountMMRate": _rate(position_mm, equity),
            "accountLTV": "0",
            "totalEquity": _money(equity),
            "totalWalletBalance": _money(wallet),
            "totalMarginBalance": _money(equity),
            "totalAvailableBalance": _money(available),
            "totalPerpUPL": _money(upl),
            "totalInitialMargin": _money(initial),
            "totalMaintenanceMargin": _money(position_mm),
            "accountIMRateByMp": _rate(initial, equity),
            "accountMMRateByMp": _rate(position_mm, equity),
            "totalInitialMarginByMp": _money(initial),
            "totalMaintenanceMarginByMp": _money(position_mm),
            "coin": [coin],
        }


def _rate(part: Decimal, equity: Decimal) -> str:
    return _money(part / equity) if equity > 0 else "0"
