"""The replay: only closed bars are visible, larger candles confirm with the bar closing them."""

from __future__ import annotations

import asyncio

from tests.emulator.conftest import (
    HISTORY_BARS,
    MINUTE,
    START_MS,
    accounts,
    wave_candles,
    wave_market,
)
from tradeplay.emulator import Emulator, EmulatorOptions, ReplaySpeed
from tradeplay.emulator.market import Market


def test_rest_klines_are_newest_first_and_never_ahead_of_the_replay() -> None:
    market = wave_market()
    market.start_at(START_MS + HISTORY_BARS * MINUTE)
    btc = market.get("BTCUSDT")
    rows = btc.kline_rows("1", None, None, 1000)
    assert len(rows) == HISTORY_BARS
    assert int(rows[0][0]) == START_MS + (HISTORY_BARS - 1) * MINUTE  # the last closed bar
    assert all(isinstance(cell, str) for row in rows for cell in row)
    five = btc.kline_rows("5", None, None, 3)
    candles = wave_candles()
    newest = slice(HISTORY_BARS - 5, HISTORY_BARS)
    assert five[0][1:5] == [
        btc.price_text(v)
        for v in (
            candles.open[newest][0],
            candles.high[newest].max(),
            candles.low[newest].min(),
            candles.close[newest][-1],
        )
    ]


def test_a_larger_candle_confirms_with_the_base_bar_that_closes_it() -> None:
    market = wave_market()
    market.start_at(START_MS + HISTORY_BARS * MINUTE)
    btc = market.get("BTCUSDT")
    confirms = []
    for _ in range(10):
        btc.cursor += 1
        message = btc.kline_message("5")
        assert message is not None
        confirms.append(message["confirm"])
        assert message["end"] == message["start"] + 5 * MINUTE - 1
    # Bars 100..109 are revealed; the 5m candles close with bars 104 and 109.
    assert confirms == [False] * 4 + [True] + [False] * 4 + [True]


def test_tickers_and_funding_stop_at_the_replay_clock() -> None:
    market = wave_market()
    market.start_at(START_MS + HISTORY_BARS * MINUTE)
    btc = market.get("BTCUSDT")
    ticker = btc.ticker(market.now_ms)
    assert ticker["lastPrice"] == btc.price_text(float(wave_candles().close[HISTORY_BARS - 1]))
    assert int(str(ticker["nextFundingTime"])) >= market.now_ms
    rows = btc.funding_rows(None, None, 200, market.now_ms)
    assert all(int(row["fundingRateTimestamp"]) <= market.now_ms for row in rows)


def test_symbols_step_together_on_one_clock() -> None:
    from tradeplay.domain.instruments_bybit import bybit_linear
    from tradeplay.domain.timeframe import Timeframe

    late = wave_candles(50, START_MS + 10 * MINUTE)
    market = Market.from_candles(
        {bybit_linear("BTCUSDT"): wave_candles(50), bybit_linear("ETHUSDT"): late},
        Timeframe.parse("1m"),
    )
    market.start_at(START_MS)
    firsts = [[s.symbol for s in market.next_step()]]
    for _ in range(10):
        for s in market.next_step():
            s.cursor += 1
    firsts.append(sorted(s.symbol for s in market.next_step()))
    assert firsts == [["BTCUSDT"], ["BTCUSDT", "ETHUSDT"]]


def test_the_max_pace_replays_to_the_end_as_fast_as_it_can() -> None:
    async def run() -> int:
        emulator = Emulator(
            wave_market(300), accounts(), EmulatorOptions(speed=ReplaySpeed.parse("max"))
        )
        await emulator.start()
        try:
            for _ in range(500):
                if emulator.market.finished:
                    break
                await asyncio.sleep(0.01)
            return emulator.bars_replayed
        finally:
            await emulator.stop()

    assert asyncio.run(run()) == 150  # the first half is history by default
