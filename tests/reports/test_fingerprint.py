"""The run fingerprint: equal fills hash equal, any changed fill changes the hash."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.reports.builders import fill
from tradeplay.domain.fill import Fill
from tradeplay.domain.values import TradeId
from tradeplay.reports.fingerprint import canonical_fill_text, fingerprint


def _fills() -> list[Fill]:
    return [
        fill(1, "buy", "0.010", "65000.1", fee="0.357", ms=0),
        fill(2, "sell", "0.004", "65100", fee="0.14322", ms=60_000),
        fill(3, "sell", "0.006", "64990.5", fee="-0.0389943", ms=120_001),  # maker rebate
    ]


def test_identical_fills_built_separately_give_the_identical_hash() -> None:
    assert fingerprint(_fills()) == fingerprint(_fills())


def test_the_canonical_text_is_pinned() -> None:
    text = canonical_fill_text(_fills()[:1])
    assert text == "tradeplay-fills/1\nt-1|1704067200000|BTCUSDT|buy|0.01|65000.1|0.357\n"
    assert fingerprint(_fills()[:1]) == hashlib.sha256(text.encode()).hexdigest()


def test_no_fills_hash_the_format_tag_alone() -> None:
    assert fingerprint([]) == hashlib.sha256(b"tradeplay-fills/1\n").hexdigest()


CHANGES: dict[str, Callable[[Fill], Fill]] = {
    "price": lambda f: dataclasses.replace(f, price=f.price + Decimal("0.1")),
    "qty": lambda f: dataclasses.replace(f, qty=f.qty + Decimal("0.001")),
    "fee": lambda f: dataclasses.replace(f, fee=f.fee + Decimal("0.0000001")),
    "time by 1 ms": lambda f: dataclasses.replace(f, time=f.time + timedelta(milliseconds=1)),
    "side": lambda f: dataclasses.replace(f, side=f.side.opposite()),
    "trade id": lambda f: dataclasses.replace(f, trade_id=TradeId("t-99")),
    "symbol": lambda f: dataclasses.replace(f, symbol="ETHUSDT"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
@pytest.mark.parametrize("position", [0, 1, 2])
def test_any_changed_fill_changes_the_hash(change: Callable[[Fill], Fill], position: int) -> None:
    changed = _fills()
    changed[position] = change(changed[position])
    assert fingerprint(changed) != fingerprint(_fills())


def test_order_missing_and_extra_fills_change_the_hash() -> None:
    fills = _fills()
    reference = fingerprint(fills)
    assert fingerprint(list(reversed(fills))) != reference
    assert fingerprint(fills[:-1]) != reference
    assert fingerprint([*fills, fill(4, ms=180_000)]) != reference


def test_the_same_amount_written_differently_hashes_alike() -> None:
    plain = fill(1, qty="1.5", price="65000", fee="0.06")
    padded = dataclasses.replace(
        plain, qty=Decimal("1.500"), price=Decimal("6.5E+4"), fee=Decimal("0.0600")
    )
    assert fingerprint([plain]) == fingerprint([padded])


def test_separators_inside_ids_cannot_make_two_fill_lists_collide() -> None:
    one = dataclasses.replace(fill(1), trade_id=TradeId("a|1704067200000"))
    other = dataclasses.replace(fill(1), trade_id=TradeId("a"))
    assert canonical_fill_text([one]) != canonical_fill_text([other])
    assert "a\\|1704067200000|" in canonical_fill_text([one])
