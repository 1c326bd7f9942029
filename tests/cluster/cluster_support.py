"""Cluster test support: real-shaped Workspace/Application builders and a kmock emulator on its own thread."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import re
import socket
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import kmock
import yaml

from bot.cluster import (
    APPLICATION,
    ENVIRONMENT_LABEL,
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    Kind,
)

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
SHA = "4f2c9d0e7b1a3c5e9f8d7c6b5a4e3d2c1b0a9f8e"
OLD_SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
REPO = "https://github.com/acme/apps-gitops.git"


def ago(**delta: float) -> str:
    """An RFC 3339 timestamp ``delta`` before ``NOW``, as the API server writes it."""
    return (NOW - dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- Crossplane / provider-terraform shapes ---------------------------------------------------------------


def cond(
    type_: str,
    status: str,
    reason: str,
    *,
    at: str | None = None,
    message: str | None = None,
    generation: int | None = None,
) -> dict[str, Any]:
    """One Crossplane condition (``type``, ``status``, ``reason``, ``lastTransitionTime`` are required)."""
    out: dict[str, Any] = {
        "type": type_,
        "status": status,
        "reason": reason,
        "lastTransitionTime": at or ago(minutes=5),
    }
    if message is not None:
        out["message"] = message
    if generation is not None:
        out["observedGeneration"] = generation
    return out


def ready(at: str | None = None, generation: int | None = None) -> dict[str, Any]:
    return cond("Ready", "True", "Available", at=at, generation=generation)


def synced(at: str | None = None, generation: int | None = None) -> dict[str, Any]:
    return cond("Synced", "True", "ReconcileSuccess", at=at, generation=generation)


def workspace(
    name: str,
    env: str | None = "pr-42",
    *,
    conditions: list[dict[str, Any]] | None = None,
    generation: int = 1,
    observed_generation: int | None = None,
    outputs: Mapping[str, Any] | None = None,
    deleting_since: str | None = None,
    finalizers: list[str] | None = None,
    namespace: str | None = None,
    secret: dict[str, str] | None = None,
    status: bool = True,
    catalog: str | None = None,
) -> dict[str, Any]:
    """A Workspace as ``kubectl get -o json`` shows it; namespaced (tf.m.upbound.io) when ``namespace`` is set."""
    labels = {}
    if env is not None:
        labels[ENVIRONMENT_LABEL] = env
        labels["envbot.io/catalog"] = catalog or name.removeprefix(f"{env}-")
    meta: dict[str, Any] = {
        "name": name,
        "generation": generation,
        "creationTimestamp": ago(hours=1),
        "labels": labels,
        "finalizers": finalizers if finalizers is not None else ["finalizer.managedresource.crossplane.io"],
    }
    if namespace:
        meta["namespace"] = namespace
    if deleting_since:
        meta["deletionTimestamp"] = deleting_since
    spec: dict[str, Any] = {
        "forProvider": {"source": "Inline", "module": 'output "x" { value = 1 }'},
    }
    if secret is not None:
        spec["writeConnectionSecretToRef"] = secret
    obj: dict[str, Any] = {
        "apiVersion": "tf.m.upbound.io/v1beta1" if namespace else "tf.upbound.io/v1beta1",
        "kind": "Workspace",
        "metadata": meta,
        "spec": spec,
    }
    if status:
        st: dict[str, Any] = {"conditions": conditions if conditions is not None else [ready(), synced()]}
        if observed_generation is not None:
            st["observedGeneration"] = observed_generation
        if outputs is not None:
            st["atProvider"] = {"checksum": "a1b2c3", "outputs": dict(outputs)}
        obj["status"] = st
    return obj


# -- Argo CD shapes ---------------------------------------------------------------------------------------


def application(
    name: str,
    env: str | None = "pr-42",
    *,
    sync: str | None = "Synced",
    health: str | None = "Healthy",
    health_message: str | None = None,
    phase: str | None = "Succeeded",
    op_message: str | None = "successfully synced (all tasks run)",
    op_revision: str = SHA,
    sync_revision: str = SHA,
    retry_count: int | None = None,
    conditions: list[dict[str, Any]] | None = None,
    resources: list[dict[str, Any]] | None = None,
    path: str | None = None,
    compared_path: str | None = None,
    deleting_since: str | None = None,
    status: bool = True,
    namespace: str = "argocd",
) -> dict[str, Any]:
    """An Argo CD Application with the status shape Argo CD writes (sync, health, operationState)."""
    path = path or f"registry/environments/{env}/in-cluster/{name}"
    source = {"repoURL": REPO, "path": path, "targetRevision": "HEAD"}
    destination = {"server": "https://kubernetes.default.svc", "namespace": env or "default"}
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "generation": 3,
        "creationTimestamp": ago(hours=1),
        "labels": {ENVIRONMENT_LABEL: env} if env else {},
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
    }
    if deleting_since:
        meta["deletionTimestamp"] = deleting_since
    obj: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "spec": {
            "project": "default",
            "source": source,
            "destination": destination,
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
        },
    }
    if not status:
        return obj
    st: dict[str, Any] = {"reconciledAt": ago(seconds=30), "sourceType": "Directory"}
    if sync is not None:
        compared = dict(source, path=compared_path or path)
        st["sync"] = {
            "status": sync,
            "revision": sync_revision,
            "comparedTo": {"source": compared, "destination": destination},
        }
    if health is not None:
        st["health"] = {"status": health, "lastTransitionTime": ago(minutes=2)}
        if health_message:
            st["health"]["message"] = health_message
    if phase is not None:
        op: dict[str, Any] = {
            "operation": {"sync": {"revision": op_revision}, "initiatedBy": {"automated": True}},
            "phase": phase,
            "startedAt": ago(minutes=3),
        }
        if op_message is not None:
            op["message"] = op_message
        if phase not in ("Running", "Terminating"):
            op["finishedAt"] = ago(minutes=2)
            op["syncResult"] = {"revision": op_revision, "source": source, "resources": []}
        if retry_count is not None:
            op["retryCount"] = retry_count
        st["operationState"] = op
    if conditions:
        st["conditions"] = conditions
    if resources is not None:
        st["resources"] = resources
    st["history"] = [{"id": 1, "revision": sync_revision, "deployedAt": ago(minutes=2), "source": source}]
    obj["status"] = st
    return obj


def app_resource(
    kind: str, name: str, health: str, message: str | None = None, namespace: str = "pr-42"
) -> dict[str, Any]:
    """One entry of ``status.resources``: what Argo CD manages, with its sync and health."""
    group, version = {"Deployment": ("apps", "v1"), "Job": ("batch", "v1")}.get(kind, ("", "v1"))
    res: dict[str, Any] = {
        "group": group,
        "version": version,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "status": "Synced",
        "health": {"status": health},
    }
    if message:
        res["health"]["message"] = message
    return res


def app_condition(type_: str, message: str, at: str | None = None) -> dict[str, Any]:
    return {"type": type_, "message": message, "lastTransitionTime": at or ago(minutes=1)}


# -- a label-selector matcher of our own, independent of bot.cluster.selectors ----------------------------

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)\s*$")


def selector_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """What the real API server does with ``labelSelector`` (the subset envbot uses)."""
    for term in re.split(r",(?![^(]*\))", selector):
        if not term.strip():
            continue
        if m := _SET.match(term):
            key, op, values = m[1], m[2], {v.strip() for v in m[3].split(",")}
            ok = (labels.get(key) in values) if op == "in" else (labels.get(key) not in values)
        elif m := _EQ.match(term):
            key, op, value = m[1], m[2], m[3]
            ok = labels.get(key) == value if op in ("=", "==") else labels.get(key) != value
        elif term.strip().startswith("!"):
            ok = term.strip()[1:] not in labels
        else:
            ok = term.strip() in labels
        if not ok:
            return False
    return True


# -- the emulator ------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected failure of a list call: an HTTP error status, or a delay before answering."""

    status: int = 0
    reason: str = ""
    message: str = ""
    delay: float = 0.0
    times: int | None = 1
    on_continue_only: bool = False


WatchAnswer: TypeAlias = "tuple[Mapping[str, Any], ...] | Fault | Callable[[], WatchAnswer]"
"""A scripted answer to one watch request: events the server sends before it closes the stream, an HTTP error,
or a function (run on the emulator's loop when the request arrives) that returns one."""


def _resource(kind: Kind) -> kmock.resource:
    return kmock.resource(kind.group, kind.version, kind.plural)


def _kubernetes_error(fault: Fault) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=fault.status, reason=fault.reason, message=fault.message, details={})


def watch_event(type_: str, raw: Mapping[str, Any], resource_version: str | None = None) -> dict[str, Any]:
    """One line of a watch stream; ``resource_version`` stamps the object (``kubectl get -w`` shows one on each)."""
    obj = dict(raw, metadata=dict(raw["metadata"]))
    if resource_version is not None:
        obj["metadata"]["resourceVersion"] = resource_version
    return {"type": type_, "object": obj}


def bookmark(kind: Kind, resource_version: str) -> dict[str, Any]:
    """A BOOKMARK event: an object of the kind that carries nothing but the resourceVersion."""
    meta = {"resourceVersion": resource_version}
    return {"type": "BOOKMARK", "object": {"apiVersion": kind.api_version, "kind": kind.kind, "metadata": meta}}


def expired(message: str = "too old resource version: 4711 (4790)") -> dict[str, Any]:
    """The ERROR event the API server sends when a watch's resourceVersion has been compacted away."""
    status = {"apiVersion": "v1", "kind": "Status", "status": "Failure", "code": 410, "reason": "Expired"}
    return {"type": "ERROR", "object": dict(status, message=message, metadata={})}


class Emulator:
    """kmock's KubernetesEmulator served on 127.0.0.1 by an event loop in a background thread.

    kmock ignores ``labelSelector``, ``limit`` and ``continue``, so each served kind gets a list reaction that
    filters by label and pages like the API server; it also plays back injected :class:`Fault`s. Watches play
    back scripted :data:`WatchAnswer`s, then stream live: the changes made through the API (:meth:`create`,
    :meth:`patch`, :meth:`delete`), and, only for a watch without a resourceVersion, every object first. Like
    kmock's own stream (and unlike the API server) the live one ignores ``labelSelector`` and ``timeoutSeconds``
    and never sends bookmarks or 410s; unlike kmock's, it subscribes before it counts as watching, so a change
    made after :meth:`wait_watching` is never lost.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.faults: dict[str, list[Fault]] = {}
        self.watch_scripts: dict[str, list[WatchAnswer]] = {}
        self._watching: collections.Counter[str] = collections.Counter()
        self._watching_changed = threading.Condition()
        self._api: Any = None
        self._thread = threading.Thread(target=self._run, name="kmock-emulator", daemon=True)
        self._thread.start()
        if not self._started.wait(10) or self._error is not None:
            raise RuntimeError(f"the kmock emulator did not start: {self._error!r}")
        for kind in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION):
            self.serve(kind)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # surfaced to the test thread by __init__
            self._error = exc
            self._started.set()
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with kmock.KubernetesEmulator() as handler, kmock.Server(handler) as server:
            self.handler = handler
            self.url = str(server.url).rstrip("/")
            self._started.set()
            await self._stop.wait()

    def close(self) -> None:
        if self._api is not None:
            self._api.api_client.close()
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    # -- setup (call before the client sends requests) ----------------------------------------------------

    def serve(self, kind: Kind) -> None:
        """Declare the kind and answer its list calls the way the real API server does."""
        self.handler.resources[f"{kind.group}/{kind.version}/{kind.plural}"] = kmock.ResourceInfo(
            kind=kind.kind, singular=kind.kind.lower(), namespaced=kind.namespaced, verbs={"get", "list", "watch"}
        )
        self.handler[kmock.action.LIST, _resource(kind)] << self._lister(kind)
        self.handler[kmock.action.WATCH, _resource(kind)] << self._watcher(kind)

    def add(self, *objects: Mapping[str, Any]) -> None:
        """Store objects directly (no watch hears of it): the state before the client under test looks."""
        for raw in objects:
            kind = self._kind_of(raw)
            meta = raw["metadata"]
            self.handler.objects[_resource(kind), meta.get("namespace"), meta["name"]] = dict(raw)

    def fail(self, kind: Kind, fault: Fault) -> None:
        self.faults.setdefault(kind.resource, []).append(fault)

    def script_watch(self, kind: Kind, *answers: WatchAnswer) -> None:
        """Answer the kind's next watch requests so, in order; later ones stream live."""
        self.watch_scripts.setdefault(kind.resource, []).extend(answers)

    # -- changes through the API, which live watches see -----------------------------------------------------

    def api(self) -> Any:
        """A ``CustomObjectsApi`` of the official client on the emulator (not the client under test)."""
        if self._api is None:
            from kubernetes import client

            self._api = client.CustomObjectsApi(client.ApiClient(client.Configuration(host=self.url)))
        return self._api

    def create(self, raw: Mapping[str, Any]) -> None:
        kind, namespace = self._kind_of(raw), raw["metadata"].get("namespace")
        if namespace:
            self.api().create_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural, dict(raw))
        else:
            self.api().create_cluster_custom_object(kind.group, kind.version, kind.plural, dict(raw))

    def patch(self, kind: Kind, name: str, patch: Mapping[str, Any], namespace: str | None = None) -> None:
        if namespace:
            self.api().patch_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural, name, patch)
        else:
            self.api().patch_cluster_custom_object(kind.group, kind.version, kind.plural, name, patch)

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        if namespace:
            self.api().delete_namespaced_custom_object(kind.group, kind.version, namespace, kind.plural, name)
        else:
            self.api().delete_cluster_custom_object(kind.group, kind.version, kind.plural, name)

    def remove(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        """Take an object away without telling any watch (as if its events were compacted away)."""
        del self.handler.objects[_resource(kind), namespace, name]

    def wait_watching(self, kind: Kind, count: int = 1, timeout: float = 10.0) -> None:
        """Block until ``count`` live watches of the kind have subscribed so far (``timeout``: a guard against hangs)."""
        with self._watching_changed:
            if not self._watching_changed.wait_for(lambda: self._watching[kind.resource] >= count, timeout):
                raise AssertionError(f"{count} live watch(es) of {kind.resource} expected, {self._watching}")

    @staticmethod
    def _kind_of(raw: Mapping[str, Any]) -> Kind:
        group = str(raw["apiVersion"]).rpartition("/")[0]
        return next(k for k in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION) if k.group == group)

    # -- observation ---------------------------------------------------------------------------------------

    def requests(self, kind: Kind | None = None, action: kmock.action = kmock.action.LIST) -> list[kmock.Request]:
        view = self.handler[action] if kind is None else self.handler[action, _resource(kind)]
        return list(view)

    # -- the list reaction ---------------------------------------------------------------------------------

    def _lister(self, kind: Kind) -> Any:
        async def answer(request: kmock.Request) -> dict[str, Any]:
            params = request.params
            for fault in list(self.faults.get(kind.resource, ())):
                if fault.on_continue_only and "continue" not in params:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults[kind.resource].remove(fault)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status:
                    raise kmock.KubernetesError(
                        status=fault.status, reason=fault.reason, message=fault.message, details={}
                    )
            selector = params.get("labelSelector", "")
            items = sorted(
                (
                    obj.raw
                    for (res, ns, _), obj in self.handler.objects.items()
                    if res == request.resource
                    and not obj.deleted
                    and (request.namespace is None or ns == request.namespace)
                ),
                key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]),
            )
            items = [o for o in items if selector_matches(selector, o["metadata"].get("labels") or {})]
            start = int(params.get("continue") or 0)
            limit = int(params.get("limit") or 0) or len(items) or 1
            page = items[start : start + limit]
            meta: dict[str, Any] = {"resourceVersion": "4711"}
            if start + limit < len(items):
                meta["continue"] = str(start + limit)
                meta["remainingItemCount"] = len(items) - start - limit
            return {"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": meta, "items": page}

        return answer

    # -- the watch reaction --------------------------------------------------------------------------------

    def _watcher(self, kind: Kind) -> Any:
        def answer(request: kmock.Request) -> Any:
            script = self.watch_scripts.get(kind.resource)
            if not script:
                return self._live(kind, request)
            step = script.pop(0)
            while callable(step):
                step = step()
            if isinstance(step, Fault):
                return _kubernetes_error(step)
            return (b"", *step)  # the headers, the events, then the server closes the stream

        return answer

    async def _live(self, kind: Kind, request: kmock.Request) -> AsyncIterator[Any]:
        assert request.resource is not None
        bus = self.handler._buses[request.resource]  # kmock's event bus of the resource (no public accessor)
        marker = await bus.mark()
        try:
            yield b""  # the headers: the stream is open
            if not request.params.get("resourceVersion"):
                existing = [
                    obj.raw
                    for (res, ns, _), obj in list(self.handler.objects.items())
                    if res == request.resource and not obj.deleted and request.namespace in (None, ns)
                ]
                for raw in existing:
                    yield {"type": "ADDED", "object": raw}
            with self._watching_changed:
                self._watching[kind.resource] += 1
                self._watching_changed.notify_all()
            async for event in bus.stream(since=marker):
                if request.namespace in (None, event["object"]["metadata"].get("namespace")):
                    yield event
        finally:
            await bus.unmark(marker)


def write_kubeconfig(path: Path, server: str, context: str = "envbot-test") -> Path:
    """A kubeconfig with one token user, as ``kubectl config view --raw`` writes it."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "emulator", "cluster": {"server": server}}],
                "users": [{"name": "envbot", "user": {"token": "test-token-not-secret"}}],
                "contexts": [{"name": context, "context": {"cluster": "emulator", "user": "envbot"}}],
                "current-context": context,
            }
        ),
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
