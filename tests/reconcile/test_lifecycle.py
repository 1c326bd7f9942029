"""End to end on real bare repositories and the simulated cluster: phases, order, updates, failure, cleanup."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from project_paths import EXAMPLES

from bot.catalog.model import CatalogSet
from bot.environment.model import Environment
from bot.errors import UserError
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass, Reconciler
from bot.reconcile.verdicts import VerdictPolicy
from tests.reconcile.harness import (
    Budget,
    Checkpoint,
    World,
    environment,
    make_world,
    seed_environment,
)

NAME = "dev-feature-auth"


def provision(reconciler: Reconciler, request: Environment | None = None, poll: float = 1) -> Pass:
    return reconciler.run(
        NAME, request or seed_environment(), wait=True, timeout=dt.timedelta(minutes=30), poll_interval=poll
    )


def destroy(reconciler: Reconciler) -> Pass:
    reconciler.request_deletion(NAME, requested_by="test")
    return reconciler.run(NAME, wait=True, timeout=dt.timedelta(minutes=5), poll_interval=1)


def test_full_lifecycle_goes_through_every_phase_in_order(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    phases: list[Phase] = []

    def seen(current: Pass) -> None:
        if not phases or phases[-1] is not current.decision.phase:
            phases.append(current.decision.phase)

    reconciler = world.reconciler()
    ready = reconciler.run(NAME, seed_environment(), wait=True, poll_interval=1, on_pass=seen)
    assert ready.decision.phase is Phase.READY
    reconciler.request_deletion(NAME, requested_by="test")
    deleted = reconciler.run(NAME, wait=True, poll_interval=1, on_pass=seen)
    assert deleted.decision.phase is Phase.DELETED
    assert phases == [
        Phase.CREATING,
        Phase.PROVISIONING_INFRASTRUCTURE,
        Phase.INFRASTRUCTURE_READY,
        Phase.DEPLOYING_APPLICATIONS,
        Phase.READY,
        Phase.DELETING,
        Phase.DELETED,
    ]
    assert world.history("platform") == [
        "Initial commit",
        f"Merge pull request #1 from envbot/{NAME}/infrastructure: envbot: {NAME}: infrastructure",
        f"Merge pull request #2 from envbot/{NAME}/destroy: envbot: {NAME}: request deletion",
        f"Merge pull request #3 from envbot/{NAME}/cleanup-infrastructure: envbot: {NAME}: remove infrastructure",
        f"Merge pull request #4 from envbot/{NAME}/remove-record: envbot: {NAME}: remove environment record",
    ]
    assert world.history("apps") == [
        "Initial commit",
        f"Merge pull request #1 from envbot/{NAME}/applications: envbot: {NAME}: applications",
        f"Merge pull request #2 from envbot/{NAME}/cleanup-applications: envbot: {NAME}: remove applications",
        f"Merge pull request #3 from envbot/{NAME}/remove-folders: envbot: {NAME}: remove folders",
    ]
    assert set(world.main_files("platform")) == {"README.md"}
    assert set(world.main_files("apps")) == {"README.md"}


def test_infrastructure_merges_before_apps_and_apps_go_before_infrastructure(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    order: list[tuple[str, str]] = []

    def seen(current: Pass) -> None:
        for outcome in current.outcomes:
            if outcome.progress.value == "merged":
                order.append((outcome.proposal.repo.value, outcome.proposal.step.value))

    reconciler.run(NAME, seed_environment(), wait=True, poll_interval=1, on_pass=seen)
    reconciler.request_deletion(NAME, requested_by="test")
    reconciler.run(NAME, wait=True, poll_interval=1, on_pass=seen)
    assert order == [
        ("platform", "infrastructure"),
        ("apps", "applications"),
        ("apps", "cleanup-applications"),
        ("platform", "cleanup-infrastructure"),
        ("apps", "remove-folders"),
        ("platform", "remove-record"),
    ]


def test_the_app_pull_request_waits_on_the_infrastructure_gate(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    reconciler.run(NAME, seed_environment())  # no waiting: phase 1 merged, Workspaces not Available yet
    (app_pr,) = world.pull_requests("apps")
    assert app_pr.state == "open"
    _, apps = world.forges()
    gate = apps.commit_status(app_pr.head_sha).get("envbot/infrastructure")
    assert gate is not None and gate.state == "pending"
    app_files = apps.list_tree("registry/environments", f"envbot/{NAME}/applications")
    assert not any("sample-app" in path for path in app_files), "sample-app waits on the RDS endpoint"
    final = provision(reconciler)
    assert final.decision.phase is Phase.READY
    (merged,) = world.pull_requests("apps")
    assert merged.state == "merged"
    assert apps.commit_status(merged.head_sha).get("envbot/infrastructure").state == "success"  # type: ignore[union-attr]
    sample = world.main_files("apps")[f"registry/environments/{NAME}/dev-cluster/sample-app.yaml"]
    endpoint = world.catalogs.catalogs["rds-postgres"].outputs["endpoint"].example
    assert endpoint in sample


def test_yaml_only_environment_skips_infrastructure(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = environment(
        {"name": "apps-only", "catalogs": [{"name": "sample-app", "parameters": {"databaseEndpoint": "db.example"}}]}
    )
    final = world.reconciler().run("apps-only", request, wait=True, poll_interval=1)
    assert final.decision.phase is Phase.READY
    assert not any("/infrastructure/" in p for p in world.main_files("platform"))


def test_iac_only_environment_skips_applications(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = environment(
        {"name": "bucket", "catalogs": [{"name": "s3-bucket", "parameters": {"bucketName": "b-one"}}]}
    )
    final = world.reconciler().run("bucket", request, wait=True, poll_interval=1)
    assert final.decision.phase is Phase.READY
    assert world.pull_requests("apps") == []


def test_changed_parameters_go_through_an_update_pull_request(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    document = yaml.safe_load((EXAMPLES / "dev-feature-auth.yaml").read_text())
    document["catalogs"][0]["parameters"]["allocatedStorage"] = 50
    document["catalogs"][2]["parameters"]["replicas"] = 3
    updated = environment({k: v for k, v in document.items() if k != "kind"})
    assert provision(reconciler, updated).decision.phase is Phase.READY
    titles = [pr.title for pr in world.pull_requests("platform")]
    assert titles == [f"envbot: {NAME}: infrastructure", f"envbot: {NAME}: infrastructure update"]
    workspace = world.main_files("platform")[f"registry/environments/{NAME}/infrastructure/rds-postgres.yaml"]
    assert "allocated_storage: 50" in workspace
    assert "replicaCount: 3" in world.main_files("apps")[f"registry/environments/{NAME}/dev-cluster/sample-app.yaml"]
    # A rerun with nothing changed writes nothing.
    before = world.history("platform"), world.history("apps")
    provision(reconciler, updated)
    assert (world.history("platform"), world.history("apps")) == before


def test_failing_workspace_makes_the_environment_failed_and_retry_reenters(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert world.cluster is not None
    policy = VerdictPolicy(failure_grace=dt.timedelta(minutes=5))
    reconciler = world.reconciler(policy=policy)
    world.cluster.fail_workspaces = {f"{NAME}-rds-postgres": "apply failed: InvalidParameterCombination"}
    final = provision(reconciler, poll=30)
    assert final.decision.phase is Phase.FAILED
    assert f"{NAME}-rds-postgres" in final.decision.waiting_on
    assert "InvalidParameterCombination" in (final.decision.failure or "")
    outcome = reconciler.request_retry(NAME, requested_by="test")
    assert outcome is not None and outcome.progress.value == "merged"
    world.cluster.fail_workspaces = {}  # the person fixed the cause; the retry gives Terraform a new generation
    final = provision(reconciler)
    assert final.decision.phase is Phase.READY
    workspace = world.main_files("platform")[f"registry/environments/{NAME}/infrastructure/rds-postgres.yaml"]
    assert 'envbot.io/retry: "1"' in workspace
    with pytest.raises(UserError, match="is Ready, not Failed"):
        reconciler.request_retry(NAME, requested_by="test")


def lifecycle_state(world: World) -> tuple[object, ...]:
    return (
        [(pr.title, pr.state) for pr in world.pull_requests("platform")],
        [(pr.title, pr.state) for pr in world.pull_requests("apps")],
        world.history("platform"),
        world.history("apps"),
    )


CRASH_SHARDS = 7
"""The crash points are dealt round-robin over this many tests, so parallel workers share them."""


@dataclass(frozen=True)
class ReferenceLifecycle:
    """A provision and destroy with no crash: the state every crashed run must end in, the world as it stood right
    after each write (what a crash there leaves behind), and how many of those writes the provision made."""

    catalogs: CatalogSet
    expected: tuple[object, ...]
    after_write: dict[int, Checkpoint]
    provision_writes: int


@pytest.fixture(scope="module")
def reference_lifecycle(tmp_path_factory: pytest.TempPathFactory) -> ReferenceLifecycle:
    root = tmp_path_factory.mktemp("reference")
    reference = make_world(root / "world")
    after_write: dict[int, Checkpoint] = {}
    counter = Budget(after_each=lambda n: after_write.__setitem__(n, reference.checkpoint(root / f"after-{n}")))
    assert provision(reference.reconciler(counter)).decision.phase is Phase.READY
    provision_writes = counter.spent
    assert destroy(reference.reconciler(counter)).decision.phase is Phase.DELETED
    assert provision_writes >= 5 and counter.spent - provision_writes >= 5
    return ReferenceLifecycle(reference.catalogs, lifecycle_state(reference), after_write, provision_writes)


@pytest.mark.parametrize("shard", range(CRASH_SHARDS))
def test_a_crash_after_any_single_action_converges_without_duplicates(
    tmp_path: Path, reference_lifecycle: ReferenceLifecycle, shard: int
) -> None:
    """The process dies right after write N (whatever it was doing, it did no more) and is started again with the
    same command: from the world as that write left it, every N ends in the reference's pull requests and history."""
    crash_points = sorted(reference_lifecycle.after_write)[shard::CRASH_SHARDS]
    assert crash_points, "more shards than writes: lower CRASH_SHARDS"
    for crash_after in crash_points:
        checkpoint = reference_lifecycle.after_write[crash_after]
        world = checkpoint.restore(tmp_path / f"crash-{crash_after}", reference_lifecycle.catalogs)
        if crash_after <= reference_lifecycle.provision_writes:  # died while provisioning: provision again
            assert provision(world.reconciler()).decision.phase is Phase.READY
        assert destroy(world.reconciler()).decision.phase is Phase.DELETED
        assert lifecycle_state(world) == reference_lifecycle.expected, (
            f"crash after action {crash_after} left a different history"
        )


def test_the_checkpoints_restore_the_world_as_it_was(tmp_path: Path, reference_lifecycle: ReferenceLifecycle) -> None:
    """A restored checkpoint is the world, not a likeness: after the last write it is the reference's end state."""
    last = reference_lifecycle.after_write[max(reference_lifecycle.after_write)]
    world = last.restore(tmp_path / "restored", reference_lifecycle.catalogs)
    assert lifecycle_state(world) == reference_lifecycle.expected
    first = reference_lifecycle.after_write[1].restore(tmp_path / "first", reference_lifecycle.catalogs)
    assert [pr.state for pr in first.pull_requests("platform")] in ([], ["open"])
    assert first.clock.now <= world.clock.now


def test_two_reconcilers_racing_make_one_pull_request_per_phase(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = seed_environment()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def race() -> None:
        reconciler = world.reconciler()
        try:
            barrier.wait()
            for _ in range(3):
                reconciler.step(NAME, request)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert provision(world.reconciler()).decision.phase is Phase.READY
    assert [pr.title for pr in world.pull_requests("platform")] == [f"envbot: {NAME}: infrastructure"]
    assert [pr.title for pr in world.pull_requests("apps")] == [f"envbot: {NAME}: applications"]
    assert len(world.history("platform")) == 2 and len(world.history("apps")) == 2


def test_destroying_an_environment_that_is_gone_reports_it_deleted(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = world.reconciler()
    assert reconciler.request_deletion("nope", requested_by="test") is None
    final = reconciler.run("nope", wait=True)
    assert final.decision.phase is Phase.DELETED
    assert final.decision.waiting_on == "no record, no pull request merged and nothing in the cluster"
    assert world.pull_requests("platform") == []


def test_a_changed_output_re_renders_the_app_pull_request(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert world.cluster is not None
    reconciler = world.reconciler()
    assert provision(reconciler).decision.phase is Phase.READY
    world.cluster.output_overrides = {f"{NAME}-rds-postgres": {"endpoint": "db-replacement.internal"}}
    assert provision(reconciler).decision.phase is Phase.READY
    assert [pr.title for pr in world.pull_requests("apps")] == [
        f"envbot: {NAME}: applications",
        f"envbot: {NAME}: applications update",
    ]
    sample = world.main_files("apps")[f"registry/environments/{NAME}/dev-cluster/sample-app.yaml"]
    assert "value: db-replacement.internal" in sample


def test_a_hybrid_catalog_deploys_in_both_phases(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    request = environment({"name": "cache", "catalogs": [{"name": "redis-cache", "parameters": {"vpcId": "vpc-0abc"}}]})
    order: list[str] = []

    def seen(current: Pass) -> None:
        order.extend(o.proposal.step.value for o in current.outcomes if o.progress.value == "merged")

    final = world.reconciler().run("cache", request, wait=True, poll_interval=1, on_pass=seen)
    assert final.decision.phase is Phase.READY
    assert order == ["infrastructure", "applications"]
    app = world.main_files("apps")["registry/environments/cache/in-cluster/redis-cache.yaml"]
    endpoint = world.catalogs.catalogs["redis-cache"].outputs["primaryEndpoint"].example
    assert endpoint in app


class CheckingForge:
    """The platform repository with a CI that reports ``ci/plan`` on every pushed infrastructure head."""

    def __init__(self, inner: Any, verdict: dict[str, str]) -> None:
        self._inner = inner
        self._verdict = verdict

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def push_commit(self, branch: str, base: str, changes: Any, message: str, **options: Any) -> Any:
        result = self._inner.push_commit(branch, base, changes, message, **options)
        if branch.endswith("/infrastructure") and result.has_diff:
            self._inner.set_status(result.sha, "ci/plan", self._verdict["state"], "terraform plan")
        return result


def checked_reconciler(world: World, verdict: dict[str, str]) -> Reconciler:
    reconciler = world.reconciler()
    reconciler.platform = CheckingForge(reconciler.platform, verdict)  # type: ignore[assignment]
    return reconciler


def test_a_first_pull_request_waiting_on_checks_is_picked_up_by_later_runs(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    verdict = {"state": "pending"}
    first = checked_reconciler(world, verdict).step(NAME, seed_environment())
    assert first.outcomes[0].progress.value == "checks-pending"
    later = checked_reconciler(world, verdict)  # a scheduled run: no request, no record on main yet
    assert later.environments() == (NAME,)
    assert later.step(NAME).decision.phase is Phase.CREATING
    (pr,) = world.pull_requests("platform")
    platform, _ = world.forges()
    platform.set_status(pr.head_sha, "ci/plan", "success", "plan ok")
    verdict["state"] = "success"
    assert later.run(NAME, wait=True, poll_interval=1).decision.phase is Phase.READY
    assert [p.state for p in world.pull_requests("platform")] == ["merged"]


def test_destroying_a_never_merged_environment_withdraws_its_pull_request(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    reconciler = checked_reconciler(world, {"state": "pending"})
    reconciler.step(NAME, seed_environment())
    assert reconciler.request_deletion(NAME, requested_by="test") is None
    assert reconciler.run(NAME, wait=True).decision.phase is Phase.DELETED
    assert set(world.main_files("platform")) == {"README.md"}
