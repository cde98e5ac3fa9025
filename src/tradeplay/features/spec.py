"""What a feature is: a step kernel plus the metadata a play file and the engine need.

A **kernel** is a numba-compiled function ``kernel(state, params, bars, out)``:

* ``bars`` is a ``(n, 6)`` float64 matrix of closed bars, columns :data:`TS`, :data:`OPEN`,
  :data:`HIGH`, :data:`LOW`, :data:`CLOSE`, :data:`VOLUME` (open time in epoch ms is exact in a
  float64 up to year 287,000);
* ``state`` is a float64 vector of :attr:`FeatureSpec.state_size` elements, zeros before the
  first bar, that the kernel reads and updates; ``state[0]`` counts the bars seen so far;
* ``params`` is the float64 vector :meth:`FeatureSpec.encode` builds from the play's parameters;
* ``out`` is a ``(n, len(outputs))`` float64 matrix the kernel fills, one row per bar, NaN for
  every bar before :meth:`FeatureSpec.warmup`.

The batch path calls the kernel once over all bars; the streaming path calls **the same compiled
function** with one bar at a time and the state it kept. Both therefore run the same machine code
in the same order and give the same floats, bit for bit: parity by construction.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from tradeplay.domain.errors import InputError

TS, OPEN, HIGH, LOW, CLOSE, VOLUME = range(6)
BAR_COLUMNS: Final = 6

#: Price sources a feature may read, and their codes inside kernels (see ``_math.source``).
SOURCES: Final[Mapping[str, int]] = {
    name: code
    for code, name in enumerate(("open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4"))
}

Params = Mapping[str, Any]
Kernel = Callable[
    [NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]], None
]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a feature: its type, default and allowed range, for the play schema."""

    name: str
    kind: type[int] | type[float] | type[str]
    default: int | float | str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def check(self, feature: str, value: object) -> int | float | str:
        """The value, or an InputError saying what was expected."""
        where = f"feature '{feature}' parameter '{self.name}'"
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise InputError(
                    f"{where}: expected one of {', '.join(self.choices)}, got {value!r}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{where}: expected a number, got {value!r}")
        if self.kind is int and not float(value).is_integer():
            raise InputError(f"{where}: expected a whole number, got {value!r}")
        number = int(value) if self.kind is int else float(value)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise InputError(f"{where}: expected {self._range()}, got {value!r}")
        return number

    def _range(self) -> str:
        low = "" if self.minimum is None else f"at least {self.minimum:g}"
        high = "" if self.maximum is None else f"at most {self.maximum:g}"
        return " and ".join(part for part in (low, high) if part) or "a number"

    def encode(self, value: int | float | str) -> float:
        """The value as kernels read it: a choice is its position in ``choices``."""
        if self.kind is str:
            return float(self.choices.index(str(value)))
        return float(value)


def source_param(default: str = "close") -> ParamSpec:
    """The usual ``source`` parameter: which price (or volume) the feature reads. Its choices
    are in :data:`SOURCES` order, so a choice's position is the code kernels read."""
    return ParamSpec("source", str, default, choices=tuple(SOURCES), doc="input series")


def period_param(default: int, name: str = "period", minimum: int = 1) -> ParamSpec:
    return ParamSpec(name, int, default, minimum=minimum, maximum=100_000, doc="bars")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """A feature kind, e.g. ``ema``: parameters, outputs, warm-up, state size and kernel."""

    kind: str
    doc: str
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    warmup: Callable[[Params], int]
    """Bars of NaN before the first value, from the (checked) parameters."""
    state_size: Callable[[Params], int]
    kernel: Kernel
    talib: str | None = None
    """TA-Lib function that computes the same values (the test oracle), if any."""
    tags: tuple[str, ...] = field(default=())
    flags: tuple[str, ...] = field(default=())
    """Outputs that are 1.0 or 0.0 (an event or a state): a rule may use them as conditions,
    ``bos.up and ob.bull.active`` reading as ``bos.up == 1 and ob.bull.active == 1``."""

    def __post_init__(self) -> None:
        unknown = set(self.flags) - set(self.outputs)
        if unknown:
            raise ValueError(f"feature {self.kind!r}: flags {sorted(unknown)} are not outputs")

    def resolve(self, given: Params) -> dict[str, Any]:
        """Parameters with defaults filled in and every value checked; unknown names refused."""
        known = {param.name: param for param in self.params}
        for name in given:
            if name not in known:
                raise InputError(
                    f"feature '{self.kind}' has no parameter '{name}'"
                    f"{_suggest(name, known)}; it takes {', '.join(known) or 'none'}"
                )
        return {
            param.name: param.check(self.kind, given.get(param.name, param.default))
            for param in self.params
        }

    def encode(self, resolved: Params) -> NDArray[np.float64]:
        return np.array([p.encode(resolved[p.name]) for p in self.params], dtype=np.float64)


def _suggest(name: str, known: Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Registry:
    """Every feature kind by name. Kernels modules register at import."""

    def __init__(self) -> None:
        self._specs: dict[str, FeatureSpec] = {}

    def add(self, spec: FeatureSpec) -> FeatureSpec:
        if spec.kind in self._specs:
            raise ValueError(f"feature kind {spec.kind!r} registered twice")
        self._specs[spec.kind] = spec
        return spec

    def get(self, kind: str) -> FeatureSpec:
        spec = self._specs.get(kind)
        if spec is None:
            raise InputError(
                f"unknown feature '{kind}'{_suggest(kind, self._specs)}; "
                f"known: {', '.join(sorted(self._specs))}"
            )
        return spec

    def kinds(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, kind: object) -> bool:
        return kind in self._specs


REGISTRY: Final = Registry()
