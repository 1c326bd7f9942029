"""Frozen dataclasses of an environment request and of its parameters bound to catalogs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.catalog.model import Catalog

ENVIRONMENT_LABEL = "envbot.io/environment"
CATALOG_LABEL = "envbot.io/catalog"
GENERATED_BY_LABEL = "envbot.io/generated-by"
"""On the apps the bootstrap's ApplicationSets generate for an environment's folders: the set's name."""
SPEC_HASH_ANNOTATION = "envbot.io/spec-hash"
"""A content hash of each object envbot renders: an observation counts only when the cluster carries the same one."""


class EnvironmentType(enum.StrEnum):
    """Konstruct's environment types."""

    PRE_RELEASE = "pre-release"
    RELEASE = "release"


class OriginKind(enum.StrEnum):
    """What asked for the environment."""

    BRANCH = "branch"
    PULL_REQUEST = "pullRequest"
    MANUAL = "manual"


@dataclass(frozen=True)
class Origin:
    """Where an environment came from: a branch, a pull request, or a person at a terminal."""

    kind: OriginKind = OriginKind.MANUAL
    repository: str | None = None
    branch: str | None = None
    pull_request: int | None = None


@dataclass(frozen=True)
class OutputRef:
    """``{fromOutput: <catalog>.<output>}``: a value another catalog's Terraform produces."""

    catalog: str
    output: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.output}"


@dataclass(frozen=True)
class SecretRef:
    """``{fromSecret: {backend, path, key, env}}``: where a secret lives; never the secret itself."""

    backend: str
    path: str
    key: str
    env: str | None = None


@dataclass(frozen=True)
class SecretRequest:
    """``{fromSecret: ...}`` as written; the catalog's secret defaults fill the fields it leaves out."""

    backend: str | None = None
    path: str | None = None
    key: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class CatalogRequest:
    """One catalog an environment asks for, with the parameters as written."""

    name: str
    parameters: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))


@dataclass(frozen=True)
class Environment:
    """A parsed ``kind: Environment`` file."""

    name: str
    namespace: str
    type: EnvironmentType
    description: str
    cluster: str
    ttl: str | None
    ttl_seconds: int | None
    owner: str | None
    origin: Origin
    catalogs: tuple[CatalogRequest, ...]


@dataclass(frozen=True)
class BoundCatalog:
    """A catalog with every parameter settled: a literal, an ``OutputRef`` or a ``SecretRef``."""

    catalog: Catalog
    values: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    @property
    def name(self) -> str:
        return self.catalog.name

    def output_refs(self) -> tuple[tuple[str, OutputRef], ...]:
        return tuple((name, v) for name, v in self.values.items() if isinstance(v, OutputRef))


@dataclass(frozen=True)
class BoundEnvironment:
    """An environment checked against the catalogs, its catalogs in dependency order."""

    environment: Environment
    catalogs: tuple[BoundCatalog, ...]

    @property
    def name(self) -> str:
        return self.environment.name
