"""The one-time bootstrap: Argo CD ApplicationSets that turn environment folders into apps, and the agent's base."""

# Removing a generated app must never remove what it manages: Argo CD deletes generated apps in bulk when a set is
# deleted or its generator briefly sees no folders. So the sets preserve resources on deletion, and the template
# carries no resources finalizer (Argo CD adds one to a finalizer-less template only when the set does not preserve;
# a finalizer in the template would cascade despite the set). Objects go only by a prune inside their own app:
# envbot removes their files and keeps the folder (a placeholder file) until they are gone. See
# docs/environments.md#one-time-bootstrap.

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import yamldoc
from bot.environment.model import ENVIRONMENT_LABEL
from bot.errors import UserError
from bot.names import label_problem
from bot.render.manifests import MANAGED_BY, MANAGED_BY_LABEL
from bot.render.renderer import RenderedFile, Repo
from bot.render.settings import RenderSettings

IN_CLUSTER = "https://kubernetes.default.svc"
BOOTSTRAP_DIR = "bootstrap"
GENERATED_BY_LABEL = "envbot.io/generated-by"
"""On the apps an ApplicationSet generates: the set's name (they carry no ``envbot.io/catalog`` label)."""


@dataclass(frozen=True)
class BootstrapRepos:
    """Clone URLs and revision of the two GitOps repositories, as Argo CD reaches them."""

    platform_url: str
    apps_url: str
    revision: str = "HEAD"


def _segment(index: int) -> str:
    return f"{{{{index .path.segments {index}}}}}"


def _sync_policy(create_namespace: bool) -> dict[str, Any]:
    """Automated sync that prunes, even the last objects of a folder that holds only the placeholder."""
    policy: dict[str, Any] = {"automated": {"prune": True, "selfHeal": True, "allowEmpty": True}}
    if create_namespace:
        policy["syncOptions"] = ["CreateNamespace=true"]
    return policy


def _application_set(
    name: str,
    *,
    repo_url: str,
    revision: str,
    directory: str,
    app_name: str,
    environment_segment: int,
    destination: dict[str, str],
    settings: RenderSettings,
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {
            "name": name,
            "namespace": settings.argocd_namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        },
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "syncPolicy": {"preserveResourcesOnDeletion": True},
            "generators": [{"git": {"repoURL": repo_url, "revision": revision, "directories": [{"path": directory}]}}],
            "template": {
                "metadata": {
                    "name": app_name,
                    "labels": {
                        ENVIRONMENT_LABEL: _segment(environment_segment),
                        GENERATED_BY_LABEL: name,
                        MANAGED_BY_LABEL: MANAGED_BY,
                    },
                },
                "spec": {
                    "project": "default",
                    "source": {"repoURL": repo_url, "targetRevision": revision, "path": "{{.path.path}}"},
                    "destination": destination,
                    "syncPolicy": _sync_policy(create_namespace=True),
                },
            },
        },
    }


def render_bootstrap(repos: BootstrapRepos, settings: RenderSettings | None = None) -> tuple[RenderedFile, ...]:
    """One ApplicationSet for the platform repository and two for the app repository."""
    settings = settings or RenderSettings()
    base = settings.layout.environments_dir.strip("/")
    env_index = len(base.split("/"))
    infrastructure = _application_set(
        "envbot-infrastructure",
        repo_url=repos.platform_url,
        revision=repos.revision,
        directory=f"{base}/*/infrastructure",
        app_name=f"envbot-{_segment(env_index)}-infrastructure",
        environment_segment=env_index,
        destination={"server": IN_CLUSTER, "namespace": settings.connection_secret_namespace},
        settings=settings,
    )
    applications = _application_set(
        "envbot-applications",
        repo_url=repos.apps_url,
        revision=repos.revision,
        directory=f"{base}/*/*",
        app_name=f"envbot-{_segment(env_index)}-{_segment(env_index + 1)}",
        environment_segment=env_index,
        destination={"server": IN_CLUSTER, "namespace": settings.argocd_namespace},
        settings=settings,
    )
    manifests = _application_set(
        "envbot-manifests",
        repo_url=repos.apps_url,
        revision=repos.revision,
        directory=f"{base}/*/*/*",
        app_name=f"envbot-{_segment(env_index)}-{_segment(env_index + 2)}-manifests",
        environment_segment=env_index,
        destination={"name": _segment(env_index + 1)},
        settings=settings,
    )
    return (
        RenderedFile(
            Repo.PLATFORM,
            f"{BOOTSTRAP_DIR}/envbot-infrastructure.yaml",
            yamldoc.dump_document(infrastructure),
            None,
        ),
        RenderedFile(Repo.APPS, f"{BOOTSTRAP_DIR}/envbot-applications.yaml", yamldoc.dump_document(applications), None),
        RenderedFile(Repo.APPS, f"{BOOTSTRAP_DIR}/envbot-manifests.yaml", yamldoc.dump_document(manifests), None),
    )


AGENT_DIR = "agent"
"""Where the agent's kustomize base goes in the platform repository's tree (the management cluster's repository)."""
KUSTOMIZATION = "kustomization.yaml"
_IMAGE = re.compile(
    r"(?P<name>(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
"""An image reference as Docker's reference grammar has it: ``[registry[:port]/]path[:tag][@sha256:digest]``."""


def _image_entry(name: str, image: str) -> dict[str, str]:
    """The kustomization ``images:`` entry that sets image ``name`` to ``image``, which names its tag or digest."""
    match = _IMAGE.fullmatch(image)
    if match is None or not (match["tag"] or match["digest"]):
        raise UserError(
            f"agent image {image!r} is not an image reference with a tag or digest, such as ghcr.io/acme/envbot:0.1.0"
        )
    entry = {"name": name, "newName": match["name"]}
    if match["tag"]:
        entry["newTag"] = match["tag"]
    if match["digest"]:
        entry["digest"] = match["digest"]
    return entry


def render_agent(
    sources: Mapping[str, str], *, image: str | None = None, namespace: str | None = None
) -> tuple[RenderedFile, ...]:
    """The agent's kustomize base from ``sources`` (the files of ``bot/deploy/``, name → text) for the platform tree's
    ``agent/``: each listed resource as it ships, the kustomization with ``image`` and ``namespace`` when given."""
    kustomization = yamldoc.load_one(sources[KUSTOMIZATION])
    (placeholder,) = kustomization["images"]
    if namespace is not None:
        problem = label_problem(namespace)
        if problem is not None:
            raise UserError(f"agent namespace: {problem}")
        kustomization["namespace"] = namespace
    if image is not None:
        kustomization["images"] = [_image_entry(placeholder["name"], image)]
    resources = [
        RenderedFile(Repo.PLATFORM, f"{AGENT_DIR}/{name}", sources[name], None) for name in kustomization["resources"]
    ]
    text = yamldoc.dump_document(kustomization)
    return (RenderedFile(Repo.PLATFORM, f"{AGENT_DIR}/{KUSTOMIZATION}", text, None), *resources)
