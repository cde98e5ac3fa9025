"""Fakes through the ports, shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradeplay.data.candles import Candles, FundingRates
from tradeplay.domain.errors import VenueUnavailableError
from tradeplay.domain.timeframe import Timeframe

SYMBOL = "BTCUSDT"
M1 = Timeframe.parse("1m")


@dataclass
class FakeSource:
    """A HistorySource over in-memory series that honours the contract, and records its calls."""

    candles: Candles
    funding: FundingRates = field(default_factory=FundingRates.empty)
    max_candles_per_page: int = 1000
    max_funding_per_page: int = 200
    fail_on_call: int | None = None  # raise VenueUnavailableError on this call number (1-based)
    name: str = "fake"
    timeframe: Timeframe = M1
    calls: list[tuple[int, int, int]] = field(default_factory=list)

    def _record(self, since_ms: int, until_ms: int, limit: int) -> None:
        self.calls.append((since_ms, until_ms, limit))
        if len(self.calls) == self.fail_on_call:
            raise VenueUnavailableError("fake: the connection dropped")

    def fetch_candles(
        self, symbol: str, timeframe: Timeframe, since_ms: int, until_ms: int, limit: int
    ) -> Candles:
        assert symbol == SYMBOL
        assert timeframe == self.timeframe
        self._record(since_ms, until_ms, limit)
        return self.candles.between(since_ms, until_ms)[:limit]

    def fetch_funding(self, symbol: str, since_ms: int, until_ms: int, limit: int) -> FundingRates:
        self._record(since_ms, until_ms, limit)
        return self.funding.between(since_ms, until_ms)[:limit]
