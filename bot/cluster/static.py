"""``StaticCluster``: observed objects from YAML files, re-read when they change, for dry runs, status and tests."""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.cluster.errors import ClusterConfigError
from bot.cluster.model import ENVIRONMENT_LABEL, KNOWN_KINDS, Kind, ObservedObject, kind_of, observe_raw
from bot.cluster.selectors import parse_selector

_SUFFIXES = (".yaml", ".yml", ".json")
RACY_SECONDS = 2.0
"""A file modified this recently may change again within its timestamp's granularity: its bytes are compared too."""


@dataclass(frozen=True)
class _Read:
    """One file as last read: what ``stat`` said, the digest of its bytes, and its parsed documents."""

    stamp: tuple[int, int, int]
    digest: str
    documents: tuple[Any, ...]


@dataclass
class _FileSource:
    """The YAML files under one path; ``refresh`` parses again only the files whose bytes changed since last time."""

    root: Path
    kinds: tuple[Kind, ...]
    reads: dict[Path, _Read] = field(default_factory=dict)
    objects: tuple[ObservedObject, ...] = ()

    def files(self) -> list[Path]:
        if self.root.is_dir():
            return sorted(p for p in self.root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
        if self.root.is_file():
            return [self.root]
        raise ClusterConfigError(f"{self.root}: no such file or folder of observed objects")

    def refresh(self) -> tuple[ObservedObject, ...]:
        """The objects the files hold now; the previous tuple itself when no file was added, removed or changed."""
        reads = {file: self._read(file, self.reads.get(file)) for file in self.files()}
        digests = {file: read.digest for file, read in reads.items()}
        if digests != {file: read.digest for file, read in self.reads.items()}:
            self.objects = _observed((doc for read in reads.values() for doc in read.documents), self.kinds)
        self.reads = reads
        return self.objects

    def _read(self, file: Path, previous: _Read | None) -> _Read:
        try:
            info = file.stat()
            stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
            racy = time.time() - info.st_mtime < RACY_SECONDS
            if previous is not None and previous.stamp == stamp and not racy:
                return previous
            data = file.read_bytes()
        except OSError as exc:
            raise ClusterConfigError(f"{file}: cannot read ({exc})") from None
        digest = hashlib.sha256(data).hexdigest()
        if previous is not None and previous.digest == digest:
            return _Read(stamp, digest, previous.documents)
        return _Read(stamp, digest, _parse(file, data))


def _parse(file: Path, data: bytes) -> tuple[Any, ...]:
    try:
        return tuple(yaml.safe_load_all(data.decode("utf-8")))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else str(file)
        problem = getattr(exc, "problem", None) or exc
        raise ClusterConfigError(f"{where}: not valid YAML ({problem})") from None
    except UnicodeDecodeError as exc:
        raise ClusterConfigError(f"{file}: cannot read ({exc})") from None


class StaticCluster:
    """Serves the Workspaces and Applications found in YAML (``kubectl get -o yaml`` lists are unpacked).

    Built with ``from_path``, it re-reads its files on every ``get`` and ``list``, so edits made while a command
    waits are seen; a file whose size, modification time and inode did not change is not read again.
    """

    def __init__(self, objects: Iterable[ObservedObject] = (), *, source: _FileSource | None = None) -> None:
        self._objects: tuple[ObservedObject, ...] = tuple(objects)
        self._source = source
        self.api_calls: collections.Counter[str] = collections.Counter()
        """Same keys as ``KubeCluster.api_calls``, so tests and benchmarks can compare the two."""

    @classmethod
    def from_documents(cls, documents: Iterable[Any], kinds: Iterable[Kind] = KNOWN_KINDS) -> StaticCluster:
        """Objects from parsed YAML documents; other kinds and empty documents are skipped."""
        return cls(_observed(documents, tuple(kinds)))

    @classmethod
    def from_path(cls, path: str | Path, kinds: Iterable[Kind] = KNOWN_KINDS) -> StaticCluster:
        """One YAML file, or every ``*.yaml`` / ``*.yml`` / ``*.json`` under a folder, recursively; read now and
        again whenever they change."""
        source = _FileSource(Path(path), tuple(kinds))
        return cls(source.refresh(), source=source)

    @property
    def objects(self) -> tuple[ObservedObject, ...]:
        if self._source is not None:
            self._objects = self._source.refresh()
        return self._objects

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        wanted = parse_selector(selector)
        self.api_calls[f"list {kind.resource}"] += 1
        found = (
            obj
            for obj in self.objects
            if obj.is_kind(kind) and (namespace is None or obj.namespace == namespace) and wanted.matches(obj.labels)
        )
        return tuple(sorted(found, key=lambda o: (o.namespace or "", o.name)))  # the API server's order


def _observed(documents: Iterable[Any], kinds: tuple[Kind, ...]) -> tuple[ObservedObject, ...]:
    """The objects of the known ``kinds`` in parsed YAML documents; other kinds and empty documents are skipped."""
    return tuple(
        observe_raw(raw, kind) for doc in documents for raw in _unpack(doc) if (kind := kind_of(raw, kinds)) is not None
    )


def _unpack(doc: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(doc, Mapping):
        return
    items = doc.get("items")
    if isinstance(items, list) and str(doc.get("kind", "")).endswith("List"):
        for item in items:
            yield from _unpack(item)
    else:
        yield doc
