"""An account that keeps no record (a paper or shadow account of a running deployment, which
runs for months and stores its orders and fills as they happen) trades exactly as one that
does: the same events, the same account and position; only the run's record is not kept."""

from __future__ import annotations

import pytest

from tests.sim.scenarios import Scenario, config
from tradeplay.domain.errors import InputError
from tradeplay.domain.order import OrderStatus
from tradeplay.domain.values import ClientOrderId
from tradeplay.sim import book

ROWS = [(100, 101, 99, 100), (100, 103, 99, 102), (102, 104, 101, 103), (103, 104, 96, 97)] * 3


def _trade(record: bool) -> Scenario:
    scenario = Scenario(ROWS, settings=config(record=record))
    scenario.order("a-1", "buy")  # fills at the next open
    scenario.step(2)
    scenario.protect(stop_loss="98")  # hit in the fourth bar's fall
    scenario.order("a-2", "sell", "limit", price="120")  # rests above the market to the end
    scenario.step(2)
    scenario.exchange.cancel(
        "BTCUSDT", scenario.order("a-3", "buy", "limit", price="50")[0].client_order_id
    )
    scenario.order("a-4", "sell", qty="2")  # a short, still held at the end
    scenario.finish()
    return scenario


def test_the_account_trades_the_same_without_its_record() -> None:
    kept, lean = _trade(record=True), _trade(record=False)
    assert lean.log == kept.log
    assert lean.exchange.account() == kept.exchange.account()
    assert lean.exchange.position("BTCUSDT") == kept.exchange.position("BTCUSDT")
    assert kept.exchange.fills()
    assert lean.exchange.fills() == ()
    finished = [o for o in kept.exchange.orders() if o.status.is_final]
    assert finished
    assert [o.status for o in lean.exchange.orders()] == [OrderStatus.NEW]  # a-2, working


def test_a_ledger_without_entries_says_so_when_they_are_asked_for() -> None:
    ledger = _trade(record=False).exchange.ledger()
    for read in (ledger.entries, ledger.check):
        with pytest.raises(InputError, match="keeps its totals, not its entries"):
            read()


def test_an_id_used_again_within_the_window_is_still_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book, "IDS_KEPT", 2)
    scenario = Scenario(ROWS, settings=config(record=False))
    for cid in ("x-1", "x-2", "x-3", "x-4"):
        scenario.order(cid, "buy", "limit", price="50")  # rests far below the market
    scenario.exchange.cancel("BTCUSDT", ClientOrderId("x-1"))

    def answer(cid: str) -> str:
        (event,) = scenario.order(cid, "buy", "limit", price="50")
        return getattr(event, "reason", "accepted")

    assert "already used" in answer("x-4")  # within the window
    assert "already used" in answer("x-2")  # past the window, but still working
    assert answer("x-1") == "accepted"  # past the window and done with
