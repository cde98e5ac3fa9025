"""Recursive-descent parser of rule expressions: text in, an immutable tree out.

Grammar, loosest binding first (as in Python, except that comparisons do not chain)::

    rule        := or
    or          := and ("or" and)*
    and         := not ("and" not)*
    not         := "not" not | comparison
    comparison  := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum         := product (("+" | "-") product)*
    product     := unary (("*" | "/") unary)*
    unary       := "-" unary | postfix
    postfix     := primary ("[" whole-number "]")*
    primary     := number | name | name "(" [rule ("," rule)*] ")" | "(" rule ")"

The user's text is never handed to ``eval`` or ``compile``. Nesting is bounded (see
:data:`MAX_NESTING`, :data:`MAX_DEPTH`) so hostile or accidental deep nesting is refused with a
message instead of exhausting the Python stack.
"""

from __future__ import annotations

import math
from typing import Final

from tradeplay.play.errors import ExpressionError
from tradeplay.play.lexer import KEYWORDS, Kind, Token, tokenize
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
    depth,
)

MAX_LENGTH: Final = 2000
"""Characters in one rule."""
MAX_NESTING: Final = 32
"""Parentheses, function calls and signs inside one another."""
MAX_DEPTH: Final = 64
"""Levels of the finished tree (a long chain of ``and`` adds one level per term)."""
MAX_LOOKBACK: Final = 100_000
"""Bars a single ``x[n]`` may look back."""

COMPARISONS: Final = frozenset({"<", "<=", ">", ">=", "==", "!="})


def parse(text: str, where: str = "") -> Expr:
    """The tree of one rule; ExpressionError (with column and caret) when it is not valid.

    ``where`` names the rule in messages, e.g. ``long.entry``.
    """
    if len(text) > MAX_LENGTH:
        detail = f"the rule is {len(text)} characters long; the limit is {MAX_LENGTH}"
        raise ExpressionError(where, text, MAX_LENGTH, detail)
    return _Parser(text, where).rule()


class _Parser:
    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.tokens = tokenize(text, where)
        self.pos = 0
        self.nesting = 0

    # ------------------------------------------------------------------ token access

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += min(1, len(self.tokens) - 1 - self.pos)
        return token

    def at_operator(self, *texts: str) -> bool:
        return self.peek.kind is Kind.OPERATOR and self.peek.text in texts

    def at_keyword(self, word: str) -> bool:
        return self.peek.kind is Kind.KEYWORD and self.peek.text == word

    def fail(self, token: Token | int, detail: str) -> ExpressionError:
        at = token if isinstance(token, int) else token.at
        return ExpressionError(self.where, self.text, at, detail)

    def enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            detail = (
                f"the rule is nested too deeply: more than {MAX_NESTING} parentheses, calls or "
                "signs inside one another"
            )
            raise self.fail(token, detail)

    # ------------------------------------------------------------------ grammar

    def rule(self) -> Expr:
        if self.peek.kind is Kind.END:
            raise self.fail(self.peek, "the rule is empty")
        expr = self.or_()
        token = self.peek
        if token.kind is not Kind.END:
            if token.text in (")", "]"):
                raise self.fail(token, f"unmatched '{token.text}'")
            if token.text == ",":
                raise self.fail(token, "',' outside the arguments of a function")
            if token.text.lower() in KEYWORDS:
                detail = f"write '{token.text.lower()}' in lower case"
                raise self.fail(token, detail)
            raise self.fail(
                token, f"expected an operator (and, or, >, +, …) before {token.describe()}"
            )
        if depth(expr) > MAX_DEPTH:
            detail = f"the rule is more than {MAX_DEPTH} levels deep; split it with features"
            raise self.fail(0, detail)
        return expr

    def or_(self) -> Expr:
        left = self.and_()
        while self.at_keyword("or"):
            operator = self.advance()
            left = Logic("or", left, self.and_(), operator.at)
        return left

    def and_(self) -> Expr:
        left = self.not_()
        while self.at_keyword("and"):
            operator = self.advance()
            left = Logic("and", left, self.not_(), operator.at)
        return left

    def not_(self) -> Expr:
        if not self.at_keyword("not"):
            return self.comparison()
        token = self.advance()
        self.enter(token)
        operand = self.not_()
        self.nesting -= 1
        return Not(operand, token.at)

    def comparison(self) -> Expr:
        left = self.sum_()
        if not self.at_operator(*COMPARISONS):
            return left
        operator = self.advance()
        right = self.sum_()
        if self.at_operator(*COMPARISONS):
            raise self.fail(
                self.peek,
                "comparisons do not chain; write 'a < b and b < c', or between(x, low, high)",
            )
        return Compare(operator.text, left, right, operator.at)

    def sum_(self) -> Expr:
        left = self.product()
        while self.at_operator("+", "-"):
            operator = self.advance()
            left = Arith(operator.text, left, self.product(), operator.at)
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.at_operator("*", "/"):
            operator = self.advance()
            left = Arith(operator.text, left, self.unary(), operator.at)
        return left

    def unary(self) -> Expr:
        if not self.at_operator("-"):
            return self.postfix()
        token = self.advance()
        self.enter(token)
        operand = self.unary()
        self.nesting -= 1
        if isinstance(operand, Number):
            return Number(-operand.value, token.at)
        return Neg(operand, token.at)

    def postfix(self) -> Expr:
        expr = self.primary()
        while self.at_operator("["):
            bracket = self.advance()
            if isinstance(expr, Number):
                raise self.fail(bracket, "a number has no history to look back into")
            expr = Lookback(expr, self.lookback_bars(), bracket.at)
        return expr

    def lookback_bars(self) -> int:
        token = self.advance()
        if token.kind is not Kind.NUMBER or not token.text.isdigit():
            raise self.fail(token, "expected a whole number of bars ≥ 0 in '[…]', e.g. close[1]")
        bars = int(token.text)
        if bars > MAX_LOOKBACK:
            raise self.fail(token, f"looks back {bars} bars; the limit is {MAX_LOOKBACK}")
        if not self.at_operator("]"):
            raise self.fail(
                self.peek, f"expected ']' after the lookback, got {self.peek.describe()}"
            )
        self.advance()
        return bars

    def primary(self) -> Expr:
        token = self.advance()
        if token.kind is Kind.NUMBER:
            value = float(token.text)
            if not math.isfinite(value):
                raise self.fail(token, f"the number {token.text} is too large")
            return Number(value, token.at)
        if token.kind is Kind.NAME:
            return self.call(token) if self.at_operator("(") else Name(token.text, token.at)
        if token.text == "(" and token.kind is Kind.OPERATOR:
            return self.parenthesised(token)
        raise self.missing_value(token)

    def parenthesised(self, opening: Token) -> Expr:
        self.enter(opening)
        expr = self.or_()
        self.nesting -= 1
        if not self.at_operator(")"):
            raise self.fail(
                self.peek,
                f"expected ')' to close the '(' at column {opening.at + 1}, "
                f"got {self.peek.describe()}",
            )
        self.advance()
        return expr

    def call(self, name: Token) -> Expr:
        self.enter(self.advance())
        args: list[Expr] = []
        if self.at_operator(")"):
            self.advance()
        else:
            while True:
                args.append(self.or_())
                token = self.advance()
                if token.text == "," and token.kind is Kind.OPERATOR:
                    continue
                if token.text == ")" and token.kind is Kind.OPERATOR:
                    break
                raise self.fail(token, self.unclosed_call(name.text, token, len(args)))
        self.nesting -= 1
        return Call(name.text, tuple(args), name.at)

    @staticmethod
    def unclosed_call(function: str, token: Token, count: int) -> str:
        if token.kind is Kind.END:
            return f"expected ')' after the arguments of {function}"
        return f"expected ',' or ')' after argument {count} of {function}, got {token.describe()}"

    def missing_value(self, token: Token) -> ExpressionError:
        if token.kind is Kind.END:
            before = self.tokens[self.pos - 1] if self.pos > 0 else token
            return self.fail(token, f"expected a value after {before.describe()}")
        if token.kind is Kind.KEYWORD:
            return self.fail(token, f"expected a value before '{token.text}'")
        return self.fail(token, f"expected a value, got {token.describe()}")
