"""Paper and shadow accounts: the simulated exchange fed live bars as they close.

**Paper** trades a local simulated account on live data: the same
:class:`~tradeplay.sim.exchange.SimulatedExchange` a backtest uses, advanced one bar at a time,
so its fills are the fills a backtest of the same bars gives.

**Shadow** is paper that claims nothing: it records the signals and every order the engine
would have sent (:class:`ShadowExchange`), and answers the engine from a simulated account so the
play's position — and with it its exits — evolves as it would have.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final, Self

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.events import OrderEvent, OrderSubmitted
from tradeplay.domain.instrument import Instrument
from tradeplay.domain.instruments_bybit import bybit_linear, bybit_linear_symbols
from tradeplay.domain.values import ClientOrderId, Symbol
from tradeplay.engine.backtest import account_config
from tradeplay.play.compiler import CompiledPlay
from tradeplay.ports import Exchange, TradingStop
from tradeplay.runtime.forwarding import ForwardingExchange
from tradeplay.sim.config import SimConfig
from tradeplay.sim.exchange import SimulatedExchange
from tradeplay.sim.funding import FundingSource

__all__ = ["PaperMarket", "ShadowExchange", "ShadowMarket", "WouldBe", "with_margin_tiers"]


class PaperMarket:
    """A simulated account that meets each live bar as it closes."""

    def __init__(self, instrument: Instrument, config: SimConfig) -> None:
        self.simulator = SimulatedExchange(instrument, config)

    @classmethod
    def for_play(
        cls,
        play: CompiledPlay,
        instrument: Instrument,
        *,
        start_ms: int,
        capital: Decimal | None = None,
        run: str = "",
        record: bool = True,
    ) -> Self:
        """The account ``play`` trades in a backtest (``capital``: ``None``, the play's own),
        funded at ``start_ms``. ``instrument`` is the venue's (:func:`with_margin_tiers`).
        ``run``: the runtime's run token, part of every id the account makes. ``record``: keep
        the run's record of orders, fills and ledger entries (see :attr:`SimConfig.record`;
        a running deployment stores them instead)."""
        instrument = with_margin_tiers(instrument)
        # Funding: a constant 0.01 % per funding interval, whatever the interval (a backtest
        # scales Bybit's daily baseline to the interval instead).
        funding = FundingSource.constant(Decimal("0.0001"), instrument.funding_interval)
        config = account_config(
            play, instrument, funding=funding, start_ms=start_ms, capital=capital
        )
        # The pairs of one environment, one symbol each, record their ids in one place, run
        # after run: each account starts afresh, numbering from 1, so the symbol and the run
        # name its ids (``BTCUSDT-3f2a1b_sim-t1``), or a restart's fills would be taken for the
        # last run's, already stored.
        space = f"{instrument.symbol}-{run}" if run else instrument.symbol
        return cls(instrument, replace(config, id_space=space, record=record))

    @property
    def exchange(self) -> Exchange:
        return self.simulator

    def on_bar(self, row: NDArray[np.float64]) -> Sequence[OrderEvent]:
        # The same advance a backtest makes over this bar: orders placed at the previous close
        # meet this bar's open, then its path.
        result = self.simulator.advance(np.asarray(row, dtype=np.float64).reshape(1, 6), 0, 1)
        return result.events


def with_margin_tiers(instrument: Instrument) -> Instrument:
    """``instrument`` able to compute margins. The venue's ``instruments-info`` carries no
    risk-limit table (that is ``/v5/market/risk-limit``, which the adapter does not load yet
    and the emulator does not serve), and the simulated account refuses every order without
    one; so a symbol of the built-in snapshot takes the snapshot's tiers, as its backtest
    does. Another symbol stays as it is, and its orders are refused with that reason."""
    if instrument.margin_tiers or instrument.symbol not in bybit_linear_symbols():
        return instrument
    return replace(instrument, margin_tiers=bybit_linear(instrument.symbol).margin_tiers)


WOULD_BE_KEPT: Final = 1_000
"""How many of its latest would-be actions a shadow run keeps in memory."""


@dataclass(frozen=True, slots=True)
class WouldBe:
    """An action the engine took that a shadow run does not send anywhere."""

    time: datetime
    action: str
    """``submit``, ``cancel`` or ``trading_stop``."""
    order: OrderSubmitted | None = None
    client_order_id: ClientOrderId | None = None
    stop: TradingStop | None = None


class ShadowExchange(ForwardingExchange):
    """An :class:`Exchange` that records what it is asked and answers from a simulated account."""

    def __init__(self, simulator: SimulatedExchange) -> None:
        super().__init__(simulator)
        self._simulator = simulator
        self.would_be: deque[WouldBe] = deque(maxlen=WOULD_BE_KEPT)
        """The latest :data:`WOULD_BE_KEPT` actions, oldest first (a shadow run lasts months)."""

    def submit(self, order: OrderSubmitted) -> Sequence[OrderEvent]:
        self.would_be.append(WouldBe(order.time, "submit", order=order))
        return super().submit(order)

    def cancel(self, symbol: Symbol, client_order_id: ClientOrderId) -> Sequence[OrderEvent]:
        self.would_be.append(
            WouldBe(self._simulator.now, "cancel", client_order_id=client_order_id)
        )
        return self._simulator.cancel(symbol, client_order_id)

    def set_trading_stop(self, stop: TradingStop) -> None:
        self.would_be.append(WouldBe(self._simulator.now, "trading_stop", stop=stop))
        self._simulator.set_trading_stop(stop)


class ShadowMarket(PaperMarket):
    """A paper market whose engine talks to a :class:`ShadowExchange`."""

    def __init__(self, instrument: Instrument, config: SimConfig) -> None:
        super().__init__(instrument, config)
        self.shadow = ShadowExchange(self.simulator)

    @property
    def exchange(self) -> Exchange:
        return self.shadow
