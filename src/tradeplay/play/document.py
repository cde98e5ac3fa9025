"""Reading a play's YAML into plain data, remembering the line of every field.

PyYAML composes the node tree (safe tags only); we build the Python values ourselves so that:

* every field path (``("features", "fast", "period")``) maps to its line, and later errors from
  the schema or the compiler can name it;
* a key written twice is an error, not a silent "last one wins";
* only plain values exist: text, numbers, true / false, null, lists and mappings (dates stay
  text; custom tags such as ``!!python/object`` are refused);
* size and nesting are bounded, so an alias bomb or a thousand nested brackets is refused with a
  message rather than eating memory or the Python stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tradeplay.play.errors import PlayFileError, Problem

MAX_BYTES: Final = 1_000_000
MAX_NODES: Final = 20_000
MAX_NESTING: Final = 16

Path = tuple[str | int, ...]

_TAG: Final = "tag:yaml.org,2002:"
_PLAIN_TAGS: Final = frozenset(f"{_TAG}{name}" for name in ("null", "bool", "int", "float", "str"))
_HINTS: Final = (
    ("mapping values are not allowed", "; text containing ': ' (a rule, say) must be quoted"),
    ("cannot start any token", "; indent with spaces, not tabs"),
)


@dataclass(frozen=True, slots=True)
class Document:
    """The data of a YAML file with the line of each field path."""

    source: str
    data: dict[str, Any]
    lines: Mapping[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """Line of ``path``, or of its closest ancestor that was written."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None

    def problem(self, path: Path, message: str) -> Problem:
        """A problem at ``path``, with the line where that field (or its parent) is written."""
        return Problem(dotted(path), message, self.line(path))


def dotted(path: Path) -> str:
    """``("environments", 1)`` → ``environments[1]``, ``("long", "entry")`` → ``long.entry``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def read_document(text: str, source: str) -> Document:
    """The YAML mapping in ``text``; PlayFileError naming line and column when it is not one."""
    if len(text) > MAX_BYTES:
        _fail(source, "", f"the file is larger than {MAX_BYTES} characters; is it a play?")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character[0])
        message = f"the character U+{code:04X} is not allowed in a play file"
        raise PlayFileError(source, [Problem("", message, line, column)]) from None
    except yaml.YAMLError as error:
        raise PlayFileError(source, [_syntax_problem(error)]) from None
    except RecursionError:
        _fail(source, "", "the YAML is nested too deeply to be a play")
    if root is None:
        raise PlayFileError(
            source, [Problem("", "the file is empty; a play starts with 'schema_version: 1'")]
        )
    builder = _Builder(source)
    data = builder.build(root, (), 0)
    if not isinstance(data, dict):
        detail = f"a play is a mapping of fields ('name: value' lines), got {_kind(data)}"
        _fail(source, "", detail, root.start_mark.line + 1)
    return Document(source, data, builder.lines)


def _fail(source: str, path: str, message: str, line: int | None = None) -> Any:
    raise PlayFileError(source, [Problem(path, message, line)])


def _syntax_problem(error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"{problem} ({context})" if context else str(problem)
    message = "YAML: " + message + "".join(h for key, h in _HINTS if key in message)
    if mark is None:
        return Problem("", message)
    return Problem("", message, mark.line + 1, mark.column + 1)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"the value {value!r}"


class _Builder:
    """Plain Python values from a node tree, with limits, duplicate-key and tag checks."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[Path, int] = {(): 1}
        self.nodes = 0
        self.scalars = SafeConstructor()

    def fail(self, node: Node, path: Path, message: str) -> PlayFileError:
        line = node.start_mark.line + 1
        return PlayFileError(self.source, [Problem(dotted(path), message, line)])

    def build(self, node: Node, path: Path, nesting: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, path, f"the file has more than {MAX_NODES} values")
        if nesting > MAX_NESTING:
            raise self.fail(node, path, f"values are nested more than {MAX_NESTING} levels deep")
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode) and node.tag == f"{_TAG}seq":
            return [self.item(child, (*path, i), nesting) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode) and node.tag == f"{_TAG}map":
            return self.mapping(node, path, nesting)
        raise self.fail(node, path, f"the YAML tag {node.tag} is not supported in a play")

    def item(self, node: Node, path: Path, nesting: int) -> Any:
        self.lines[path] = node.start_mark.line + 1
        return self.build(node, path, nesting + 1)

    def mapping(self, node: MappingNode, path: Path, nesting: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.key(key_node, path)
            key_path = (*path, key)
            if key in result:
                first = self.lines[key_path]
                raise self.fail(key_node, key_path, f"written twice (first at line {first})")
            self.lines[key_path] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, key_path, nesting + 1)
        return result

    def key(self, node: Node, path: Path) -> str:
        if node.tag == f"{_TAG}merge":
            raise self.fail(node, path, "merge keys (<<) are not supported; write the fields")
        if not isinstance(node, ScalarNode):
            raise self.fail(node, path, "field names must be text, got a list or mapping")
        key = self.scalar(node, path)
        if not isinstance(key, str) or not key:
            raise self.fail(node, path, f"field names must be text, got {key!r}; quote it")
        return key

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag == f"{_TAG}timestamp":
            return node.value  # dates and times stay text: no field of a play is a date
        if node.tag not in _PLAIN_TAGS:
            raise self.fail(node, path, f"the YAML tag {node.tag} is not supported in a play")
        try:
            return self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            raise self.fail(node, path, f"cannot read {node.value!r}: {error}") from None
