"""Per-endpoint token buckets at Bybit's per-UID limits, one limiter per exchange account.

Bybit counts requests per UID, **per endpoint**, in a rolling one-second window, and answers
retCode 10006 beyond it (bybit_v5.md §5). ccxt's own limiter is one leaky bucket per client
object with its own costs (order create at 20/s, above Bybit's 10/s), shared by market data and
orders alike (bybit_clients.md "Built-in rate limiter"), so the adapter switches it off and
uses this instead:

* every endpoint has its own bucket, so a burst of order queries never delays an order;
* one :class:`RateLimiter` per *account* (UID): every engine trading that account must be given
  the same instance, because Bybit counts them together. There is no module-level registry;
  the runtime builds one per account and passes it in (STYLE habit 7). The limiter is an
  asyncio object: all its users run on the one event loop of the live runtime.
* a 10006 answer closes the endpoint's bucket until Bybit's ``X-Bapi-Limit-Reset-Timestamp``
  (:meth:`RateLimiter.hold_until`), so the other engines on the account wait too.

Time is injected (``monotonic`` seconds and an async ``sleep``) so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

__all__ = ["BYBIT_UID_LIMITS", "MARKET_DATA_LIMIT", "Limit", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class Limit:
    """``rate`` requests per second, at most ``burst`` at once (Bybit's window is 1 s)."""

    rate: float
    burst: float

    @classmethod
    def per_second(cls, rate: float) -> Limit:
        return cls(rate=rate, burst=rate)


# Default UTA limits for linear, bybit_v5.md §5 (docs, "Default UTA limits"). VIP tiers can
# raise order/create; demo accounts cannot (§1), so the defaults are the safe choice everywhere.
BYBIT_UID_LIMITS: Final[Mapping[str, Limit]] = MappingProxyType(
    {
        "/v5/order/create": Limit.per_second(10),
        "/v5/order/amend": Limit.per_second(10),
        "/v5/order/cancel": Limit.per_second(10),
        "/v5/order/cancel-all": Limit.per_second(10),
        "/v5/order/realtime": Limit.per_second(50),
        "/v5/order/history": Limit.per_second(50),
        "/v5/execution/list": Limit.per_second(50),
        "/v5/position/list": Limit.per_second(50),
        "/v5/position/set-leverage": Limit.per_second(10),
        "/v5/position/switch-mode": Limit.per_second(10),
        "/v5/position/trading-stop": Limit.per_second(10),
        "/v5/account/wallet-balance": Limit.per_second(50),
        "/v5/account/info": Limit.per_second(50),
    }
)

#: ``/v5/market/*`` has no per-UID limit, only the IP limit of 600 requests per 5 s for all
#: REST traffic (bybit_v5.md §5). Market data gets one shared bucket well inside that, so the
#: rest of the IP budget stays free for orders; endpoints not listed above share it too.
MARKET_DATA_LIMIT: Final = Limit(rate=20, burst=20)
_SHARED: Final = "*"


@dataclass(slots=True)
class _Bucket:
    limit: Limit
    tokens: float
    stamp: float
    held_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.limit.burst, self.tokens + elapsed * self.limit.rate)
        self.stamp = now

    def wait_for_token(self, now: float) -> float:
        """Seconds until one token is available (0 when there is one now)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.rate


class RateLimiter:
    """Token buckets per endpoint for one Bybit account. Await :meth:`acquire` per request."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        limits: Mapping[str, Limit] = BYBIT_UID_LIMITS,
        shared: Limit = MARKET_DATA_LIMIT,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._limits = dict(limits)
        self._shared = shared
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, endpoint: str) -> _Bucket:
        key = endpoint if endpoint in self._limits else _SHARED
        bucket = self._buckets.get(key)
        if bucket is None:
            limit = self._limits.get(key, self._shared)
            bucket = _Bucket(limit, tokens=limit.burst, stamp=self._monotonic())
            self._buckets[key] = bucket
        return bucket

    async def acquire(self, endpoint: str) -> float:
        """Wait for a token of ``endpoint``'s bucket; returns the seconds waited.

        Callers queue on the bucket's lock, so they are served in the order they came.
        """
        bucket = self._bucket(endpoint)
        waited = 0.0
        async with bucket.lock:
            while (held := bucket.held_until - self._monotonic()) > 0:
                waited += held
                await self._sleep(held)
            delay = bucket.wait_for_token(self._monotonic())
            if delay > 0:
                waited += delay
                await self._sleep(delay)
                bucket.refill(self._monotonic())
            # Taken after the wait even if float rounding left 0.999… tokens: the wait was
            # exactly one token's worth, and re-checking could spin on a vanishing remainder.
            bucket.tokens -= 1
        return waited

    def hold_until(self, endpoint: str, seconds_from_now: float) -> None:
        """Bybit said this endpoint's budget is spent: no request before the reset, and the
        bucket restarts empty so the next window is not overrun either."""
        bucket = self._bucket(endpoint)
        now = self._monotonic()
        bucket.held_until = max(bucket.held_until, now + max(0.0, seconds_from_now))
        bucket.tokens = 0.0
        bucket.stamp = bucket.held_until
