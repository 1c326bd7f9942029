"""Safe YAML in (YAML 1.2 core schema, or 1.1 as Kubernetes reads it) and deterministic, unambiguous YAML out."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_VALUES = 100_000
"""Values a document may hold once its aliases are expanded: a few aliases can otherwise stand for billions."""
MAX_INTEGER_BITS = 1024
"""Larger integers are no parameter value, and Python refuses to print those of more than 4300 digits."""

# A plain (unquoted) scalar is emitted only when every YAML 1.1 and 1.2 reader takes it as this very string.
_PLAIN_SAFE = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*\Z")
_RESERVED_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})


class YamlError(ValueError):
    """The text is not YAML envbot accepts; the message says where and why."""


class Schema(enum.Enum):
    """How an unquoted scalar is typed."""

    CORE = "YAML 1.2 core schema"
    """The files people write for envbot (environments, catalog.yaml, envbot.yaml, outputs): only true/false are
    booleans, integers are decimal, 0o octal or 0x hexadecimal, and there are no implicit dates."""
    KUBERNETES = "YAML 1.1"
    """What Kubernetes and Helm read (rendered templates, a Konstruct values.yaml): yes/on are booleans, 012 is
    octal, 2024-01-01 a date; envbot must see what they will see."""


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs, deep nesting and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlError(f"line {mark.line + 1}: more than {MAX_ALIASES} YAML aliases; refusing to expand")
        # PyYAML composes recursively: refuse deep nesting here, before Python's recursion limit is reached.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlError(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's own constructors raise ValueError on 2024-02-30, ``!!int x`` or 5000-digit integers; those
        become a ``YamlError`` naming the line (never the value, which may be a secret typed by mistake)."""
        where = f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"
        kind = str(node.tag).rsplit(":", 1)[-1]
        try:
            value = super().construct_object(node, deep=deep)
        except YamlError:
            raise
        except (ValueError, OverflowError):
            raise YamlError(f"{where}: not a valid {kind} value") from None
        if isinstance(value, int) and value.bit_length() > MAX_INTEGER_BITS:
            raise YamlError(f"{where}: an integer of more than {MAX_INTEGER_BITS} bits is not a usable value")
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise YamlError(f"line {key_node.start_mark.line + 1}: a mapping key must be a scalar")
            if key in seen:
                raise YamlError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_CORE_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_CORE_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_CORE_NULL = re.compile(r"~|null|Null|NULL|")


def _core_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    text = str(loader.construct_scalar(node))
    if not _CORE_BOOL.fullmatch(text):
        raise ValueError(text)
    return text.lower() == "true"


def _core_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if not _CORE_INT.fullmatch(text):
        raise ValueError(text)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _core_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    if not _CORE_FLOAT.fullmatch(text):
        raise ValueError(text)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(text)


class _CoreLoader(_LimitedLoader):
    """``_LimitedLoader`` typing unquoted scalars by the YAML 1.2 core schema (merge keys ``<<`` still work)."""


def _use_core_schema(loader: type[_LimitedLoader]) -> type[_LimitedLoader]:
    """Give ``loader`` the core schema's resolvers instead of YAML 1.1's, and its constructors."""
    loader.yaml_implicit_resolvers = {}
    for tag, pattern, first in (
        ("bool", _CORE_BOOL, "tTfF"),
        ("int", _CORE_INT, "-+0123456789"),
        ("float", _CORE_FLOAT, "-+.0123456789"),
        ("null", _CORE_NULL, ["~", "n", "N", ""]),
        ("merge", re.compile(r"<<"), "<"),
    ):
        loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(rf"(?:{pattern.pattern})\Z"), list(first))
    loader.add_constructor("tag:yaml.org,2002:bool", _core_bool)
    loader.add_constructor("tag:yaml.org,2002:int", _core_int)
    loader.add_constructor("tag:yaml.org,2002:float", _core_float)
    return loader


_LOADERS: dict[Schema, type[_LimitedLoader]] = {
    Schema.CORE: _use_core_schema(_CoreLoader),
    Schema.KUBERNETES: _LimitedLoader,
}


def _check_depth(value: Any) -> None:
    """Refuse documents nested too deeply, or that expand (through aliases) to more than ``MAX_VALUES`` values."""
    budget = MAX_VALUES
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise YamlError(f"nested more than {MAX_DEPTH} levels deep")
        budget -= 1
        if budget < 0:
            raise YamlError(f"holds more than {MAX_VALUES} values once its aliases are expanded; refusing to expand")
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def _wrap(exc: yaml.YAMLError) -> YamlError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return YamlError(f"{where}{problem}")


def load_one(text: str, schema: Schema = Schema.CORE) -> Any:
    """Parse exactly one YAML document."""
    try:
        loader = _LOADERS[schema](text)
        try:
            value = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _wrap(exc) from None
    _check_depth(value)
    return value


def load_all(text: str, schema: Schema = Schema.CORE) -> list[Any]:
    """Parse every document of a YAML stream, dropping empty ones."""
    documents: list[Any] = []
    try:
        loader = _LOADERS[schema](text)
        try:
            while loader.check_data():  # type: ignore[no-untyped-call]
                document = loader.get_data()
                if document is not None:
                    _check_depth(document)
                    documents.append(document)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _wrap(exc) from None
    return documents


class _Dumper(yaml.SafeDumper):
    """Block style, no aliases, strings quoted unless unambiguous, multi-line strings as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(ch in value for ch in "\r\t\x85\u2028\u2029") and value == value.rstrip(" "):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    plain = _PLAIN_SAFE.match(value) is not None and value.lower() not in _RESERVED_WORDS
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=None if plain else '"')


_Dumper.add_representer(str, _represent_str)


def dump_documents(documents: Iterator[Any] | list[Any]) -> str:
    """Serialise documents as one deterministic YAML stream."""
    return yaml.dump_all(
        list(documents),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
        explicit_start=True,
    )


def dump_document(document: Any) -> str:
    return dump_documents([document])
