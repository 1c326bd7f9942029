"""Observed cluster objects as our own frozen dataclasses, parsed from raw Kubernetes JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

from bot.clock import parse_timestamp
from bot.environment.model import CATALOG_LABEL as CATALOG_LABEL
from bot.environment.model import ENVIRONMENT_LABEL as ENVIRONMENT_LABEL
from bot.environment.model import SPEC_HASH_ANNOTATION

JsonValue: TypeAlias = "str | int | float | bool | Mapping[str, JsonValue] | tuple[JsonValue, ...] | None"
"""A read-only JSON value: objects are read-only mappings and arrays are tuples."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_KEPT_ANNOTATIONS = frozenset({SPEC_HASH_ANNOTATION})
"""Annotations kept on observed objects; others (``last-applied-configuration`` is a whole copy) are dropped."""


def _no_mapping() -> Mapping[str, Any]:
    return _EMPTY


@dataclass(frozen=True)
class Kind:
    """One Kubernetes resource type that envbot observes."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    spec_fields: tuple[str, ...] = ()
    """Top-level ``spec`` fields kept on observed objects; the rest (e.g. inline Terraform) is dropped."""
    status_fields: tuple[str, ...] | None = None
    """Top-level ``status`` fields kept (``None``: all of them)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """The unambiguous ``plural.group`` name, as ``kubectl get workspaces.tf.upbound.io`` takes it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def __str__(self) -> str:
        return f"{self.resource}/{self.version}"


WORKSPACE = Kind(
    group="tf.upbound.io",
    version="v1beta1",
    plural="workspaces",
    kind="Workspace",
    namespaced=False,
    spec_fields=("writeConnectionSecretToRef", "deletionPolicy", "managementPolicies", "providerConfigRef"),
    status_fields=("conditions", "observedGeneration", "atProvider"),
)
"""provider-terraform's cluster-scoped Workspace."""

NAMESPACED_WORKSPACE = Kind(
    group="tf.m.upbound.io",
    version="v1beta1",
    plural="workspaces",
    kind="Workspace",
    namespaced=True,
    spec_fields=("writeConnectionSecretToRef", "managementPolicies", "providerConfigRef"),
    status_fields=("conditions", "observedGeneration", "atProvider"),
)
"""provider-terraform's namespaced Workspace (its connection Secret lives in the Workspace's namespace)."""

APPLICATION = Kind(
    group="argoproj.io",
    version="v1alpha1",
    plural="applications",
    kind="Application",
    namespaced=True,
    spec_fields=("project", "destination", "source", "sources"),
    status_fields=("sync", "health", "operationState", "conditions", "reconciledAt", "resources", "summary"),
)
"""An Argo CD Application (usually in the ``argocd`` namespace)."""

WORKSPACE_KINDS: tuple[Kind, ...] = (WORKSPACE, NAMESPACED_WORKSPACE)
KNOWN_KINDS: tuple[Kind, ...] = (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION)


@dataclass(frozen=True)
class ObjectRef:
    """Names one object in words a person can paste into kubectl."""

    kind: str
    api_version: str
    name: str
    namespace: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def __str__(self) -> str:
        plural = f"{self.kind.lower()}s"
        resource = f"{plural}.{self.group}" if self.group else plural
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"{resource}/{self.name}{where}"


@dataclass(frozen=True)
class Condition:
    """One entry of ``status.conditions`` (Crossplane or Argo CD shape)."""

    type: str
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    last_transition_time: dt.datetime | None = None
    observed_generation: int | None = None


@dataclass(frozen=True)
class ObservedObject:
    """A Workspace or Application as last read from the cluster (or a YAML file); read-only."""

    kind: str
    api_version: str
    name: str
    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=_no_mapping, hash=False)
    annotations: Mapping[str, str] = field(default_factory=_no_mapping, hash=False)
    generation: int | None = None
    creation_timestamp: dt.datetime | None = None
    deletion_timestamp: dt.datetime | None = None
    finalizers: tuple[str, ...] = ()
    spec: Mapping[str, JsonValue] = field(default_factory=_no_mapping, hash=False)
    """Only the fields named by the object's ``Kind.spec_fields``."""
    status: Mapping[str, JsonValue] | None = field(default=None, hash=False)
    """``None`` when the object carries no ``status`` at all (nothing has reconciled it yet)."""

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.api_version, self.name, self.namespace)

    @property
    def environment(self) -> str | None:
        return self.labels.get(ENVIRONMENT_LABEL) or None

    @property
    def catalog(self) -> str | None:
        return self.labels.get(CATALOG_LABEL) or None

    @property
    def spec_hash(self) -> str | None:
        """The content hash envbot stamped on the object it rendered; ``None`` on objects envbot did not render."""
        return self.annotations.get(SPEC_HASH_ANNOTATION) or None

    @property
    def conditions(self) -> tuple[Condition, ...]:
        raw = (self.status or _EMPTY).get("conditions")
        if not isinstance(raw, tuple):
            return ()
        return tuple(_condition(item) for item in raw if isinstance(item, Mapping) and item.get("type"))

    def condition(self, type_: str) -> Condition | None:
        """The condition of that type, or ``None`` when the object does not carry it."""
        for cond in self.conditions:
            if cond.type == type_:
                return cond
        return None

    def is_kind(self, kind: Kind) -> bool:
        return self.kind == kind.kind and self.api_version == kind.api_version


def freeze(value: Any) -> JsonValue:
    """Deep-copy a JSON-like value into read-only mappings and tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dt.datetime | dt.date):  # YAML files may hold unquoted timestamps
        return value.isoformat()
    return str(value)


def thaw(value: JsonValue) -> Any:
    """The inverse of :func:`freeze`: plain dicts and lists, e.g. for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def parse_time(value: object) -> dt.datetime | None:
    """An RFC 3339 timestamp as an aware datetime (a string in UTC); ``None`` when absent or malformed."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _condition(raw: Mapping[str, Any]) -> Condition:
    return Condition(
        type=str(raw.get("type")),
        status=_str_or_none(raw.get("status")),
        reason=_str_or_none(raw.get("reason")),
        message=_str_or_none(raw.get("message")),
        last_transition_time=parse_time(raw.get("lastTransitionTime")),
        observed_generation=_int_or_none(raw.get("observedGeneration")),
    )


def _status(status: object, kind: Kind) -> Mapping[str, JsonValue] | None:
    if not isinstance(status, Mapping) or not status:
        return None
    keep = kind.status_fields
    return MappingProxyType({str(k): freeze(v) for k, v in status.items() if keep is None or k in keep})


def kind_of(raw: Mapping[str, Any], kinds: Iterable[Kind] = KNOWN_KINDS) -> Kind | None:
    """Which of ``kinds`` a raw object is, by its ``apiVersion`` and ``kind``."""
    for kind in kinds:
        if raw.get("apiVersion") == kind.api_version and raw.get("kind") == kind.kind:
            return kind
    return None


def observe_raw(raw: Mapping[str, Any], kind: Kind) -> ObservedObject:
    """Parse one raw object (a dict from the API or a YAML document) of a known kind."""
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, Mapping) else _EMPTY
    labels = meta.get("labels")
    labels = labels if isinstance(labels, Mapping) else _EMPTY
    annotations = meta.get("annotations")
    annotations = annotations if isinstance(annotations, Mapping) else _EMPTY
    finalizers = meta.get("finalizers")
    spec = raw.get("spec")
    spec = spec if isinstance(spec, Mapping) else _EMPTY
    status = raw.get("status")
    namespace = _str_or_none(meta.get("namespace")) if kind.namespaced else None
    return ObservedObject(
        kind=kind.kind,
        api_version=kind.api_version,
        name=str(meta.get("name") or ""),
        namespace=namespace or None,
        labels=MappingProxyType({str(k): str(v) for k, v in labels.items()}),
        annotations=MappingProxyType({str(k): str(v) for k, v in annotations.items() if k in _KEPT_ANNOTATIONS}),
        generation=_int_or_none(meta.get("generation")),
        creation_timestamp=parse_time(meta.get("creationTimestamp")),
        deletion_timestamp=parse_time(meta.get("deletionTimestamp")),
        finalizers=tuple(str(f) for f in finalizers) if isinstance(finalizers, list | tuple) else (),
        spec=MappingProxyType({k: freeze(spec[k]) for k in kind.spec_fields if k in spec}),
        status=_status(status, kind),
    )
