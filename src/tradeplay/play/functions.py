"""The functions a rule may call: their arguments, result type and how far back they read.

The evaluator (:mod:`tradeplay.play.evaluate`) implements each one over whole arrays; this table
is what the checker and the documentation read. A *window* argument is a whole-number literal
(``highest(high, 20)``), so the look-back of every rule is known when the play is compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Type(StrEnum):
    """What an expression gives: a number per bar, or a condition (true / false) per bar."""

    NUMBER = "number"
    CONDITION = "condition"


MAX_WINDOW: Final = 100_000


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    args: tuple[str, ...]
    """Argument names as the documentation writes them; ``n`` is the window literal."""
    result: Type
    reach: Callable[[int], int]
    """Bars before the current one it reads beyond what its arguments read, from the window."""
    doc: str

    @property
    def has_window(self) -> bool:
        return self.args[-1] == "n"

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


def _none(_: int) -> int:
    return 0


def _one(_: int) -> int:
    return 1


def _window(n: int) -> int:
    return n - 1


def _span(n: int) -> int:
    return n


FUNCTIONS: Final[Mapping[str, Function]] = {
    function.name: function
    for function in (
        Function(
            "crosses_above",
            ("a", "b"),
            Type.CONDITION,
            _one,
            "a was at or below b on the previous bar and is above it now",
        ),
        Function(
            "crosses_below",
            ("a", "b"),
            Type.CONDITION,
            _one,
            "a was at or above b on the previous bar and is below it now",
        ),
        Function(
            "highest",
            ("x", "n"),
            Type.NUMBER,
            _window,
            "largest x of the last n bars, the current one included",
        ),
        Function(
            "lowest",
            ("x", "n"),
            Type.NUMBER,
            _window,
            "smallest x of the last n bars, the current one included",
        ),
        Function(
            "between",
            ("x", "low", "high"),
            Type.CONDITION,
            _none,
            "low ≤ x ≤ high",
        ),
        Function("abs", ("x",), Type.NUMBER, _none, "x without its sign"),
        Function("min", ("a", "b"), Type.NUMBER, _none, "the smaller of a and b"),
        Function("max", ("a", "b"), Type.NUMBER, _none, "the larger of a and b"),
        Function("change", ("x", "n"), Type.NUMBER, _span, "x now minus x n bars ago"),
        Function(
            "rising",
            ("x", "n"),
            Type.CONDITION,
            _span,
            "x went up on each of the last n bars",
        ),
        Function(
            "falling",
            ("x", "n"),
            Type.CONDITION,
            _span,
            "x went down on each of the last n bars",
        ),
    )
}
