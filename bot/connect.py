"""Builds what a config names: the two forges, the cluster and the reconciler (clients imported lazily)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.clock import WALL_CLOCK, Clock, Timebase
from bot.cluster.protocol import Cluster
from bot.config import ClusterType, Config, GitHubApp, RepositoryConfig
from bot.errors import UserError
from bot.forge.model import MergeMethod
from bot.forge.protocol import Forge
from bot.reconcile.runner import Reconciler
from bot.reconcile.verdicts import VerdictPolicy
from bot.report.pull_requests import WORDING

if TYPE_CHECKING:
    from bot.forge.github_app import InstallationTokens

TOKEN_VARIABLES = ("ENVBOT_GITOPS_TOKEN", "GITHUB_TOKEN")
T = TypeVar("T")


def github_token() -> str:
    """The token for the GitOps repositories, from the environment (never from a file or the command line)."""
    for variable in TOKEN_VARIABLES:
        token = os.environ.get(variable, "").strip()
        if token:
            return token
    raise UserError(f"a GitHub repository is configured but none of {', '.join(TOKEN_VARIABLES)} is set")


SOURCE_TOKEN_VARIABLES = ("ENVBOT_SOURCE_TOKEN", "GITHUB_TOKEN")


def open_source_forge(config: Config, repository: str, timebase: Timebase = WALL_CLOCK) -> Forge:
    """The repository environments come from (comments, statuses, permissions): as the App of ``github.app`` when
    one is configured (installed on that repository too), else with ENVBOT_SOURCE_TOKEN or GITHUB_TOKEN."""
    from bot.forge.github import GitHubForge

    app = config.github_app
    if app is not None:
        tokens = _app_tokens(config, app, timebase.clock)
        return GitHubForge(repository, tokens, base_url=config.github_api_url, comment_author=config.comment_author)
    token = next((os.environ[v].strip() for v in SOURCE_TOKEN_VARIABLES if os.environ.get(v, "").strip()), None)
    if not token:
        raise UserError(f"no token for the source repository: set {' or '.join(SOURCE_TOKEN_VARIABLES)}, or github.app")
    return GitHubForge(repository, token, base_url=config.github_api_url, comment_author=config.comment_author)


def open_forge(config: Config, repository: RepositoryConfig, timebase: Timebase = WALL_CLOCK) -> Forge:
    """The forge of one repository: on GitHub as the App of ``github.app`` when one is configured (its installation
    tokens, timed by ``timebase``'s clock, shared by every forge opened on it), else with a token from the
    environment; a local repository otherwise."""
    if repository.is_github:
        from bot.forge.github import GitHubForge

        cache = os.environ.get("ENVBOT_CACHE_DIR", "").strip()
        app = config.github_app
        return GitHubForge(
            repository.repository,
            github_token() if app is None else _app_tokens(config, app, timebase.clock),
            base_url=config.github_api_url,
            blob_cache=Path(cache) / "blobs" if cache else None,
        )
    from bot.forge.errors import ForgeNotFoundError
    from bot.forge.local import LocalForge

    location = repository.repository
    if "://" not in location:
        location = str(config.resolve(location))
        if not Path(location).exists():
            raise UserError(f"{location}: repository not found (a local path must name an existing git repository)")
    try:
        return LocalForge(location)
    except ForgeNotFoundError as exc:
        raise UserError(str(exc)) from None


def _app_tokens(config: Config, app: GitHubApp, clock: Clock) -> InstallationTokens:
    """The installation tokens of ``app``, read from its key file once per process, API URL and clock."""
    return _installation_tokens(config.github_api_url, app, config.resolve(app.private_key_file), clock)


@functools.lru_cache(maxsize=8)
def _installation_tokens(api_url: str, app: GitHubApp, key_file: Path, clock: Clock) -> InstallationTokens:
    from bot.forge.github_app import InstallationTokens, load_private_key

    where = f"github.app.privateKeyFile {key_file}"
    try:
        pem = key_file.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{where}: not found (mount the GitHub App's private key there)") from None
    except IsADirectoryError:
        raise UserError(f"{where}: is a folder, not the GitHub App's private key file") from None
    except OSError as exc:
        raise UserError(f"{where}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    key = load_private_key(pem, where)
    return InstallationTokens(app.app_id, app.installation_id, key, base_url=api_url, clock=clock)


def open_cluster(
    config: Config, platform: Forge, apps: Forge, catalogs: CatalogSet, timebase: Timebase = WALL_CLOCK
) -> Cluster:
    cluster = config.cluster
    if cluster.type is ClusterType.STATIC:
        from bot.cluster.static import StaticCluster

        return StaticCluster.from_path(config.resolve(cluster.path or "."))
    if cluster.type is ClusterType.SIMULATED:
        from bot.simulation import SimulatedCluster

        return SimulatedCluster(
            platform,
            apps,
            catalogs,
            clock=timebase.clock,
            platform_base=config.platform.base_branch,
            apps_base=config.apps.base_branch,
            environments_dir=config.render.layout.environments_dir,
            state_file=config.resolve(cluster.path) if cluster.path else None,
        )
    from bot.cluster.kube import KubeCluster

    if cluster.kubeconfig or cluster.context:
        kubeconfig = str(config.resolve(cluster.kubeconfig)) if cluster.kubeconfig else None
        return KubeCluster.from_kubeconfig(kubeconfig, cluster.context)
    return KubeCluster.connect()


def _attempt(build: Callable[[], T], problems: list[str]) -> T | None:
    """What ``build`` returns, or None with its user errors added to ``problems``."""
    try:
        return build()
    except UserError as exc:
        problems.extend(exc.problems)
        return None


def build_reconciler(config: Config, timebase: Timebase = WALL_CLOCK, *, preflight: bool = False) -> Reconciler:
    """The reconciler a config describes; ``timebase`` is the wall clock except in tests.

    The catalogs and both repositories are opened before anything fails, so that every problem is told at once;
    with ``preflight`` (before a run that writes) that includes the base branches (``bot.reconcile.preflight``).
    """
    from bot.reconcile import preflight as checks

    problems: list[str] = []
    catalogs = _attempt(lambda: load_catalogs(config.resolve(config.catalogs)), problems)
    platform = _attempt(lambda: open_forge(config, config.platform, timebase), problems)
    apps = _attempt(lambda: open_forge(config, config.apps, timebase), problems)
    if catalogs is None or platform is None or apps is None:
        for role, repository, forge in (("platform", config.platform, platform), ("apps", config.apps, apps)):
            if preflight and forge is not None:
                problems.extend(checks.repository_problems(role, repository.repository, forge, repository.base_branch))
        raise UserError(dict.fromkeys(problems))
    merge_method: MergeMethod = "squash" if config.merge_method == "squash" else "merge"
    reconciler = Reconciler(
        platform=platform,
        apps=apps,
        cluster=open_cluster(config, platform, apps, catalogs, timebase),
        catalogs=catalogs,
        wording=WORDING,
        settings=config.render,
        policy=VerdictPolicy(
            failure_grace=config.timeouts.failure_grace,
            stuck_deleting_after=config.timeouts.stuck_deleting_after,
        ),
        platform_base=config.platform.base_branch,
        apps_base=config.apps.base_branch,
        merge_method=merge_method,
        merge_policy=config.merge_policy,
        application_namespace=config.cluster.argocd_namespace,
        clock=timebase.clock,
        sleep=timebase.sleep,
    )
    if preflight:
        check_before_writing(reconciler, config)
    return reconciler


def check_before_writing(reconciler: Reconciler, config: Config) -> None:
    """``bot.reconcile.preflight.preflight`` with the names the configuration gives the repositories and catalogs."""
    from bot.reconcile.preflight import preflight

    preflight(reconciler, platform=config.platform.repository, apps=config.apps.repository, catalogs=config.catalogs)
