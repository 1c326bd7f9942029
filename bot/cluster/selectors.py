"""Kubernetes label selectors: parsed once, matched against labels as pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.cluster.errors import ClusterConfigError

_KEY = r"(?:[a-z0-9A-Z.-]+/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_VALUE = r"(?:[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")
_SET_RE = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")
_EQ_RE = re.compile(r"^(?P<key>[^=!\s]+)\s*(?P<op>==|=|!=)\s*(?P<value>\S*)$")


class Operator(StrEnum):
    EXISTS = "exists"
    NOT_EXISTS = "!"
    EQUALS = "="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"


@dataclass(frozen=True)
class Requirement:
    """One comma-separated term of a selector."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case Operator.EXISTS:
                return present
            case Operator.NOT_EXISTS:
                return not present
            case Operator.EQUALS | Operator.IN:
                return present and value in self.values
            case Operator.NOT_EQUALS | Operator.NOT_IN:
                return not present or value not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(req.matches(labels) for req in self.requirements)


def _split_terms(text: str) -> list[str]:
    terms: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term.strip() for term in terms]


def _checked(selector: str, key: str, values: frozenset[str] = frozenset()) -> tuple[str, frozenset[str]]:
    if not _KEY_RE.match(key):
        raise ClusterConfigError(f"label selector {selector!r}: {key!r} is not a valid label key")
    for value in values:
        if not _VALUE_RE.match(value):
            raise ClusterConfigError(f"label selector {selector!r}: {value!r} is not a valid label value")
    return key, values


def parse_selector(selector: str) -> LabelSelector:
    """Parse ``a``, ``!a``, ``a=b``, ``a==b``, ``a!=b``, ``a in (b,c)``, ``a notin (b)``, comma-joined."""
    if not selector.strip():
        return LabelSelector()
    requirements: list[Requirement] = []
    for term in _split_terms(selector):
        if not term:
            raise ClusterConfigError(f"label selector {selector!r} has an empty term")
        if m := _SET_RE.match(term):
            values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
            key, values = _checked(selector, m["key"], values)
            op = Operator.IN if m["op"] == "in" else Operator.NOT_IN
            requirements.append(Requirement(key, op, values))
        elif m := _EQ_RE.match(term):
            key, values = _checked(selector, m["key"], frozenset({m["value"]}))
            op = Operator.NOT_EQUALS if m["op"] == "!=" else Operator.EQUALS
            requirements.append(Requirement(key, op, values))
        elif term.startswith("!"):
            key, _ = _checked(selector, term[1:].strip())
            requirements.append(Requirement(key, Operator.NOT_EXISTS))
        else:
            key, _ = _checked(selector, term)
            requirements.append(Requirement(key, Operator.EXISTS))
    return LabelSelector(tuple(requirements))
