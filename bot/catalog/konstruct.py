"""Reads Konstruct-style ``# @input.<field>: <value>`` annotations in a catalog's ``values.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import yamldoc

ANNOTATION_FIELDS = frozenset(
    {
        "type",
        "description",
        "required",
        "default",
        "options",
        "secretKey",
        "secretEnv",
        "secretBackend",
        "secretPath",
    }
)

_ANNOTATION = re.compile(r"^\s*#\s*@input\.(?P<field>[A-Za-z]+)\s*:\s?(?P<value>.*)$")
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*:(?:\s|$)")


@dataclass(frozen=True)
class Annotation:
    """The ``@input`` fields written above one key of ``values.yaml``."""

    path: tuple[str, ...]
    line: int
    fields: tuple[tuple[str, Any], ...]


class AnnotationError(ValueError):
    """An annotation is malformed; the message names the line."""


def _parse_field_value(field: str, raw: str, line: int) -> Any:
    raw = raw.strip()
    if field in {"description", "secretKey", "secretEnv", "secretBackend", "secretPath", "type"}:
        return raw.strip("\"'") if raw[:1] in "\"'" and raw[-1:] == raw[:1] else raw
    try:
        return yamldoc.load_one(raw) if raw else None
    except yamldoc.YamlError as exc:
        raise AnnotationError(f"line {line}: @input.{field}: {exc}") from None


def read_annotations(text: str) -> tuple[Annotation, ...]:
    """Every annotated key with its dotted path, in file order."""
    annotations: list[Annotation] = []
    pending: list[tuple[str, Any]] = []
    pending_line = 0
    stack: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ANNOTATION.match(line)
        if match:
            field = match.group("field")
            if field not in ANNOTATION_FIELDS:
                allowed = ", ".join(sorted(ANNOTATION_FIELDS))
                raise AnnotationError(f"line {number}: unknown annotation @input.{field} (known: {allowed})")
            if not pending:
                pending_line = number
            pending.append((field, _parse_field_value(field, match.group("value"), number)))
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key_match = _KEY_LINE.match(line)
        if key_match is None:
            if pending:
                raise AnnotationError(f"line {pending_line}: @input annotations must stand right above a key")
            continue
        indent = len(key_match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key_match.group("key")))
        if pending:
            path = tuple(key for _, key in stack)
            annotations.append(Annotation(path=path, line=pending_line, fields=tuple(pending)))
            pending = []
    if pending:
        raise AnnotationError(f"line {pending_line}: @input annotations at the end of the file annotate no key")
    return tuple(annotations)


def value_at(document: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    """The value at a dotted path of a values document, and whether it exists."""
    current = document
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return False, None
        current = current[key]
    return True, current


def with_values(document: Any, assignments: dict[tuple[str, ...], Any]) -> Any:
    """A copy of ``document`` with each path set to its value (the original is left alone)."""

    def rebuild(node: Any, prefix: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            return {
                key: assignments[(*prefix, key)] if (*prefix, key) in assignments else rebuild(v, (*prefix, key))
                for key, v in node.items()
            }
        if isinstance(node, list):
            return [rebuild(item, prefix) for item in node]
        return node

    return rebuild(document, ())
