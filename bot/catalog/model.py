"""Frozen dataclasses describing a catalog: its type, parameters, outputs and files."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

API_VERSION = "envbot.io/v1alpha1"

CAMEL_CASE_NAME = re.compile(r"^[a-z][a-zA-Z0-9]*\Z")
TERRAFORM_SECRET_BACKEND = "kubernetes"
"""The one backend a secret reaching Terraform can use: a Workspace reads it from a Kubernetes Secret (``TF_VAR_*``)."""


class CatalogType(enum.StrEnum):
    """What a catalog deploys, and so in which phase."""

    IAC = "iac"
    YAML = "yaml"
    HYBRID = "hybrid"

    @property
    def has_terraform(self) -> bool:
        return self in (CatalogType.IAC, CatalogType.HYBRID)

    @property
    def has_templates(self) -> bool:
        return self in (CatalogType.YAML, CatalogType.HYBRID)


class ParameterType(enum.StrEnum):
    """The value types a catalog parameter can take."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    SECRET = "secret"


class TerraformSource(enum.StrEnum):
    """Where a Workspace gets its Terraform root module."""

    INLINE = "inline"
    REMOTE = "remote"


@dataclass(frozen=True)
class SecretDefaults:
    """Defaults a catalog gives for a secret reference (Konstruct: secretBackend, secretPath, secretKey, secretEnv)."""

    backend: str | None = None
    path: str | None = None
    key: str | None = None
    env: str | None = None


@dataclass(frozen=True)
class Parameter:
    """One input of a catalog."""

    name: str
    type: ParameterType
    description: str = ""
    required: bool = False
    default: Any = None
    has_default: bool = False
    options: tuple[Any, ...] = ()
    pattern: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    terraform_variable: str | None = None
    secret: SecretDefaults = field(default_factory=SecretDefaults)
    values_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """One Terraform output a catalog exposes."""

    name: str
    sensitive: bool
    description: str = ""
    example: Any = None
    terraform_output: str = ""


@dataclass(frozen=True)
class TerraformModule:
    """The Terraform root module of an iac or hybrid catalog."""

    source: TerraformSource
    inline_files: tuple[tuple[str, str], ...] = ()
    remote_module: str | None = None
    tags_variable: str | None = "tags"
    declared_variables: frozenset[str] = frozenset()

    def inline_source(self) -> str:
        """The module as one file, as provider-terraform's ``source: Inline`` takes it."""
        return "\n".join(f"# --- {name} ---\n{text.rstrip()}\n" for name, text in self.inline_files)


@dataclass(frozen=True)
class Template:
    """One Jinja2 template of a yaml or hybrid catalog."""

    path: str
    source: str


@dataclass(frozen=True)
class Catalog:
    """A loaded, checked catalog."""

    name: str
    type: CatalogType
    description: str
    version: str
    parameters: Mapping[str, Parameter]
    outputs: Mapping[str, Output]
    terraform: TerraformModule | None
    templates: tuple[Template, ...]
    values: Mapping[str, Any] | None = None
    digest: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))

    @property
    def sensitive_outputs(self) -> tuple[str, ...]:
        return tuple(name for name, out in self.outputs.items() if out.sensitive)

    def example_outputs(self) -> dict[str, Any]:
        """The declared example value of every non-sensitive output (what a simulation reports)."""
        return {
            name: out.example for name, out in self.outputs.items() if not out.sensitive and out.example is not None
        }


@dataclass(frozen=True)
class CatalogSet:
    """All catalogs of a catalogs folder, by name."""

    catalogs: Mapping[str, Catalog]

    def __post_init__(self) -> None:
        object.__setattr__(self, "catalogs", MappingProxyType(dict(sorted(self.catalogs.items()))))

    def get(self, name: str) -> Catalog | None:
        return self.catalogs.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self.catalogs)


def snake_case(name: str) -> str:
    """``allocatedStorage`` → ``allocated_storage``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def camel_case(name: str) -> str:
    """``allocated_storage`` → ``allocatedStorage``."""
    head, *rest = name.split("_")
    return head.lower() + "".join(part[:1].upper() + part[1:] for part in rest)
