"""Events as JSON and back, exactly: the wire format of the Redis bus.

::

    {"type": "OrderFilled", "environment": "demo", "time": "2026-01-02T03:04:05.123000+00:00",
     "qty": "0.010", "price": "42000.5", ...}

``Decimal`` travels as its text (``"0.010"`` stays ``0.010``), times as ISO 8601 with the UTC
offset, enums as their value. Decoding is driven by each event's type hints, so a new event or
field needs no codec change; a message that does not fit raises :class:`EventDecodeError`.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from types import MappingProxyType
from typing import Any, Final

from tradeplay.domain.errors import InputError
from tradeplay.notify.events import EVENT_TYPES, Event

_BY_NAME: Final = MappingProxyType({kind.__name__: kind for kind in EVENT_TYPES})
_HINTS: Final = MappingProxyType(
    {kind.__name__: MappingProxyType(typing.get_type_hints(kind)) for kind in EVENT_TYPES}
)


class EventDecodeError(InputError):
    """A message that is not a tradeplay event (another version, or not ours)."""


def encode(event: Event) -> str:
    """One line of JSON."""
    name = type(event).__name__
    if name not in _BY_NAME:
        raise InputError(f"{name} is not a registered event type (add it to EVENT_TYPES)")
    body: dict[str, Any] = {"type": name}
    for field in fields(event):
        body[field.name] = _plain(getattr(event, field.name))
    return json.dumps(body, separators=(",", ":"))


def decode(message: str | bytes) -> Event:
    try:
        body = json.loads(message)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventDecodeError(f"event message is not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("type") not in _BY_NAME:
        raise EventDecodeError("event message has no known 'type'")
    name = body.pop("type")
    hints = _HINTS[name]
    unknown = set(body) - set(hints)
    if unknown:
        raise EventDecodeError(f"{name}: unknown fields {sorted(unknown)}")
    values = {key: _value(hints[key], raw, f"{name}.{key}") for key, raw in body.items()}
    try:
        event: Event = _BY_NAME[name](**values)
    except (TypeError, InputError) as exc:  # a required field is missing, a time not UTC …
        raise EventDecodeError(f"{name}: {exc}") from None
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _value(kind: Any, raw: Any, where: str) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        if raw is None and type(None) in typing.get_args(kind):
            return None
        (kind,) = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    kind = getattr(kind, "__supertype__", kind)  # a NewType id is its base type on the wire
    if kind is Decimal:
        return _decimal(raw, where)
    if kind is datetime:
        return _datetime(raw, where)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(raw)
        except ValueError:
            raise EventDecodeError(f"{where}: {raw!r} is not a {kind.__name__}") from None
    if isinstance(kind, type) and type(raw) is kind:
        return raw
    raise EventDecodeError(f"{where}: expected {getattr(kind, '__name__', kind)}, got {raw!r}")


def _decimal(raw: Any, where: str) -> Decimal:
    if not isinstance(raw, str):
        raise EventDecodeError(f"{where}: expected a decimal as text, got {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise EventDecodeError(f"{where}: {raw!r} is not a decimal") from None
    if not value.is_finite():
        raise EventDecodeError(f"{where}: {raw!r} is not a finite decimal")
    return value


def _datetime(raw: Any, where: str) -> datetime:
    if not isinstance(raw, str):
        raise EventDecodeError(f"{where}: expected an ISO 8601 time, got {raw!r}")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise EventDecodeError(f"{where}: {raw!r} is not an ISO 8601 time") from None
