"""Validates Kubernetes objects against the upstream CRD schemas in ../shared/fixtures/crds (jsonschema)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from project_paths import FIXTURES

CRD_FILES = {
    ("tf.upbound.io", "Workspace"): "provider-terraform/tf.upbound.io_workspaces.yaml",
    ("tf.m.upbound.io", "Workspace"): "provider-terraform/tf.m.upbound.io_workspaces.yaml",
    ("argoproj.io", "Application"): "argo-cd/application-crd.yaml",
    ("argoproj.io", "ApplicationSet"): "argo-cd/applicationset-crd.yaml",
}


@functools.cache
def _crd(group: str, kind: str) -> dict[str, Any]:
    path: Path = FIXTURES / "crds" / CRD_FILES[(group, kind)]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["kind"] == "CustomResourceDefinition"
    return document


def has_schema(obj: dict[str, Any]) -> bool:
    group = str(obj.get("apiVersion", "")).partition("/")[0]
    return (group, obj.get("kind")) in CRD_FILES


def validate(obj: dict[str, Any]) -> None:
    """Raise AssertionError naming the problem when ``obj`` breaks its CRD's schema or scope."""
    group, _, version = str(obj["apiVersion"]).partition("/")
    crd = _crd(group, obj["kind"])
    versions = {v["name"]: v for v in crd["spec"]["versions"]}
    assert version in versions, f"{obj['kind']}: version {version} not served by the CRD ({sorted(versions)})"
    schema = dict(versions[version]["schema"]["openAPIV3Schema"])
    # The API server fills and checks metadata itself; the CRD types it only as an object.
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(obj), key=lambda e: list(e.absolute_path))
    assert not errors, f"{obj['kind']} {obj['metadata'].get('name')}: " + "; ".join(
        f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors[:5]
    )
    namespaced = crd["spec"]["scope"] == "Namespaced"
    has_namespace = bool(obj["metadata"].get("namespace"))
    assert namespaced == has_namespace, (
        f"{obj['kind']} {obj['metadata']['name']}: scope {crd['spec']['scope']} but namespace "
        f"{'set' if has_namespace else 'missing'}"
    )
