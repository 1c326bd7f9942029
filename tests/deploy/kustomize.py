"""What ``kubectl kustomize`` makes of a kustomize base like deploy/: its resources, with ``namespace`` and ``images``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from project_paths import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
KUSTOMIZATION = "kustomization.yaml"
KUSTOMIZATION_KEYS = frozenset({"apiVersion", "kind", "namespace", "resources", "images"})
"""All this harness applies; a kustomization with more (generators, patches, labels) is refused, not half-built."""
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding"})
NAMESPACED = frozenset({"ServiceAccount", "ConfigMap", "Deployment", "Service", "Role", "RoleBinding", "Secret"})
POD_TEMPLATE_KINDS = frozenset({"Deployment"})


def read_base(folder: Path = DEPLOY) -> dict[str, str]:
    """Every file of a base folder, name → text."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir()) if path.is_file()}


def split_image(image: str) -> tuple[str, str, str]:
    """``name[:tag][@digest]`` → (name, tag, digest), a registry's port kept in the name (kustomize's image.Split)."""
    name, _, digest = image.partition("@")
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def set_image(image: str, entry: Mapping[str, str]) -> str:
    """kustomize's images transformer for one container image: a new tag or digest replaces both old ones."""
    name, tag, digest = split_image(image)
    if name != entry["name"]:
        return image
    name = entry.get("newName") or name
    new_tag, new_digest = entry.get("newTag", ""), entry.get("digest", "")
    if new_tag or new_digest:
        tag, digest = new_tag, new_digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _set_namespace(documents: list[dict[str, Any]], namespace: str) -> None:
    """kustomize's namespace transformer: namespaced objects move, the Namespace is renamed, and a binding's
    ServiceAccount subject follows when it names a ServiceAccount of the base (an empty namespace is ``default``)."""
    accounts = {
        (doc["metadata"]["name"], doc["metadata"].get("namespace") or "default")
        for doc in documents
        if doc["kind"] == "ServiceAccount"
    }
    for doc in documents:
        kind = doc["kind"]
        assert kind in CLUSTER_SCOPED | NAMESPACED, f"{kind}: this harness does not know the kind's scope"
        if kind == "Namespace":
            doc["metadata"]["name"] = namespace
        elif kind in NAMESPACED:
            doc["metadata"]["namespace"] = namespace
        for subject in doc.get("subjects", ()) if kind.endswith("RoleBinding") else ():
            if (subject.get("name"), subject.get("namespace") or "default") in accounts:
                subject["namespace"] = namespace


def _set_images(documents: list[dict[str, Any]], entries: list[Mapping[str, str]]) -> None:
    for doc in documents:
        if doc["kind"] not in POD_TEMPLATE_KINDS:
            continue
        pod = doc["spec"]["template"]["spec"]
        for container in [*pod.get("initContainers", ()), *pod["containers"]]:
            for entry in entries:
                container["image"] = set_image(container["image"], entry)


def build(base: Mapping[str, str]) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize`` builds from ``base`` (name → text), in the order its resources list them.

    YAML is read as kubectl reads it (YAML 1.1, PyYAML's safe loader)."""
    kustomization = yaml.safe_load(base[KUSTOMIZATION])
    assert set(kustomization) <= KUSTOMIZATION_KEYS, f"unsupported: {sorted(set(kustomization) - KUSTOMIZATION_KEYS)}"
    documents = [
        copy.deepcopy(doc) for name in kustomization["resources"] for doc in yaml.safe_load_all(base[name]) if doc
    ]
    if kustomization.get("namespace"):
        _set_namespace(documents, kustomization["namespace"])
    _set_images(documents, kustomization.get("images") or [])
    return documents


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The one object of each kind (the base holds one of each)."""
    kinds = [doc["kind"] for doc in documents]
    assert len(kinds) == len(set(kinds)), f"more than one object of a kind: {kinds}"
    return {doc["kind"]: doc for doc in documents}
