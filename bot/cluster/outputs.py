"""Terraform outputs of a Workspace: non-sensitive values from its status, sensitive ones by Secret name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from bot.cluster.model import NAMESPACED_WORKSPACE, JsonValue, ObjectRef, ObservedObject
from bot.errors import EnvbotError


class OutputType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOL = "bool"
    OBJECT = "object"
    LIST = "list"
    NULL = "null"


def output_type(value: JsonValue) -> OutputType:
    """The JSON type of an output value (Terraform maps and objects are both ``object``)."""
    if value is None:
        return OutputType.NULL
    if isinstance(value, bool):
        return OutputType.BOOL
    if isinstance(value, int | float):
        return OutputType.NUMBER
    if isinstance(value, str):
        return OutputType.STRING
    if isinstance(value, Mapping):
        return OutputType.OBJECT
    return OutputType.LIST


@dataclass(frozen=True)
class ObservedOutput:
    """One non-sensitive Terraform output, as provider-terraform put it in ``status.atProvider.outputs``."""

    name: str
    value: JsonValue = field(hash=False)

    @property
    def type(self) -> OutputType:
        return output_type(self.value)


@dataclass(frozen=True)
class ConnectionSecretRef:
    """Where the Workspace writes its connection Secret (all outputs, sensitive ones included). Never read."""

    name: str
    namespace: str


class OutputNotFoundError(EnvbotError):
    """A catalog asked for an output the Workspace does not expose (yet, or as a non-sensitive value)."""


@dataclass(frozen=True)
class WorkspaceOutputs:
    """The outputs apps may use: values for non-sensitive ones, the Secret's name for the rest."""

    workspace: ObjectRef
    outputs: Mapping[str, ObservedOutput] = field(hash=False)
    connection_secret: ConnectionSecretRef | None = None
    sensitive: tuple[str, ...] = ()
    """Outputs the catalog declares sensitive: their values are never taken, even if the status shows them."""

    def value(self, name: str) -> JsonValue:
        """The value of a non-sensitive output; ``OutputNotFoundError`` says why it cannot be had."""
        if name in self.sensitive:
            where = (
                f"Secret {self.connection_secret.namespace}/{self.connection_secret.name}"
                if self.connection_secret
                else "the Workspace's connection Secret (spec.writeConnectionSecretToRef is not set)"
            )
            raise OutputNotFoundError(
                f"{self.workspace}: output {name!r} is sensitive; reference it from {where} by key {name!r} "
                "instead of copying its value"
            )
        if name not in self.outputs:
            have = ", ".join(sorted(self.outputs)) or "none yet"
            raise OutputNotFoundError(
                f"{self.workspace}: no output {name!r} in status.atProvider.outputs (outputs: {have}); "
                "is the Workspace Available, and does the module declare it?"
            )
        return self.outputs[name].value


def connection_secret(workspace: ObservedObject) -> ConnectionSecretRef | None:
    """``spec.writeConnectionSecretToRef``; a namespaced Workspace's Secret lives in its own namespace."""
    ref = workspace.spec.get("writeConnectionSecretToRef")
    if not isinstance(ref, Mapping) or not isinstance(ref.get("name"), str) or not ref.get("name"):
        return None
    namespace = ref.get("namespace")
    if workspace.api_version == NAMESPACED_WORKSPACE.api_version or not isinstance(namespace, str):
        namespace = workspace.namespace or ""
    return ConnectionSecretRef(name=str(ref["name"]), namespace=namespace)


def workspace_outputs(workspace: ObservedObject, sensitive: Iterable[str] = ()) -> WorkspaceOutputs:
    """Read ``status.atProvider.outputs`` (JSON values of any type), leaving out the ``sensitive`` names."""
    hidden = tuple(dict.fromkeys(sensitive))
    at_provider = (workspace.status or {}).get("atProvider")
    raw = at_provider.get("outputs") if isinstance(at_provider, Mapping) else None
    values = raw if isinstance(raw, Mapping) else {}
    outputs = {name: ObservedOutput(name, value) for name, value in sorted(values.items()) if name not in hidden}
    return WorkspaceOutputs(
        workspace=workspace.ref,
        outputs=MappingProxyType(outputs),
        connection_secret=connection_secret(workspace),
        sensitive=hidden,
    )
