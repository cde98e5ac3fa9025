"""Orders: one transition table, changed only by events, fills summed exactly."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from decimal import Decimal
from itertools import product

import pytest

from tests.domain.builders import at, fill
from tradeplay.domain.errors import (
    InvalidTransitionError,
    OrderRejectedError,
    OverfillError,
)
from tradeplay.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCreated,
    OrderDeactivated,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
)
from tradeplay.domain.order import TRANSITIONS, Order, OrderStatus, check_transition
from tradeplay.domain.values import ClientOrderId, OrderId, OrderType, Side, TimeInForce

D = Decimal
S = OrderStatus
ID = ClientOrderId("ord-1")
ALL_PAIRS = list(product(OrderStatus, OrderStatus))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def _submitted(
    order_type: OrderType = OrderType.LIMIT,
    qty: str = "1",
    price: str | None = "65000",
    trigger: str | None = None,
    side: Side = Side.BUY,
) -> Order:
    return Order.from_submitted(
        OrderSubmitted(
            client_order_id=ID,
            time=at(0),
            symbol="BTCUSDT",
            side=side,
            order_type=order_type,
            qty=D(qty),
            price=None if price is None else D(price),
            trigger_price=None if trigger is None else D(trigger),
        )
    )


def _filled(qty: str, price: str, seconds: int = 2, fee: str = "0") -> OrderFilled:
    return OrderFilled(client_order_id=ID, time=at(seconds), fill=fill("buy", qty, price, fee=fee))


def _accepted(seconds: int = 1) -> OrderAccepted:
    return OrderAccepted(client_order_id=ID, time=at(seconds), order_id=OrderId("venue-1"))


# -------------------------------------------------------------------------- the table


def test_the_table_covers_every_status_and_both_lists_cover_every_pair() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert len(LEGAL) + len(ILLEGAL) == len(OrderStatus) ** 2


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_transition_is_accepted(current: OrderStatus, target: OrderStatus) -> None:
    check_transition("ord-1", current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_other_transition_raises_naming_the_order_and_both_statuses(
    current: OrderStatus, target: OrderStatus
) -> None:
    expected = f"order ord-1: cannot go from {current} to {target} ("
    with pytest.raises(InvalidTransitionError, match=f"^{re.escape(expected)}"):
        check_transition("ord-1", current, target)


def test_the_message_lists_what_is_allowed_or_says_the_status_is_final() -> None:
    with pytest.raises(InvalidTransitionError) as raised:
        check_transition("ord-1", S.NEW, S.UNTRIGGERED)
    assert str(raised.value) == (
        "order ord-1: cannot go from new to untriggered "
        "(allowed next: cancelled, expired, filled, partially_filled)"
    )
    with pytest.raises(InvalidTransitionError) as raised:
        check_transition("ord-1", S.FILLED, S.CANCELLED)
    assert str(raised.value) == "order ord-1: cannot go from filled to cancelled (filled is final)"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.FILLED, S.CANCELLED),
        (S.CANCELLED, S.FILLED),
        (S.REJECTED, S.NEW),
        (S.DEACTIVATED, S.TRIGGERED),
        (S.NEW, S.PENDING),
        (S.NEW, S.CREATED),
        (S.NEW, S.UNTRIGGERED),
        (S.NEW, S.REJECTED),
        (S.PARTIALLY_FILLED, S.NEW),
        (S.TRIGGERED, S.UNTRIGGERED),
        (S.PENDING, S.PENDING),
    ],
)
def test_going_backwards_or_out_of_a_final_status_is_illegal(
    current: OrderStatus, target: OrderStatus
) -> None:
    assert target not in TRANSITIONS[current]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING, S.FILLED),  # a market order seen only once it is filled
        (S.PENDING, S.CANCELLED),  # a post-only order that would have taken liquidity
        (S.UNTRIGGERED, S.FILLED),  # a stop-market triggered and filled between two updates
        (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.CANCELLED),  # linear: cancelled with fills stays Cancelled
        (S.UNTRIGGERED, S.DEACTIVATED),
    ],
)
def test_updates_that_skip_transient_statuses_are_legal(
    current: OrderStatus, target: OrderStatus
) -> None:
    assert target in TRANSITIONS[current]


def test_only_filled_cancelled_rejected_deactivated_and_expired_are_final() -> None:
    final = {status for status in OrderStatus if status.is_final}
    assert final == {S.FILLED, S.CANCELLED, S.REJECTED, S.DEACTIVATED, S.EXPIRED}


def test_every_open_status_can_still_reach_a_final_one() -> None:
    for status in OrderStatus:
        reachable, frontier = {status}, [status]
        while frontier:
            for nxt in TRANSITIONS[frontier.pop()] - reachable:
                reachable.add(nxt)
                frontier.append(nxt)
        assert any(s.is_final for s in reachable), status


# ------------------------------------------------------------------------ lifecycles


def test_a_limit_order_fills_in_parts_and_averages_its_fill_price_exactly() -> None:
    order = _submitted(qty="1").apply(_accepted())
    assert (order.status, order.order_id) == (S.NEW, "venue-1")
    order = order.apply(_filled("0.4", "65000", fee="1.3"))
    assert (order.status, order.filled_qty, order.remaining_qty) == (
        S.PARTIALLY_FILLED,
        D("0.4"),
        D("0.6"),
    )
    order = order.apply(_filled("0.6", "64990.5", seconds=3, fee="-0.2"))
    assert (order.status, order.filled_qty, order.remaining_qty) == (S.FILLED, D(1), D(0))
    assert order.filled_value == D("64994.3")
    assert order.avg_fill_price == D("64994.3")
    assert order.fees == D("1.1")
    assert order.updated_at == at(3)
    assert not order.is_open


def test_a_market_order_may_be_seen_first_as_filled_and_learns_its_venue_id_from_the_fill() -> None:
    order = _submitted(OrderType.MARKET, qty="0.001", price=None)
    order = order.apply(_filled("0.001", "123498"))
    assert (order.status, order.order_id, order.avg_fill_price) == (
        S.FILLED,
        "venue-1",
        D("123498"),
    )


def test_a_stop_waits_untriggered_then_triggers_enters_the_book_and_fills() -> None:
    order = _submitted(OrderType.STOP_MARKET, price=None, trigger="60000", side=Side.BUY)
    order = order.apply(OrderCreated(client_order_id=ID, time=at(1), order_id=OrderId("venue-1")))
    assert order.status is S.CREATED
    order = order.apply(_accepted(seconds=2))
    assert order.status is S.UNTRIGGERED
    order = order.apply(OrderTriggered(client_order_id=ID, time=at(3)))
    assert order.status is S.TRIGGERED
    order = order.apply(_accepted(seconds=4))
    assert order.status is S.NEW
    assert order.apply(_filled("1", "60010")).status is S.FILLED


def test_a_stop_cancelled_before_it_triggers_is_deactivated() -> None:
    order = _submitted(OrderType.STOP_LIMIT, trigger="60000").apply(_accepted())
    order = order.apply(OrderDeactivated(client_order_id=ID, time=at(5), reason="CancelByUser"))
    assert (order.status, order.reason, order.is_open) == (S.DEACTIVATED, "CancelByUser", False)


def test_an_ioc_remainder_expires_keeping_what_it_filled() -> None:
    order = _submitted().apply(_accepted()).apply(_filled("0.4", "65000"))
    order = order.apply(OrderExpired(client_order_id=ID, time=at(3), reason="IOC remainder"))
    assert (order.status, order.filled_qty, order.is_open) == (S.EXPIRED, D("0.4"), False)
    with pytest.raises(InvalidTransitionError, match="expired is final"):
        order.apply(OrderCancelled(client_order_id=ID, time=at(4)))


def test_a_cancelled_order_keeps_what_it_filled() -> None:
    order = _submitted().apply(_accepted()).apply(_filled("0.25", "65000"))
    order = order.apply(OrderCancelled(client_order_id=ID, time=at(9), reason="CancelByUser"))
    assert (order.status, order.filled_qty, order.reason) == (
        S.CANCELLED,
        D("0.25"),
        "CancelByUser",
    )


def test_a_rejected_order_records_the_reason() -> None:
    order = _submitted().apply(
        OrderRejected(client_order_id=ID, time=at(1), reason="insufficient margin")
    )
    assert (order.status, order.reason) == (S.REJECTED, "insufficient margin")


def test_applying_an_event_returns_a_new_order_and_leaves_the_old_one_alone() -> None:
    order = _submitted()
    accepted = order.apply(_accepted())
    assert order.status is S.PENDING
    assert accepted is not order
    with pytest.raises(FrozenInstanceError):
        order.status = S.NEW  # type: ignore[misc]


# ------------------------------------------------------------------------ refusals


def test_an_event_that_the_status_does_not_allow_names_the_order_and_both_statuses() -> None:
    order = _submitted().apply(_accepted()).apply(_filled("1", "65000"))
    with pytest.raises(InvalidTransitionError) as raised:
        order.apply(OrderCancelled(client_order_id=ID, time=at(9)))
    assert str(raised.value) == (
        "order ord-1 (venue id venue-1): cannot go from filled to cancelled (filled is final)"
    )


def test_a_fill_beyond_the_order_quantity_is_an_overfill() -> None:
    order = _submitted(qty="1").apply(_accepted()).apply(_filled("0.7", "65000"))
    with pytest.raises(OverfillError) as raised:
        order.apply(_filled("0.4", "65000"))
    assert re.fullmatch(
        r"order ord-1 \(venue id venue-1\): fill trade-\d+ of 0\.4 would fill 1\.1 of an "
        r"order for 1",
        str(raised.value),
    )
    assert isinstance(raised.value, InvalidTransitionError)


def test_only_stop_orders_can_be_triggered_or_deactivated() -> None:
    order = _submitted().apply(_accepted())
    with pytest.raises(
        InvalidTransitionError,
        match="OrderTriggered applies only to stop orders, this is a limit order",
    ):
        order.apply(OrderTriggered(client_order_id=ID, time=at(2)))
    with pytest.raises(InvalidTransitionError, match="OrderDeactivated applies only"):
        order.apply(OrderDeactivated(client_order_id=ID, time=at(2)))


def test_an_event_for_another_order_is_refused() -> None:
    other = OrderCancelled(client_order_id=ClientOrderId("ord-2"), time=at(1))
    with pytest.raises(
        InvalidTransitionError, match=r"^order ord-1: received OrderCancelled for order ord-2$"
    ):
        _submitted().apply(other)


def test_a_fill_of_the_wrong_side_or_symbol_is_refused() -> None:
    sell = OrderFilled(client_order_id=ID, time=at(2), fill=fill("sell", "1", "65000"))
    with pytest.raises(
        InvalidTransitionError, match="is a sell of BTCUSDT, the order is a buy of BTCUSDT"
    ):
        _submitted().apply(sell)


def test_the_venue_id_of_an_order_never_changes() -> None:
    order = _submitted().apply(_accepted())
    renamed = OrderFilled(
        client_order_id=ID, time=at(2), fill=fill("buy", "1", "65000", order_id="venue-9")
    )
    with pytest.raises(InvalidTransitionError, match="the venue now calls it venue-9"):
        order.apply(renamed)


def test_submitting_the_same_order_twice_is_refused() -> None:
    again = OrderSubmitted(
        client_order_id=ID,
        time=at(1),
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(1),
        price=D(65000),
    )
    with pytest.raises(InvalidTransitionError, match="cannot go from pending to pending"):
        _submitted().apply(again)


_MARKET, _LIMIT, _STOP = OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_MARKET


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"order_type": _LIMIT}, "a limit order needs a limit price"),
        ({"order_type": _MARKET, "price": D(1)}, "a market order takes no limit price"),
        ({"order_type": _STOP}, "a stop_market order needs a trigger price"),
        (
            {"order_type": _LIMIT, "price": D(1), "trigger_price": D(2)},
            "a limit order takes no trigger price",
        ),
        ({"order_type": _LIMIT, "price": D(1), "qty": D(0)}, "quantity 0 must be positive"),
        ({"order_type": _LIMIT, "price": D(-1)}, "price -1 must be positive"),
        (
            {"order_type": _MARKET, "time_in_force": TimeInForce.POST_ONLY},
            "post-only needs a limit price; a market order has none",
        ),
    ],
)
def test_an_order_that_cannot_be_sent_is_rejected_before_it_exists(
    fields: dict[str, object], problem: str
) -> None:
    base: dict[str, object] = {
        "client_order_id": ID,
        "time": at(0),
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "qty": D(1),
    }
    event = OrderSubmitted(**(base | fields))  # type: ignore[arg-type]
    with pytest.raises(
        OrderRejectedError, match=f"^order ord-1 for BTCUSDT: {re.escape(problem)}$"
    ):
        Order.from_submitted(event)


@pytest.mark.parametrize("bad_id", ["", "x" * 37, "has space", "ümlaut"])
def test_a_client_order_id_must_follow_bybits_order_link_id_rule(bad_id: str) -> None:
    event = OrderSubmitted(
        client_order_id=ClientOrderId(bad_id),
        time=at(0),
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        qty=D(1),
    )
    with pytest.raises(OrderRejectedError, match="the client order id must be 1 to 36"):
        Order.from_submitted(event)
