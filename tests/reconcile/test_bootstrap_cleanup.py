"""With the bootstrap's ApplicationSets installed: a cleanup removes exactly its objects, and faults remove none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from project_paths import CATALOGS

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.cluster.model import APPLICATION, WORKSPACE_KINDS, ObservedObject, thaw
from bot.environment import bind_environment
from bot.environment.model import Environment
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass
from bot.render import render_environment
from bot.render.bootstrap import GENERATED_BY_LABEL
from bot.render.manifests import ARGOCD_FINALIZER, workspace_name
from bot.simulation import SimulatedCluster
from tests.reconcile.argocd import commit, install_bootstrap
from tests.reconcile.harness import Checkpoint, World, environment, make_world, seed_environment

AUTH, CACHE = "dev-feature-auth", "dev-feature-cache"
INFRASTRUCTURE_SET = "bootstrap/envbot-infrastructure.yaml"
WAIT = dt.timedelta(minutes=10)


def cache_request(*, with_redis: bool = True) -> Environment:
    catalogs: list[dict[str, Any]] = [
        {"name": "s3-bucket", "parameters": {"bucketName": "feature-cache-assets"}},
        {"name": "sample-app", "parameters": {"databaseEndpoint": "db.cache.internal"}},
    ]
    if with_redis:
        catalogs.insert(0, {"name": "redis-cache", "parameters": {"vpcId": "vpc-0abc"}})
    return environment({"name": CACHE, "catalogs": catalogs})


def requests() -> dict[str, Environment]:
    return {AUTH: seed_environment(), CACHE: cache_request()}


def before_issue_12(content: str, *, finalizer: bool = True, preserve: bool = False) -> str:
    """A set as `envbot bootstrap` wrote it before: the resources finalizer on the template, no preserve, and no
    allowEmpty (``finalizer`` and ``preserve`` make the other combinations)."""
    document = yaml.safe_load(content)
    spec = document["spec"]
    if not preserve:
        del spec["syncPolicy"]
    if finalizer:
        spec["template"]["metadata"]["finalizers"] = [ARGOCD_FINALIZER]
    del spec["template"]["spec"]["syncPolicy"]["automated"]["allowEmpty"]
    return yaml.safe_dump(document, sort_keys=False)


# -- what the cluster shows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One look at the cluster: Workspaces and catalog Applications by (kind, name), and the generated apps."""

    objects: dict[tuple[str, str], ObservedObject]
    generated: dict[str, ObservedObject]

    def of(self, name: str) -> dict[tuple[str, str], ObservedObject]:
        return {key: o for key, o in self.objects.items() if o.environment == name}

    def deleting(self) -> set[tuple[str, str]]:
        return {key for key, o in self.objects.items() if o.deletion_timestamp is not None}

    def identity(self, name: str | None = None) -> dict[tuple[str, str], tuple[Any, ...]]:
        """What changes when an object is re-created or re-applied: its creation time and generation."""
        chosen = self.objects if name is None else self.of(name)
        return {key: (o.creation_timestamp, o.generation, o.deletion_timestamp) for key, o in chosen.items()}

    def managed(self) -> set[tuple[str, str]]:
        """Every Workspace and Application a generated app lists in ``status.resources``."""
        return {
            (entry["kind"], entry["name"])
            for app in self.generated.values()
            for entry in thaw((app.status or {}).get("resources")) or []
            if entry["kind"] in {"Workspace", "Application"}
        }


def look(world: World) -> Seen:
    cluster = world.cluster
    assert cluster is not None
    objects: dict[tuple[str, str], ObservedObject] = {}
    generated: dict[str, ObservedObject] = {}
    for workspace in (o for kind in WORKSPACE_KINDS for o in cluster.list(kind)):
        objects[("Workspace", workspace.name)] = workspace
    for application in cluster.list(APPLICATION):
        if GENERATED_BY_LABEL in application.labels:
            assert application.catalog is None, "a generated app must not look like a catalog's"
            generated[application.name] = application
        else:
            objects[("Application", application.name)] = application
    return Seen(objects, generated)


def ready(world: World, *names: str) -> None:
    reconciler = world.reconciler()
    for name in names:
        final = reconciler.run(name, wait=True, timeout=WAIT, poll_interval=1)
        assert final.decision.phase is Phase.READY, final.decision.waiting_on


# -- worlds ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


def provisioned(root: Path, catalogs: CatalogSet, edit: Callable[[str], str] | None) -> Checkpoint:
    """Both environments provisioned to Ready by envbot with the bootstrap installed first."""
    world = make_world(root / "world", catalogs)
    install_bootstrap(world, edit)
    reconciler = world.reconciler()
    for name, request in requests().items():
        final = reconciler.run(name, request, wait=True, timeout=WAIT, poll_interval=1)
        assert final.decision.phase is Phase.READY, final.decision.waiting_on
    return world.checkpoint(root / "checkpoint")


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory, catalogs: CatalogSet) -> Checkpoint:
    return provisioned(tmp_path_factory.mktemp("bootstrapped"), catalogs, None)


@pytest.fixture(scope="module")
def bootstrapped_before(tmp_path_factory: pytest.TempPathFactory, catalogs: CatalogSet) -> Checkpoint:
    return provisioned(tmp_path_factory.mktemp("bootstrapped-before"), catalogs, before_issue_12)


def committed(root: Path, catalogs: CatalogSet, edit: Callable[[str], str] | None = None) -> World:
    """The seed environment's manifests committed straight to both main branches, with the bootstrap: Argo CD
    alone, without envbot."""
    world = make_world(root, catalogs)
    install_bootstrap(world, edit)
    bound = bind_environment(seed_environment(), catalogs)
    result = render_environment(bound, {"rds-postgres": catalogs.catalogs["rds-postgres"].example_outputs()})
    commit(world, "platform", {f.path: f.content for f in result.platform}, "the environment")
    commit(world, "apps", {f.path: f.content for f in result.apps}, "its apps")
    return world


# -- faults that must destroy nothing -------------------------------------------------------------------------

Fault = Callable[[World], Callable[[], None]]


def delete_the_infrastructure_set(world: World) -> Callable[[], None]:
    content = world.main_files("platform")[INFRASTRUCTURE_SET]
    commit(world, "platform", {INFRASTRUCTURE_SET: None}, "delete the infrastructure ApplicationSet")
    return lambda: commit(world, "platform", {INFRASTRUCTURE_SET: content}, "apply it again")


def blind_the_generators(world: World) -> Callable[[], None]:
    assert isinstance(world.cluster, SimulatedCluster)
    world.cluster.generator_sees_nothing = True

    def clear() -> None:
        assert isinstance(world.cluster, SimulatedCluster)
        world.cluster.generator_sees_nothing = False

    return clear


def delete_every_generated_app(world: World) -> Callable[[], None]:
    assert isinstance(world.cluster, SimulatedCluster)
    world.cluster.delete_generated_applications()
    return lambda: None  # the set controller generates them again


FAULTS = [
    pytest.param(delete_the_infrastructure_set, {"envbot-infrastructure"}, id="set-deleted-from-git"),
    pytest.param(blind_the_generators, None, id="generator-sees-nothing"),
    pytest.param(delete_every_generated_app, None, id="every-generated-app-deleted"),
]


def hit(before: Seen, during: Seen) -> set[str]:
    """The ApplicationSets whose generated apps the fault deleted (gone, or generated again since)."""
    return {
        app.labels[GENERATED_BY_LABEL]
        for name, app in before.generated.items()
        if name not in during.generated or during.generated[name].creation_timestamp != app.creation_timestamp
    }


@pytest.mark.parametrize(("fault", "sets_hit"), FAULTS)
def test_mass_faults_destroy_nothing_and_everything_is_adopted_again(
    bootstrapped: Checkpoint, catalogs: CatalogSet, tmp_path: Path, fault: Fault, sets_hit: set[str] | None
) -> None:
    world = bootstrapped.restore(tmp_path, catalogs)
    before = look(world)
    assert {o.environment for o in before.objects.values()} == {AUTH, CACHE}
    assert before.managed() == set(before.objects), "every object is managed by a generated app"
    pull_requests = len(world.pull_requests("platform")) + len(world.pull_requests("apps"))
    world.clock.sleep(30)
    clear = fault(world)
    during = []
    for _ in range(3):
        during.append(look(world))
        world.clock.sleep(30)  # far past every deletion delay: a cascade would have finished
    assert hit(before, during[0]) == (sets_hit or {app.labels[GENERATED_BY_LABEL] for app in before.generated.values()})
    reconciler = world.reconciler()
    for name in (AUTH, CACHE):  # envbot's schedule runs during the fault too
        assert reconciler.run(name).decision.phase is Phase.READY
    clear()
    world.clock.sleep(30)
    after = look(world)
    for seen in (*during, after):
        assert seen.deleting() == set()
        assert seen.identity() == before.identity(), "no object was deleted, re-created or changed"
    assert after.managed() == set(after.objects), "the generated apps adopted every object again"
    assert set(after.generated) == set(before.generated)
    assert all(thaw(app.status)["sync"]["status"] == "Synced" for app in after.generated.values())
    ready(world, AUTH, CACHE)
    assert len(world.pull_requests("platform")) + len(world.pull_requests("apps")) == pull_requests


@pytest.mark.parametrize(("fault", "sets_hit"), FAULTS)
def test_the_bootstrap_before_issue_12_destroys_every_workspace_in_those_faults(
    bootstrapped_before: Checkpoint, catalogs: CatalogSet, tmp_path: Path, fault: Fault, sets_hit: set[str] | None
) -> None:
    """The simulation catches the bulk destruction: with the resources finalizer on the generated apps, each fault
    starts `terraform destroy` of every environment's Workspaces."""
    world = bootstrapped_before.restore(tmp_path, catalogs)
    before = look(world)
    workspaces = {key for key in before.objects if key[0] == "Workspace"}
    assert {before.objects[key].environment for key in workspaces} == {AUTH, CACHE}
    fault(world)
    during = look(world)
    assert workspaces <= during.deleting()


# -- one environment's cleanup removes exactly its objects ----------------------------------------------------


def test_destroying_one_environment_removes_exactly_its_objects_and_finishes(
    bootstrapped: Checkpoint, catalogs: CatalogSet, tmp_path: Path
) -> None:
    """Depends on envbot removing files behind a placeholder and not waiting on generated apps."""
    world = bootstrapped.restore(tmp_path, catalogs)
    before = look(world)
    doomed = set(before.of(AUTH))
    kept = before.identity(CACHE)
    kept_apps = {name: app.creation_timestamp for name, app in before.generated.items() if CACHE in name}
    pruned: set[tuple[str, str]] = set()

    def watch(current: Pass) -> None:
        seen = look(world)
        assert seen.identity(CACHE) == kept, "the other environment was touched"
        for key in seen.deleting():
            assert key in doomed
            app = "infrastructure" if key[0] == "Workspace" else "dev-cluster"
            assert f"envbot-{AUTH}-{app}" in seen.generated, "removed by a cascade, not by a prune of its own app"
            pruned.add(key)

    reconciler = world.reconciler()
    reconciler.request_deletion(AUTH, requested_by="test")
    final = reconciler.run(AUTH, wait=True, timeout=WAIT, poll_interval=1, on_pass=watch)
    assert final.decision.phase is Phase.DELETED, final.decision.waiting_on
    after = look(world)
    assert pruned == doomed
    assert after.of(AUTH) == {}
    assert not [name for name in after.generated if AUTH in name], "its generated apps went with its folders"
    for which in ("platform", "apps"):
        assert not [path for path in world.main_files(which) if f"/{AUTH}/" in path]
    assert after.identity(CACHE) == kept
    assert {name: app.creation_timestamp for name, app in after.generated.items()} == kept_apps
    ready(world, CACHE)


def test_removing_a_hybrid_catalog_removes_its_application_then_its_workspace(
    bootstrapped: Checkpoint, catalogs: CatalogSet, tmp_path: Path
) -> None:
    """Depends on envbot removing files behind a placeholder and not waiting on generated apps."""
    world = bootstrapped.restore(tmp_path, catalogs)
    before = look(world)
    application = ("Application", f"{CACHE}-redis-cache")
    workspace = ("Workspace", workspace_name(CACHE, "redis-cache"))
    assert {application, workspace} <= set(before.of(CACHE))
    untouched = {key: value for key, value in before.identity().items() if key not in {application, workspace}}
    order: list[str] = []

    def watch(current: Pass) -> None:
        seen = look(world)
        assert {k: v for k, v in seen.identity().items() if k in untouched} == untouched
        if application not in seen.objects and "application gone" not in order:
            order.append("application gone")
        if workspace in seen.deleting() and "workspace deleting" not in order:
            assert application not in seen.objects, "the Workspace went while its Application still existed"
            assert f"envbot-{CACHE}-infrastructure" in seen.generated, "removed by a cascade, not by a prune"
            order.append("workspace deleting")

    reconciler = world.reconciler()
    final = reconciler.run(
        CACHE, cache_request(with_redis=False), wait=True, timeout=WAIT, poll_interval=1, on_pass=watch
    )
    assert final.decision.phase is Phase.READY, final.decision.waiting_on
    assert order == ["application gone", "workspace deleting"]
    after = look(world)
    assert application not in after.objects and workspace not in after.objects
    assert after.identity() == untouched
    assert f"envbot-{CACHE}-redis-cache-manifests" not in after.generated
    assert not [path for path in world.main_files("apps") if "/redis-cache" in path]
    ready(world, AUTH, CACHE)


# -- the simulation itself: Argo CD as the bootstrap's sets drive it, without envbot --------------------------


def test_generated_apps_show_what_they_manage_and_read_only_their_own_folder(
    tmp_path: Path, catalogs: CatalogSet
) -> None:
    world = committed(tmp_path, catalogs)
    seen = look(world)
    infrastructure, applications, manifests = (
        f"envbot-{AUTH}-infrastructure",
        f"envbot-{AUTH}-dev-cluster",
        f"envbot-{AUTH}-datadog-agent-manifests",
    )
    assert set(seen.generated) == {infrastructure, applications, manifests}
    app = seen.generated[infrastructure]
    assert app.namespace == "argocd" and app.finalizers == ()
    assert dict(app.labels) == {
        "envbot.io/environment": AUTH,
        GENERATED_BY_LABEL: "envbot-infrastructure",
        "app.kubernetes.io/managed-by": "envbot",
    }
    assert thaw(app.spec)["source"]["path"] == f"registry/environments/{AUTH}/infrastructure"

    def resources(name: str, seen: Seen) -> list[tuple[str, str, str | None]]:
        entries = thaw((seen.generated[name].status or {}).get("resources"))
        return [(e["kind"], e["name"], (e.get("health") or {}).get("status")) for e in entries]

    def health(name: str, seen: Seen) -> tuple[str, str]:
        status = thaw(seen.generated[name].status)
        return status["sync"]["status"], status["health"]["status"]

    assert resources(infrastructure, seen) == [("Workspace", f"{AUTH}-rds-postgres", "Progressing")]
    assert health(infrastructure, seen) == ("Synced", "Progressing")
    assert resources(applications, seen) == [
        ("Application", f"{AUTH}-datadog-agent", None),
        ("Application", f"{AUTH}-sample-app", None),
    ], "a directory source does not read the catalog's subfolder"
    plain = resources(manifests, seen)
    assert plain and not {kind for kind, _, _ in plain} & {"Workspace", "Application"}
    assert {kind for kind, _ in seen.objects} == {"Workspace", "Application"}, "plain manifests are no objects"
    world.clock.sleep(5)
    later = look(world)
    assert resources(infrastructure, later) == [("Workspace", f"{AUTH}-rds-postgres", "Healthy")]
    assert {health(name, later) for name in later.generated} == {("Synced", "Healthy")}


@pytest.mark.parametrize(
    ("finalizer", "preserve", "destroys"),
    [
        pytest.param(True, False, True, id="finalizer-before-issue-12"),
        pytest.param(True, True, True, id="finalizer-wins-over-preserve"),
        pytest.param(False, False, True, id="argo-cd-adds-the-finalizer-without-preserve"),
        pytest.param(False, True, False, id="envbot-bootstrap"),
    ],
)
def test_a_generated_app_cascades_whenever_it_carries_the_resources_finalizer(
    tmp_path: Path, catalogs: CatalogSet, finalizer: bool, preserve: bool, destroys: bool
) -> None:
    def edit(content: str) -> str:
        return content if (finalizer, preserve) == (False, True) else before_issue_12(content, **options)

    options = {"finalizer": finalizer, "preserve": preserve}
    world = committed(tmp_path, catalogs, edit)
    before = look(world)
    carries = {app.finalizers for app in before.generated.values()}
    assert carries == ({(ARGOCD_FINALIZER,)} if destroys else {()})
    blind_the_generators(world)
    during = look(world)
    # an app with the finalizer stays, deleting, until its objects are gone; one without goes at once
    assert all(app.deletion_timestamp for app in during.generated.values())
    assert bool(during.generated) is destroys
    assert during.deleting() == (set(before.objects) if destroys else set())
    world.clock.sleep(30)
    after = look(world)
    assert after.generated == {}
    assert set(after.objects) == (set() if destroys else set(before.objects))


@pytest.mark.parametrize("allow_empty", [True, False])
def test_allow_empty_lets_a_folder_holding_only_the_placeholder_prune_its_last_object(
    tmp_path: Path, catalogs: CatalogSet, allow_empty: bool
) -> None:
    def edit(content: str) -> str:
        document = yaml.safe_load(content)
        document["spec"]["template"]["spec"]["syncPolicy"]["automated"]["allowEmpty"] = allow_empty
        return yaml.safe_dump(document, sort_keys=False)

    world = committed(tmp_path, catalogs, edit)
    folder = f"registry/environments/{AUTH}/infrastructure"
    key = ("Workspace", f"{AUTH}-rds-postgres")
    app = f"envbot-{AUTH}-infrastructure"
    assert key in look(world).objects
    commit(world, "platform", {f"{folder}/rds-postgres.yaml": None, f"{folder}/.envbot-keep": "kept\n"}, "remove")
    seen = look(world)
    assert (key in seen.deleting()) is allow_empty
    status = thaw(seen.generated[app].status)
    if allow_empty:
        assert status["sync"]["status"] == "Synced" and status["resources"] == []
    else:
        assert status["sync"]["status"] == "OutOfSync"
        assert [e["requiresPruning"] for e in status["resources"]] == [True]
        assert "wipe out all resources" in status["conditions"][0]["message"]
    world.clock.sleep(30)
    commit(world, "platform", {f"{folder}/.envbot-keep": None}, "remove the folder")
    world.clock.sleep(30)
    seen = look(world)
    assert app not in seen.generated
    # without allowEmpty the Workspace outlives its folder, orphaned: nothing would ever remove it
    assert (key in seen.objects) is not allow_empty
    assert seen.deleting() == set()


def test_the_new_bootstrap_takes_the_finalizer_off_apps_generated_before(tmp_path: Path, catalogs: CatalogSet) -> None:
    world = committed(tmp_path, catalogs, before_issue_12)
    assert {app.finalizers for app in look(world).generated.values()} == {(ARGOCD_FINALIZER,)}
    install_bootstrap(world)
    upgraded = look(world)
    assert {app.finalizers for app in upgraded.generated.values()} == {()}
    blind_the_generators(world)
    world.clock.sleep(30)
    assert look(world).identity() == upgraded.identity()


def test_separate_runs_share_argo_cd_through_the_state_file(tmp_path: Path, catalogs: CatalogSet) -> None:
    world = committed(tmp_path / "world", catalogs)
    platform, apps = world.forges()

    def run() -> SimulatedCluster:
        return SimulatedCluster(platform, apps, catalogs, clock=world.clock, state_file=tmp_path / "state.json")

    world.cluster = run()
    before = look(world)
    assert len(before.generated) == 3
    world.cluster = run()
    assert look(world).identity() == before.identity()
    assert {n: a.creation_timestamp for n, a in look(world).generated.items()} == {
        n: a.creation_timestamp for n, a in before.generated.items()
    }
    folder = f"registry/environments/{AUTH}/infrastructure"
    commit(world, "platform", {f"{folder}/rds-postgres.yaml": None, f"{folder}/.envbot-keep": "kept\n"}, "remove")
    world.cluster = run()
    assert look(world).deleting() == {("Workspace", f"{AUTH}-rds-postgres")}, "the app still knows what it manages"
