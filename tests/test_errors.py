"""The exception tree drawn in the errors docstring is the real one, and carries policy."""

from __future__ import annotations

import re

from tradeplay.domain import errors


def _drawn_tree() -> dict[str, str]:
    """Map each class drawn in the docstring to the class drawn as its parent."""
    doc = errors.__doc__ or ""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in doc.splitlines():
        match = re.match(r"^(\s*(?:[│ ]\s*)*(?:├── |└── )?)([A-Z]\w+Error)\b", line)
        if match is None:
            continue
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_every_error_class_is_drawn_under_its_real_parent() -> None:
    drawn = _drawn_tree()
    classes = {
        name: cls
        for name, cls in vars(errors).items()
        if isinstance(cls, type) and issubclass(cls, errors.TradeplayError)
    }
    assert set(drawn) | {"TradeplayError"} == set(classes)
    for name, parent in drawn.items():
        assert classes[name].__bases__ == (classes[parent],), name


def test_validation_errors_name_the_file_row_and_rule() -> None:
    error = errors.DataValidationError("btc.csv", "high_ge_low", "high 1 < low 2", row=17)
    assert str(error) == "btc.csv, row 17: rule 'high_ge_low' failed: high 1 < low 2"
    assert isinstance(error, errors.RejectedError)
