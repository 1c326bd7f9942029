"""SIMULATION ONLY: a stand-in for Crossplane and Argo CD that applies what is merged on the GitOps main branches."""

# The demo (and tests) point the real reconciler at this instead of a Kubernetes cluster. It reads the base branch
# of both repositories through the Forge protocol, "applies" every Workspace and Argo CD Application it finds there,
# turns Workspaces Available after a delay with the catalogs' example outputs, marks Applications Synced and Healthy,
# and lets objects removed from git linger with a deletionTimestamp for a while, as finalizers would. Production code
# paths never use it; it only implements the same ``Cluster`` protocol.

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.model import CatalogSet
from bot.clock import Clock
from bot.cluster.model import ENVIRONMENT_LABEL, KNOWN_KINDS, Kind, ObservedObject, kind_of
from bot.cluster.static import StaticCluster
from bot.environment.model import CATALOG_LABEL
from bot.forge.protocol import Forge
from bot.render.manifests import ARGOCD_FINALIZER

TERRAFORM_FINALIZER = "finalizer.managedresource.crossplane.io"
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Tracked:
    """What the simulation remembers of one object: when it appeared, its spec's hash and generation."""

    created: dt.datetime
    changed: dt.datetime
    digest: str
    generation: int = 1
    removed: dt.datetime | None = None
    last: dict[str, Any] = field(default_factory=dict)


@dataclass
class SimulatedCluster:
    """Crossplane and Argo CD in miniature, driven by the repositories' base branches and a clock."""

    platform: Forge
    apps: Forge
    catalogs: CatalogSet
    clock: Clock
    platform_base: str = "main"
    apps_base: str = "main"
    environments_dir: str = "registry/environments"
    workspace_delay: dt.timedelta = dt.timedelta(seconds=2)
    application_delay: dt.timedelta = dt.timedelta(seconds=1)
    deletion_delay: dt.timedelta = dt.timedelta(seconds=1.5)
    fail_workspaces: dict[str, str] = field(default_factory=dict)
    """Workspace name → the error its terraform apply reports (for showing failures)."""
    output_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Workspace name → Terraform outputs to report instead of the catalog's examples (for showing changes)."""
    state_file: Path | None = None
    """Where the simulation keeps what it has 'applied', so separate CLI runs see one cluster (None: memory)."""
    _tracked: dict[tuple[str, str, str], _Tracked] = field(default_factory=dict)
    _parsed: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what git says should exist ------------------------------------------------------------------------

    def _documents(self, forge: Forge, base: str) -> Iterator[dict[str, Any]]:
        for path in forge.list_tree(self.environments_dir, base):
            if not path.endswith(".yaml") or path.endswith("/environment.yaml"):
                continue
            yield from self._manifests(forge.read_file(path, base) or "")

    def _manifests(self, text: str) -> tuple[dict[str, Any], ...]:
        """The controller-relevant documents of one file, parsed once per distinct content (read-only)."""
        found = self._parsed.get(text)
        if found is None:
            documents = yaml.load_all(text, Loader=_LOADER)
            found = tuple(d for d in documents if isinstance(d, dict) and kind_of(d) is not None)
            self._parsed[text] = found
        return found

    def _desired(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        desired: dict[tuple[str, str, str], dict[str, Any]] = {}
        for forge, base in ((self.platform, self.platform_base), (self.apps, self.apps_base)):
            for document in self._documents(forge, base):
                meta = document["metadata"]
                desired[(document["kind"], meta.get("namespace") or "", meta["name"])] = document
        return desired

    # -- the controllers -----------------------------------------------------------------------------------

    def _sync(self) -> list[dict[str, Any]]:
        with self._lock:
            self._load()
            observed = self._sync_locked()
            self._save()
            return observed

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.is_file():
            return
        entries = json.loads(self.state_file.read_text(encoding="utf-8"))
        self._tracked = {
            (e["kind"], e["namespace"], e["name"]): _Tracked(
                created=dt.datetime.fromisoformat(e["created"]),
                changed=dt.datetime.fromisoformat(e["changed"]),
                digest=e["digest"],
                generation=e["generation"],
                removed=dt.datetime.fromisoformat(e["removed"]) if e["removed"] else None,
                last=e["last"],
            )
            for e in entries
        }

    def _save(self) -> None:
        if self.state_file is None:
            return
        entries = [
            {
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "created": t.created.isoformat(),
                "changed": t.changed.isoformat(),
                "digest": t.digest,
                "generation": t.generation,
                "removed": t.removed.isoformat() if t.removed else None,
                "last": t.last,
            }
            for (kind, namespace, name), t in sorted(self._tracked.items())
        ]
        self.state_file.write_text(json.dumps(entries, indent=1), encoding="utf-8")

    def _sync_locked(self) -> list[dict[str, Any]]:
        now = self.clock()
        desired = self._desired()
        for key, document in desired.items():
            digest = hashlib.sha256(repr(document.get("spec")).encode() + repr(document["metadata"]).encode())
            tracked = self._tracked.get(key)
            if tracked is None or tracked.removed is not None:
                self._tracked[key] = _Tracked(created=now, changed=now, digest=digest.hexdigest(), last=document)
            elif tracked.digest != digest.hexdigest():
                tracked.digest, tracked.changed, tracked.last = digest.hexdigest(), now, document
                tracked.generation += 1
        for key, tracked in list(self._tracked.items()):
            if key not in desired and tracked.removed is None:
                tracked.removed = now
            if tracked.removed is not None and now - tracked.removed >= self.deletion_delay:
                del self._tracked[key]
        return [self._observed(tracked, now) for tracked in self._tracked.values()]

    def _observed(self, tracked: _Tracked, now: dt.datetime) -> dict[str, Any]:
        document = tracked.last
        metadata = dict(document["metadata"])
        metadata["generation"] = tracked.generation
        metadata["creationTimestamp"] = _timestamp(tracked.created)
        if tracked.removed is not None:
            metadata["deletionTimestamp"] = _timestamp(tracked.removed)
        raw = {**document, "metadata": metadata}
        if document["kind"] == "Workspace":
            metadata["finalizers"] = [TERRAFORM_FINALIZER]
            raw["status"] = self._workspace_status(document, tracked, now)
        else:
            metadata["finalizers"] = [ARGOCD_FINALIZER]
            raw["status"] = self._application_status(tracked, now)
        return raw

    def _workspace_status(self, document: Mapping[str, Any], tracked: _Tracked, now: dt.datetime) -> dict[str, Any]:
        ready = now - tracked.changed >= self.workspace_delay
        synced = {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": ""}
        synced["lastTransitionTime"] = _timestamp(tracked.changed)
        error = self.fail_workspaces.get(document["metadata"]["name"])
        if error is not None:
            failing = {**synced, "status": "False", "reason": "ReconcileError", "message": error}
            creating = {"type": "Ready", "status": "False", "reason": "Creating"}
            return {
                "conditions": [failing, {**creating, "lastTransitionTime": _timestamp(tracked.changed)}],
                "observedGeneration": tracked.generation,
            }
        if not ready:
            condition = {"type": "Ready", "status": "False", "reason": "Creating"}
            return {
                "conditions": [synced, {**condition, "lastTransitionTime": _timestamp(tracked.changed)}],
                "observedGeneration": tracked.generation,
            }
        catalog = self.catalogs.get(document["metadata"].get("labels", {}).get(CATALOG_LABEL, ""))
        outputs = {}
        if catalog is not None:
            outputs = {
                out.terraform_output: out.example
                for out in catalog.outputs.values()
                if not out.sensitive and out.example is not None
            }
        outputs.update(self.output_overrides.get(document["metadata"]["name"], {}))
        available = {"type": "Ready", "status": "True", "reason": "Available"}
        return {
            "conditions": [
                synced,
                {**available, "lastTransitionTime": _timestamp(tracked.changed + self.workspace_delay)},
            ],
            "observedGeneration": tracked.generation,
            "atProvider": {"outputs": outputs},
        }

    def _application_status(self, tracked: _Tracked, now: dt.datetime) -> dict[str, Any]:
        if now - tracked.changed < self.application_delay:
            return {
                "sync": {"status": "OutOfSync"},
                "health": {"status": "Progressing", "lastTransitionTime": _timestamp(tracked.changed)},
            }
        healthy_at = _timestamp(tracked.changed + self.application_delay)
        return {"sync": {"status": "Synced"}, "health": {"status": "Healthy", "lastTransitionTime": healthy_at}}

    # -- the Cluster protocol ------------------------------------------------------------------------------

    def _view(self) -> StaticCluster:
        return StaticCluster.from_documents(self._sync(), KNOWN_KINDS)

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> ObservedObject | None:
        return self._view().get(kind, name, namespace)

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        return self._view().list(kind, selector, namespace)
