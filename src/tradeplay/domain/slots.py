"""A cheaper ``__init__`` for the frozen, slotted dataclasses built once per order or fill.

A frozen dataclass sets each field in ``__init__`` through ``object.__setattr__(self, name,
value)`` (its own ``__setattr__`` refuses). For a slotted class the slot's descriptor does the
same store without the name lookup: ``descriptor.__set__(self, value)``, about half the cost.
A backtest builds a few hundred thousand fills, positions, events and accounts, so
:func:`quick_init` gives the hot ones such an ``__init__``.

The replacement is the same function in every way a caller can see: the same parameters in the
same order (positional, then keyword-only), the same defaults, the same ``__post_init__`` call,
and the instance stays frozen (assignment still raises ``FrozenInstanceError``). A class whose
fields need more than that (``default_factory``, ``init=False``, ``InitVar``, ``ClassVar``) is
refused at import time rather than half supported.

:func:`trusted_builder` goes one step further for values that were checked once already: it
builds an instance from its field values in field order, without ``__post_init__``. A run's
order records, rebuilt at the end from orders whose every field was checked when the order was
sent, use it; nothing built from outside input may.

The classes it is applied to are listed by ``grep -rn "@quick_init" src``; a new value class
needs it only if it is built per order or per fill.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["quick_init", "trusted_builder"]

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """Give the frozen, slotted dataclass ``cls`` an ``__init__`` that stores slots directly."""
    params, names, stores = _slot_stores(cls, "quick_init")
    positional: list[str] = []
    keyword: list[str] = []
    for field in params:
        if not field.init or field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{field.name}: quick_init takes plain fields only")
        text = field.name
        if field.default is not dataclasses.MISSING:
            names[f"_default_{field.name}"] = field.default
            text = f"{field.name}=_default_{field.name}"
        (keyword if field.kw_only else positional).append(text)
    body = list(stores)
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = f"def __init__({signature}):\n" + "\n".join(body or ["    pass"]) + "\n"
    exec(source, names)
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)  # the same signature when inspected
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def trusted_builder(cls: type[_T]) -> Callable[..., _T]:
    """A function building ``cls`` (a frozen, slotted dataclass) from every field's value,
    positionally in field order, *without* ``__post_init__``: only for values that were checked
    already (see the module docstring). The instance is the same as the constructor's."""
    params, names, stores = _slot_stores(cls, "trusted_builder")
    names.update(_new=object.__new__, _cls=cls)
    body = ["    self = _new(_cls)", *stores, "    return self"]
    signature = ", ".join(field.name for field in params)
    exec(f"def build({signature}):\n" + "\n".join(body) + "\n", names)
    build: Callable[..., _T] = names["build"]
    build.__qualname__ = build.__name__ = f"trusted_{cls.__name__}"
    return build


def _slot_stores(
    cls: type[Any], what: str
) -> tuple[tuple[dataclasses.Field[Any], ...], dict[str, Any], list[str]]:
    """``cls``'s fields, the namespace with each slot's setter (``_set_<name>``) and the lines
    storing each field's value into ``self``; :class:`TypeError` unless ``cls`` is a frozen,
    slotted dataclass without pseudo-fields."""
    params = dataclasses.fields(cls)
    if not (cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__}: {what} is for frozen dataclasses with slots")
    if len(params) != len(cls.__dataclass_fields__):
        raise TypeError(f"{cls.__name__}: {what} takes no InitVar or ClassVar pseudo-fields")
    names = {f"_set_{field.name}": getattr(cls, field.name).__set__ for field in params}
    stores = [f"    _set_{field.name}(self, {field.name})" for field in params]
    return params, names, stores
