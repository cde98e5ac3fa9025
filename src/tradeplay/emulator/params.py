"""Reading a request's parameters the way Bybit does: strings in, typed values out.

GET parameters come from the raw query string, POST parameters from the JSON body. Bybit's
clients send numbers as strings (``"qty":"0.01"``) and a few fields as JSON numbers or
booleans (``"triggerDirection":2``, ``"reduceOnly":true``, ``"mode":0``); both are accepted
wherever Bybit accepts both. A missing or malformed value is a 10001 naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import parse_qsl

from tradeplay.emulator.errors import BybitError

__all__ = ["Params"]

# Bybit's product lines; the emulator trades only the first, USDT perpetuals.
_CATEGORIES: Final = ("linear", "inverse", "spot", "option")


class Params:
    """One request's parameters, with typed accessors that raise Bybit's 10001."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = dict(values)

    @classmethod
    def from_query(cls, raw_query: str) -> Params:
        # Later duplicates win, as in most HTTP frameworks; Bybit's behaviour with duplicates
        # is not documented and no client sends them.
        return cls(dict(parse_qsl(raw_query, keep_blank_values=True)))

    @classmethod
    def from_body(cls, raw_body: bytes) -> Params:
        if not raw_body.strip():
            return cls({})
        try:
            values = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            raise BybitError.params("the request body is not JSON") from None
        if not isinstance(values, dict):
            raise BybitError.params("the request body must be a JSON object")
        return cls(values)

    def has(self, name: str) -> bool:
        value = self._values.get(name)
        return value is not None and value != ""

    def text(self, name: str, default: str | None = None) -> str:
        """A string parameter; numbers are accepted and turned to text."""
        value = self._values.get(name)
        if value is None or value == "":
            if default is None:
                raise BybitError.params(f"{name} is required")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BybitError.params(f"{name} invalid")
        return str(value)

    def optional_text(self, name: str) -> str | None:
        return self.text(name) if self.has(name) else None

    def decimal(self, name: str) -> Decimal:
        text = self.text(name)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise BybitError.params(f"{name} invalid: {text!r} is not a number") from None
        if not value.is_finite():
            raise BybitError.params(f"{name} invalid: {text!r} is not a finite number")
        return value

    def optional_decimal(self, name: str) -> Decimal | None:
        return self.decimal(name) if self.has(name) else None

    def integer(self, name: str, default: int | None = None) -> int:
        if not self.has(name):
            if default is None:
                raise BybitError.params(f"{name} is required")
            return default
        value = self._values[name]
        if isinstance(value, bool):
            raise BybitError.params(f"{name} invalid")
        try:
            return int(str(value))
        except ValueError:
            raise BybitError.params(f"{name} invalid: {value!r} is not an integer") from None

    def flag(self, name: str) -> bool:
        """A boolean sent as JSON ``true``/``false`` (or the strings, which some clients send)."""
        value = self._values.get(name)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise BybitError.params(f"{name} invalid: expected true or false")

    def choice(self, name: str, allowed: tuple[str, ...], default: str | None = None) -> str:
        value = self.text(name, default)
        if value not in allowed:
            raise BybitError.params(f"{name} invalid")
        return value

    def category(self, default: str | None = None) -> str:
        """Bybit's ``category``: one of its product lines (an unknown one is a 10001)."""
        return self.choice("category", _CATEGORIES, default)

    def require_linear(self) -> None:
        """Refuse every category but ``linear``: the emulator trades nothing else."""
        if self.text("category") != "linear":
            raise BybitError.params(
                "category invalid: the emulator serves USDT perpetuals (category=linear) only"
            )
