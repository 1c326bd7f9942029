"""Random lifecycle schedules: a world in memory, the commands people and controllers issue, and the invariants."""

from __future__ import annotations

import datetime as dt
import functools
import random
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import yaml
from manual_clock import START, ManualClock
from project_paths import CATALOGS

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.cluster.model import APPLICATION, WORKSPACE, ObservedObject, thaw
from bot.cluster.snapshot import is_generated
from bot.environment import bind_environment
from bot.environment.model import Environment
from bot.environment.record import RecordedIntent, parse_record
from bot.errors import UserError
from bot.forge.model import FileChange, PullRequest
from bot.reconcile.decide import file_objects
from bot.reconcile.model import Phase, step_of_branch
from bot.reconcile.preflight import existing, provision_refusal
from bot.reconcile.runner import Pass, Reconciler
from bot.reconcile.verdicts import VerdictPolicy
from bot.render.bootstrap import BootstrapRepos, render_bootstrap
from bot.render.renderer import Repo, render_environment
from bot.render.settings import PLACEHOLDER_NAME, RenderSettings
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.fakes.memory_forge import MemoryForge
from tests.reconcile.harness import WITHDRAWALS, WRITES, Budget, Crash, CrashingForge, environment

LAYOUT = RenderSettings().layout
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PLATFORM_URL, APPS_URL = "https://git.example/platform.git", "https://git.example/apps.git"
BOOTSTRAPPED = 0.25
"""The share of schedules that run with the bootstrap's ApplicationSets installed."""
ENVIRONMENTS = ("alpha", "beta")
POLICY = VerdictPolicy(failure_grace=dt.timedelta(minutes=5), stuck_deleting_after=dt.timedelta(minutes=20))
FIXED_DELAYS = (2, 1, 1)
"""Workspace, Application and deletion delays (seconds) of controllers that work, as a schedule starts."""
SETTLE_DELAYS = (0, 0, 1)
"""The controllers while the last intents settle: quick, so that settling takes few polls (each one a decision)."""
SETTLE_TIMEOUT = dt.timedelta(hours=1)
SETTLE_POLL = 5.0
EXPECTED_REFUSALS = ("is being deleted", "no environment ", "not Failed; there is nothing to retry")
"""The ``UserError`` lines a person may get back from a command here; any other error is a violation."""


@functools.cache
def example_catalogs() -> CatalogSet:
    """The example catalogs (rds-postgres iac, redis-cache hybrid, sample-app and datadog-agent yaml, s3-bucket iac)."""
    return load_catalogs(CATALOGS)


# -- requests ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromOutput:
    """A parameter that takes another catalog's output."""

    ref: str

    def __str__(self) -> str:
        return f"<{self.ref}>"


@dataclass(frozen=True)
class CatalogChoice:
    name: str
    parameters: tuple[tuple[str, Any], ...]

    def __str__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.parameters)})"


DATADOG_KEY = {"fromSecret": {"backend": "vault", "path": "secret/data/datadog", "key": "api-key"}}


@dataclass(frozen=True)
class Request:
    """What a person asks for: an environment with some of the example catalogs and their parameters."""

    name: str
    catalogs: tuple[CatalogChoice, ...]

    def __str__(self) -> str:
        return f"{self.name} [{', '.join(str(c) for c in self.catalogs)}]"

    def parameters(self, catalog: str) -> dict[str, Any]:
        return next((dict(c.parameters) for c in self.catalogs if c.name == catalog), {})

    @property
    def environment(self) -> Environment:
        return _environment(self)


@functools.lru_cache(maxsize=2048)
def _environment(request: Request) -> Environment:
    """The request as a parsed Environment (parsed once: the same requests come back across schedules)."""
    catalogs = []
    for choice in request.catalogs:
        parameters: dict[str, Any] = {}
        for key, value in choice.parameters:
            parameters[key] = {"fromOutput": value.ref} if isinstance(value, FromOutput) else value
        if choice.name == "datadog-agent":
            parameters["apiKey"] = DATADOG_KEY
        catalogs.append({"name": choice.name, "parameters": parameters})
    return environment(
        {"name": request.name, "namespace": request.name, "cluster": "dev-cluster", "catalogs": catalogs}
    )


CATALOG_NAMES = ("rds-postgres", "redis-cache", "s3-bucket", "datadog-agent", "sample-app")
TERRAFORM_CATALOGS = ("rds-postgres", "redis-cache", "s3-bucket")
MAX_CATALOGS = 3
"""Every decision renders each catalog of the request: more catalogs cost time, not coverage."""


def random_request(rng: random.Random, name: str) -> Request:
    """A random, valid set of one to three example catalogs with parameters drawn from small sets (so repeats
    happen); sample-app takes the database's endpoint as often as not."""
    if rng.random() < 0.35:
        chosen = {"rds-postgres", "sample-app"}
        chosen.update(rng.sample(CATALOG_NAMES, 1) if rng.random() < 0.15 else ())
    else:
        chosen = set(rng.sample(CATALOG_NAMES, rng.choices((1, 2, 3), weights=(5, 4, 1))[0]))
    ordered = [c for c in CATALOG_NAMES if c in chosen]
    return Request(name, tuple(_choice(rng, name, catalog, ordered) for catalog in ordered))


def _choice(rng: random.Random, name: str, catalog: str, chosen: Sequence[str]) -> CatalogChoice:
    if catalog == "rds-postgres":
        parameters: dict[str, Any] = {"databaseName": "app_db", "vpcId": "vpc-0abc"}
        parameters["allocatedStorage"] = rng.choice((20, 20, 50))
    elif catalog == "redis-cache":
        parameters = {"vpcId": "vpc-0abc", "numCacheClusters": rng.choice((1, 1, 2))}
    elif catalog == "s3-bucket":
        parameters = {"bucketName": f"{name}-assets", "versioning": rng.choice((True, False))}
    elif catalog == "datadog-agent":
        parameters = {"clusterName": "dev-cluster", "logsEnabled": rng.choice((True, False))}
    else:
        endpoint: Any = "db.example.internal"
        if "rds-postgres" in chosen and rng.random() < 0.8:
            endpoint = FromOutput("rds-postgres.endpoint")
        parameters = {"replicas": rng.choice((1, 2, 3)), "databaseEndpoint": endpoint}
    return CatalogChoice(catalog, tuple(parameters.items()))


def changed_request(rng: random.Random, request: Request) -> Request:
    """The request with one change: a parameter, a catalog added or a catalog removed."""
    names = [c.name for c in request.catalogs]
    roll = rng.random()
    if roll < 0.45:
        index = rng.randrange(len(request.catalogs))
        catalogs = list(request.catalogs)
        catalogs[index] = _choice(rng, request.name, names[index], names)
        return replace(request, catalogs=tuple(catalogs))
    missing = [c for c in CATALOG_NAMES if c not in names]
    if roll < 0.75 and missing and len(names) < MAX_CATALOGS:
        added = rng.choice(missing)
        return replace(request, catalogs=(*request.catalogs, _choice(rng, request.name, added, [*names, added])))
    if len(names) > 1:
        gone = rng.choice(names)
        kept = [c for c in request.catalogs if c.name != gone]
        if gone == "rds-postgres":  # an app that took its endpoint is told another one
            kept = [_choice(rng, request.name, c.name, []) if c.name == "sample-app" else c for c in kept]
        return replace(request, catalogs=tuple(kept))
    return random_request(rng, request.name)


# -- the world ----------------------------------------------------------------------------------------------------


@dataclass
class MemoryWorld:
    """Both GitOps repositories in memory, the simulated controllers on their main branches, and a manual clock."""

    catalogs: CatalogSet
    clock: ManualClock
    platform: MemoryForge
    apps: MemoryForge
    cluster: SimulatedCluster

    @classmethod
    def create(cls, *, bootstrap: bool = False) -> MemoryWorld:
        """A fresh world; with ``bootstrap``, Argo CD's ApplicationSets that `envbot bootstrap` writes are
        committed first, so objects come and go through the generated apps of the environments' folders."""
        catalogs = example_catalogs()
        clock = ManualClock()
        platform = MemoryForge.initialize({"README.md": "platform\n"}, clock=clock)
        apps = MemoryForge.initialize({"README.md": "apps\n"}, clock=clock)
        if bootstrap:
            for rendered in render_bootstrap(BootstrapRepos(PLATFORM_URL, APPS_URL)):
                forge = platform if rendered.repo is Repo.PLATFORM else apps
                forge.push_commit("main", "main", [FileChange.write(rendered.path, rendered.content)], "bootstrap")
        cluster = SimulatedCluster(platform, apps, catalogs, clock=clock)
        world = cls(catalogs, clock, platform, apps, cluster)
        world.set_delays(*FIXED_DELAYS)
        return world

    def set_delays(self, workspace: int, application: int, deletion: int) -> None:
        self.cluster.workspace_delay = dt.timedelta(seconds=workspace)
        self.cluster.application_delay = dt.timedelta(seconds=application)
        self.cluster.deletion_delay = dt.timedelta(seconds=deletion)

    def reconciler(self, budget: Budget) -> Reconciler:
        writes = WRITES | WITHDRAWALS
        return Reconciler(
            platform=CrashingForge(self.platform, budget, writes),
            apps=CrashingForge(self.apps, budget, writes),
            cluster=self.cluster,
            catalogs=self.catalogs,
            wording=WORDING,
            policy=POLICY,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def forge(self, repo: Repo) -> MemoryForge:
        return self.platform if repo is Repo.PLATFORM else self.apps


# -- what the world holds at one moment ------------------------------------------------------------------------


def environment_of(path: str) -> str | None:
    """The environment whose folder holds ``path`` on a GitOps repository."""
    prefix = f"{LAYOUT.environments_dir}/"
    return path[len(prefix) :].split("/")[0] if path.startswith(prefix) else None


@dataclass(frozen=True)
class FileObjects:
    """One kind of object a main branch holds: name → (environment, catalog, spec hash, path)."""

    by_name: Mapping[str, tuple[str, str | None, str | None, str]]

    @classmethod
    def of(cls, files: Mapping[str, str], kind: str) -> FileObjects:
        found: dict[str, tuple[str, str | None, str | None, str]] = {}
        for path, content in files.items():
            env = environment_of(path)
            if env is None:
                continue
            for obj in file_objects(content):
                if obj.kind == kind:
                    found[obj.name] = (env, obj.catalog, obj.spec_hash, path)
        return cls(found)

    def of_environment(self, env: str) -> dict[str, tuple[str, str | None, str | None, str]]:
        return {name: entry for name, entry in self.by_name.items() if entry[0] == env}


@dataclass(frozen=True)
class Moment:
    """Everything the invariants look at: both main branches, the open pull requests, the cluster's objects."""

    platform_sha: str
    apps_sha: str
    platform_main: Mapping[str, str]
    apps_main: Mapping[str, str]
    open_pulls: Mapping[Repo, tuple[PullRequest, ...]]
    workspaces: tuple[ObservedObject, ...]
    applications: tuple[ObservedObject, ...]
    """Catalog Applications only (not the bootstrap's generated apps)."""

    @functools.cached_property
    def workspace_files(self) -> FileObjects:
        return FileObjects.of(self.platform_main, "Workspace")

    @functools.cached_property
    def application_files(self) -> FileObjects:
        return FileObjects.of(self.apps_main, "Application")

    def record(self, env: str) -> str | None:
        return self.platform_main.get(LAYOUT.record_path(env))


def look(world: MemoryWorld, cluster_seen: tuple[tuple[ObservedObject, ...], tuple[ObservedObject, ...]]) -> Moment:
    platform, apps = world.platform.commit("main"), world.apps.commit("main")
    workspaces, applications = cluster_seen
    return Moment(
        platform.sha,
        apps.sha,
        platform.files,
        apps.files,
        {Repo.PLATFORM: world.platform.open_pull_requests(), Repo.APPS: world.apps.open_pull_requests()},
        workspaces,
        tuple(a for a in applications if not is_generated(a)),
    )


# -- invariants --------------------------------------------------------------------------------------------------


class Violation(AssertionError):  # noqa: N818 - the name reads as what happened
    """An invariant does not hold; ``invariant`` names it (the shrinker keeps schedules that break the same one)."""

    def __init__(self, invariant: str, message: str) -> None:
        super().__init__(f"{invariant}: {message}")
        self.invariant = invariant
        self.message = message


def one_pull_request_per_branch(now: Moment) -> list[str]:
    problems = []
    for repo, pulls in now.open_pulls.items():
        for head, count in Counter(p.head for p in pulls).items():
            if count > 1:
                numbers = ", ".join(f"#{p.number}" for p in pulls if p.head == head)
                problems.append(f"{repo.value}: {count} open pull requests from {head}: {numbers}")
    return problems


def one_pull_request_per_phase(now: Moment) -> list[str]:
    """At most one open pull request per environment and phase (``envbot/<env>/<phase>``), over both repositories."""
    by_phase: dict[tuple[str, str], list[str]] = {}
    for repo, pulls in now.open_pulls.items():
        for pull in pulls:
            parsed = step_of_branch(pull.head)
            if parsed is not None:
                by_phase.setdefault((parsed[0], parsed[1].value), []).append(f"{repo.value} #{pull.number}")
    return [f"{env} has {len(found)} open {phase} pull requests: {', '.join(found)}"
            for (env, phase), found in sorted(by_phase.items()) if len(found) > 1]  # fmt: skip


def no_pull_request_outlives_its_intent(now: Moment, env: str) -> list[str]:
    """Once an environment settled (Ready or Deleted), none of envbot's pull requests of it is open."""
    return [f"{repo.value}: #{p.number} {p.head} is still open" for repo, pulls in now.open_pulls.items()
            for p in pulls if p.head.startswith(f"envbot/{env}/")]  # fmt: skip


def not_applied(workspace: ObservedObject | None, merged_hash: str | None) -> str | None:
    """Why a Workspace does not hold, Available, the spec merged on the platform main; None when it does."""
    if workspace is None:
        return "not in the cluster"
    if workspace.deletion_timestamp is not None:
        return "being deleted"
    if workspace.spec_hash != merged_hash:
        return f"holds spec {workspace.spec_hash}, platform main has {merged_hash}"
    observed = (workspace.status or {}).get("observedGeneration")
    if observed != workspace.generation:
        return f"observed generation {observed}, generation {workspace.generation}"
    ready, synced = workspace.condition("Ready"), workspace.condition("Synced")
    if ready is None or ready.status != "True" or ready.reason != "Available":
        return f"Ready is {ready.status if ready else None} ({ready.reason if ready else None})"
    if synced is None or synced.status != "True":
        return f"Synced is {synced.status if synced else None}"
    return None


def apps_merged_only_on_available_infrastructure(before: Moment, now: Moment) -> list[str]:
    """Every commit on the app main that adds or changes an Application of an environment lands only while each
    Workspace of that environment on the platform main is Available in the cluster with the merged spec hash."""
    if before.apps_sha == now.apps_sha:
        return []
    cluster = {w.name: w for w in now.workspaces}
    problems = []
    for path, content in sorted(now.apps_main.items()):
        env = environment_of(path)
        if env is None or before.apps_main.get(path) == content:
            continue
        if not any(o.kind == "Application" for o in file_objects(content)):
            continue
        for name, (_, _, merged_hash, _) in sorted(now.workspace_files.of_environment(env).items()):
            why = not_applied(cluster.get(name), merged_hash)
            if why is not None:
                problems.append(f"apps main: {path} merged while Workspace {name} {why}")
    return problems


def infrastructure_outlives_its_apps(before: Moment, now: Moment) -> list[str]:
    """No Workspace is removed (its file leaves the platform main, or it starts deleting in the cluster) while
    Applications of its catalog exist (in the cluster or on the app main); in an environment being deleted, while
    any of its Applications exist."""
    removed = {name: entry for name, entry in before.workspace_files.by_name.items()
               if name not in now.workspace_files.by_name}  # fmt: skip
    earlier = {w.name: w for w in before.workspaces}
    for workspace in now.workspaces:
        was = earlier.get(workspace.name)
        if workspace.deletion_timestamp is not None and (was is None or was.deletion_timestamp is None):
            removed.setdefault(workspace.name, (workspace.environment or "", workspace.catalog, None, ""))
    if not removed:
        return []
    apps: dict[str, set[str | None]] = {}
    for app in now.applications:
        apps.setdefault(app.environment or "", set()).add(app.catalog)
    for env, catalog, _, _ in now.application_files.by_name.values():
        apps.setdefault(env, set()).add(catalog)
    problems = []
    for name, (env, catalog, _, _) in sorted(removed.items()):
        record = now.record(env)
        deleting = record is None or parse_record(record, LAYOUT.record_path(env)).deletion is not None
        if catalog in apps.get(env, set()) or (deleting and apps.get(env)):
            left = ", ".join(sorted(str(c) for c in apps.get(env, set())))
            problems.append(f"Workspace {name} is removed while Applications of {env} remain: {left}")
    return problems


PULL_REQUEST_INVARIANTS: tuple[Callable[[Moment], list[str]], ...] = (
    one_pull_request_per_branch,
    one_pull_request_per_phase,
)
TRANSITION_INVARIANTS: tuple[Callable[[Moment, Moment], list[str]], ...] = (
    apps_merged_only_on_available_infrastructure,
    infrastructure_outlives_its_apps,
)


def _envbot_branches(forge: MemoryForge, env: str) -> list[str]:
    return sorted(b for b in forge.branch_names() if b.startswith(f"envbot/{env}/"))


def nothing_left_after_destroy(world: MemoryWorld, now: Moment, env: str) -> list[str]:
    """A settled destroy leaves no file, no envbot branch and no object of the environment (and no open pull
    request: ``no_pull_request_outlives_its_intent``)."""
    problems = []
    folder = f"{LAYOUT.environment_dir(env)}/"
    for repo, files in ((Repo.PLATFORM, now.platform_main), (Repo.APPS, now.apps_main)):
        problems += [f"{repo.value} main still holds {p}" for p in sorted(files) if p.startswith(folder)]
        problems += [f"{repo.value} still has branch {b}" for b in _envbot_branches(world.forge(repo), env)]
    everything = [*world.cluster.list(WORKSPACE), *world.cluster.list(APPLICATION)]
    problems += [f"the cluster still holds {o.kind} {o.name}" for o in everything if o.environment == env]
    return problems


def reported_outputs(world: MemoryWorld, workspaces: Sequence[ObservedObject]) -> dict[str, dict[str, Any]]:
    """The non-sensitive outputs each Workspace reports, under the catalogs' output names."""
    outputs: dict[str, dict[str, Any]] = {}
    for workspace in workspaces:
        catalog = world.catalogs.get(workspace.catalog or "")
        reported = thaw(((workspace.status or {}).get("atProvider") or {}).get("outputs")) or {}  # type: ignore[union-attr]
        if catalog is not None:
            outputs[catalog.name] = {
                name: reported[o.terraform_output]
                for name, o in catalog.outputs.items()
                if not o.sensitive and o.terraform_output in reported
            }
    return outputs


def provision_settled_with_current_values(world: MemoryWorld, now: Moment, request: Request) -> list[str]:
    """A provision settled at Ready: its record is the request, every Workspace holds the merged spec, and the app
    manifests hold the current parameters and outputs (as rendered from them, and spot-checked)."""
    env = request.name
    problems: list[str] = []
    record_text = now.record(env)
    if record_text is None:
        return ["no record on the platform main"]
    record = parse_record(record_text, LAYOUT.record_path(env))
    if record.environment.catalogs != request.environment.catalogs:
        problems.append(f"the record asks for {record.environment.catalogs}, the request for {request}")
    workspaces = [w for w in now.workspaces if w.environment == env]
    merged = now.workspace_files.of_environment(env)
    for workspace in workspaces:
        entry = merged.get(workspace.name)
        why = not_applied(workspace, entry[2]) if entry is not None else "is not on the platform main"
        if why is not None:
            problems.append(f"Workspace {workspace.name} {why}")
    outputs = reported_outputs(world, workspaces)
    frozen = tuple(sorted((catalog, tuple(sorted(values.items()))) for catalog, values in outputs.items()))
    wanted = expected_app_files(request, frozen, record.retry.count if record.retry else None)
    folder = f"{LAYOUT.environment_dir(env)}/"
    on_main = {p: c for p, c in now.apps_main.items() if p.startswith(folder) and not p.endswith(PLACEHOLDER_NAME)}
    for path in sorted(set(on_main) | set(wanted)):
        if on_main.get(path) != wanted.get(path):
            what = "missing" if path not in on_main else "not wanted" if path not in wanted else "stale"
            problems.append(f"apps main: {path} is {what} (outputs {outputs})")
    return [*problems, *_spot_checks(on_main, request, outputs)]


@functools.lru_cache(maxsize=1024)
def expected_app_files(
    request: Request, outputs: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...], retry_count: int | None
) -> Mapping[str, str]:
    """What the app main must hold for the request, the reported outputs and the record's retry count."""
    bound = bind_environment(request.environment, example_catalogs())
    retry = (
        RecordedIntent(requested_at=START, requested_by="", count=retry_count) if retry_count else None
    )  # apps: count
    known = {catalog: dict(values) for catalog, values in outputs}
    return MappingProxyType(render_environment(bound, known, RenderSettings(), retry=retry).files(Repo.APPS))


def _helm_values(files: Mapping[str, str], env: str, catalog: str) -> dict[str, Any] | None:
    text = files.get(LAYOUT.applications_path(env, "dev-cluster", catalog))
    if text is None:
        return None
    application = next(d for d in yaml.load_all(text, Loader=_LOADER) if d and d.get("kind") == "Application")
    return dict(application["spec"]["source"]["helm"]["valuesObject"])


def _spot_checks(files: Mapping[str, str], request: Request, outputs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The values a person would look for in the app manifests, read without the renderer."""
    problems = []
    sample = _helm_values(files, request.name, "sample-app")
    if sample is not None:
        parameters = request.parameters("sample-app")
        endpoint = parameters["databaseEndpoint"]
        wanted = outputs.get("rds-postgres", {}).get("endpoint") if isinstance(endpoint, FromOutput) else endpoint
        found = (sample["replicaCount"], sample["extraEnvs"][0]["value"])
        if found != (parameters["replicas"], wanted):
            problems.append(f"sample-app holds replicas and endpoint {found}, not {(parameters['replicas'], wanted)}")
    redis = _helm_values(files, request.name, "redis-cache")
    if redis is not None and redis["redis"]["host"] != outputs.get("redis-cache", {}).get("primaryEndpoint"):
        problems.append(f"redis-cache connects to {redis['redis']['host']}, not {outputs.get('redis-cache')}")
    return problems


# -- the schedule's steps --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provision:
    """`envbot provision`: provision or update the environment as the request says (refused while it is deleted)."""

    request: Request
    crash_after: int | None = None
    """The process dies right after this many writes (None: it does not)."""

    def __str__(self) -> str:
        return f"provision {self.request}{_crash(self.crash_after)}"

    def perform(self, reconciler: Reconciler) -> Iterator[None]:
        name, request = self.request.name, self.request.environment
        observation, decision = reconciler.plan(name, request)
        refusal = provision_refusal(observation)  # the CLI observes once more for this; the same read here
        if refusal is not None:
            raise UserError(refusal)
        yield
        if reconciler.act(observation, decision, request).moved_on:
            reconciler.run(name, request)


@dataclass(frozen=True)
class Destroy:
    """`envbot destroy`: record the deletion, then apps, infrastructure, folders and record go, in that order."""

    name: str
    crash_after: int | None = None

    def __str__(self) -> str:
        return f"destroy {self.name}{_crash(self.crash_after)}"

    def perform(self, reconciler: Reconciler) -> Iterator[None]:
        existing(reconciler, self.name)
        reconciler.request_deletion(self.name, requested_by="person")
        yield
        reconciler.run(self.name)


@dataclass(frozen=True)
class Retry:
    """`envbot retry`: re-enter the phase that failed (refused when the environment is not Failed)."""

    name: str
    crash_after: int | None = None

    def __str__(self) -> str:
        return f"retry {self.name}{_crash(self.crash_after)}"

    def perform(self, reconciler: Reconciler) -> Iterator[None]:
        existing(reconciler, self.name)
        reconciler.request_retry(self.name, requested_by="person")
        yield
        reconciler.run(self.name)


@dataclass(frozen=True)
class Reconcile:
    """A scheduled run (or the agent) that carries one environment on from what git and the cluster say."""

    name: str
    crash_after: int | None = None

    def __str__(self) -> str:
        return f"reconcile {self.name}{_crash(self.crash_after)}"

    def perform(self, reconciler: Reconciler) -> Iterator[None]:
        observation, decision = reconciler.plan(self.name)
        yield
        if reconciler.act(observation, decision).moved_on:
            reconciler.run(self.name)


@dataclass(frozen=True)
class Sweep:
    """Every environment from one read of each source."""

    crash_after: int | None = None

    def __str__(self) -> str:
        return f"sweep{_crash(self.crash_after)}"

    def perform(self, reconciler: Reconciler) -> Iterator[None]:
        reconciler.sweep()
        yield


Command = Provision | Destroy | Retry | Reconcile | Sweep


@dataclass(frozen=True)
class Race:
    """Two runs at once: ``second`` acts between ``first``'s decision and its action (``overlap``: both decide
    before either acts)."""

    first: Command
    second: Command
    overlap: bool = False

    def __str__(self) -> str:
        how = "both decide, then act" if self.overlap else "runs between its decision and action"
        return f"race: {self.first} || {self.second} ({how})"


@dataclass(frozen=True)
class Tick:
    """Time passes: the controllers carry on (or fail, or finish deleting)."""

    seconds: int

    def __str__(self) -> str:
        return f"tick {self.seconds}s"


@dataclass(frozen=True)
class Controllers:
    """How long the controllers take: Crossplane to apply, Argo CD to sync, finalizers to let go (seconds)."""

    workspace: int
    application: int
    deletion: int

    def __str__(self) -> str:
        return f"controllers: workspaces {self.workspace}s, apps {self.application}s, deletion {self.deletion}s"


@dataclass(frozen=True)
class FailWorkspace:
    """Terraform apply (and destroy) of one Workspace fails until the workspaces are fixed."""

    workspace: str

    def __str__(self) -> str:
        return f"fail workspace {self.workspace}"


@dataclass(frozen=True)
class FixWorkspaces:
    """Someone fixed what made the Workspaces fail."""

    def __str__(self) -> str:
        return "fix every failing workspace"


@dataclass(frozen=True)
class ChangeOutput:
    """Terraform reports another value for one output (the Workspace was replaced, say)."""

    environment: str
    catalog: str
    output: str
    value: str

    def __str__(self) -> str:
        return f"output {self.environment}/{self.catalog}.{self.output} = {self.value}"


Step = Command | Race | Tick | Controllers | FailWorkspace | FixWorkspaces | ChangeOutput


def _crash(after: int | None) -> str:
    return f" (crash after write {after})" if after is not None else ""


@dataclass(frozen=True)
class Schedule:
    """The steps of one random lifecycle; the world starts empty, and every environment's last intent settles."""

    seed: int
    steps: tuple[Step, ...]
    bootstrap: bool = False
    """Argo CD's ApplicationSets are installed (objects go only by a prune inside their folder's generated app)."""

    def __str__(self) -> str:
        world = "  (with the bootstrap's ApplicationSets)\n" if self.bootstrap else ""
        return world + "\n".join(f"  {i:2}. {step}" for i, step in enumerate(self.steps, 1))


# -- generating -------------------------------------------------------------------------------------------------------

OUTPUTS = {"rds-postgres": ("endpoint", "db-{n}.internal"), "redis-cache": ("primaryEndpoint", "cache-{n}.internal")}


def generate(seed: int, length: tuple[int, int] = (3, 7)) -> Schedule:
    """A random schedule: what people ask (often again, sometimes at once), crashes, and controllers that lag or
    fail for a while."""
    rng = random.Random(seed)
    names = ENVIRONMENTS[: 1 if rng.random() < 0.6 else 2]
    bootstrap = rng.random() < BOOTSTRAPPED
    requests: dict[str, Request] = {}
    steps: list[Step] = []

    def crash() -> int | None:
        return rng.randint(1, 8) if rng.random() < 0.3 else None

    def command(name: str) -> Command:
        roll = rng.random()
        if roll < 0.45 or name not in requests:
            previous, again = requests.get(name), rng.random()
            if previous is None or again >= 0.85:
                requests[name] = random_request(rng, name)
            elif again >= 0.2:
                requests[name] = changed_request(rng, previous)
            return Provision(requests[name], crash())
        if roll < 0.62:
            return Destroy(name, crash())
        if roll < 0.68:
            return Retry(name, crash())
        if roll < 0.93:
            return Reconcile(name, crash())
        return Sweep(crash())

    def failing(name: str) -> list[Step]:
        """Terraform fails past the grace period (or a Workspace is stuck deleting), then a person retries."""
        request = requests.get(name)
        with_terraform = [c.name for c in request.catalogs if c.name in TERRAFORM_CATALOGS] if request else []
        if not with_terraform:
            return [FailWorkspace(f"{name}-rds-postgres")]
        if rng.random() < 0.3:
            stuck: list[Step] = [Controllers(2, 1, 3600), Destroy(name), Tick(1500), Reconcile(name)]
            return [*stuck, Retry(name, crash()), Controllers(*FIXED_DELAYS)]
        failed: list[Step] = [FailWorkspace(f"{name}-{rng.choice(with_terraform)}"), Tick(400), Reconcile(name)]
        if rng.random() < 0.25:  # fixed before the retry: the Workspace recovers on its own, the retry is refused
            return [*failed, FixWorkspaces(), Retry(name, crash())]
        return [*failed, Retry(name, crash()), *([FixWorkspaces()] if rng.random() < 0.7 else [])]

    wanted = rng.randint(*length)
    while len(steps) < wanted:
        name = rng.choice(names)
        roll = rng.random()
        if roll < 0.40:
            steps.append(command(name))
        elif roll < 0.46 and steps and isinstance(steps[-1], Command):  # the same event delivered twice
            steps.append(replace(steps[-1], crash_after=crash()))
        elif roll < 0.56:
            first = command(name)
            second = replace(first, crash_after=crash()) if rng.random() < 0.3 else command(rng.choice(names))
            steps.append(Race(first, second, overlap=rng.random() < 0.5))
        elif roll < 0.74:
            steps.append(Tick(rng.choice((1, 2, 5, 30, 120, 400, 1500))))
        elif roll < 0.79:
            steps.append(Controllers(rng.choice((0, 2, 60, 600)), rng.choice((0, 1, 30)), rng.choice((1, 30, 1800))))
        elif roll < 0.87:
            steps.extend(failing(name))
        elif roll < 0.91:
            steps.append(FailWorkspace(f"{name}-{rng.choice(TERRAFORM_CATALOGS)}"))
        elif roll < 0.95:
            steps.append(FixWorkspaces())
        else:
            catalog = rng.choice(tuple(OUTPUTS))
            output, value = OUTPUTS[catalog]
            steps.append(ChangeOutput(name, catalog, output, value.format(n=rng.randint(1, 3))))
    return Schedule(seed, tuple(steps), bootstrap)


# -- running ------------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    schedule: Schedule
    log: list[str] = field(default_factory=list)
    violation: Violation | None = None
    where: str = ""

    def report(self) -> str:
        lines = [f"seed {self.schedule.seed}: {self.violation}", f"  at {self.where}", "schedule:", str(self.schedule)]
        return "\n".join([*lines, "what happened:", *(f"  {line}" for line in self.log[-40:])])


class Trial:
    """Runs one schedule on a fresh world, checking every invariant after each write and after each step."""

    def __init__(self, schedule: Schedule, *, verbose: bool = False) -> None:
        self.schedule = schedule
        self.verbose = verbose
        """Log each environment's phase after every step (one more observation each: for reports, not for CI)."""
        self.world = MemoryWorld.create(bootstrap=schedule.bootstrap)
        self.result = Result(schedule)
        self.where = "start"
        self._seen_key: tuple[Any, ...] | None = None
        self._seen: tuple[tuple[ObservedObject, ...], tuple[ObservedObject, ...]] = ((), ())
        self.latest: Moment | None = None
        """What the last check saw."""
        self.intents: dict[str, Request | str] = {}

    # -- invariants ---------------------------------------------------------------------------------------------

    def check(self, *_: object) -> None:
        world = self.world
        cluster = world.cluster
        key = (
            world.platform.branch_sha("main"), world.apps.branch_sha("main"), world.clock.now,
            tuple(sorted(cluster.fail_workspaces)), repr(cluster.output_overrides),
            cluster.workspace_delay, cluster.application_delay, cluster.deletion_delay,
        )  # fmt: skip
        if key != self._seen_key:
            self._seen = (cluster.list(WORKSPACE), cluster.list(APPLICATION))
            self._seen_key = key
        now = look(world, self._seen)
        before = self.latest or now
        self.latest = now
        for pull_invariant in PULL_REQUEST_INVARIANTS:
            self._fail_on(pull_invariant.__name__, pull_invariant(now))
        for transition in TRANSITION_INVARIANTS:
            self._fail_on(transition.__name__, transition(before, now))

    def _fail_on(self, invariant: str, problems: list[str]) -> None:
        if problems and self.result.violation is None:
            self.result.violation = Violation(invariant, "; ".join(problems))
            self.result.where = self.where
        if problems:
            raise self.result.violation  # type: ignore[misc]

    # -- steps --------------------------------------------------------------------------------------------------

    def reconciler(self, crash_after: int | None) -> Reconciler:
        return self.world.reconciler(Budget(left=crash_after, after_each=self.check))

    def advance(self, steps: Iterator[None], label: str) -> bool:
        """Run a command on to its next pause; False once it is over (finished, crashed or refused)."""
        try:
            next(steps)
            return True
        except StopIteration:
            return False
        except Violation:
            raise
        except Crash as crash:
            self.result.log.append(f"    {label}: {crash}")
            return False
        except UserError as error:
            if any(words in str(error) for words in EXPECTED_REFUSALS):
                self.result.log.append(f"    {label}: refused: {error}")
                return False
            raise self._unexpected(label, error) from error
        except Exception as error:  # every other error is a bug, EnvbotError or not
            raise self._unexpected(label, error) from error

    def _unexpected(self, label: str, error: BaseException) -> Violation:
        where = "".join(traceback.format_exception(error, limit=-4)).strip()
        violation = Violation("no_unexpected_exception", f"{label} raised {type(error).__name__}: {error}\n{where}")
        self.result.violation = self.result.violation or violation
        self.result.where = self.result.where or self.where
        return violation

    def _command(self, command: Command) -> Iterator[None]:
        reconciler = self.reconciler(command.crash_after)
        if isinstance(command, Provision):
            self.intents[command.request.name] = command.request
        elif isinstance(command, Destroy):
            self.intents[command.name] = command.name
        return command.perform(reconciler)

    def _finish(self, steps: Iterator[None], label: str) -> None:
        while self.advance(steps, label):
            pass

    def step(self, step: Step) -> None:
        world = self.world
        if isinstance(step, Race):
            first, second = self._command(step.first), self._command(step.second)
            if self.advance(first, "first"):
                if step.overlap and self.advance(second, "second"):
                    self._finish(first, "first")
                self._finish(second, "second")
                self._finish(first, "first")
            else:
                self._finish(second, "second")
        elif isinstance(step, Tick):
            world.clock.advance(dt.timedelta(seconds=step.seconds))
        elif isinstance(step, Controllers):
            world.set_delays(step.workspace, step.application, step.deletion)
        elif isinstance(step, FailWorkspace):
            world.cluster.fail_workspaces[step.workspace] = "apply failed: InvalidParameterCombination"
        elif isinstance(step, FixWorkspaces):
            world.cluster.fail_workspaces.clear()
        elif isinstance(step, ChangeOutput):
            terraform_output = world.catalogs.catalogs[step.catalog].outputs[step.output].terraform_output
            world.cluster.output_overrides[f"{step.environment}-{step.catalog}"] = {terraform_output: step.value}
        else:
            self._finish(self._command(step), str(step))

    def phase(self, name: str) -> str:
        decision = self.world.reconciler(Budget()).decisions([name])[0]
        return f"{decision.phase.value}: {decision.waiting_on}"

    def run(self) -> Result:
        try:
            for index, step in enumerate(self.schedule.steps, 1):
                self.where = f"step {index} ({step})"
                self.step(step)
                self.check()
                if self.verbose:
                    names = sorted({*self.intents} or ENVIRONMENTS[:1])
                    self.result.log.append(f"{index:2}. {step} → " + "; ".join(f"{n} {self.phase(n)}" for n in names))
            self.settle()
        except Violation as violation:
            self.result.violation = self.result.violation or violation
            self.result.where = self.result.where or self.where
        except Exception as error:  # raised outside a command (while settling, say): a bug all the same
            self._unexpected(self.where, error)
        return self.result

    # -- settling ------------------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Controllers that work again, then each environment's last intent issued once more, waiting until it is
        settled: a provision must end Ready with the current values, a destroy Deleted with nothing left."""
        world = self.world
        world.cluster.fail_workspaces.clear()
        world.set_delays(*SETTLE_DELAYS)
        for name, intent in sorted(self.intents.items()):
            self.where = f"settle {name}: {'provision' if isinstance(intent, Request) else 'destroy'}"
            final = self._settle_provision(intent) if isinstance(intent, Request) else self._settle_destroy(name)
            self.result.log.append(f"{self.where} → {final.phase.value}: {final.waiting_on}")
        for name, intent in sorted(self.intents.items()):
            self.where = f"after settling {name}"
            self.check()
            now = self.latest
            assert now is not None
            self._fail_on("no_pull_request_outlives_its_intent", no_pull_request_outlives_its_intent(now, name))
            if isinstance(intent, Request):
                self._fail_on("provision_settled_with_current_values",
                              provision_settled_with_current_values(world, now, intent))  # fmt: skip
            else:
                self._fail_on("nothing_left_after_destroy", nothing_left_after_destroy(world, now, name))

    def _wait(self, name: str, request: Environment | None = None) -> Pass:
        reconciler = self.reconciler(None)
        return reconciler.run(name, request, wait=True, timeout=SETTLE_TIMEOUT, poll_interval=SETTLE_POLL)

    def _settle_provision(self, request: Request) -> Any:
        name = request.name
        reconciler = self.reconciler(None)
        if provision_refusal(reconciler.observe(name)) is not None:  # as a person is told: wait until it is Deleted
            deleted = self._wait(name).decision
            if deleted.phase is not Phase.DELETED:
                self._fail_on("settles", [f"{name} is {deleted.phase.value} before it can be provisioned again: "
                                          f"{deleted.waiting_on}"])  # fmt: skip
        final = self._wait(name, request.environment).decision
        if final.phase is Phase.FAILED:
            reconciler.request_retry(name, requested_by="settle")
            final = self._wait(name, request.environment).decision
        if final.phase is not Phase.READY:
            self._fail_on("settles", [f"provision {name} ended {final.phase.value}: {final.waiting_on}"])
        return final

    def _settle_destroy(self, name: str) -> Any:
        reconciler = self.reconciler(None)
        try:
            existing(reconciler, name)
        except UserError:
            return self._wait(name).decision
        reconciler.request_deletion(name, requested_by="settle")
        final = self._wait(name).decision
        if final.phase is Phase.FAILED:
            reconciler.request_retry(name, requested_by="settle")
            final = self._wait(name).decision
        if final.phase is not Phase.DELETED:
            self._fail_on("settles", [f"destroy {name} ended {final.phase.value}: {final.waiting_on}"])
        return final


def run_schedule(schedule: Schedule, *, verbose: bool = False) -> Result:
    return Trial(schedule, verbose=verbose).run()


# -- shrinking ------------------------------------------------------------------------------------------------------------


def shrink(failed: Result, budget: int = 300) -> Result:
    """The shortest schedule found that breaks the same invariant: chunks of steps removed, then each step made
    simpler (a race run as one of its commands, no crash), then the world without the bootstrap."""
    assert failed.violation is not None
    invariant = failed.violation.invariant
    best = failed
    tries = 0

    def attempt(steps: tuple[Step, ...], bootstrap: bool | None = None) -> Result | None:
        nonlocal tries
        tries += 1
        chosen = best.schedule.bootstrap if bootstrap is None else bootstrap
        result = run_schedule(replace(failed.schedule, steps=steps, bootstrap=chosen))
        return result if result.violation is not None and result.violation.invariant == invariant else None

    chunk = max(1, len(best.schedule.steps) // 2)
    while chunk >= 1 and tries < budget:
        index, progressed = 0, False
        while index < len(best.schedule.steps) and tries < budget:
            steps = best.schedule.steps[:index] + best.schedule.steps[index + chunk :]
            found = attempt(steps) if steps else None
            if found is not None:
                best, progressed = found, True
            else:
                index += chunk
        if not progressed:
            chunk //= 2
    for index in range(len(best.schedule.steps)):
        for simpler in _simpler(best.schedule.steps[index]):
            if tries >= budget:
                break
            found = attempt((*best.schedule.steps[:index], simpler, *best.schedule.steps[index + 1 :]))
            if found is not None:
                best = found
                break
    if best.schedule.bootstrap and tries < budget:
        best = attempt(best.schedule.steps, bootstrap=False) or best
    return best


def _simpler(step: Step) -> list[Step]:
    """Simpler variants of one step, simplest first."""
    variants: list[Step] = []
    if isinstance(step, Race):
        variants += [without_crash(step.first), without_crash(step.second), step.first, step.second]
    variants.append(without_crash(step))
    return [v for i, v in enumerate(variants) if v != step and v not in variants[:i]]


def without_crash(step: Step) -> Step:
    if isinstance(step, Race):
        return replace(step, first=replace(step.first, crash_after=None), second=replace(step.second, crash_after=None))
    if isinstance(step, Provision | Destroy | Retry | Reconcile | Sweep):
        return replace(step, crash_after=None)
    return step
