"""One pair's engine in a thread of its own, fed closed bars through its inbox.

The worker is the only thread that touches its pair's runner and market, so nothing in them
needs a lock: bars and commands (panic, stop) arrive through one queue and are handled in
order. Three switches decide what a bar does:

* **trading** off (paused by the operator, or frozen by an emergency): the market and the
  features still take the bar — fills are recorded, indicators stay warm — but the engine is
  not called;
* **broken** (the last step raised): the engine is rebuilt from the bars it saw, with the
  account muted so no bar reaches the market twice, after a backoff; a pair that keeps
  crashing is halted alone and waits for the operator;
* a **panic** cancels the pair's open orders and closes its position with a reduce-only market
  order, then freezes it; the future :meth:`PairWorker.panic` returned tells what it did
  (:class:`Flatten`). Whether the pair is flat is asked the same way (:meth:`PairWorker.flat`):
  only its own thread reads its account while it may be changing.

The engine trades through ``engine_market`` when given (the recorded market behind the risk
guard of :mod:`tradeplay.runtime.safety`); a panic goes to the recorded market directly.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.events import OrderSubmitted
from tradeplay.domain.values import ClientOrderId, OrderType, Side, to_decimal
from tradeplay.engine.engine import EngineConfig
from tradeplay.notify import Health
from tradeplay.runtime.pairs import Pair
from tradeplay.runtime.preflight import warm_up_bars
from tradeplay.runtime.recorder import RecordedMarket
from tradeplay.runtime.runner import DECISIONS_KEPT, BarStep, Market, PlayRunner

__all__ = [
    "FLATTEN_FAILED",
    "PANIC_PREFIX",
    "Flatten",
    "HealthPolicy",
    "PairWorker",
    "flatten_outcome",
]

log = structlog.get_logger(__name__)

_STOP: Final = "stop"
_RESUME: Final = "resume"
PANIC_PREFIX: Final = "panic-"
"""Begins the id of a panic's close: an order of the runtime's, not of the play's engine."""
_AFRESH: Final = "afresh"
FLATTEN_FAILED: Final = "flatten failed"
"""Begins what a panic that could not cancel or close reports."""


@dataclass(frozen=True, slots=True)
class Flatten:
    """What a pair's panic did, in words, and whether it left the pair flat: its orders
    cancelled and its position closed (or its reduce-only close sent)."""

    done: str
    flat: bool

    def __str__(self) -> str:
        return self.done


def flatten_outcome(panic: Future[Flatten], timeout_s: float) -> Flatten:
    """The panic's outcome, waited for at most ``timeout_s`` (a pair that does not answer in
    time is not known to be flat)."""
    try:
        return panic.result(timeout=timeout_s)
    except FutureTimeout:
        return Flatten(f"did not answer within {timeout_s:g} s", flat=False)
    except Exception as error:  # the pair's own failure: this pair only
        return Flatten(f"{FLATTEN_FAILED}: {type(error).__name__}: {error}", flat=False)


@dataclass(frozen=True, slots=True)
class _Request:
    """Something the pair's own thread does between two bars, its result told through ``done``
    (``stopped``: the answer when the worker stops before it got to it)."""

    run: Callable[[], Any]
    done: Future[Any]
    stopped: object

    def answer(self) -> None:
        try:
            result = self.run()
        except Exception as error:  # told to the asker; the pair's thread goes on
            log.exception("pair_request_failed")
            self.done.set_exception(error)
        else:
            self.done.set_result(result)


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """When a crashed engine is rebuilt, and when its pair is given up on."""

    max_crashes: int = 3
    """Crashes within ``forgive_after_bars`` good bars of each other that halt the pair."""
    backoff_s: float = 1.0
    """Wait before the first rebuild; doubled for each further crash (at most 60 s)."""
    forgive_after_bars: int = 60


HealthReport = Callable[[Pair, Health, str, int], None]
"""(pair, health, detail, crashes so far)."""


class PairWorker:
    """Runs one pair's engine: ``start`` it, feed it bars, ``stop`` it."""

    def __init__(
        self,
        pair: Pair,
        market: RecordedMarket,
        *,
        policy: HealthPolicy,
        on_health: HealthReport,
        on_step: Callable[[Pair, BarStep], None] = lambda _pair, _step: None,
        run_token: str = "",
        sleep: Callable[[float], None] = time.sleep,
        reconciled: Callable[[], bool] = lambda: True,
        engine_market: Market | None = None,
    ) -> None:
        self.pair = pair
        self.market = market
        self._engine_market: Market = market if engine_market is None else engine_market
        self._policy = policy
        self._on_health = on_health
        self._on_step = on_step
        self._token = run_token
        self._reconciled = reconciled
        """The environment's recovery gate: no new risk until its records agree with the
        venue (asked at each bar until it does, see :mod:`tradeplay.runtime.recovery`)."""
        self._sleep = sleep
        self._inbox: queue.Queue[NDArray[np.float64] | str | _Request] = queue.Queue()
        self._seen: deque[NDArray[np.float64]] = deque(maxlen=warm_up_bars(pair.play))
        self.trading = True
        self.broken = False
        self.crashes = 0
        self._good_bars = 0
        self._generation = 0
        self._panics = 0
        self.last_close: Decimal | None = None
        self.runner: PlayRunner | None = None
        self._closing = threading.Lock()
        self._closed = False
        """Set when the thread ends: later requests are answered at once."""
        self._thread = threading.Thread(target=self._run, name=f"pair-{pair.key}", daemon=True)

    # -- from any thread ---------------------------------------------------------------------

    def start(self, history: NDArray[np.float64]) -> None:
        """Warm up on ``history`` (the account sees it, the engine does not), then run."""
        self._seen.extend(history)
        self.runner = self._new_runner(int(history[0, 0]))
        self.runner.warm(history)
        self._thread.start()

    def bar(self, row: NDArray[np.float64]) -> None:
        self._inbox.put(row)

    def panic(self) -> Future[Flatten]:
        """Cancel the pair's orders, close its position and freeze it, in its own thread; the
        future holds what was done, once done."""
        return self._ask(self._flatten, Flatten("not running", flat=False))

    def flat(self) -> Future[bool]:
        """Whether the pair holds no position and no open order, read in its own thread
        (``False`` when its account cannot say, or the worker is not running)."""
        return self._ask(self._is_flat, False)

    def _ask(self, run: Callable[[], Any], stopped: object) -> Future[Any]:
        done: Future[Any] = Future()
        with self._closing:  # a request is answered by the thread, or now: never neither
            if self._thread.is_alive() and not self._closed:
                self._inbox.put(_Request(run, done, stopped))
            else:
                done.set_result(stopped)
        return done

    def pause(self) -> None:
        self.trading = False

    def resume(self, *, afresh: bool = False) -> None:
        """Trade again from the next bar; a pair halted by crashes is rebuilt first, and so
        is every pair resumed ``afresh`` (its engine forgets its limits' state: a pipeline
        stage starts a new record with new capital)."""
        self._inbox.put(_AFRESH if afresh else _RESUME)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._inbox.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def unrealized_pnl(self) -> Decimal:
        """The position's PnL at the last close seen (read from another thread: a snapshot)."""
        position = self.market.exchange.position(self.pair.symbol)
        if position.size == 0 or self.last_close is None:
            return Decimal(0)
        return position.size * self.last_close - position.cost_basis

    # -- the worker's thread -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._serve()
        finally:  # stopped, or a rebuild that raised: whoever still waits is answered
            with self._closing:
                self._closed = True
            self._unanswered()

    def _serve(self) -> None:
        while True:
            item = self._inbox.get()
            if isinstance(item, _Request):
                item.answer()
                continue
            if isinstance(item, str):
                if item == _STOP:
                    return
                if item == _AFRESH:
                    self.rebuild()
                    self.trading = True
                else:
                    self._resume()
                continue
            self._seen.append(item)
            self.last_close = Decimal(str(item[4]))
            if not self.broken:  # halted: the operator's resume rebuilds it from the bars seen
                self._step(item)

    def _unanswered(self) -> None:
        """Stopping: whoever still waits for a request is answered as a stopped worker would."""
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Request):
                item.done.set_result(item.stopped)

    def _step(self, row: NDArray[np.float64]) -> None:
        runner = self.runner
        assert runner is not None  # built in start(), before the thread runs
        try:
            # The step's records are durable when it ends (an order's, before it is sent); what
            # its listener stores (a position, a stage's tape) joins them.
            with self.market.deferred():
                step = runner.step(row, trade=self.trading and self._reconciled())
                self._on_step(self.pair, step)
        except Exception as error:  # a bug or a venue failure inside one step: this pair only
            self._crashed(error)
            return
        self._good_bars += 1
        if self._good_bars >= self._policy.forgive_after_bars:
            self.crashes = 0

    def _crashed(self, error: Exception) -> None:
        self.crashes += 1
        self._good_bars = 0
        detail = f"{type(error).__name__}: {error}"
        log.error("pair_step_crashed", pair=str(self.pair.key), crashes=self.crashes, error=detail)
        if self.crashes >= self._policy.max_crashes:
            self.broken = True
            self._on_health(self.pair, Health.HALTED, detail, self.crashes)
            return
        self._on_health(self.pair, Health.RESTARTING, detail, self.crashes)
        self._sleep(min(60.0, self._policy.backoff_s * 2 ** (self.crashes - 1)))
        self.rebuild()
        self._on_health(self.pair, Health.OK, "rebuilt", self.crashes)

    def rebuild(self) -> None:
        """A fresh engine warmed on the bars seen; the account keeps its orders and position.
        Called in the worker's thread, or by the operator's resume of a halted pair."""
        rows = np.asarray(self._seen)
        self.market.muted = True
        try:
            runner = self._new_runner(int(rows[0, 0]))
            runner.warm(rows)
        finally:
            self.market.muted = False
        self.runner = runner
        self.broken = False

    def _resume(self) -> None:
        if self.broken:
            self.crashes = 0
            self.rebuild()
            self._on_health(self.pair, Health.OK, "rebuilt by the operator", 0)
        elif self.runner is not None and self.runner.engine.risk.halted:
            engine = self.runner.engine  # the operator's resume lifts the engine's own halt too
            engine.risk = engine.risk.resume()
        self.trading = True

    def _new_runner(self, start_ms: int) -> PlayRunner:
        self._generation += 1
        pair = self.pair
        prefix = f"{pair.key.play[:10]}{self._token}{self._generation}"
        config = EngineConfig(
            symbol=pair.symbol,
            leverage=to_decimal(pair.play.play.account.leverage, "account.leverage"),
            limits=pair.limits,
            order_prefix=prefix,
            keep_decisions=DECISIONS_KEPT,
        )
        return PlayRunner(pair.play, self._engine_market, config, start_ms=start_ms)

    def _flatten(self) -> Flatten:
        """Cancel this pair's orders and close its position; then stay frozen. What was done."""
        self.trading = False
        exchange, symbol = self.market.exchange, self.pair.symbol
        runner = self.runner
        now = runner.clock.now() if runner is not None else None
        try:
            orders = exchange.open_orders(symbol)
            for order in orders:
                exchange.cancel(symbol, order.client_order_id)
            size = exchange.position(symbol).size
            if size != 0 and now is not None:
                self._panics += 1
                link = f"{PANIC_PREFIX}{self.pair.key.play[:10]}{self._token}-{self._panics}"
                exchange.submit(
                    OrderSubmitted(
                        client_order_id=ClientOrderId(link),
                        time=now,
                        symbol=symbol,
                        side=Side.SELL if size > 0 else Side.BUY,
                        order_type=OrderType.MARKET,
                        qty=abs(Decimal(size)),
                        reduce_only=True,
                    )
                )
        except Exception as error:  # report it; the pair stays frozen either way
            log.exception("pair_flatten_failed", pair=str(self.pair.key))
            self._on_health(self.pair, Health.DEGRADED, f"{FLATTEN_FAILED}: {error}", self.crashes)
            return Flatten(f"{FLATTEN_FAILED}: {type(error).__name__}: {error}", flat=False)
        log.warning("pair_flattened", pair=str(self.pair.key), closed=str(size))
        closed = f"closing {abs(size)} {symbol}" if size != 0 else "no position"
        return Flatten(f"{len(orders)} orders cancelled, {closed}", flat=True)

    def _is_flat(self) -> bool:
        exchange, symbol = self.market.exchange, self.pair.symbol
        try:
            return exchange.position(symbol).size == 0 and not exchange.open_orders(symbol)
        except Exception:  # the account cannot say now: not known to be flat
            log.warning("pair_flat_unknown", pair=str(self.pair.key), exc_info=True)
            return False
