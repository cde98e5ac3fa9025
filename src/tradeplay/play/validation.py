"""Schema validation of a play document, with pydantic's errors rewritten for traders.

Each pydantic error becomes one :class:`Problem`: the field path as the trader wrote it
(``features.fast.period``, ``environments[1]``, never pydantic's internal union tags), the line
of that field, and a message that says what was expected and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from tradeplay.play.document import Document, Path, dotted
from tradeplay.play.errors import ExpressionError, PlayFileError, Problem, did_you_mean
from tradeplay.play.parser import parse
from tradeplay.play.risk import METHODS
from tradeplay.play.schema import SCHEMA_VERSION, Play
from tradeplay.play.sections import shown

_BOUNDS: Final = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", "≥"),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "≤"),
}
_MAPPING_TYPES: Final = frozenset({"model_type", "model_attributes_type", "dict_type"})
_TEMPLATES: Final = {
    "tuple_type": "expected a list, got {got}",
    "list_type": "expected a list, got {got}",
    "float_type": "expected a number, got {got}",
    "string_type": "expected text, got {got}",
    "string_too_short": "must not be empty",
    "too_short": "must not be empty",
}


def validate_play(document: Document) -> Play:
    """The play model of a document; PlayFileError listing every schema problem."""
    data = dict(document.data)
    _check_version(document)
    data.setdefault("name", PurePath(document.source).stem or "play")
    try:
        return Play.model_validate(data)
    except ValidationError as error:
        problems = [
            *dict.fromkeys(_problem(item, document) for item in error.errors()),
            *_rule_syntax(document),
        ]
        problems.sort(key=lambda problem: problem.line or 0)
        raise PlayFileError(document.source, problems) from None


def _rule_syntax(document: Document) -> list[Problem]:
    """Syntax errors of the rules, so they come in the same report as the schema's problems."""
    found: list[Problem] = []
    for side in ("long", "short"):
        section = document.data.get(side)
        for part in ("entry", "exit"):
            rule = section.get(part) if isinstance(section, dict) else None
            texts = [rule] if isinstance(rule, str) else rule if isinstance(rule, list) else []
            for index, text in enumerate(texts):
                if not isinstance(text, str):
                    continue
                single = isinstance(rule, str)
                path: Path = (side, part) if single else (side, part, index)
                try:
                    parse(text, dotted(path))
                except ExpressionError as error:
                    found.append(error.problem(document.line(path)))
    return found


def _check_version(document: Document) -> None:
    version = document.data.get("schema_version")
    if version == SCHEMA_VERSION and not isinstance(version, bool):
        return
    if "schema_version" not in document.data:
        message = f"required field is missing; write 'schema_version: {SCHEMA_VERSION}' first"
    else:
        message = (
            f"this tradeplay reads schema version {SCHEMA_VERSION}, the file says {shown(version)}"
        )
    line = document.line(("schema_version",))
    raise PlayFileError(document.source, [Problem("schema_version", message, line)])


def _problem(item: ErrorDetails, document: Document) -> Problem:
    path = _data_path(item["loc"], document.data)
    kind = item["type"]
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    if kind == "unknown_field":
        path = (*path, str(ctx["field"]))
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        path = (*path, "method")
    message = _message(item, path)
    return Problem(dotted(path), message, document.line(path))


def _data_path(loc: tuple[int | str, ...], data: object) -> Path:
    """The location as the trader wrote it: drop pydantic's union tags and inner names."""
    path: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        if _is_union_tag(node, path, loc[position - 1] if position else None, part):
            continue  # pydantic's union tag, which may also be the name of a field
        if _contains(node, part):
            node = node[part]  # type: ignore[index]  # _contains checked the key or index
        elif not (position == len(loc) - 1 and isinstance(node, dict)):
            continue
        path.append(part)
    return tuple(path)


def _is_union_tag(node: object, path: list[str | int], previous: object, part: object) -> bool:
    """The element right after a section chosen by ``method`` that names that method."""
    return (
        isinstance(node, dict)
        and bool(path)
        and path[-1] in METHODS
        and previous == path[-1]
        and node.get("method") == part
    )


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float | Decimal) else str(value)


def _contains(node: object, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _message(item: ErrorDetails, path: Path) -> str:
    kind = item["type"]
    ctx: Mapping[str, Any] = item.get("ctx") or {}
    got = shown(item["input"])
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_not_found":
        return f"required: one of {', '.join(_methods(path))}"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag"))
        options = _methods(path)
        hint = did_you_mean(tag, options)
        return f"unknown method '{tag}'{hint}; expected one of {', '.join(options)}"
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        return f"expected a number {sign} {_number(ctx[key])}, got {got}"
    if kind in ("literal_error", "enum"):
        expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(str(item["input"]), expected)
        return f"expected one of {', '.join(expected)}, got {got}{hint}"
    return _plain_message(kind, item["msg"], got, ctx)


def _plain_message(kind: str, msg: str, got: str, ctx: Mapping[str, Any]) -> str:
    if kind in _MAPPING_TYPES:
        return f"expected a mapping of fields ('name: value' lines), got {got}"
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters"
    template = _TEMPLATES.get(kind)
    if template is None and kind.startswith(("int_", "float_", "decimal_", "finite_")):
        template = _TEMPLATES["float_type"]
    if template is not None:
        return template.format(got=got)
    text = msg.removeprefix("Value error, ")
    return text[:1].lower() + text[1:]


def _methods(path: Path) -> tuple[str, ...]:
    section = next((part for part in path if isinstance(part, str)), "")
    return METHODS.get(section, ())
