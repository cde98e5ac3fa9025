"""quick_init: the same constructor as the dataclass's own, only cheaper."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import InitVar, dataclass, field

import pytest

from tradeplay.domain.slots import quick_init


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "b"
    checked: list[str] = dataclasses.field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _Value:
    a: int
    b: str = "b"

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("a must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class _KeywordValue:
    x: int
    y: int = 2


def test_the_signature_defaults_and_values_stay_those_of_the_dataclass() -> None:
    before = inspect.signature(_Value.__init__)
    built = _Value(1)
    quick = quick_init(_Value)
    assert inspect.signature(quick.__init__) == before
    assert quick(1) == built
    assert quick(1, "c") == _Value(a=1, b="c")
    assert repr(quick(a=3)) == "_Value(a=3, b='b')"
    assert quick_init(_KeywordValue)(x=1) == _KeywordValue(x=1, y=2)
    with pytest.raises(TypeError):
        _KeywordValue(1)  # type: ignore[call-arg]  # keyword-only stays keyword-only


def test_post_init_still_runs_and_the_value_stays_frozen() -> None:
    value = quick_init(_Value)
    with pytest.raises(ValueError, match="negative"):
        value(-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value(1).a = 2  # type: ignore[misc]
    assert dataclasses.replace(value(1), b="z") == value(1, "z")


def test_fields_it_cannot_copy_faithfully_are_refused_at_import() -> None:
    with pytest.raises(TypeError, match="plain fields"):
        quick_init(_Plain)

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        scale: InitVar[int] = 1

    with pytest.raises(TypeError, match="InitVar"):
        quick_init(WithInitVar)

    @dataclass(slots=True)
    class Mutable:
        a: int = field(default=0)

    with pytest.raises(TypeError, match="frozen"):
        quick_init(Mutable)
