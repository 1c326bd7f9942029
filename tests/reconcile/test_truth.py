"""A truthful lifecycle: Ready only once the controllers hold what merged, apps always go first, intents are kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from project_paths import EXAMPLES

from bot.cluster.model import APPLICATION, WORKSPACE, Kind, ObservedObject
from bot.environment.model import Environment
from bot.forge.local import LocalForge
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass, Reconciler
from bot.reconcile.verdicts import VerdictPolicy
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.reconcile.harness import World, environment, make_world, seed_environment

NAME = "dev-feature-auth"
RDS = f"{NAME}-rds-postgres"
WAIT = dt.timedelta(minutes=30)


class LaggingCluster:
    """The simulated controllers, seen through a view that can stop moving (a controller that has not caught up)."""

    def __init__(self, inner: SimulatedCluster) -> None:
        self.inner = inner
        self.frozen: dict[tuple[Kind, str | None], tuple[ObservedObject, ...]] | None = None

    def freeze(self) -> None:
        self.frozen = {}
        for kind in (WORKSPACE, APPLICATION):
            self.frozen[(kind, None)] = self.inner.list(kind)

    def catch_up(self) -> None:
        self.frozen = None

    def list(self, kind: Kind, selector: str = "envbot.io/environment", namespace: str | None = None) -> Any:
        if self.frozen is not None:
            return self.frozen.get((kind, None), ())
        return self.inner.list(kind, selector, namespace)


def lagging(world: World, policy: VerdictPolicy | None = None) -> tuple[Reconciler, LaggingCluster]:
    reconciler = world.reconciler(policy=policy)
    assert world.cluster is not None
    cluster = LaggingCluster(world.cluster)
    reconciler.cluster = cluster
    return reconciler, cluster


def provision(reconciler: Reconciler, request: Environment | None = None, wait: bool = True) -> Pass:
    return reconciler.run(NAME, request or seed_environment(), wait=wait, timeout=WAIT, poll_interval=1)


def with_parameter(catalog: int, parameter: str, value: Any, extra: list[dict[str, Any]] | None = None) -> Environment:
    document = yaml.safe_load((EXAMPLES / "dev-feature-auth.yaml").read_text())
    document["catalogs"][catalog]["parameters"][parameter] = value
    document["catalogs"].extend(extra or [])
    return environment({k: v for k, v in document.items() if k != "kind"})


REDIS = {"name": "redis-cache", "parameters": {"vpcId": "vpc-0abc"}}


def test_a_parameter_change_is_not_ready_until_the_workspace_holds_it(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler, cluster = lagging(world)
    assert provision(reconciler).decision.phase is Phase.READY
    cluster.freeze()  # Argo CD has not synced the change yet: the cluster still holds the old Workspace
    changed = provision(reconciler, with_parameter(0, "allocatedStorage", 50), wait=False)
    assert changed.decision.phase is Phase.PROVISIONING_INFRASTRUCTURE
    assert RDS in changed.decision.waiting_on and "another spec" in changed.decision.waiting_on
    assert [pr.state for pr in world.pull_requests("apps")] == ["merged"], "no app PR while the update applies"
    cluster.catch_up()
    assert provision(reconciler, with_parameter(0, "allocatedStorage", 50)).decision.phase is Phase.READY


def test_an_app_change_is_not_ready_until_the_application_holds_it(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler, cluster = lagging(world)
    assert provision(reconciler).decision.phase is Phase.READY
    cluster.freeze()
    changed = provision(reconciler, with_parameter(2, "replicas", 3), wait=False)
    assert changed.decision.phase is Phase.DEPLOYING_APPLICATIONS
    assert "sample-app" in changed.decision.waiting_on and "another spec" in changed.decision.waiting_on
    cluster.catch_up()
    assert provision(reconciler, with_parameter(2, "replicas", 3)).decision.phase is Phase.READY


def test_removing_a_hybrid_catalog_removes_its_apps_before_its_workspace(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert world.cluster is not None
    reconciler = world.reconciler()
    with_redis = with_parameter(0, "allocatedStorage", 20, [REDIS])
    assert provision(reconciler, with_redis).decision.phase is Phase.READY
    seen: list[tuple[bool, bool]] = []
    phases: list[str] = []

    def sample(current: Pass) -> None:
        apps = [a for a in world.cluster.list(APPLICATION) if a.catalog == "redis-cache"]  # type: ignore[union-attr]
        workspaces = [w for w in world.cluster.list(WORKSPACE) if w.catalog == "redis-cache"]  # type: ignore[union-attr]
        seen.append((bool(apps), all(w.deletion_timestamp is None for w in workspaces) and bool(workspaces)))
        phases.append(f"{current.decision.phase.value}: {current.decision.waiting_on}")

    final = reconciler.run(NAME, seed_environment(), wait=True, timeout=WAIT, poll_interval=1, on_pass=sample)
    assert final.decision.phase is Phase.READY
    assert all(workspace_intact for apps_left, workspace_intact in seen if apps_left), seen
    assert world.cluster.list(WORKSPACE) and not [
        w for w in world.cluster.list(WORKSPACE) if w.catalog == "redis-cache"
    ]
    assert any("removing what the environment no longer asks for" in p for p in phases), phases
    platform_titles = [pr.title for pr in world.pull_requests("platform")]
    assert platform_titles == [f"envbot: {NAME}: infrastructure", *[f"envbot: {NAME}: infrastructure update"] * 2]


def slow_destroy_once_apps_are_gone(world: World, catalog: str | None = None) -> Any:
    """A pass hook: once the (catalog's) Applications are gone, ``terraform destroy`` takes two hours."""
    cluster = world.cluster
    assert cluster is not None

    def hook(current: Pass) -> None:
        if not [a for a in cluster.list(APPLICATION) if catalog is None or a.catalog == catalog]:
            cluster.deletion_delay = dt.timedelta(hours=2)

    return hook


def test_a_workspace_left_behind_keeps_the_environment_from_ready(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler, with_parameter(0, "allocatedStorage", 20, [REDIS])).decision.phase is Phase.READY
    final = reconciler.run(
        NAME, seed_environment(), wait=True, timeout=dt.timedelta(minutes=20), poll_interval=10,
        on_pass=slow_destroy_once_apps_are_gone(world, "redis-cache"),
    )  # fmt: skip
    assert final.decision.phase is Phase.PROVISIONING_INFRASTRUCTURE
    assert f"{NAME}-redis-cache" in final.decision.waiting_on and "deleting" in final.decision.waiting_on
    stuck = reconciler.run(NAME, wait=True, timeout=dt.timedelta(minutes=30), poll_interval=60)
    assert stuck.decision.phase is Phase.FAILED and "stuck deleting" in stuck.decision.waiting_on


def test_retry_while_deleting_keeps_the_deletion(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert world.cluster is not None
    reconciler = world.reconciler(policy=VerdictPolicy(stuck_deleting_after=dt.timedelta(minutes=5)))
    assert provision(reconciler).decision.phase is Phase.READY
    reconciler.request_deletion(NAME, requested_by="test")
    stuck = reconciler.run(
        NAME, wait=True, timeout=dt.timedelta(minutes=20), poll_interval=30,
        on_pass=slow_destroy_once_apps_are_gone(world),
    )  # fmt: skip
    assert stuck.decision.phase is Phase.FAILED
    outcome = reconciler.request_retry(NAME, requested_by="test")
    assert outcome is not None and outcome.progress.value == "merged"
    after = reconciler.step(NAME)
    assert after.decision.phase is Phase.DELETING
    platform = world.main_files("platform")
    record = yaml.safe_load(platform[f"registry/environments/{NAME}/environment.yaml"])
    assert record["deletion"]["requestedBy"] == "test" and record["retry"]["count"] == 1
    assert not [p for p in platform if "/infrastructure/" in p and p.endswith(".yaml")], "no Workspace came back"
    world.cluster.deletion_delay = dt.timedelta(seconds=1)
    assert reconciler.run(NAME, wait=True, timeout=WAIT, poll_interval=1).decision.phase is Phase.DELETED


def test_destroy_withdraws_an_open_update_and_nothing_comes_back(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    # An update pushed and opened, then the process died before merging it.
    changed = with_parameter(0, "allocatedStorage", 80)
    platform, _ = world.forges()
    observation = reconciler.observe(NAME, changed)
    from bot.reconcile.decide import decide

    (update,) = decide(observation, reconciler.settings, reconciler.policy).proposals
    from bot.forge.model import FileChange

    title = WORDING.title(update.purpose)
    platform.push_commit(update.branch, "main", [FileChange.write(p, c) for p, c in update.writes], title)
    platform.ensure_pull_request(update.branch, "main", title, WORDING.body(update.purpose))
    reconciler.request_deletion(NAME, requested_by="test")
    assert reconciler.run(NAME, wait=True, timeout=WAIT, poll_interval=1).decision.phase is Phase.DELETED
    assert [pr.state for pr in world.pull_requests("platform") if pr.title == title] == ["closed"]
    # Later scheduled runs find nothing to revive.
    later = world.reconciler()
    assert later.environments() == ()
    assert later.run(NAME, wait=True, timeout=WAIT, poll_interval=1).decision.phase is Phase.DELETED
    assert not any(p.startswith("registry/") for p in world.main_files("platform"))
    assert not (LocalForge(world.platform_path).branch_names() - {"main"})
    assert not (LocalForge(world.apps_path).branch_names() - {"main"})


def test_a_merge_is_refused_when_the_record_changed_since_the_decision(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    stale = reconciler.observe(NAME, with_parameter(2, "replicas", 4))
    reconciler.request_deletion(NAME, requested_by="test")  # the record now carries the deletion
    from bot.reconcile.decide import decide

    decision = decide(stale, reconciler.settings, reconciler.policy)
    (proposal,) = decision.proposals
    outcome = reconciler._carry_out(NAME, proposal)
    assert outcome.progress.value == "superseded"
    assert [pr.state for pr in world.pull_requests("platform")] == ["merged", "merged", "open"]
    record = world.main_files("platform")[f"registry/environments/{NAME}/environment.yaml"]
    assert "deletion:" in record and "replicas: 4" not in record


def test_status_names_an_open_pull_request_by_its_number(tmp_path: Path) -> None:
    from bot.report.status import status_row
    from tests.reconcile.test_lifecycle import checked_reconciler

    world = make_world(tmp_path)
    reconciler = checked_reconciler(world, {"state": "pending"})
    reconciler.step(NAME, seed_environment())  # the first PR waits on its checks
    (decision,) = reconciler.decisions([NAME])
    assert status_row(decision).pull_request_texts == ("platform #1 (open)",)
    # envbot status weighs it, reading only: it names what the merge waits on
    (row,) = [status_row(decision, reconciler.review_open(decision))]
    (line,) = row.pull_request_texts
    assert line.endswith('(checks-pending): waiting on status "ci/plan": terraform plan'), line
    assert row.as_json()["blockers"] == [
        {"pullRequest": line.split(":")[0], "kind": "pending", "text": 'waiting on status "ci/plan": terraform plan',
         "url": None}
    ]  # fmt: skip


def test_destroy_while_provisioning_closes_the_gated_app_pull_request(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    reconciler.run(NAME, seed_environment())  # phase 1 merged; the gated app PR is open, Workspaces not Available
    assert [pr.state for pr in world.pull_requests("apps")] == ["open"]
    reconciler.request_deletion(NAME, requested_by="test")
    assert reconciler.run(NAME, wait=True, timeout=WAIT, poll_interval=1).decision.phase is Phase.DELETED
    (gated,) = world.pull_requests("apps")
    assert gated.state == "closed"
    assert not (LocalForge(world.apps_path).branch_names() - {"main"})


def test_branches_a_crash_kept_after_their_merge_go_once_the_environment_is_deleted(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    platform, _ = world.forges()
    platform.push_commit(f"envbot/{NAME}/cleanup-infrastructure", "main", [], "left by a crash")
    reconciler.request_deletion(NAME, requested_by="test")
    assert reconciler.run(NAME, wait=True, timeout=WAIT, poll_interval=1).decision.phase is Phase.DELETED
    assert LocalForge(world.platform_path).branch_names() == {"main"}
    assert LocalForge(world.apps_path).branch_names() == {"main"}


def test_an_application_whose_helm_values_changed_is_stale_until_argo_cd_compares_them() -> None:
    from bot.cluster.model import observe_raw
    from bot.reconcile.verdicts import ApplicationState, application_verdict

    source = {"repoURL": "https://charts.example", "chart": "web", "targetRevision": "1.2.0"}
    raw = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd", "generation": 3},
        "spec": {"source": {**source, "helm": {"values": "replicaCount: 3\n"}}},
        "status": {
            "sync": {"status": "Synced", "comparedTo": {"source": {**source, "helm": {"values": "replicaCount: 2\n"}}}},
            "health": {"status": "Healthy"},
        },
    }
    verdict = application_verdict(observe_raw(raw, APPLICATION), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert verdict.state is ApplicationState.STALE
    raw["status"]["sync"]["comparedTo"]["source"]["helm"]["values"] = "replicaCount: 3\n"  # type: ignore[index]
    compared = application_verdict(observe_raw(raw, APPLICATION), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert compared.state is ApplicationState.HEALTHY


def test_ready_after_an_infrastructure_update_counts_from_the_update(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    world.clock.advance(dt.timedelta(hours=1))
    started = world.clock.now
    updated = provision(reconciler, with_parameter(0, "allocatedStorage", 50))
    assert updated.decision.phase is Phase.READY
    assert updated.decision.since is not None and updated.decision.since >= started
