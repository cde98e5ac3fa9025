"""Checking a parsed rule before any data is seen: names, functions, arity, types, look-back.

A rule must be a *condition* (true or false on each bar). Arithmetic takes numbers, ``and`` /
``or`` / ``not`` take conditions, comparisons turn numbers into conditions; mixing them up is
reported with the column, not discovered on the first bar of a live run.

Names are resolved to canonical column names: bar fields as they are (``close``), a feature
with one output by its bare name (``fast`` — ``fast.value`` is accepted too), an output of a
feature with several by ``feature.output`` (``bb.upper``).

A *flag* output (1.0 or 0.0, such as ``bos.up`` or ``ob.bull.active``) is a number that may also
stand where a condition is expected: the checker rewrites it to ``bos.up == 1``, so the rule
means what a trader reads, and a missing value (NaN) is false like any other comparison.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from tradeplay.play.errors import ExpressionError, did_you_mean
from tradeplay.play.functions import FUNCTIONS, MAX_WINDOW, Function, Type
from tradeplay.play.nodes import (
    Arith,
    Call,
    Compare,
    Expr,
    Logic,
    Lookback,
    Name,
    Neg,
    Not,
    Number,
    walk,
)
from tradeplay.play.parser import parse

BAR_FIELDS: Final = ("open", "high", "low", "close", "volume")
SINGLE_OUTPUT: Final = "value"
"""The output name of a feature with one output, which rules may leave out."""


@dataclass(frozen=True, slots=True)
class Checked:
    """A rule ready to evaluate: names canonical, a condition, and its look-back in bars."""

    expr: Expr
    lookback: int
    """Bars before the current one the rule reads (``x[2]`` → 2, ``highest(x, 20)`` → 19)."""


class Namespace:
    """The columns a rule may read: bar fields and the outputs of the play's features."""

    def __init__(
        self,
        features: Mapping[str, tuple[str, ...]],
        pending: Iterable[str] = (),
        kinds: Iterable[str] = (),
        flags: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """``features`` maps names to outputs; ``pending`` names features that failed their own
        checks: any reference to them is let through, so one mistake is reported once;
        ``kinds`` are the feature kinds, to suggest declaring a missing feature; ``flags`` maps
        feature names to their 0/1 outputs, which may be used as conditions."""
        self._outputs = dict(features)
        self._flags = frozenset(
            f"{feature}.{output}"
            for feature, outputs in (flags or {}).items()
            for output in outputs
        )
        self._pending = frozenset(pending)
        self._kinds = frozenset(kinds)
        self._columns: dict[str, str] = {name: name for name in BAR_FIELDS}
        for feature, outputs in self._outputs.items():
            if len(outputs) == 1:
                self._columns[feature] = feature
                self._columns[f"{feature}.{outputs[0]}"] = feature
            else:
                self._columns.update({f"{feature}.{out}": f"{feature}.{out}" for out in outputs})

    def resolve(self, name: str) -> str:
        """The canonical column for ``name``; LookupError with advice when there is none."""
        column = self._columns.get(name)
        if column is not None:
            return column
        if name.partition(".")[0] in self._pending:
            return name
        raise LookupError(self._unknown(name))

    def is_flag(self, column: str) -> bool:
        """True for a canonical column that holds 1.0 / 0.0 and may serve as a condition."""
        return column in self._flags

    def _unknown(self, name: str) -> str:
        base, _, output = name.partition(".")
        if base in BAR_FIELDS:
            return f"'{base}' is a bar field with no parts; write {base}"
        outputs = self._outputs.get(base)
        if outputs is None:
            if name in FUNCTIONS:
                return f"'{name}' is a function; call it: {FUNCTIONS[name].signature}"
            known = [*dict.fromkeys(self._columns.values()), *sorted(self._pending)]
            hint = did_you_mean(name, known)
            if not hint and base in self._kinds:
                example = f"{base}: {{kind: {base}}}"
                return f"no feature named '{base}'; declare it under features, e.g. {example}"
            return f"unknown name '{name}'{hint}; known: {', '.join(known)}"
        listed = ", ".join(f"{base}.{out}" for out in outputs)
        if not output:
            return f"feature '{base}' has several outputs; name one: {listed}"
        hint = did_you_mean(output, outputs)
        return f"feature '{base}' has no output '{output}'{hint}; its outputs: {listed}"


def compile_rule(text: str, namespace: Namespace, where: str = "") -> Checked:
    """Parse and check one rule; ExpressionError with column and caret when it is wrong."""
    return check_rule(parse(text, where), namespace, text, where)


def check_rule(expr: Expr, namespace: Namespace, text: str, where: str = "") -> Checked:
    checker = _Checker(namespace, text, where)
    resolved, kind, lookback = checker.check(expr)
    resolved, kind = checker.as_condition(resolved, kind)
    if kind is not Type.CONDITION:
        raise checker.fail(
            expr,
            f"the rule must be a condition (true or false on each bar), got a number: {expr}; "
            "compare it, e.g. close > open",
        )
    return Checked(resolved, lookback)


def _start(expr: Expr) -> int:
    """Index of the leftmost token of a subtree."""
    return min(node.at for node in walk(expr))


class _Checker:
    def __init__(self, namespace: Namespace, text: str, where: str) -> None:
        self.namespace = namespace
        self.text = text
        self.where = where

    def fail(self, at: Expr | int, detail: str) -> ExpressionError:
        index = at if isinstance(at, int) else _start(at)
        return ExpressionError(self.where, self.text, index, detail)

    def check(self, expr: Expr) -> tuple[Expr, Type, int]:  # noqa: PLR0911 (one case per node kind)
        """The resolved tree, its type and its look-back."""
        match expr:
            case Number():
                return expr, Type.NUMBER, 0
            case Name(name, at):
                try:
                    return Name(self.namespace.resolve(name), at), Type.NUMBER, 0
                except LookupError as error:
                    raise self.fail(at, str(error.args[0])) from None
            case Neg(operand, at):
                inner, reach = self.expect(operand, Type.NUMBER, "after '-'")
                return Neg(inner, at), Type.NUMBER, reach
            case Lookback(operand, bars, at):
                inner, kind, reach = self.check(operand)
                return Lookback(inner, bars, at), kind, reach + bars
            case Not(operand, at):
                inner, reach = self.expect(operand, Type.CONDITION, "after 'not'")
                return Not(inner, at), Type.CONDITION, reach
            case Arith() | Compare() | Logic():
                return self.binary(expr)
            case Call():
                return self.call(expr)
        raise AssertionError(f"unknown node {expr!r}")  # pragma: no cover

    def as_condition(self, expr: Expr, kind: Type) -> tuple[Expr, Type]:
        """A flag (or a look-back of one) where a condition is wanted becomes ``flag == 1``."""
        inner = expr.operand if isinstance(expr, Lookback) else expr
        if kind is Type.NUMBER and isinstance(inner, Name) and self.namespace.is_flag(inner.name):
            return Compare("==", expr, Number(1.0, expr.at), expr.at), Type.CONDITION
        return expr, kind

    def expect(self, expr: Expr, wanted: Type, place: str) -> tuple[Expr, int]:
        resolved, kind, reach = self.check(expr)
        if wanted is Type.CONDITION:
            resolved, kind = self.as_condition(resolved, kind)
        if kind is not wanted:
            raise self.fail(expr, f"expected a {wanted} {place}, got a {kind}: {expr}")
        return resolved, reach

    def binary(self, expr: Arith | Compare | Logic) -> tuple[Expr, Type, int]:
        wanted = Type.CONDITION if isinstance(expr, Logic) else Type.NUMBER
        left, left_reach = self.expect(expr.left, wanted, f"on the left of '{expr.op}'")
        right, right_reach = self.expect(expr.right, wanted, f"on the right of '{expr.op}'")
        result = Type.NUMBER if isinstance(expr, Arith) else Type.CONDITION
        node = type(expr)(expr.op, left, right, expr.at)
        return node, result, max(left_reach, right_reach)

    def call(self, call: Call) -> tuple[Expr, Type, int]:
        function = self.function(call)
        if len(call.args) != len(function.args):
            raise self.fail(
                call,
                f"{call.function} takes {len(function.args)} argument"
                f"{'s' if len(function.args) != 1 else ''} ({function.signature}), "
                f"got {len(call.args)}",
            )
        window = self.window(function, call) if function.has_window else 0
        series = call.args[:-1] if function.has_window else call.args
        args: list[Expr] = []
        reach = 0
        for position, arg in enumerate(series, start=1):
            place = f"as argument {position} of {call.function}"
            resolved, arg_reach = self.expect(arg, Type.NUMBER, place)
            args.append(resolved)
            reach = max(reach, arg_reach)
        if function.has_window:
            args.append(call.args[-1])
        node = Call(call.function, tuple(args), call.at)
        return node, function.result, reach + function.reach(window)

    def function(self, call: Call) -> Function:
        function = FUNCTIONS.get(call.function)
        if function is not None:
            return function
        if _is_column(self.namespace, call.function):
            raise self.fail(call, f"'{call.function}' is a column, not a function")
        raise self.fail(
            call,
            f"unknown function '{call.function}'{did_you_mean(call.function, FUNCTIONS)}; "
            f"functions: {_signatures(FUNCTIONS.values())}",
        )

    def window(self, function: Function, call: Call) -> int:
        literal = call.args[-1]
        if (
            isinstance(literal, Number)
            and literal.value.is_integer()
            and 1 <= literal.value <= MAX_WINDOW
        ):
            return int(literal.value)
        raise self.fail(
            literal,
            f"the window n of {function.signature} must be a whole number from 1 to "
            f"{MAX_WINDOW} written as a literal, e.g. {function.name}(close, 20); got {literal}",
        )


def _is_column(namespace: Namespace, name: str) -> bool:
    try:
        namespace.resolve(name)
    except LookupError:
        return False
    return True


def _signatures(functions: Iterable[Function]) -> str:
    return ", ".join(function.signature for function in functions)
