"""``remember``: a map that forgets its oldest entries past its size."""

from __future__ import annotations

from tradeplay.domain.memory import remember


def test_the_oldest_entries_are_forgotten_first() -> None:
    kept: dict[str, int] = {}
    for n in range(5):
        remember(kept, f"k{n}", n, 3)
    assert kept == {"k2": 2, "k3": 3, "k4": 4}
    assert list(kept) == ["k2", "k3", "k4"]


def test_a_key_remembered_again_keeps_its_place_and_takes_the_new_value() -> None:
    kept = {"a": 1, "b": 2}
    remember(kept, "a", 10, 2)
    assert list(kept.items()) == [("a", 10), ("b", 2)]


def test_no_limit_keeps_everything() -> None:
    kept: dict[int, None] = {}
    for n in range(5):
        remember(kept, n, None, None)
    assert list(kept) == [0, 1, 2, 3, 4]
