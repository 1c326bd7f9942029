"""``StaticCluster``: observed objects from YAML files, for dry runs, offline status and tests."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.cluster.errors import ClusterConfigError
from bot.cluster.model import ENVIRONMENT_LABEL, KNOWN_KINDS, Kind, ObservedObject, kind_of, observe_raw
from bot.cluster.selectors import parse_selector

_SUFFIXES = (".yaml", ".yml", ".json")


class StaticCluster:
    """Serves the Workspaces and Applications found in YAML (``kubectl get -o yaml`` lists are unpacked)."""

    def __init__(self, objects: Iterable[ObservedObject] = ()) -> None:
        self._objects: tuple[ObservedObject, ...] = tuple(objects)
        self.api_calls: collections.Counter[str] = collections.Counter()
        """Same keys as ``KubeCluster.api_calls``, so tests and benchmarks can compare the two."""

    @classmethod
    def from_documents(cls, documents: Iterable[Any], kinds: Iterable[Kind] = KNOWN_KINDS) -> StaticCluster:
        """Objects from parsed YAML documents; other kinds and empty documents are skipped."""
        kinds = tuple(kinds)
        found: list[ObservedObject] = []
        for doc in documents:
            for raw in _unpack(doc):
                kind = kind_of(raw, kinds)
                if kind is not None:
                    found.append(observe_raw(raw, kind))
        return cls(found)

    @classmethod
    def from_path(cls, path: str | Path, kinds: Iterable[Kind] = KNOWN_KINDS) -> StaticCluster:
        """Read one YAML file, or every ``*.yaml`` / ``*.yml`` / ``*.json`` under a folder, recursively."""
        root = Path(path)
        if root.is_dir():
            files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
        elif root.is_file():
            files = [root]
        else:
            raise ClusterConfigError(f"{root}: no such file or folder of observed objects")
        documents: list[Any] = []
        for file in files:
            try:
                documents.extend(yaml.safe_load_all(file.read_text(encoding="utf-8")))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
                problem = getattr(exc, "problem", None) or exc
                raise ClusterConfigError(f"{where}: not valid YAML ({problem})") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise ClusterConfigError(f"{file}: cannot read ({exc})") from None
        return cls.from_documents(documents, kinds)

    @property
    def objects(self) -> tuple[ObservedObject, ...]:
        return self._objects

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> ObservedObject | None:
        self.api_calls[f"get {kind.resource}"] += 1
        for obj in self._objects:
            if obj.is_kind(kind) and obj.name == name and (not kind.namespaced or obj.namespace == namespace):
                return obj
        return None

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        wanted = parse_selector(selector)
        self.api_calls[f"list {kind.resource}"] += 1
        found = (
            obj
            for obj in self._objects
            if obj.is_kind(kind) and (namespace is None or obj.namespace == namespace) and wanted.matches(obj.labels)
        )
        return tuple(sorted(found, key=lambda o: (o.namespace or "", o.name)))  # the API server's order


def _unpack(doc: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(doc, Mapping):
        return
    items = doc.get("items")
    if isinstance(items, list) and str(doc.get("kind", "")).endswith("List"):
        for item in items:
            yield from _unpack(item)
    else:
        yield doc
