"""Where rendered files go and how manifests are shaped: the GitOps layout and rendering settings."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.names import MAX_LABEL_LENGTH, shortened


class WorkspaceApi(enum.StrEnum):
    """The two provider-terraform API groups: cluster-scoped and namespaced Workspaces."""

    CLUSTER = "tf.upbound.io/v1beta1"
    NAMESPACED = "tf.m.upbound.io/v1beta1"

    @property
    def namespaced(self) -> bool:
        return self is WorkspaceApi.NAMESPACED


@dataclass(frozen=True)
class GitOpsLayout:
    """Paths in the platform and app repositories (Konstruct-compatible defaults)."""

    environments_dir: str = "registry/environments"

    def environment_dir(self, environment: str) -> str:
        return f"{self.environments_dir}/{environment}"

    def record_path(self, environment: str) -> str:
        return f"{self.environment_dir(environment)}/environment.yaml"

    def infrastructure_path(self, environment: str, catalog: str) -> str:
        return f"{self.environment_dir(environment)}/infrastructure/{catalog}.yaml"

    def applications_path(self, environment: str, cluster: str, catalog: str) -> str:
        return f"{self.environment_dir(environment)}/{cluster}/{catalog}.yaml"

    def manifests_path(self, environment: str, cluster: str, catalog: str) -> str:
        return f"{self.environment_dir(environment)}/{cluster}/{catalog}/manifests.yaml"

    def is_infrastructure(self, environment: str, path: str) -> bool:
        return path.startswith(f"{self.environment_dir(environment)}/infrastructure/")


PLACEHOLDER_NAME = ".envbot-keep"
"""Keeps a folder (and so the app Argo CD generates for it) while Argo CD prunes what the folder held: envbot removes
objects only by removing their files, never by making a generated app go. Not a manifest, so Argo CD ignores it."""
PLACEHOLDER_TEXT = (
    "envbot keeps this folder while Argo CD removes the objects it held, and removes it once they are gone.\n"
)


@dataclass(frozen=True)
class RenderSettings:
    """How envbot shapes the manifests it writes; every field has a working default."""

    layout: GitOpsLayout = GitOpsLayout()
    workspace_api: WorkspaceApi = WorkspaceApi.CLUSTER
    workspace_namespace: str | None = None
    provider_config: str = "default"
    provider_config_kind: str = "ClusterProviderConfig"
    connection_secret_namespace: str = "crossplane-system"
    secrets_namespace: str = "crossplane-system"
    argocd_namespace: str = "argocd"


def object_name(*parts: str, limit: int = MAX_LABEL_LENGTH) -> str:
    """Join name parts with '-'; names over the limit keep a readable prefix and a stable hash suffix."""
    return shortened("-".join(parts), limit)
