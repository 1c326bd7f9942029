"""Safe YAML in and deterministic, unambiguous YAML out (every string that any YAML reader could mistype is quoted)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

MAX_ALIASES = 100
MAX_DEPTH = 64

# A plain (unquoted) scalar is emitted only when every YAML 1.1 and 1.2 reader takes it as this very string.
_PLAIN_SAFE = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*\Z")
_RESERVED_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})


class YamlError(ValueError):
    """The text is not YAML envbot accepts; the message says where and why."""


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs, deep nesting and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise YamlError(f"line {mark.line + 1}: more than {MAX_ALIASES} YAML aliases; refusing to expand")
        return super().compose_node(parent, index)

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


def _check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise YamlError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _wrap(exc: yaml.YAMLError) -> YamlError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return YamlError(f"{where}{problem}")


def load_one(text: str) -> Any:
    """Parse exactly one YAML document."""
    try:
        loader = _LimitedLoader(text)
        try:
            value = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _wrap(exc) from None
    _check_depth(value)
    return value


def load_all(text: str) -> list[Any]:
    """Parse every document of a YAML stream, dropping empty ones."""
    documents: list[Any] = []
    try:
        loader = _LimitedLoader(text)
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
