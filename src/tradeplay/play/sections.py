"""Building blocks of the play schema: the strict base section and the value types.

Values are read strictly enough that nothing is silently reinterpreted: ``true`` is not the
number 1, ``"12"`` is not the number 12, NaN and infinities are not numbers, and an unknown field
is an error with the closest known name suggested.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tradeplay.domain.errors import InputError
from tradeplay.domain.timeframe import Timeframe
from tradeplay.domain.values import to_decimal
from tradeplay.play.errors import did_you_mean


def shown(value: object) -> str:
    """A value as a message quotes it, cut when long."""
    text = f"{value:f}" if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 60 else f"{text[:57]}…"


def custom(kind: str, message: str) -> PydanticCustomError:
    """A schema error whose message is ours, word for word."""
    return PydanticCustomError(kind, message)  # no context given: the text is not formatted


class Section(BaseModel):
    """A part of a play: frozen, and no field it does not know."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [info.alias or name for name, info in cls.model_fields.items()]
            for key in data:
                if key not in allowed:
                    raise PydanticCustomError(
                        "unknown_field",
                        "unknown field{hint}; allowed here: {allowed}",
                        {
                            "field": key,
                            "hint": did_you_mean(str(key), allowed),
                            "allowed": ", ".join(allowed),
                        },
                    )
        return data


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise custom("number_type", f"expected a number, got {shown(value)}")
    if not math.isfinite(value):
        raise custom("number_type", f"expected a finite number, got {shown(value)}")
    return value


def _whole(value: Any) -> Any:
    _number(value)
    if isinstance(value, float | Decimal) and value != int(value):
        raise custom("whole_type", f"expected a whole number, got {shown(value)}")
    return int(value)


def _money(value: Any) -> Decimal:
    _number(value)
    return to_decimal(value)


def _timeframe(value: Any) -> Timeframe:
    if isinstance(value, Timeframe):
        return value
    if not isinstance(value, str):
        raise custom("timeframe", f"expected a timeframe such as 15m, 1h, 4h, got {shown(value)}")
    try:
        return Timeframe.parse(value)
    except InputError as error:
        raise custom("timeframe", str(error)) from None


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise custom("text_type", f"expected text, got {shown(value)}")
    return value


Number = Annotated[float, BeforeValidator(_number)]
"""A finite number (``true`` / ``false`` / text refused)."""
Whole = Annotated[int, BeforeValidator(_whole)]
"""A whole number (``12.0`` accepted as 12)."""
Money = Annotated[Decimal, BeforeValidator(_money)]
"""An exact amount: read through ``str()`` so ``0.1`` is exactly one tenth."""
Text = Annotated[str, BeforeValidator(_text)]
TimeframeField = Annotated[Timeframe, PlainValidator(_timeframe), PlainSerializer(str)]
