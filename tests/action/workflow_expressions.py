"""An evaluator for the subset of GitHub Actions expressions our workflow uses, to drive payloads through it."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# What GitHub documents ("Evaluate expressions in workflows and actions"), and what this evaluator does the same way:
# - literals: 'text' ('' is a quote), numbers, true, false, null;
# - operators, tightest first: ( ), property access a.b, !, == and !=, &&, ||;
# - || and && return one of their operands (the first truthy / falsy one), not a boolean;
# - falsy: false, 0, -0, '', null, NaN; every object and array is truthy;
# - == compares strings ignoring case; operands of different types are both turned into numbers first
#   (null 0, true 1, false 0, a string parsed as a JSON number, '' 0, anything else NaN); NaN equals nothing;
# - a property of something that is not an object is null; property names ignore case;
# - contains, startsWith and endsWith compare strings ignoring case; format('{0}', x) with {{ and }} as escapes;
# - an unset configuration variable (vars.X) is ''.
# Anything else (indexing, comparisons with < or >, filters, other functions) raises ExpressionError, so a workflow
# that starts to use it fails its tests instead of being evaluated wrongly.


class ExpressionError(ValueError):
    """An expression this evaluator does not understand (or that GitHub would reject)."""


class Variables(dict[str, str]):
    """The ``vars`` context: configuration variables by name; one that is not set reads as ''."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: Any = None


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![A-Za-z0-9_]))
  | (?P<operator>==|!=|&&|\|\||!|\(|\)|,|\.)
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE,
)
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}


def _tokens(expression: str) -> list[_Token]:
    found: list[_Token] = []
    at = 0
    while at < len(expression):
        match = _TOKEN.match(expression, at)
        if match is None:
            raise ExpressionError(f"unsupported syntax at {expression[at : at + 20]!r}")
        at = match.end()
        kind = match.lastgroup or ""
        text = match.group(0)
        if kind == "space":
            continue
        if kind == "string":
            found.append(_Token("literal", text, text[1:-1].replace("''", "'")))
        elif kind == "number":
            found.append(_Token("literal", text, float(text) if any(c in text for c in ".eE") else int(text)))
        elif kind == "name" and text in _KEYWORDS:
            found.append(_Token("literal", text, _KEYWORDS[text]))
        else:
            found.append(_Token(kind, text))
    return found


# The syntax tree: ("literal", value) | ("context", name) | ("property", node, name) | ("not", node)
# | ("equal", a, b) | ("unequal", a, b) | ("and", a, b) | ("or", a, b) | ("call", name, (args...))
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.at = 0

    def parse(self) -> Node:
        node = self._or()
        if self.at != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.at].text!r} in {self.expression!r}")
        return node

    def _peek(self, *texts: str) -> bool:
        return (
            self.at < len(self.tokens)
            and self.tokens[self.at].kind == "operator"
            and self.tokens[self.at].text in texts
        )

    def _take(self, text: str) -> None:
        if not self._peek(text):
            raise ExpressionError(f"expected {text!r} in {self.expression!r}")
        self.at += 1

    def _or(self) -> Node:
        node = self._and()
        while self._peek("||"):
            self.at += 1
            node = ("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._equality()
        while self._peek("&&"):
            self.at += 1
            node = ("and", node, self._equality())
        return node

    def _equality(self) -> Node:
        node = self._unary()
        while self._peek("==", "!="):
            kind = "equal" if self.tokens[self.at].text == "==" else "unequal"
            self.at += 1
            node = (kind, node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._peek("!"):
            self.at += 1
            return ("not", self._unary())
        return self._access()

    def _access(self) -> Node:
        node = self._primary()
        while self._peek("."):
            self.at += 1
            if self.at >= len(self.tokens) or self.tokens[self.at].kind != "name":
                raise ExpressionError(f"a property name must follow '.' in {self.expression!r}")
            node = ("property", node, self.tokens[self.at].text)
            self.at += 1
        return node

    def _primary(self) -> Node:
        if self.at >= len(self.tokens):
            raise ExpressionError(f"{self.expression!r} ends too early")
        token = self.tokens[self.at]
        self.at += 1
        if token.kind == "literal":
            return ("literal", token.value)
        if token.kind == "operator" and token.text == "(":
            node = self._or()
            self._take(")")
            return node
        if token.kind != "name":
            raise ExpressionError(f"unexpected {token.text!r} in {self.expression!r}")
        if not self._peek("("):
            return ("context", token.text)
        self.at += 1
        arguments: list[Node] = []
        if not self._peek(")"):
            arguments.append(self._or())
            while self._peek(","):
                self.at += 1
                arguments.append(self._or())
        self._take(")")
        return ("call", token.text, tuple(arguments))


@functools.cache
def parse(expression: str) -> Node:
    """The syntax tree of one expression (without ``${{ }}``)."""
    return _Parser(expression).parse()


# -- values ----------------------------------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    return True


def to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        return float(text) if _JSON_NUMBER.fullmatch(text) else math.nan
    return math.nan


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise ExpressionError(f"an object or array has no text form here: {value!r}")


def _is_primitive(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if not (_is_primitive(left) and _is_primitive(right)):
        return left is right
    if left is None and right is None:
        return True
    a, b = to_number(left), to_number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def _property(value: Any, name: str) -> Any:
    if not isinstance(value, Mapping):
        return None
    wanted = name.casefold()
    for key, item in value.items():
        if isinstance(key, str) and key.casefold() == wanted:
            return item
    return "" if isinstance(value, Variables) else None


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, Sequence) and not isinstance(search, str):
        return any(equal(element, item) for element in search)
    return to_text(item).casefold() in to_text(search).casefold()


def _format(template: Any, *arguments: Any) -> str:
    text = to_text(template)
    out: list[str] = []
    at = 0
    while at < len(text):
        char = text[at]
        if text.startswith(("{{", "}}"), at):
            out.append(char)
            at += 2
        elif char == "{":
            close = text.find("}", at)
            index = text[at + 1 : close] if close > at else ""
            if not index.isdigit() or int(index) >= len(arguments):
                raise ExpressionError(f"format: bad placeholder in {text!r}")
            out.append(to_text(arguments[int(index)]))
            at = close + 1
        elif char == "}":
            raise ExpressionError(f"format: a lone '}}' in {text!r}")
        else:
            out.append(char)
            at += 1
    return "".join(out)


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "contains": (2, 2, _contains),
    "startswith": (2, 2, lambda s, v: to_text(s).casefold().startswith(to_text(v).casefold())),
    "endswith": (2, 2, lambda s, v: to_text(s).casefold().endswith(to_text(v).casefold())),
    "format": (1, 99, _format),
}


def _evaluate(node: Node, contexts: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "context":
        for name, value in contexts.items():
            if name.casefold() == node[1].casefold():
                return value
        raise ExpressionError(f"unknown context {node[1]!r} (available: {', '.join(contexts)})")
    if kind == "property":
        return _property(_evaluate(node[1], contexts), node[2])
    if kind == "not":
        return not truthy(_evaluate(node[1], contexts))
    if kind in ("equal", "unequal"):
        same = equal(_evaluate(node[1], contexts), _evaluate(node[2], contexts))
        return same if kind == "equal" else not same
    if kind == "and":
        left = _evaluate(node[1], contexts)
        return _evaluate(node[2], contexts) if truthy(left) else left
    if kind == "or":
        left = _evaluate(node[1], contexts)
        return left if truthy(left) else _evaluate(node[2], contexts)
    name, arguments = node[1], node[2]
    if name.casefold() not in _FUNCTIONS:
        raise ExpressionError(f"unsupported function {name!r}")
    least, most, function = _FUNCTIONS[name.casefold()]
    if not least <= len(arguments) <= most:
        raise ExpressionError(f"{name} takes {least} to {most} arguments, got {len(arguments)}")
    return function(*(_evaluate(argument, contexts) for argument in arguments))


def evaluate(expression: str, contexts: Mapping[str, Any]) -> Any:
    """The value of one expression (without ``${{ }}``) over ``contexts`` (``github``, ``vars``, ...)."""
    return _evaluate(parse(expression), contexts)


def _expression_end(template: str, start: int) -> int:
    """Where the ``}}`` that closes the expression starting at ``start`` is (quotes may hold braces)."""
    quoted = False
    at = start
    while at < len(template):
        char = template[at]
        if char == "'":
            quoted = not quoted
        elif not quoted and template.startswith("}}", at):
            return at
        at += 1
    raise ExpressionError(f"unclosed ${{{{ in {template!r}")


def interpolate(template: str, contexts: Mapping[str, Any]) -> str:
    """A workflow string with every ``${{ expression }}`` replaced by its value's text."""
    out: list[str] = []
    at = 0
    while (start := template.find("${{", at)) >= 0:
        end = _expression_end(template, start + 3)
        out.append(template[at:start])
        out.append(to_text(evaluate(template[start + 3 : end], contexts)))
        at = end + 2
    out.append(template[at:])
    return "".join(out)


def condition(text: str, contexts: Mapping[str, Any]) -> bool:
    """A job or step ``if:``: the expression, bare or inside one ``${{ }}``, taken as true or false."""
    stripped = text.strip()
    if stripped.startswith("${{") and stripped.endswith("}}") and _expression_end(stripped, 3) == len(stripped) - 2:
        stripped = stripped[3:-2]
    return truthy(evaluate(stripped, contexts))
