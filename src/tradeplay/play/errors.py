"""What goes wrong in a play file, said so that the trader can fix it without reading code.

::

    InputError
    └── PlayError                 anything wrong with a play
        ├── PlayFileError             a play file: one line per problem, each naming file and line
        └── ExpressionError           one rule expression: column and a caret under the text

A :class:`Problem` is one thing wrong at one place (field path, line, column). The compiler
collects every problem it can find in one pass and raises them together, so a trader fixes a
file in one round instead of one error at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tradeplay.domain.errors import InputError

_EXCERPT_WIDTH = 72


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a play file.

    ``path`` is the dotted field path (``features.fast.period``, ``long.entry``), empty for the
    file as a whole; ``line`` is 1-based in the file; ``column`` is 1-based inside the rule text
    for expressions and inside the file for YAML syntax errors; ``excerpt`` is the text with a
    caret, already indented.
    """

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    excerpt: str = ""

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}, line {self.line}"
        if self.path:
            where = f"{where}: {self.path}"
        if self.column is not None:
            where = f"{where}, column {self.column}"
        text = f"{where}: {self.message}"
        return f"{text}\n{self.excerpt}" if self.excerpt else text


class PlayError(InputError):
    """Something is wrong with a play; the message says what and where."""


class PlayFileError(PlayError):
    """A play file has one or more problems; ``str()`` gives one entry per problem."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(problem.render(source) for problem in self.problems))


class ExpressionError(PlayError):
    """A rule expression is wrong at ``column`` (1-based) of ``text``."""

    def __init__(self, where: str, text: str, index: int, detail: str) -> None:
        self.where = where
        self.text = text
        self.column = index + 1
        self.detail = detail
        head = f"{where}, column {self.column}" if where else f"column {self.column}"
        super().__init__(f"{head}: {detail}\n{caret_excerpt(text, index)}")

    def problem(self, line: int | None) -> Problem:
        """The same error as a problem of a play file, at ``line`` of the file."""
        excerpt = caret_excerpt(self.text, self.column - 1)
        return Problem(self.where, self.detail, line, self.column, excerpt)


def caret_excerpt(text: str, index: int) -> str:
    """Two indented lines: the text (cut around ``index`` when long) and a caret under it."""
    shown = "".join(char if char.isprintable() else " " for char in text)
    start = max(0, min(index - _EXCERPT_WIDTH // 2, len(shown) - _EXCERPT_WIDTH))
    window = shown[start : start + _EXCERPT_WIDTH]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + _EXCERPT_WIDTH < len(shown) else ""
    caret = " " * (len(prefix) + index - start) + "^"
    return f"  {prefix}{window}{suffix}\n  {caret}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
