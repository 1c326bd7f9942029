"""SIMULATION ONLY: a stand-in for Crossplane and Argo CD that applies what is merged on the GitOps main branches."""

# The demo (and tests) point the real reconciler at this instead of a Kubernetes cluster. It reads the base branch
# of both repositories through the Forge protocol, "applies" every Workspace and Argo CD Application it finds there,
# turns Workspaces Available after a delay with the catalogs' example outputs, marks Applications Synced and Healthy,
# and lets objects removed from git linger with a deletionTimestamp for a while, as finalizers would. Production code
# paths never use it; it only implements the same ``Cluster`` protocol.
#
# Once an ApplicationSet is committed under bootstrap/ (as `envbot bootstrap` writes them), git is no longer applied
# directly: the simulation plays Argo CD's ApplicationSet controller (controller defaults: policy `sync`, no policy
# override) and application controller. Each set's git directories generator yields one generated app per folder of
# the repository the set is committed to that matches a `directories[].path` pattern (Go's path.Match: `*` stays
# within one folder; folders exist while they hold a file; hidden folders are skipped). A generated app manages the
# .yaml/.yml/.json documents directly in its folder (directory sources are not recursive) and, with automated sync,
# applies them and prunes what left the folder, except that without `allowEmpty` a sync that would leave it with no
# resources prunes nothing. When a folder is no longer generated (or the set is deleted from git), the generated app
# is deleted and cascades to its objects only if it carries the resources finalizer, which Argo CD adds to a
# finalizer-less template unless the set has `preserveResourcesOnDeletion`; otherwise its objects stay, orphaned,
# until a generated app adopts them again. Workspaces and Applications become objects; other manifests only appear
# in their generated app's `status.resources`.

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.model import CatalogSet
from bot.clock import Clock, parse_timestamp, utc_timestamp
from bot.cluster.model import ENVIRONMENT_LABEL, KNOWN_KINDS, Kind, ObservedObject, kind_of
from bot.cluster.static import StaticCluster
from bot.environment.model import CATALOG_LABEL
from bot.forge.protocol import Forge
from bot.render.bootstrap import BOOTSTRAP_DIR
from bot.render.manifests import ARGOCD_FINALIZER

TERRAFORM_FINALIZER = "finalizer.managedresource.crossplane.io"
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
APPLICATION_SET = "ApplicationSet"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
"""The files an Argo CD directory source reads; anything else in a folder (a placeholder) is ignored."""
_HEALTH_RANK = ("Healthy", "Suspended", "Progressing", "Missing", "Unknown", "Degraded")
"""Argo CD's health statuses, an app taking the worst of its resources'."""
_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_GO_SEGMENT = re.compile(r"index \.path\.segments (\d+)")
_FAST_SEGMENT = re.compile(r"path\[(\d+)\]")

Key = tuple[str, str, str]
"""An object's kind, namespace ("" when cluster-scoped) and name."""


def _key(document: Mapping[str, Any]) -> Key:
    meta = document["metadata"]
    return (document["kind"], meta.get("namespace") or "", meta["name"])


def _digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(repr(document.get("spec")).encode() + repr(document["metadata"]).encode()).hexdigest()


def _is_object(document: Mapping[str, Any]) -> bool:
    meta = document.get("metadata")
    return bool(document.get("apiVersion") and document.get("kind") and isinstance(meta, dict) and meta.get("name"))


def _folders(paths: tuple[str, ...]) -> list[str]:
    """The folders of a repository, as Argo CD's repo server lists them: every folder that holds a file, somewhere
    below; hidden folders (and what is in them) skipped."""
    found: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            if parts[depth - 1].startswith("."):
                break
            found.add("/".join(parts[:depth]))
    return sorted(found)


def _path_match(pattern: str, path: str) -> bool:
    """Go's ``path.Match``: like a shell glob, but ``*`` and ``?`` never match a ``/``."""
    globs, parts = pattern.split("/"), path.split("/")
    return len(globs) == len(parts) and all(
        fnmatch.fnmatchcase(part, glob.replace("[^", "[!")) for glob, part in zip(globs, parts, strict=True)
    )


def _generated_folder(folder: str, patterns: list[dict[str, Any]]) -> bool:
    """Whether a git directories generator yields ``folder``: some pattern includes it and none excludes it."""
    matching = [bool(p.get("exclude")) for p in patterns if _path_match(str(p.get("path", "")), folder)]
    return bool(matching) and not any(matching)


def _template_value(value: Any, folder: str, go_template: bool) -> Any:
    """A template value with the git directories generator's parameters for ``folder`` filled in."""
    if isinstance(value, dict):
        return {k: _template_value(v, folder, go_template) for k, v in value.items()}
    if isinstance(value, list):
        return [_template_value(v, folder, go_template) for v in value]
    if not isinstance(value, str):
        return value
    segments = folder.split("/")
    basename, normalized = segments[-1], _normalized(segments[-1])
    if go_template:
        values = {".path.path": folder, ".path.basename": basename, ".path.basenameNormalized": normalized}
    else:
        values = {"path": folder, "path.basename": basename, "path.basenameNormalized": normalized}

    def replace(match: re.Match[str]) -> str:
        expression = match.group(1)
        segment = (_GO_SEGMENT if go_template else _FAST_SEGMENT).fullmatch(expression)
        if segment is not None and int(segment.group(1)) < len(segments):
            return segments[int(segment.group(1))]
        if expression in values:
            return values[expression]
        raise ValueError(f"the simulation cannot render the template expression {match.group(0)!r}")

    return _EXPRESSION.sub(replace, value)


def _normalized(name: str) -> str:
    """Argo CD's ``normalize``: lowercase, characters other than a-z 0-9 . - become '-', trimmed of '-' and '.'."""
    return re.sub(r"[^-a-z0-9.]", "-", name.lower())[:253].strip("-.")


def _generated_application(application_set: Mapping[str, Any], folder: str) -> dict[str, Any]:
    """The Application a set's template becomes for one folder, finalizers as Argo CD sets them."""
    spec = application_set.get("spec") or {}
    rendered = _template_value(spec.get("template") or {}, folder, bool(spec.get("goTemplate")))
    metadata = dict(rendered.get("metadata") or {})
    metadata.setdefault("namespace", application_set["metadata"].get("namespace") or "argocd")
    preserve = bool((spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion"))
    if not metadata.get("finalizers") and not preserve:
        metadata["finalizers"] = [ARGOCD_FINALIZER]
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **rendered, "metadata": metadata}


def _resource_entry(document: Mapping[str, Any], applied: bool) -> dict[str, Any]:
    """One entry of a generated app's ``status.resources``."""
    group, _, version = str(document["apiVersion"]).rpartition("/")
    entry = {"group": group, "version": version, "kind": document["kind"], "name": document["metadata"]["name"]}
    if document["metadata"].get("namespace"):
        entry["namespace"] = document["metadata"]["namespace"]
    return {**entry, "status": "Synced" if applied else "OutOfSync"}


def _workspace_health(raw: Mapping[str, Any] | None) -> str:
    """What Argo CD's health check for Crossplane resources says of a Workspace."""
    if raw is None:
        return "Missing"
    if raw["metadata"].get("deletionTimestamp"):
        return "Progressing"
    conditions = {c.get("type"): c.get("status") for c in (raw.get("status") or {}).get("conditions") or []}
    if conditions.get("Synced") == "False":
        return "Degraded"
    return "Healthy" if conditions.get("Ready") == "True" else "Progressing"


@dataclass
class _Tracked:
    """What the simulation remembers of one object: when it appeared, its spec's hash and generation."""

    created: dt.datetime
    changed: dt.datetime
    digest: str
    generation: int = 1
    removed: dt.datetime | None = None
    last: dict[str, Any] = field(default_factory=dict)
    owner: str | None = None
    """With ApplicationSets: the generated app that manages the object; None when orphaned."""
    generated_by: str | None = None
    """On a generated app: the ApplicationSet that generated it."""
    status: dict[str, Any] = field(default_factory=dict)
    """On a generated app: its last sync (``sync``, ``resources``, ``conditions``)."""


@dataclass(frozen=True)
class _Generated:
    """One app an ApplicationSet generates now: its rendered document and the folder of the repository it reads."""

    set_name: str
    document: dict[str, Any]
    folder: str
    forge: Forge
    base: str
    paths: tuple[str, ...]
    """Every file path on the base branch of that repository."""


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
    generator_sees_nothing: bool = False
    """A fault: every ApplicationSet generator returns no folders (as when a repository briefly serves nothing)."""
    _tracked: dict[Key, _Tracked] = field(default_factory=dict)
    _parsed: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
    _objects_parsed: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)
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

    def _desired(self) -> dict[Key, dict[str, Any]]:
        desired: dict[Key, dict[str, Any]] = {}
        for forge, base in ((self.platform, self.platform_base), (self.apps, self.apps_base)):
            for document in self._documents(forge, base):
                desired[_key(document)] = document
        return desired

    def _objects(self, text: str) -> tuple[dict[str, Any], ...]:
        """Every Kubernetes object of one file (any kind), parsed once per distinct content (read-only)."""
        found = self._objects_parsed.get(text)
        if found is None:
            documents = yaml.load_all(text, Loader=_LOADER)
            found = tuple(d for d in documents if isinstance(d, dict) and _is_object(d))
            self._objects_parsed[text] = found
        return found

    def _application_sets(self) -> dict[str, tuple[dict[str, Any], Forge, str]]:
        """The ApplicationSets committed under bootstrap/ of either base branch, by name, with their repository."""
        found: dict[str, tuple[dict[str, Any], Forge, str]] = {}
        for forge, base in ((self.platform, self.platform_base), (self.apps, self.apps_base)):
            for path in forge.list_tree(BOOTSTRAP_DIR, base):
                if path.endswith(MANIFEST_SUFFIXES):
                    for document in self._objects(forge.read_file(path, base) or ""):
                        if document["kind"] == APPLICATION_SET:
                            found.setdefault(document["metadata"]["name"], (document, forge, base))
        return found

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
                created=parse_timestamp(e["created"]),
                changed=parse_timestamp(e["changed"]),
                digest=e["digest"],
                generation=e["generation"],
                removed=parse_timestamp(e["removed"]) if e["removed"] else None,
                last=e["last"],
                owner=e.get("owner"),
                generated_by=e.get("generated_by"),
                status=e.get("status") or {},
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
                "owner": t.owner,
                "generated_by": t.generated_by,
                "status": t.status,
            }
            for (kind, namespace, name), t in sorted(self._tracked.items())
        ]
        self.state_file.write_text(json.dumps(entries, indent=1), encoding="utf-8")

    def _sync_locked(self) -> list[dict[str, Any]]:
        now = self.clock()
        sets = self._application_sets()
        if sets or any(key[0] == APPLICATION_SET for key in self._tracked):
            self._sync_argocd(sets, now)
            return self._argocd_observations(now)
        desired = self._desired()
        for key, document in desired.items():
            self._apply(key, document, now)
        for key, tracked in list(self._tracked.items()):
            if key not in desired and tracked.removed is None:
                tracked.removed = now
            if tracked.removed is not None and now - tracked.removed >= self.deletion_delay:
                del self._tracked[key]
        return [self._observed(tracked, now) for tracked in self._tracked.values()]

    def _apply(self, key: Key, document: dict[str, Any], now: dt.datetime) -> _Tracked:
        """Create the object (again, if it is being deleted) or update it when its document changed."""
        digest = _digest(document)
        tracked = self._tracked.get(key)
        if tracked is None or tracked.removed is not None:
            tracked = self._tracked[key] = _Tracked(created=now, changed=now, digest=digest, last=document)
        elif tracked.digest != digest:
            tracked.digest, tracked.changed, tracked.last = digest, now, document
            tracked.generation += 1
        return tracked

    # -- Argo CD with the bootstrap's ApplicationSets ------------------------------------------------------

    def _sync_argocd(self, sets: Mapping[str, tuple[dict[str, Any], Forge, str]], now: dt.datetime) -> None:
        for name, (document, _, _) in sets.items():
            self._apply((APPLICATION_SET, document["metadata"].get("namespace") or "", name), document, now)
        for key, tracked in self._tracked.items():
            if key[0] == APPLICATION_SET and key[2] not in sets:
                tracked.removed = tracked.removed or now  # kept as a tombstone: Argo CD mode stays on
        wanted = self._generate(sets)
        for key, tracked in list(self._tracked.items()):
            if tracked.generated_by is not None and tracked.removed is None and key not in wanted:
                self._delete_generated(key, tracked, now)
        for key, generated in wanted.items():
            existing = self._tracked.get(key)
            if existing is not None and existing.removed is not None:
                continue  # still being deleted: the set controller creates it again once it is gone
            application = self._apply(key, generated.document, now)
            application.generated_by = generated.set_name
            self._sync_generated(application, generated, now)
        for key, tracked in list(self._tracked.items()):
            managed = key[0] != APPLICATION_SET and tracked.generated_by is None
            if managed and tracked.removed is not None and now - tracked.removed >= self.deletion_delay:
                del self._tracked[key]
        owners = {t.owner for t in self._tracked.values() if t.generated_by is None}
        for key, tracked in list(self._tracked.items()):
            if tracked.generated_by is not None and tracked.removed is not None and key[2] not in owners:
                del self._tracked[key]  # its resources finalizer is done

    def _generate(self, sets: Mapping[str, tuple[dict[str, Any], Forge, str]]) -> dict[Key, _Generated]:
        """The apps every set's git directories generator asks for now."""
        wanted: dict[Key, _Generated] = {}
        trees: dict[int, tuple[tuple[str, ...], list[str]]] = {}
        for set_name, (document, forge, base) in sorted(sets.items()):
            if id(forge) not in trees:
                paths = forge.list_tree("", base)
                trees[id(forge)] = (paths, _folders(paths))
            paths, folders = trees[id(forge)]
            spec = document.get("spec") or {}
            patterns = [p for g in spec.get("generators") or [] for p in (g.get("git") or {}).get("directories") or []]
            for folder in () if self.generator_sees_nothing else folders:
                if _generated_folder(folder, patterns):
                    application = _generated_application(document, folder)
                    generated = _Generated(set_name, application, folder, forge, base, paths)
                    wanted.setdefault(_key(application), generated)
        return wanted

    def _delete_generated(self, key: Key, application: _Tracked, now: dt.datetime) -> None:
        """Delete a generated app: its objects go too only when it carries the resources finalizer."""
        if ARGOCD_FINALIZER in (application.last["metadata"].get("finalizers") or []):
            application.removed = now
            for tracked in self._tracked.values():
                if tracked.owner == key[2] and tracked.generated_by is None:
                    tracked.removed = tracked.removed or now
            return
        del self._tracked[key]
        for tracked in self._tracked.values():
            if tracked.owner == key[2]:
                tracked.owner = None

    def _sync_generated(self, application: _Tracked, generated: _Generated, now: dt.datetime) -> None:
        """The application controller: apply the folder's documents and prune what left it (automated sync)."""
        name = generated.document["metadata"]["name"]
        prefix = f"{generated.folder}/"
        documents = [
            document
            for path in generated.paths
            if path.startswith(prefix) and "/" not in path[len(prefix) :] and path.endswith(MANIFEST_SUFFIXES)
            for document in self._objects(generated.forge.read_file(path, generated.base) or "")
        ]
        policy = (generated.document.get("spec") or {}).get("syncPolicy") or {}
        found = policy.get("automated")
        syncs = isinstance(found, dict) and found.get("enabled") is not False
        automated: dict[str, Any] = found if isinstance(found, dict) and syncs else {}
        prunes, allow_empty = bool(automated.get("prune")), bool(automated.get("allowEmpty"))
        desired = {_key(d): d for d in documents if kind_of(d) is not None}
        if syncs:
            for key, document in desired.items():
                self._apply(key, document, now).owner = name
        stale = [
            key
            for key, t in self._tracked.items()
            if t.owner == name and t.generated_by is None and t.removed is None and key not in desired
        ]
        conditions: list[dict[str, Any]] = []
        if stale and prunes and (documents or allow_empty):
            for key in stale:
                self._tracked[key].removed = now
            stale = []
        elif stale and prunes:
            message = "Skipping sync attempt: auto-sync will wipe out all resources"
            conditions.append({"type": "SyncError", "message": message, "lastTransitionTime": utc_timestamp(now)})
        resources = [_resource_entry(d, self._is_applied(d)) for d in documents]
        resources += [{**_resource_entry(self._tracked[k].last, False), "requiresPruning": True} for k in stale]
        in_sync = all(entry["status"] == "Synced" for entry in resources) and not stale
        application.status = {"sync": "Synced" if in_sync else "OutOfSync", "resources": resources}
        if conditions:
            application.status["conditions"] = conditions

    def _is_applied(self, document: Mapping[str, Any]) -> bool:
        if kind_of(document) is None:
            return True
        tracked = self._tracked.get(_key(document))
        return tracked is not None and tracked.removed is None and tracked.digest == _digest(document)

    def _argocd_observations(self, now: dt.datetime) -> list[dict[str, Any]]:
        observed = {
            key: self._observed(tracked, now)
            for key, tracked in self._tracked.items()
            if key[0] != APPLICATION_SET and tracked.generated_by is None
        }
        applications = [
            self._generated_observed(tracked, observed)
            for tracked in self._tracked.values()
            if tracked.generated_by is not None
        ]
        return [*observed.values(), *applications]

    def _generated_observed(self, tracked: _Tracked, observed: Mapping[Key, Mapping[str, Any]]) -> dict[str, Any]:
        """A generated app as Argo CD shows it: its sync, the health of the worst of its resources, the list."""
        document = tracked.last
        metadata = dict(document["metadata"])
        metadata["generation"] = tracked.generation
        metadata["creationTimestamp"] = utc_timestamp(tracked.created)
        metadata["ownerReferences"] = [
            {"apiVersion": "argoproj.io/v1alpha1", "kind": APPLICATION_SET, "name": tracked.generated_by}
        ]
        if tracked.removed is not None:
            metadata["deletionTimestamp"] = utc_timestamp(tracked.removed)
        resources = []
        for entry in tracked.status.get("resources", []):
            entry = dict(entry)
            if entry["kind"] == "Workspace":  # Argo CD has a health check for *.upbound.io, none for Applications
                found = observed.get((entry["kind"], entry.get("namespace", ""), entry["name"]))
                entry["health"] = {"status": _workspace_health(found)}
            resources.append(entry)
        healths = [e["health"]["status"] for e in resources if "health" in e] or ["Healthy"]
        status: dict[str, Any] = {
            "sync": {"status": tracked.status.get("sync", "Unknown")},
            "health": {"status": max(healths, key=_HEALTH_RANK.index)},
            "resources": resources,
        }
        if tracked.status.get("conditions"):
            status["conditions"] = tracked.status["conditions"]
        return {**document, "metadata": metadata, "status": status}

    def delete_generated_applications(self) -> None:
        """Delete every app the ApplicationSets generated (``kubectl delete applications -l ...``); the set
        controller generates them again on the next observation, once they are gone."""
        with self._lock:
            self._load()
            now = self.clock()
            for key, tracked in list(self._tracked.items()):
                if tracked.generated_by is not None and tracked.removed is None:
                    self._delete_generated(key, tracked, now)
            self._save()

    def _observed(self, tracked: _Tracked, now: dt.datetime) -> dict[str, Any]:
        document = tracked.last
        metadata = dict(document["metadata"])
        metadata["generation"] = tracked.generation
        metadata["creationTimestamp"] = utc_timestamp(tracked.created)
        if tracked.removed is not None:
            metadata["deletionTimestamp"] = utc_timestamp(tracked.removed)
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
        synced["lastTransitionTime"] = utc_timestamp(tracked.changed)
        error = self.fail_workspaces.get(document["metadata"]["name"])
        if error is not None:
            failing = {**synced, "status": "False", "reason": "ReconcileError", "message": error}
            creating = {"type": "Ready", "status": "False", "reason": "Creating"}
            return {
                "conditions": [failing, {**creating, "lastTransitionTime": utc_timestamp(tracked.changed)}],
                "observedGeneration": tracked.generation,
            }
        if not ready:
            condition = {"type": "Ready", "status": "False", "reason": "Creating"}
            return {
                "conditions": [synced, {**condition, "lastTransitionTime": utc_timestamp(tracked.changed)}],
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
                {**available, "lastTransitionTime": utc_timestamp(tracked.changed + self.workspace_delay)},
            ],
            "observedGeneration": tracked.generation,
            "atProvider": {"outputs": outputs},
        }

    def _application_status(self, tracked: _Tracked, now: dt.datetime) -> dict[str, Any]:
        if now - tracked.changed < self.application_delay:
            return {
                "sync": {"status": "OutOfSync"},
                "health": {"status": "Progressing", "lastTransitionTime": utc_timestamp(tracked.changed)},
            }
        healthy_at = utc_timestamp(tracked.changed + self.application_delay)
        return {"sync": {"status": "Synced"}, "health": {"status": "Healthy", "lastTransitionTime": healthy_at}}

    # -- the Cluster protocol ------------------------------------------------------------------------------

    def _view(self) -> StaticCluster:
        return StaticCluster.from_documents(self._sync(), KNOWN_KINDS)

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        return self._view().list(kind, selector, namespace)
