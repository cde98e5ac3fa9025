"""quick_init: the same constructor as the dataclass's own, only cheaper."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import InitVar, dataclass, field
from typing import Any, cast

import pytest

from tradeplay.domain.slots import quick_init, trusted_builder


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "b"
    checked: list[str] = dataclasses.field(default_factory=list, compare=False, repr=False)


def _value() -> Any:
    @dataclass(frozen=True, slots=True)
    class Value:
        a: int
        b: str = "b"

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("a must not be negative")

    return Value


def test_the_signature_defaults_and_values_stay_those_of_the_dataclass() -> None:
    value = _value()
    before = inspect.signature(value.__init__)
    quick = quick_init(value)  # patches the class in place: compare with literal values
    assert inspect.signature(quick.__init__) == before
    assert dataclasses.astuple(quick(1)) == (1, "b")
    assert dataclasses.astuple(quick(1, "c")) == (1, "c")
    assert dataclasses.astuple(quick(b="d", a=3)) == (3, "d")
    assert repr(quick(a=3)).endswith("Value(a=3, b='b')")


def test_inherited_keyword_only_fields_keep_their_order_and_defaults() -> None:
    """The shape of the order events: a keyword-only base, a subclass adding fields."""

    @dataclass(frozen=True, slots=True, kw_only=True)
    class Base:
        x: int
        y: int = 2

    @quick_init
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Event(Base):
        z: str
        w: float = 0.5

    assert dataclasses.astuple(Event(x=1, z="z")) == (1, 2, "z", 0.5)
    assert dataclasses.astuple(Event(z="q", w=1.5, y=7, x=0)) == (0, 7, "q", 1.5)
    with pytest.raises(TypeError):
        cast("Any", Event)(1, "z")  # keyword-only stays keyword-only
    with pytest.raises(TypeError):
        cast("Any", Event)(x=1)  # a field without default stays required


def test_post_init_still_runs_and_the_value_stays_frozen() -> None:
    value = quick_init(_value())
    with pytest.raises(ValueError, match="negative"):
        value(-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        value(1).a = 2
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


def test_the_trusted_builder_makes_the_constructors_instance_without_its_checks() -> None:
    value = _value()
    build = trusted_builder(value)
    assert build(1, "c") == value(1, "c")
    assert dataclasses.astuple(build(2, "d")) == (2, "d")
    assert build(-1, "b").a == -1  # __post_init__ (which refuses a < 0) is not run
    with pytest.raises(ValueError, match="must not be negative"):
        value(-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        build(1, "b").a = 2  # type: ignore[misc]


def test_the_trusted_builder_refuses_a_class_that_is_not_frozen_with_slots() -> None:
    @dataclass
    class Loose:
        a: int

    with pytest.raises(TypeError, match="frozen dataclasses with slots"):
        trusted_builder(Loose)


def test_the_trusted_builder_refuses_pseudo_fields_it_would_silently_drop() -> None:
    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        scale: InitVar[int] = 1

        def __post_init__(self, scale: int) -> None:
            pass

    with pytest.raises(TypeError, match="no InitVar or ClassVar"):
        trusted_builder(WithInitVar)
