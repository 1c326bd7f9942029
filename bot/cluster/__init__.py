"""The cluster seam of observe: Workspaces and Argo CD Applications; the only package that talks to Kubernetes."""

from bot.cluster.errors import (
    ClusterConfigError,
    ClusterForbiddenError,
    ClusterRequestError,
    ClusterUnavailableError,
    KindNotServedError,
)
from bot.cluster.kube import KubeCluster
from bot.cluster.model import (
    APPLICATION,
    CATALOG_LABEL,
    ENVIRONMENT_LABEL,
    KNOWN_KINDS,
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    WORKSPACE_KINDS,
    Condition,
    JsonValue,
    Kind,
    ObjectRef,
    ObservedObject,
)
from bot.cluster.outputs import (
    ConnectionSecretRef,
    ObservedOutput,
    OutputNotFoundError,
    OutputType,
    WorkspaceOutputs,
    workspace_outputs,
)
from bot.cluster.protocol import Cluster
from bot.cluster.selectors import LabelSelector, parse_selector
from bot.cluster.snapshot import ObservedSnapshot, group_by_environment, observe
from bot.cluster.static import StaticCluster

__all__ = [
    "APPLICATION",
    "CATALOG_LABEL",
    "ENVIRONMENT_LABEL",
    "KNOWN_KINDS",
    "NAMESPACED_WORKSPACE",
    "WORKSPACE",
    "WORKSPACE_KINDS",
    "Cluster",
    "ClusterConfigError",
    "ClusterForbiddenError",
    "ClusterRequestError",
    "ClusterUnavailableError",
    "Condition",
    "ConnectionSecretRef",
    "JsonValue",
    "Kind",
    "KindNotServedError",
    "KubeCluster",
    "LabelSelector",
    "ObjectRef",
    "ObservedObject",
    "ObservedOutput",
    "ObservedSnapshot",
    "OutputNotFoundError",
    "OutputType",
    "StaticCluster",
    "WorkspaceOutputs",
    "group_by_environment",
    "observe",
    "parse_selector",
    "workspace_outputs",
]
