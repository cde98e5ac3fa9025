"""The journal gives back the decisions it recorded, whatever form it keeps them in."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradeplay.engine.journal import Decision, Journal
from tradeplay.engine.sizing import Sized
from tradeplay.engine.strategy import Intent

_AT = datetime(2024, 1, 1, tzinfo=UTC)


def test_the_journal_reads_back_each_decision_as_recorded() -> None:
    sized = Sized(
        qty=Decimal("0.5"),
        notional=Decimal("20000"),
        words=("{:amount} {} on the step", (Decimal("0.5"), "BTC")),
    )
    journal = Journal()
    journal.record(_AT, 3, Intent.ENTER_LONG, "sent", sized)
    journal.record(_AT, 4, Intent.EXIT_LONG, "rejected", "refused for the test")
    journal.record(_AT, 5, "trailing_stop", "skipped", "already flat")
    assert journal.decisions == [
        Decision(_AT, 3, Intent.ENTER_LONG, "sent", sized),
        Decision(_AT, 4, Intent.EXIT_LONG, "rejected", "refused for the test"),
        Decision(_AT, 5, "trailing_stop", "skipped", "already flat"),
    ]
    assert journal.decisions[0].step is Intent.ENTER_LONG
    assert journal.decisions[0].detail == sized.explanation == "0.5 BTC on the step"
    assert (journal.count("sent"), journal.count("skipped")) == (1, 1)


def test_a_journal_keeping_a_window_keeps_the_latest_decisions() -> None:
    journal = Journal(keep=2)
    for bar in range(5):
        journal.record(_AT, bar, Intent.EXIT_LONG, "skipped" if bar % 2 else "sent", "why")
    assert [decision.bar for decision in journal.decisions] == [3, 4]
    assert (journal.count("skipped"), journal.count("sent")) == (1, 1)


def test_a_journal_keeps_at_least_one_decision() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Journal(keep=0)
