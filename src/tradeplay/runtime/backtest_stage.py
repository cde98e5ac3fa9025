"""The ladder's backtest stage: a graduating play judged on stored bars it was not tuned on.

``tradeplay pipeline backtest PLAY --from DATE`` backtests the play on the best stored data for
its symbol and timeframe, trading only from ``DATE`` on (the bars before warm its features up,
see :func:`~tradeplay.graduation.records.backtest_out_of_sample`), and judges that record
against the backtest stage's criteria. The backtest is its own replay, so its parity holds by
construction. A running deployment carries a promotion out at its next poll.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tradeplay.backtesting import load_market
from tradeplay.data.store import CandleStore
from tradeplay.domain.errors import InputError
from tradeplay.domain.instruments_bybit import bybit_linear
from tradeplay.domain.values import ms_from_utc
from tradeplay.graduation import Decision, Stage
from tradeplay.graduation.parity import ParityVerdict
from tradeplay.graduation.records import backtest_out_of_sample
from tradeplay.play import load_play
from tradeplay.runtime.deployment import Deployment
from tradeplay.runtime.deployment_checks import play_name
from tradeplay.runtime.pipeline import Pipeline

__all__ = ["judge_backtest_stage"]


def judge_backtest_stage(
    pipeline: Pipeline,
    deployment: Deployment,
    play: str,
    store: CandleStore,
    *,
    out_of_sample_from: datetime,
    until: datetime | None = None,
) -> Decision:
    """Judge ``play`` (a graduating play of ``deployment`` in the backtest stage) on the
    stored bars from ``out_of_sample_from`` (to ``until``); the decision, stored."""
    specs = {play_name(deployment, spec): spec for spec in deployment.model.plays}
    spec = specs.get(play)
    if spec is None or not deployment.graduates(spec):
        graduating = [name for name, s in specs.items() if deployment.graduates(s)]
        raise InputError(
            f"{deployment.source}: no graduating play called {play!r} (graduating: "
            f"{', '.join(graduating) or 'none; give a play environments: pipeline'})"
        )
    placement = pipeline.enter(play)
    if placement.stage != Stage.BACKTEST:
        raise InputError(f"{play} stands in {placement.stage}: the backtest stage is behind it")
    compiled = load_play(deployment.play_path(spec))
    symbol = (spec.symbol or compiled.play.instruments[0]).upper()
    until_ms = None if until is None else ms_from_utc(until)
    # From the first bar: the bars before out_of_sample_from warm the features up.
    market = load_market(store, symbol, compiled.play.timeframe, None, until_ms)
    result, record = backtest_out_of_sample(
        compiled,
        bybit_linear(symbol),
        market.candles,
        out_of_sample_from=out_of_sample_from,
        data=market.label,
        funding=market.funding,
        minutes=market.minutes,
    )
    record = replace(record, play=play)  # the name the deployment gives it, not the file's
    parity = ParityVerdict(None, record.equity.size, len(result.orders), len(result.fills))
    return pipeline.judge(record, parity, live_safety=deployment.live_safety_above(Stage.BACKTEST))
