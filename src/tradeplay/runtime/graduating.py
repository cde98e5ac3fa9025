"""The graduation pipeline carried out in a running deployment.

A play whose ``environments`` is ``pipeline`` has a pair in the environment of every running
stage of the ladder, but trades only in its **current stage's**: the others are *parked* —
paused, taking bars so their features stay warm, sending nothing. What the active pair sees
and does is the stage's record:

* its **tape** — the bars it traded and the rules that fired on each, after the bars it warmed
  up on — is stored as it goes (:meth:`GraduationRecords.add_bars`);
* its orders and fills are the deployment's ordinary records of that environment and symbol.

Every ``evaluate_every_minutes`` of market time :meth:`Graduation.judge_due` rebuilds the
stage's record from the store (:func:`stage_evidence`, the same function an audit re-runs),
replays the tape through the backtester (the parity gate, which also gives the fees and
prices the simulator expected), and lets :class:`~tradeplay.runtime.pipeline.Pipeline`
decide and store the decision. A move is carried out here:

1. the play is **flattened** where it was — its orders cancelled, its position closed — and
   parked there (a play changes environment or capital flat: nothing is left behind that no
   engine manages);
2. its pair in the new stage's environment is given the stage's capital share and trades from
   the next bar, its tape starting with the bars it warmed up on.

Flat means the pair reads flat, not that its close was sent: until it does — a close on its way
(a paper account fills it at the next bar), or a flatten that failed (the venue refused or did
not answer) — the move is **held**, and stored so (:attr:`StoredPlacement.held_in`): the play
trades in no stage, across restarts too. Each :meth:`Graduation.follow` asks that pair; once it
reads flat (the operator closed it at the venue, say) the move goes on by itself. An operator's
move of a held play tries the flatten again first; when that pair cannot answer (its
environment is gone), the operator's ``tradeplay pipeline release`` says it is flat.

At start nothing says where a play traded last — the operator may have moved it while the
deployment was down, or a crash cut a move short — so a play already on the ladder trades in
its stage only once the first :meth:`Graduation.follow` (at the end of the supervisor's start)
parked its other pairs flat.

Market time is the clock: a stage's days are the days of bars its play traded, so a replay
faster than real time graduates as real time would.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

import numpy as np
import structlog
from numpy.typing import NDArray

from tradeplay.domain.values import ms_from_utc, utc_from_ms
from tradeplay.graduation import Decision, Stage
from tradeplay.graduation.ladder import Action
from tradeplay.runtime.deployment import Deployment
from tradeplay.runtime.deployment_checks import play_name
from tradeplay.runtime.pairs import Pair, PairKey
from tradeplay.runtime.pipeline import RELEASE, Pipeline
from tradeplay.runtime.preflight import warm_up_bars
from tradeplay.runtime.runner import BarStep
from tradeplay.runtime.stage_evidence import StageEvidence, stage_evidence
from tradeplay.runtime.worker import Flatten
from tradeplay.store import Records, StoredPlacement
from tradeplay.store.graduation import StageBar

__all__ = ["Graduation", "MarketClock", "PairHands"]

log = structlog.get_logger(__name__)


class MarketClock:
    """The time of the newest bar close a graduating play saw: the pipeline's clock (before
    the first bar, the wall clock)."""

    def __init__(self) -> None:
        self.ms = 0

    def now(self) -> datetime:
        return utc_from_ms(self.ms) if self.ms else datetime.now(UTC)


class PairHands(Protocol):
    """What the pipeline asks of the supervisor running the pairs."""

    def park(self, key: PairKey, reason: str) -> Flatten:
        """Cancel ``key``'s orders, close its position and stop it trading; what was done,
        and whether that left it flat (not when the flatten failed or did not answer)."""
        ...

    def flat(self, key: PairKey) -> bool:
        """Whether ``key`` holds no position and no open order (``False`` when unknown)."""
        ...

    def allot(self, key: PairKey, capital: Decimal) -> None:
        """Size ``key``'s engine from ``capital`` from now on."""
        ...

    def activate(self, key: PairKey, reason: str) -> None:
        """Let ``key`` trade from its next bar (afresh: its engine's limits start anew) —
        unless it is halted in an emergency, which only the operator lifts."""
        ...


class Graduation:
    """Each graduating play of a deployment, trading in its stage (see the module docstring)."""

    def __init__(
        self,
        deployment: Deployment,
        records: Records,
        pairs: Sequence[Pair],
        hands: PairHands,
    ) -> None:
        self.ladder = deployment.model.pipeline
        self.clock = MarketClock()
        self.pipeline = Pipeline(records.graduations, self.ladder, self.clock)
        self._deployment = deployment
        self._records = records
        self._hands = hands
        graduating = {
            play_name(deployment, spec)
            for spec in deployment.model.plays
            if deployment.graduates(spec)
        }
        self.pairs = {p.key: p for p in pairs if p.key.play in graduating}
        self._plays = sorted(graduating)
        self._recent: dict[PairKey, deque[NDArray[np.float64]]] = {
            key: deque(maxlen=warm_up_bars(pair.play)) for key, pair in self.pairs.items()
        }
        self._active: dict[str, tuple[PairKey | None, StoredPlacement | None]] = {}
        """Per play: the pair trading its stage, and its placement (``None`` until it enters
        the ladder, at its first pair's first bars)."""
        self._judged_ms: dict[str, int] = {}
        self._traded_ms: dict[str, int] = {}
        """Per play, the close of the last bar its stage's pair took."""
        self._settling: set[str] = set()
        """Plays placed from the store at start: their stage trades once their other pairs are
        flat (a move decided while nothing ran, or cut short by a crash, flattened nothing)."""
        self._vouched: set[PairKey] = set()
        """Pairs the operator released their play from (flat, in their word): not asked again
        until the play moved."""
        self._lock = threading.Lock()

    # -- where each play trades ---------------------------------------------------------------

    def place(self) -> None:
        """Note where each graduating play trades, before any pair starts: the ladder's first
        stage for a play new to it (it enters when its pair has warmed up, at that market time;
        into a backtest stage at once); a play already on it trades in its stored stage once
        :meth:`follow` found its other pairs flat."""
        first = self.ladder.stages[0]
        for play in self._plays:
            stored = self.pipeline.find(play)
            if stored is None and first is Stage.BACKTEST:
                stored = self.pipeline.enter(play, first)
            if stored is None:  # new to the ladder: nothing of it is open anywhere
                self._active[play] = (self._key(play, first), None)
            else:
                self._active[play] = (None, stored)
                self._settling.add(play)
                self._vouched.update(self._released(play, stored))

    def parked(self, key: PairKey) -> str | None:
        """Why ``key`` does not trade (``None``: it does, or it is not a graduating pair)."""
        active, stored = self._active.get(key.play, (None, None))
        if key not in self.pairs or active == key:
            return None
        stage = self.ladder.stages[0] if stored is None else stored.stage
        held = None if stored is None else stored.held_in
        if held == key.environment:
            return (
                f"not flat here when it moved to {stage}: the move goes on once it is (if its "
                "close failed: close it at the venue, or `tradeplay panic "
                f"{key.environment}`, which halts every play there)"
            )
        if held is not None:
            return f"in the pipeline at {stage}, waiting for its pair in {held} to be flat"
        if key.play in self._settling and key == self._key(key.play, Stage(stage)):
            return f"in the pipeline at {stage}: starts once its other pairs are flat"
        if stage == Stage.BACKTEST:
            return "in the pipeline at backtest: judge it with `tradeplay pipeline backtest`"
        return f"in the pipeline at {stage}, parked here"

    def capital(self, key: PairKey) -> Decimal:
        """What ``key`` trades with: its capital times its stage's share."""
        pair = self.pairs[key]
        active, stored = self._active.get(key.play, (None, None))
        share = stored.share if stored is not None and active == key else Decimal(1)
        return pair.capital * share

    def _key(self, play: str, stage: Stage) -> PairKey | None:
        if stage is Stage.BACKTEST:
            return None  # judged from a backtest: no environment trades it
        return PairKey(self._deployment.stage_environment(stage), play)

    # -- the tape -----------------------------------------------------------------------------

    def warmed(self, key: PairKey, history: NDArray[np.float64]) -> None:
        """``key`` starts on ``history``: the warm-up of its stage's tape when it is active."""
        if key not in self.pairs:
            return
        self._recent[key].extend(history)
        bar_ms = self.pairs[key].play.play.timeframe.ms
        self.clock.ms = max(self.clock.ms, int(history[-1, 0]) + bar_ms)
        active, stored = self._active[key.play]
        if active != key:
            return
        if stored is None:
            stored = self.pipeline.enter(key.play, self.ladder.stages[0])
            self._active[key.play] = (key, stored)
        self._begin_tape(key)

    def bar(self, key: PairKey, row: NDArray[np.float64], deliver: Callable[[], None]) -> None:
        """A closed bar for ``key``, handed on by ``deliver`` under the same lock a move
        takes, so a tape's warm-up is exactly the bars its pair took before it traded."""
        if key not in self.pairs:
            deliver()
            return
        with self._lock:
            self._recent[key].append(row)
            deliver()

    def stepped(self, key: PairKey, step: BarStep) -> None:
        active, stored = self._active.get(key.play, (None, None))
        if key not in self.pairs or active != key or stored is None:
            return
        fired = tuple(rule for rule, on in step.signals.items() if on)
        bar = StageBar(_row(step.row), fired, traded=step.traded)
        play, entered = key.play, stored.entered_at
        self._records.post(lambda records: records.graduations.add_bars(play, entered, [bar]))
        close_ms = step.open_ms + self.pairs[key].play.play.timeframe.ms
        self._traded_ms[key.play] = close_ms
        self.clock.ms = max(self.clock.ms, close_ms)

    def _begin_tape(self, key: PairKey) -> None:
        active, stored = self._active[key.play]
        if active != key or stored is None:
            return
        if self._records.graduations.has_bars(key.play, stored.entered_at):
            return  # a restart inside the stage: its tape goes on
        warm = [StageBar(_row(row), None, traded=False) for row in self._recent[key]]
        self._records.graduations.add_bars(key.play, stored.entered_at, warm)

    # -- judgements ---------------------------------------------------------------------------

    def judge_due(self) -> list[Decision]:
        """Judge every play whose last judgement is ``evaluate_every_minutes`` of market time
        old; carry out what was decided. The decisions taken."""
        self.follow()
        every_ms = self.ladder.evaluate_every_minutes * 60_000
        decided = []
        for play in self._plays:
            key, stored = self._active[play]
            if key is None or stored is None:
                continue
            last = self._judged_ms.setdefault(play, ms_from_utc(stored.entered_at))
            if self.clock.ms - last < every_ms:
                continue
            self._judged_ms[play] = self.clock.ms
            decision = self.judge(play)
            if decision is not None:
                decided.append(decision)
        return decided

    def follow(self) -> None:
        """Carry out the moves made outside this process: the operator's ``pipeline promote``
        or ``demote``, a ``pipeline backtest`` judgement."""
        for play in self._plays:
            _key, known = self._active[play]
            stored = self.pipeline.find(play)
            if stored is None or known is None:
                continue
            if play in self._settling:  # settled once the move went through or was held
                self._move(play, stored, f"started: on to {stored.stage} once flat elsewhere")
                self._settling.discard(play)
            elif (stored.stage, stored.share, stored.entered_at) != (
                known.stage,
                known.share,
                known.entered_at,
            ):
                self._move(play, stored, f"moved to {stored.stage} outside the deployment")
            elif known.held_in is not None and stored.held_in is None:
                self._vouched.add(PairKey(known.held_in, play))
                self._move(play, stored, f"released by the operator: on to {stored.stage}")
            elif stored.held_in is not None and self._hands.flat(PairKey(stored.held_in, play)):
                self._move(play, stored, f"flat in {stored.held_in}: on to {stored.stage}")

    def evidence(self, play: str, as_of_ms: int | None = None) -> StageEvidence | None:
        """The current stage's record of ``play`` and its parity verdict, from the store."""
        key, stored = self._active[play]
        if key is None or stored is None:
            return None
        return stage_evidence(
            self._records,
            self.pairs[key],
            Stage(stored.stage),
            stored,
            venue_tolerance_bps=self.ladder.venue_fill_tolerance_bps,
            local_fills=self._deployment.model.environments[key.environment].kind.local_fills,
            as_of_ms=as_of_ms,
        )

    def judge(self, play: str) -> Decision | None:
        key, _stored = self._active[play]
        traded_ms = self._traded_ms.get(play)
        if key is None or traded_ms is None:
            return None
        # Up to the bar before the last one taken: a stop's or target's fill in a bar may be
        # told only at the next, and the record judged is the one an audit finds stored.
        found = self.evidence(play, traded_ms - self.pairs[key].play.play.timeframe.ms)
        if found is None:
            return None
        decision = self.pipeline.judge(
            found.record,
            found.parity,
            live_safety=self._deployment.live_safety_above(found.record.stage),
        )
        log.info("pipeline_judged", play=play, action=str(decision.action), reason=decision.reason)
        if decision.action in (Action.PROMOTE, Action.DEMOTE, Action.RAMP):
            self._carry_out(decision)
        return decision

    def _carry_out(self, decision: Decision) -> None:
        reason = f"{decision.action} to {decision.to_stage}: {decision.reason}"
        self._move(decision.play, self.pipeline.stored(decision.play), reason)

    def _move(self, play: str, stored: StoredPlacement, reason: str) -> None:
        """``play`` now trades as ``stored`` says: flat everywhere else first (its other
        pairs parked), then in its stage. A pair not flat holds the move (see module doc)."""
        new = self._key(play, Stage(stored.stage))
        for key in self._leaving(play, new, stored):
            left = self._hands.park(key, reason)
            log.warning("pipeline_left", pair=str(key), done=left.done)
            if not (left.flat and self._hands.flat(key)):  # a close on its way is not flat yet
                self._hold(play, stored, key, left, reason)
                return
        if stored.held_in is not None:
            released = self.pipeline.release(play, stored)
            if _moved(stored, released):  # moved again meanwhile: carry that out instead
                self._move(play, released, reason)
                return
            stored = released
        self._vouched.difference_update([k for k in self._vouched if k.play == play])
        if new is not None:
            self._hands.allot(new, self.pairs[new].capital * stored.share)
        with self._lock:  # no bar reaches the new pair between its tape's warm-up and its resume
            self._active[play] = (new, stored)
            self._judged_ms[play] = self.clock.ms
            if new is not None:
                self._begin_tape(new)
                self._hands.activate(new, reason)

    def _leaving(self, play: str, new: PairKey | None, stored: StoredPlacement) -> list[PairKey]:
        """The pairs of ``play`` to park flat before ``new`` trades: the one trading (a new
        share of the capital starts flat too), the one held (even when it is ``new``: a stage
        starts flat), and every other one — after a restart nothing says where the play traded
        last, and parking a flat pair again costs nothing; one that is not running holds the
        move unless its account was a simulated one (gone with it). At start ``new`` too when
        its stage has no tape yet (a move or a new share stored just before a crash). A pair
        the operator vouched for is not asked."""
        active, _ = self._active[play]
        held = None if stored.held_in is None else PairKey(stored.held_in, play)
        # A stage (or share) with no tape yet never traded: its pair starts flat too.
        fresh = play in self._settling and not self._records.graduations.has_bars(
            play, stored.entered_at
        )
        every = sorted((k for k in self.pairs if k.play == play), key=lambda k: (k == new, k))
        keys = dict.fromkeys(k for k in (active, held, *every) if k is not None)
        return [
            k for k in keys if (k != new or fresh or k in (active, held)) and k not in self._vouched
        ]

    def _hold(
        self, play: str, stored: StoredPlacement, key: PairKey, left: Flatten, reason: str
    ) -> None:
        """``key`` is not flat: ``play`` trades nowhere until it is (stored: a restart keeps
        waiting). A close still on its way is the usual case; a failed flatten the operator's."""
        if left.flat:
            log.info("pipeline_move_waits", play=play, pair=str(key), done=left.done)
        else:
            log.error("pipeline_move_held", play=play, pair=str(key), done=left.done)
        if stored.held_in != key.environment:
            now = self.pipeline.hold(play, key.environment, stored)
            if _moved(stored, now):  # moved again meanwhile: carry that out instead
                self._move(play, now, reason)
                return
            stored = now
        with self._lock:
            self._active[play] = (None, stored)

    def _released(self, play: str, stored: StoredPlacement) -> set[PairKey]:
        """The pairs the operator released ``play`` from since it entered its stage."""
        return {
            PairKey(str(d.metrics["held_in"]), play)
            for d in self._records.graduations.history(play)
            if d.verdict == RELEASE and d.decided_at >= stored.entered_at
        }


def _moved(before: StoredPlacement, now: StoredPlacement) -> bool:
    """Whether ``now`` is another move than ``before`` (another stage, share or entry)."""
    return (now.stage, now.share, now.entered_at) != (before.stage, before.share, before.entered_at)


def _row(row: NDArray[np.float64]) -> tuple[float, float, float, float, float, float]:
    ms, open_, high, low, close, volume = (float(v) for v in row[:6])
    return ms, open_, high, low, close, volume
