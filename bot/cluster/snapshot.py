"""``observe``: one list call per kind for all environments, grouped into an ``ObservedSnapshot``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.cluster.errors import KindNotServedError
from bot.cluster.model import (
    APPLICATION,
    ENVIRONMENT_LABEL,
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    Kind,
    ObservedObject,
)
from bot.cluster.protocol import Cluster
from bot.environment.model import GENERATED_BY_LABEL


def _no_groups() -> Mapping[str, tuple[ObservedObject, ...]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class ObservedSnapshot:
    """Every envbot-labelled Workspace and Application, keyed by the ``envbot.io/environment`` label."""

    workspaces: Mapping[str, tuple[ObservedObject, ...]] = field(default_factory=_no_groups, hash=False)
    applications: Mapping[str, tuple[ObservedObject, ...]] = field(default_factory=_no_groups, hash=False)
    """Catalog Applications: the ones envbot rendered, which carry the ``envbot.io/catalog`` label."""
    generated: Mapping[str, tuple[ObservedObject, ...]] = field(default_factory=_no_groups, hash=False)
    """Apps the bootstrap's ApplicationSets generate for an environment's folders (``is_generated``): they deliver
    the environment's files, so they are no part of what the environment waits on."""
    unserved_kinds: tuple[str, ...] = ()
    """Optional kinds the API server does not serve (``workspaces.tf.m.upbound.io`` on old providers)."""

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.workspaces) | set(self.applications)))

    def workspaces_of(self, environment: str) -> tuple[ObservedObject, ...]:
        return self.workspaces.get(environment, ())

    def applications_of(self, environment: str) -> tuple[ObservedObject, ...]:
        return self.applications.get(environment, ())

    def generated_of(self, environment: str) -> tuple[ObservedObject, ...]:
        return self.generated.get(environment, ())


def is_generated(app: ObservedObject) -> bool:
    """An app the bootstrap generated for a folder: labelled so, or (an older bootstrap) named ``envbot-<env>-...``
    without the catalog label every Application envbot renders carries."""
    if GENERATED_BY_LABEL in app.labels:
        return True
    return not app.catalog and bool(app.environment) and app.name.startswith(f"envbot-{app.environment}-")


def group_by_environment(objects: Iterable[ObservedObject]) -> Mapping[str, tuple[ObservedObject, ...]]:
    """Objects keyed by their environment label, sorted by namespace and name; unlabelled ones are dropped."""
    groups: dict[str, list[ObservedObject]] = {}
    for obj in objects:
        if obj.environment:
            groups.setdefault(obj.environment, []).append(obj)
    return MappingProxyType(
        {
            env: tuple(sorted(objs, key=lambda o: (o.api_version, o.namespace or "", o.name)))
            for env, objs in sorted(groups.items())
        }
    )


def observe(
    cluster: Cluster,
    *,
    workspace_kinds: Iterable[Kind] = (WORKSPACE, NAMESPACED_WORKSPACE),
    application_kind: Kind | None = APPLICATION,
    application_namespace: str | None = None,
    optional_kinds: Iterable[Kind] = (NAMESPACED_WORKSPACE,),
) -> ObservedSnapshot:
    """List each kind once with the bare ``envbot.io/environment`` selector and group the results.

    ``application_namespace`` (e.g. ``argocd``) lists Applications in that namespace only, which needs just a
    Role there instead of a ClusterRole. A kind in ``optional_kinds`` whose CRD is not installed is recorded
    in ``unserved_kinds`` instead of failing the whole observation.
    """
    optional = set(optional_kinds)
    unserved: list[str] = []

    def listed(kind: Kind, namespace: str | None = None) -> tuple[ObservedObject, ...]:
        try:
            return cluster.list(kind, ENVIRONMENT_LABEL, namespace)
        except KindNotServedError:
            if kind not in optional:
                raise
            unserved.append(kind.resource)
            return ()

    workspaces: list[ObservedObject] = []
    for kind in workspace_kinds:
        workspaces.extend(listed(kind))
    applications = listed(application_kind, application_namespace) if application_kind else ()
    return ObservedSnapshot(
        workspaces=group_by_environment(workspaces),
        applications=group_by_environment(a for a in applications if not is_generated(a)),
        generated=group_by_environment(a for a in applications if is_generated(a)),
        unserved_kinds=tuple(unserved),
    )
