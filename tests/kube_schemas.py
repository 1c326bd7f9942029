"""Checks Kubernetes objects against CRD facts: the project's own (tests/fixtures/crds) or the upstream CRDs."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import yaml
from project_paths import FIXTURES, OWN_FIXTURES

Key = tuple[str, str]
"""An API group and a kind, e.g. ``("tf.upbound.io", "Workspace")``."""

OWN_FACTS = OWN_FIXTURES / "crds"
OWN_FACT_FILES = ("provider-terraform.yaml", "argo-cd.yaml")
OBJECT_META_FILE = "object-meta.yaml"
UPSTREAM_CRD_FILES: Mapping[Key, str] = {
    ("tf.upbound.io", "Workspace"): "provider-terraform/tf.upbound.io_workspaces.yaml",
    ("tf.m.upbound.io", "Workspace"): "provider-terraform/tf.m.upbound.io_workspaces.yaml",
    ("argoproj.io", "Application"): "argo-cd/application-crd.yaml",
    ("argoproj.io", "ApplicationSet"): "argo-cd/applicationset-crd.yaml",
}
"""The kinds envbot renders or reads, and their CRD files under ``FIXTURES / "crds"``."""

CHECKED_BY_THE_API_SERVER = frozenset({"metadata"})
"""Top-level fields a CRD types only as ``object``: the API server checks ObjectMeta itself."""
VALUE_CONSTRAINTS = ("pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems")
VALUE_COMBINATORS = ("allOf", "anyOf", "oneOf", "not")


@dataclass(frozen=True)
class KindFacts:
    """What the API server knows of one kind: its names, its scope and a structural schema per served version."""

    group: str
    kind: str
    plural: str
    scope: str
    schemas: Mapping[str, Mapping[str, Any]]
    source: str
    validators: Mapping[str, jsonschema.Draft7Validator] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        validators = {version: jsonschema.Draft7Validator(closed(schema)) for version, schema in self.schemas.items()}
        object.__setattr__(self, "validators", validators)

    @property
    def namespaced(self) -> bool:
        return self.scope == "Namespaced"

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(sorted(self.schemas))


def closed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` where an object node that names its properties admits no others.

    That is what a structural schema means to the API server, which prunes the fields it does not name; a node with
    ``x-kubernetes-preserve-unknown-fields: true`` or its own ``additionalProperties`` keeps unknown fields.
    """
    node = dict(schema)
    if "properties" in node:
        node["properties"] = {name: closed(sub) for name, sub in node["properties"].items()}
        keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") is True or "additionalProperties" in node
        if node.get("type") == "object" and not keeps_unknown:
            node["additionalProperties"] = False
    if isinstance(node.get("items"), Mapping):
        node["items"] = closed(node["items"])
    if isinstance(node.get("additionalProperties"), Mapping):
        node["additionalProperties"] = closed(node["additionalProperties"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in node:
            node[combinator] = [closed(branch) for branch in node[combinator]]
    return node


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (the upstream CRDs are 1.8 MB of YAML: seconds in pure Python)."""


def _load(path: Any) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)


@functools.cache
def own_facts() -> Mapping[Key, KindFacts]:
    """The project's own CRD facts (tests/fixtures/crds), each kind's ``metadata`` from object-meta.yaml."""
    object_meta = _load(OWN_FACTS / OBJECT_META_FILE)
    facts: dict[Key, KindFacts] = {}
    for name in OWN_FACT_FILES:
        for entry in _load(OWN_FACTS / name)["kinds"]:
            schema = copy.deepcopy(entry["schema"])
            schema["properties"]["metadata"] = copy.deepcopy(object_meta)
            facts[(entry["group"], entry["kind"])] = KindFacts(
                group=entry["group"],
                kind=entry["kind"],
                plural=entry["plural"],
                scope=entry["scope"],
                schemas=dict.fromkeys(entry["versions"], schema),
                source=f"tests/fixtures/crds/{name}",
            )
    return facts


@functools.cache
def upstream_kind(key: Key) -> KindFacts:
    """The upstream CRD of one kind, read from ``FIXTURES`` on first use (once per process)."""
    relative = UPSTREAM_CRD_FILES[key]
    crd = _load(FIXTURES / "crds" / relative)
    assert crd["kind"] == "CustomResourceDefinition", f"{relative} is not a CustomResourceDefinition"
    spec = crd["spec"]
    return KindFacts(
        group=spec["group"],
        kind=spec["names"]["kind"],
        plural=spec["names"]["plural"],
        scope=spec["scope"],
        schemas={v["name"]: v["schema"]["openAPIV3Schema"] for v in spec["versions"] if v.get("served")},
        source=f"upstream CRD {relative}",
    )


class _UpstreamFacts(Mapping[Key, KindFacts]):
    """Every kind of ``UPSTREAM_CRD_FILES``, each CRD read only when its kind is asked for."""

    def __getitem__(self, key: Key) -> KindFacts:
        if key not in UPSTREAM_CRD_FILES:
            raise KeyError(key)
        return upstream_kind(key)

    def __iter__(self) -> Iterator[Key]:
        return iter(UPSTREAM_CRD_FILES)

    def __len__(self) -> int:
        return len(UPSTREAM_CRD_FILES)


def upstream_facts() -> Mapping[Key, KindFacts]:
    """The upstream CRDs of the conformance tier, each read from ``FIXTURES`` on first use of its kind."""
    return _UpstreamFacts()


def api_key(obj: Mapping[str, Any]) -> Key:
    return str(obj.get("apiVersion", "")).partition("/")[0], str(obj.get("kind", ""))


def has_schema(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is one of the kinds envbot renders or reads (the others are not CRDs envbot knows)."""
    return api_key(obj) in UPSTREAM_CRD_FILES


def check(obj: Mapping[str, Any], facts: KindFacts) -> None:
    """Raise AssertionError naming the problem when ``obj`` breaks the schema, versions or scope of ``facts``."""
    metadata: Mapping[str, Any] = obj["metadata"] if isinstance(obj.get("metadata"), Mapping) else {}
    label = f"{obj.get('kind')} {metadata.get('name')}"
    version = str(obj.get("apiVersion", "")).partition("/")[2]
    assert version in facts.validators, f"{label}: version {version!r} not served by {facts.source} {facts.versions}"
    errors = sorted(facts.validators[version].iter_errors(obj), key=lambda e: e.json_path)
    assert not errors, f"{label} against {facts.source}: " + "; ".join(
        f"{e.json_path}: {e.message}" for e in errors[:5]
    )
    has_namespace = bool(metadata.get("namespace"))
    assert facts.namespaced == has_namespace, (
        f"{label}: scope {facts.scope} in {facts.source} but namespace {'set' if has_namespace else 'missing'}"
    )


def validate(obj: Mapping[str, Any]) -> None:
    """Check ``obj`` against the project's own CRD facts (the own tier; always available)."""
    check(obj, own_facts()[api_key(obj)])


def validate_upstream(obj: Mapping[str, Any]) -> None:
    """Check ``obj`` against the upstream CRD of its kind (conformance tier only: it reads ``FIXTURES``)."""
    check(obj, upstream_facts()[api_key(obj)])


def disagreements(own: KindFacts, upstream: KindFacts) -> list[str]:
    """Where the own facts say something upstream does not: names, scope, versions, or a looser or unknown field.

    Every field the own facts allow must exist upstream at the same path, with the same type and no constraint
    upstream has that the facts leave out, so an object that passes the own facts passes upstream too.
    """
    problems = [
        f"{what}: {mine!r} here, {theirs!r} upstream"
        for what, mine, theirs in (
            ("group", own.group, upstream.group),
            ("kind", own.kind, upstream.kind),
            ("plural", own.plural, upstream.plural),
            ("scope", own.scope, upstream.scope),
            ("served versions", own.versions, upstream.versions),
        )
        if mine != theirs
    ]
    for version in sorted(set(own.schemas) & set(upstream.schemas)):
        problems += [
            f"{version} {problem}" for problem in _schema_disagreements(own.schemas[version], upstream.schemas[version])
        ]
    return problems


def _keeps_unknown(node: Mapping[str, Any]) -> bool:
    return node.get("x-kubernetes-preserve-unknown-fields") is True or node.get("additionalProperties", False) is True


def _schema_disagreements(own: Mapping[str, Any], upstream: Mapping[str, Any], path: str = "") -> Iterator[str]:
    where = path or "<root>"
    if own.get("type") != upstream.get("type"):
        yield f"{where}: type {own.get('type')} here, {upstream.get('type')} upstream"
    if path in CHECKED_BY_THE_API_SERVER:
        return
    if "enum" in upstream and not set(own.get("enum") or ["<any value>"]) <= set(upstream["enum"]):
        yield f"{where}: enum {own.get('enum')} here, {upstream['enum']} upstream"
    for constraint in (*VALUE_CONSTRAINTS, *VALUE_COMBINATORS):
        if constraint in upstream and own.get(constraint) != upstream[constraint]:
            yield f"{where}: {constraint} {own.get(constraint)!r} here, {upstream[constraint]!r} upstream"
    if missing := sorted(set(upstream.get("required", ())) - set(own.get("required", ()))):
        yield f"{where}: upstream requires {missing}, the facts do not"
    if own.get("x-kubernetes-preserve-unknown-fields") is True and not _keeps_unknown(upstream):
        yield f"{where}: keeps unknown fields here, upstream prunes them"
    own_extra, upstream_extra = own.get("additionalProperties", False), upstream.get("additionalProperties", False)
    if isinstance(own_extra, Mapping) and isinstance(upstream_extra, Mapping):
        yield from _schema_disagreements(own_extra, upstream_extra, f"{path}{{*}}")
    elif own_extra is not False and not _keeps_unknown(upstream):
        yield f"{where}: takes any key here, upstream {'types' if upstream_extra else 'names'} its fields"
    upstream_properties = upstream.get("properties", {})
    for name, sub in own.get("properties", {}).items():
        child = f"{path}.{name}" if path else name
        if name in upstream_properties:
            yield from _schema_disagreements(sub, upstream_properties[name], child)
        elif isinstance(upstream_extra, Mapping):
            yield from _schema_disagreements(sub, upstream_extra, child)
        elif not _keeps_unknown(upstream):
            yield f"{child}: not in the upstream schema"
    if "items" in own:
        if "items" in upstream:
            yield from _schema_disagreements(own["items"], upstream["items"], f"{path}[]")
        else:
            yield f"{where}: items described here, not upstream"
