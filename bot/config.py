"""``envbot.yaml``: which repositories, catalogs, cluster and limits envbot works with; every key checked."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from pathlib import Path

from bot import yamldoc
from bot.documents import Node
from bot.errors import UserError
from bot.events.config import EventsConfig, read_events_config
from bot.names import is_repository
from bot.reconcile.gate import DEFAULT_SETTLE, MergePolicy, NativeMerge
from bot.reconcile.verdicts import DEFAULT_POLICY
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
        local_hint = self.repository.startswith((".", "/", "~")) or "://" in self.repository
        return is_repository(self.repository) and not local_hint and not Path(self.repository).exists()


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
class GitHubApp:
    """envbot as a GitHub App: its App id, the installation on the GitOps repositories, and the private key's file
    (a mounted Secret); the installation token it mints is refreshed before it expires."""

    app_id: int
    installation_id: int
    private_key_file: str


@dataclass(frozen=True)
class AgentConfig:
    """``envbot agent``, the in-cluster half: how often it resyncs, how it debounces, where it serves its probes."""

    resync: dt.timedelta = dt.timedelta(seconds=60)
    """How often the agent reads the GitHub side again (merged pull requests, checks, intents the Action recorded)."""
    full_resync: dt.timedelta = dt.timedelta(minutes=10)
    """Every environment is reconciled at least this often, changed or not."""
    debounce: dt.timedelta = dt.timedelta(seconds=2)
    """A burst of cluster changes to one environment becomes one reconcile, this long after the last of them."""
    listen: str = "0.0.0.0:8080"
    """Where ``/healthz``, ``/readyz`` and ``/metrics`` are served (``host:port``)."""


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
    github_app: GitHubApp | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    base_dir: str = "."

    def resolve(self, path: str) -> Path:
        """A path of the config file, taken relative to the folder that holds it."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else Path(self.base_dir) / candidate


_TOP_KEYS = ("platform", "apps", "catalogs", "github", "cluster", "render", "timeouts", "merge", "events", "agent")
_RENDER_KEYS = (
    "environmentsDir",
    "workspaceApi",
    "workspaceNamespace",
    "providerConfig",
    "providerConfigKind",
    "connectionSecretNamespace",
    "secretsNamespace",
    "argocdNamespace",
)


def _repository(node: Node) -> RepositoryConfig:
    section = node.mapping(("repository", "baseBranch"))
    repository = section["repository"].string("", required="give a GitHub owner/name or a local path", non_empty=True)
    return RepositoryConfig(repository, section["baseBranch"].string("main"))


def _cluster(node: Node) -> ClusterConfig:
    section = node.mapping(("type", "kubeconfig", "context", "path", "argocdNamespace"))
    cluster_type = section["type"].choice(ClusterType, ClusterType.KUBERNETES)
    path = section["path"].string()
    if cluster_type is ClusterType.STATIC and not path:
        section["path"].problem("a static cluster reads objects from this file or folder")
    return ClusterConfig(
        type=cluster_type,
        kubeconfig=section["kubeconfig"].string(),
        context=section["context"].string(),
        path=path,
        argocd_namespace=section["argocdNamespace"].string(),
    )


def _render(node: Node) -> RenderSettings:
    section = node.mapping(_RENDER_KEYS)
    base = RenderSettings()
    return RenderSettings(
        layout=GitOpsLayout(
            environments_dir=section["environmentsDir"].string(base.layout.environments_dir).strip("/")
        ),
        workspace_api=section["workspaceApi"].choice(WorkspaceApi, WorkspaceApi.CLUSTER),
        workspace_namespace=section["workspaceNamespace"].string(),
        provider_config=section["providerConfig"].string(base.provider_config),
        provider_config_kind=section["providerConfigKind"].string(base.provider_config_kind),
        connection_secret_namespace=section["connectionSecretNamespace"].string(base.connection_secret_namespace),
        secrets_namespace=section["secretsNamespace"].string(base.secrets_namespace),
        argocd_namespace=section["argocdNamespace"].string(base.argocd_namespace),
    )


def _timeouts(node: Node) -> Timeouts:
    section = node.mapping(("failureGrace", "stuckDeletingAfter", "wait", "pollInterval"))
    defaults = Timeouts()
    return Timeouts(
        failure_grace=section["failureGrace"].duration(defaults.failure_grace),
        stuck_deleting_after=section["stuckDeletingAfter"].duration(defaults.stuck_deleting_after),
        wait=section["wait"].duration(defaults.wait),
        poll_interval=section["pollInterval"].duration(defaults.poll_interval),
    )


def _merge_policy(section: Node) -> MergePolicy:
    """``merge.requiredChecks``, ``merge.native`` and ``merge.settle``: how the merge gate weighs a pull request."""
    required = section["requiredChecks"].strings(what="a list of check names")
    return MergePolicy(
        required_checks=tuple(dict.fromkeys(name.strip() for name in required)),
        native=section["native"].choice(NativeMerge, NativeMerge.AUTO),
        settle=section["settle"].duration(DEFAULT_SETTLE),
    )


def _github_app(node: Node) -> GitHubApp | None:
    """``github.app``: all three keys, or none (then a token from the environment is used)."""
    if not node.given:
        return None
    section = node.mapping(("id", "installationId", "privateKeyFile"))
    app_id = section["id"].integer(minimum=1, what="the App's numeric id")
    installation = section["installationId"].integer(minimum=1, what="the installation's numeric id")
    key_file = section["privateKeyFile"].string(required="give the path of the App's private key (PEM)")
    for key, value in (("id", app_id), ("installationId", installation)):
        if value is None and not section[key].given:
            section[key].problem("is missing: a GitHub App needs its id and its installation id")
    if app_id is None or installation is None or key_file is None:
        return None
    return GitHubApp(app_id, installation, key_file)


def _agent(node: Node) -> AgentConfig:
    section = node.mapping(("resync", "fullResync", "debounce", "listen"))
    defaults = AgentConfig()
    listen = section["listen"].string(defaults.listen, valid=_listen_address, what="host:port, such as 0.0.0.0:8080")
    return AgentConfig(
        resync=section["resync"].duration(defaults.resync),
        full_resync=section["fullResync"].duration(defaults.full_resync),
        debounce=section["debounce"].duration(defaults.debounce),
        listen=listen,
    )


def _listen_address(text: str) -> bool:
    host, colon, port = text.rpartition(":")
    return bool(colon) and port.isascii() and port.isdigit() and 0 < int(port) < 65536 and "/" not in host


def parse_config(text: str, source: str, base_dir: str = ".") -> Config:
    """Parse ``envbot.yaml``; unknown keys and wrong types are refused, all at once."""
    try:
        document = yamldoc.load_one(text)
    except yamldoc.YamlError as exc:
        raise UserError(f"{source}: {exc}") from None
    root = Node(document, source).mapping(_TOP_KEYS)
    github = root["github"].mapping(("apiUrl", "commentAuthor", "app"))
    merge = root["merge"].mapping(("method", "requiredChecks", "settle", "native"))
    config = Config(
        platform=_repository(root["platform"]),
        apps=_repository(root["apps"]),
        catalogs=root["catalogs"].string("catalogs"),
        github_api_url=github["apiUrl"].string("https://api.github.com"),
        comment_author=github["commentAuthor"].string(),
        cluster=_cluster(root["cluster"]),
        render=_render(root["render"]),
        timeouts=_timeouts(root["timeouts"]),
        merge_method=merge["method"].choice(("merge", "squash"), "merge"),
        merge_policy=_merge_policy(merge),
        events=read_events_config(root["events"]),
        github_app=_github_app(github["app"]),
        agent=_agent(root["agent"]),
        base_dir=base_dir,
    )
    root.problems.raise_if_any()
    return config


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: config file not found (write one with platform.repository and apps.repository)"
        ) from None
    return parse_config(text, path.as_posix(), base_dir=str(path.parent))
