"""``envbot.yaml``: which repositories, catalogs, cluster and limits envbot works with; every key checked."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import yamldoc
from bot.cluster.verdicts import DEFAULT_POLICY
from bot.durations import parse_duration
from bot.errors import UserError
from bot.events.config import EventsConfig, parse_events_config
from bot.reconcile.gate import DEFAULT_SETTLE, MergePolicy, NativeMerge
from bot.render.settings import GitOpsLayout, RenderSettings, WorkspaceApi

DEFAULT_CONFIG_FILE = "envbot.yaml"


class ClusterType(enum.StrEnum):
    """Where envbot reads Workspaces and Applications from."""

    KUBERNETES = "kubernetes"
    STATIC = "static"
    SIMULATED = "simulated"


@dataclass(frozen=True)
class RepositoryConfig:
    """One GitOps repository: a GitHub ``owner/name`` or a local path / git URL, and its base branch."""

    repository: str
    base_branch: str = "main"

    @property
    def is_github(self) -> bool:
        owner, sep, name = self.repository.partition("/")
        local_hint = self.repository.startswith((".", "/", "~")) or "://" in self.repository
        return bool(
            sep and owner and name and "/" not in name and not local_hint and not Path(self.repository).exists()
        )


@dataclass(frozen=True)
class ClusterConfig:
    """How to reach the cluster (or its stand-in)."""

    type: ClusterType = ClusterType.KUBERNETES
    kubeconfig: str | None = None
    context: str | None = None
    path: str | None = None
    argocd_namespace: str | None = None


@dataclass(frozen=True)
class Timeouts:
    """Time limits for the verdicts (their defaults are ``VerdictPolicy``'s) and for waiting commands."""

    failure_grace: dt.timedelta = DEFAULT_POLICY.failure_grace
    stuck_deleting_after: dt.timedelta = DEFAULT_POLICY.stuck_deleting_after
    wait: dt.timedelta = dt.timedelta(minutes=60)
    poll_interval: dt.timedelta = dt.timedelta(seconds=10)


@dataclass(frozen=True)
class Config:
    """The whole configuration; every field has a default except the two repositories."""

    platform: RepositoryConfig
    apps: RepositoryConfig
    catalogs: str = "catalogs"
    github_api_url: str = "https://api.github.com"
    comment_author: str | None = None
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    render: RenderSettings = field(default_factory=RenderSettings)
    timeouts: Timeouts = field(default_factory=Timeouts)
    merge_method: str = "merge"
    merge_policy: MergePolicy = field(default_factory=MergePolicy)
    events: EventsConfig = field(default_factory=EventsConfig)
    base_dir: str = "."

    def resolve(self, path: str) -> Path:
        """A path of the config file, taken relative to the folder that holds it."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate


_SCHEMA: dict[str, Any] = {
    "platform": {"repository": str, "baseBranch": str},
    "apps": {"repository": str, "baseBranch": str},
    "catalogs": str,
    "github": {"apiUrl": str, "commentAuthor": str},
    "cluster": {"type": str, "kubeconfig": str, "context": str, "path": str, "argocdNamespace": str},
    "render": {
        "environmentsDir": str,
        "workspaceApi": str,
        "workspaceNamespace": str,
        "providerConfig": str,
        "providerConfigKind": str,
        "connectionSecretNamespace": str,
        "secretsNamespace": str,
        "argocdNamespace": str,
    },
    "timeouts": {"failureGrace": str, "stuckDeletingAfter": str, "wait": str, "pollInterval": str},
    "merge": {"method": str, "requiredChecks": list, "settle": str, "native": str},
    "events": dict,
}


def _check(document: Any, schema: dict[str, Any], where: str, problems: list[str]) -> None:
    if not isinstance(document, dict):
        problems.append(f"{where or 'the file'}: must be a mapping")
        return
    for key, value in document.items():
        path = f"{where}.{key}" if where else str(key)
        expected = schema.get(key)
        if expected is None:
            problems.append(f"{path}: unknown key (known: {', '.join(sorted(schema))})")
        elif isinstance(expected, dict):
            _check(value, expected, path, problems)
        elif not isinstance(value, expected):
            problems.append(f"{path}: must be a {expected.__name__}")


def _duration(text: str | None, default: dt.timedelta, where: str, problems: list[str]) -> dt.timedelta:
    if text is None:
        return default
    duration = parse_duration(text)
    if duration is None:
        problems.append(f"{where}: {text!r} is not a duration such as 30s, 10m or 2h")
        return default
    return duration


def _merge_policy(merge: dict[str, Any], source: str, problems: list[str]) -> MergePolicy:
    """``merge.requiredChecks``, ``merge.settle`` and ``merge.native``: how the merge gate weighs a pull request."""
    required = merge.get("requiredChecks", [])
    if not all(isinstance(name, str) and name.strip() for name in required):
        problems.append(f"{source}: merge.requiredChecks: must be a list of check names")
        required = []
    try:
        native = NativeMerge(merge.get("native", NativeMerge.AUTO.value))
    except ValueError:
        problems.append(f"{source}: merge.native: must be auto, always or never")
        native = NativeMerge.AUTO
    settle = _duration(merge.get("settle"), DEFAULT_SETTLE, f"{source}: merge.settle", problems)
    return MergePolicy(
        required_checks=tuple(dict.fromkeys(name.strip() for name in required)), settle=settle, native=native
    )


def parse_config(text: str, source: str, base_dir: str = ".") -> Config:
    """Parse ``envbot.yaml``; unknown keys and wrong types are refused, all at once."""
    try:
        document = yamldoc.load_one(text) or {}
    except yamldoc.YamlError as exc:
        raise UserError(f"{source}: {exc}") from None
    problems: list[str] = []
    _check(document, _SCHEMA, "", problems)
    if problems:
        raise UserError(f"{source}: {p}" for p in problems)
    for repo in ("platform", "apps"):
        if not (document.get(repo) or {}).get("repository"):
            problems.append(f"{source}: {repo}.repository: is required (a GitHub owner/name or a local path)")
    cluster = document.get("cluster", {})
    try:
        cluster_type = ClusterType(cluster.get("type", "kubernetes"))
    except ValueError:
        problems.append(f"{source}: cluster.type: must be kubernetes, static or simulated")
        cluster_type = ClusterType.KUBERNETES
    if cluster_type is ClusterType.STATIC and not cluster.get("path"):
        problems.append(f"{source}: cluster.path: a static cluster reads objects from this file or folder")
    render = document.get("render", {})
    try:
        workspace_api = WorkspaceApi(render.get("workspaceApi", WorkspaceApi.CLUSTER.value))
    except ValueError:
        problems.append(f"{source}: render.workspaceApi: must be tf.upbound.io/v1beta1 or tf.m.upbound.io/v1beta1")
        workspace_api = WorkspaceApi.CLUSTER
    timeouts = document.get("timeouts", {})
    defaults = Timeouts()
    parsed_timeouts = Timeouts(
        failure_grace=_duration(
            timeouts.get("failureGrace"), defaults.failure_grace, f"{source}: timeouts.failureGrace", problems
        ),
        stuck_deleting_after=_duration(
            timeouts.get("stuckDeletingAfter"),
            defaults.stuck_deleting_after,
            f"{source}: timeouts.stuckDeletingAfter",
            problems,
        ),
        wait=_duration(timeouts.get("wait"), defaults.wait, f"{source}: timeouts.wait", problems),
        poll_interval=_duration(
            timeouts.get("pollInterval"), defaults.poll_interval, f"{source}: timeouts.pollInterval", problems
        ),
    )
    merge = document.get("merge") or {}
    merge_method = merge.get("method", "merge")
    if merge_method not in ("merge", "squash"):
        problems.append(f"{source}: merge.method: must be merge or squash")
    merge_policy = _merge_policy(merge, source, problems)
    events = EventsConfig()
    try:
        events = parse_events_config(document.get("events") or {}, source)
    except UserError as exc:
        problems.extend(exc.problems)
    if problems:
        raise UserError(problems)
    base = RenderSettings()
    settings = RenderSettings(
        layout=GitOpsLayout(environments_dir=render.get("environmentsDir", base.layout.environments_dir).strip("/")),
        workspace_api=workspace_api,
        workspace_namespace=render.get("workspaceNamespace"),
        provider_config=render.get("providerConfig", base.provider_config),
        provider_config_kind=render.get("providerConfigKind", base.provider_config_kind),
        connection_secret_namespace=render.get("connectionSecretNamespace", base.connection_secret_namespace),
        secrets_namespace=render.get("secretsNamespace", base.secrets_namespace),
        argocd_namespace=render.get("argocdNamespace", base.argocd_namespace),
    )
    return Config(
        platform=RepositoryConfig(document["platform"]["repository"], document["platform"].get("baseBranch", "main")),
        apps=RepositoryConfig(document["apps"]["repository"], document["apps"].get("baseBranch", "main")),
        catalogs=document.get("catalogs", "catalogs"),
        github_api_url=(document.get("github") or {}).get("apiUrl", "https://api.github.com"),
        comment_author=(document.get("github") or {}).get("commentAuthor"),
        cluster=ClusterConfig(
            type=cluster_type,
            kubeconfig=cluster.get("kubeconfig"),
            context=cluster.get("context"),
            path=cluster.get("path"),
            argocd_namespace=cluster.get("argocdNamespace"),
        ),
        render=settings,
        timeouts=parsed_timeouts,
        merge_method=merge_method,
        merge_policy=merge_policy,
        events=events,
        base_dir=base_dir,
    )


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: config file not found (write one with platform.repository and apps.repository)"
        ) from None
    return parse_config(text, path.as_posix(), base_dir=str(path.parent))
