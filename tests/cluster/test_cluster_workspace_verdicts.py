"""Workspace verdicts from real provider-terraform condition shapes, one named table row per verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from kube_schemas import validate, validate_upstream

from bot.cluster import NAMESPACED_WORKSPACE, WORKSPACE
from bot.cluster.model import kind_of, observe_raw
from bot.reconcile.verdicts import VerdictOutcome, VerdictPolicy, WorkspaceState, workspace_verdict

from .cluster_support import NOW, ago, cond, ready, synced, workspace

PLAN_ERROR = "observe failed: cannot diff (i.e. plan) Terraform configuration: unsupported argument"
DESTROY_ERROR = "delete failed: cannot destroy Terraform configuration: Error: deleting S3 Bucket: BucketNotEmpty"
CROSSPLANE_FINALIZER = "finalizer.managedresource.crossplane.io"

ROWS = [
    pytest.param(
        workspace("pr-42-rds", generation=2, observed_generation=2),
        WorkspaceState.AVAILABLE,
        VerdictOutcome.DONE,
        ["Available and Synced at generation 2"],
        id="available",
    ),
    pytest.param(
        workspace("pr-42-rds", generation=3, conditions=[ready(generation=3), synced(generation=3)]),
        WorkspaceState.AVAILABLE,
        VerdictOutcome.DONE,
        ["generation 3"],
        id="available-with-condition-generations",
    ),
    pytest.param(
        workspace("pr-42-rds", status=False),
        WorkspaceState.PENDING,
        VerdictOutcome.WAITING,
        ["no Ready or Synced condition", "provider-terraform is installed"],
        id="missing-status",
    ),
    pytest.param(
        workspace("pr-42-rds", conditions=[]),
        WorkspaceState.PENDING,
        VerdictOutcome.WAITING,
        ["not reconciled yet"],
        id="empty-conditions",
    ),
    pytest.param(
        workspace("pr-42-rds", conditions=[synced()]),
        WorkspaceState.PENDING,
        VerdictOutcome.WAITING,
        ["no Ready condition"],
        id="synced-without-ready",
    ),
    pytest.param(
        workspace("pr-42-rds", conditions=[cond("Ready", "False", "Creating", at=ago(minutes=4)), synced()]),
        WorkspaceState.CREATING,
        VerdictOutcome.WAITING,
        ["terraform apply in progress", "for 4m"],
        id="creating",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[
                cond("Ready", "False", "Creating"),
                cond("Synced", "False", "ReconcileError", at=ago(minutes=3), message=PLAN_ERROR),
            ],
        ),
        WorkspaceState.FAILING,
        VerdictOutcome.WAITING,
        ["ReconcileError for 3m", "Failed after 10m unless it recovers", PLAN_ERROR],
        id="synced-false-reconcile-error-within-grace",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[
                cond("Ready", "False", "Creating"),
                cond("Synced", "False", "ReconcileError", at=ago(minutes=25), message=PLAN_ERROR),
            ],
        ),
        WorkspaceState.FAILED,
        VerdictOutcome.FAILED,
        ["ReconcileError for 25m", "past the 10m grace period", PLAN_ERROR, "Fix the Terraform module"],
        id="synced-false-reconcile-error-past-grace",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[
                ready(),
                cond("Synced", "False", "ReconcileError", at=ago(minutes=40), message=PLAN_ERROR),
            ],
        ),
        WorkspaceState.FAILED,
        VerdictOutcome.FAILED,
        [PLAN_ERROR],
        id="update-fails-while-still-ready",
    ),
    pytest.param(
        workspace("pr-42-rds", generation=4, observed_generation=3),
        WorkspaceState.STALE,
        VerdictOutcome.WAITING,
        ["generation 4", "last reported on generation 3"],
        id="stale-generation",
    ),
    pytest.param(
        workspace("pr-42-rds", generation=4, conditions=[ready(generation=3), synced(generation=3)]),
        WorkspaceState.STALE,
        VerdictOutcome.WAITING,
        ["generation 4", "generation 3"],
        id="stale-generation-on-conditions",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            generation=4,
            conditions=[
                ready(generation=3),
                cond("Synced", "False", "ReconcileError", at=ago(hours=2), message=PLAN_ERROR, generation=3),
            ],
        ),
        WorkspaceState.STALE,
        VerdictOutcome.WAITING,
        ["reconcile the change"],
        id="stale-error-from-an-older-generation-is-not-a-failure",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            generation=4,
            conditions=[
                ready(generation=3),
                cond("Synced", "False", "ReconcileError", at=ago(hours=2), message=PLAN_ERROR, generation=4),
            ],
        ),
        WorkspaceState.FAILED,
        VerdictOutcome.FAILED,
        [PLAN_ERROR],
        id="error-at-current-generation-with-older-ready",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            deleting_since=ago(minutes=2),
            conditions=[cond("Ready", "False", "Deleting"), synced()],
        ),
        WorkspaceState.DELETING,
        VerdictOutcome.WAITING,
        ["deleting for 2m", "terraform destroy", CROSSPLANE_FINALIZER],
        id="deleting",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            deleting_since=ago(hours=2),
            conditions=[
                cond("Ready", "False", "Deleting"),
                cond("Synced", "False", "ReconcileError", message=DESTROY_ERROR),
            ],
        ),
        WorkspaceState.STUCK_DELETING,
        VerdictOutcome.FAILED,
        ["stuck deleting for 2h00m", "limit 30m", f"finalizers: {CROSSPLANE_FINALIZER}", DESTROY_ERROR],
        id="stuck-deleting-with-finalizers",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[
                ready(),
                cond("Synced", "False", "ReconcilePaused", at=ago(hours=5)),
            ],
        ),
        WorkspaceState.PAUSED,
        VerdictOutcome.HELD,
        ["paused", "crossplane.io/paused"],
        id="paused",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[ready(), cond("Synced", "False", "ReconcileForbidden", at=ago(minutes=1))],
        ),
        WorkspaceState.FAILED,
        VerdictOutcome.FAILED,
        ["managementPolicies", "Update"],
        id="reconcile-forbidden",
    ),
    pytest.param(
        workspace("pr-42-rds", conditions=[ready()]),
        WorkspaceState.NOT_READY,
        VerdictOutcome.WAITING,
        ["Synced is absent"],
        id="ready-without-synced",
    ),
    pytest.param(
        workspace("pr-42-rds", conditions=[cond("Ready", "True", "Custom"), synced()]),
        WorkspaceState.NOT_READY,
        VerdictOutcome.WAITING,
        ["reason 'Custom'", "only reason 'Available'"],
        id="ready-with-another-reason",
    ),
    pytest.param(
        workspace(
            "pr-42-rds",
            conditions=[cond("Ready", "False", "Unavailable", message="terraform state drifted"), synced()],
        ),
        WorkspaceState.NOT_READY,
        VerdictOutcome.WAITING,
        ["Ready=False (Unavailable)", "terraform state drifted"],
        id="unavailable",
    ),
]


@pytest.mark.parametrize(("raw", "state", "outcome", "phrases"), ROWS)
def test_workspace_verdict(
    raw: dict[str, Any], state: WorkspaceState, outcome: VerdictOutcome, phrases: list[str]
) -> None:
    validate(raw)  # every row is a shape the CRD facts accept (and the upstream CRD: see the conformance test)
    obj = observe_raw(raw, WORKSPACE)
    verdict = workspace_verdict(obj, NOW)
    assert verdict.state is state, verdict.reason
    assert verdict.outcome is outcome
    assert verdict.object.name == "pr-42-rds"
    for phrase in phrases:
        assert phrase in verdict.reason, f"{phrase!r} not in {verdict.reason!r}"
    assert str(verdict).startswith("workspaces.tf.upbound.io/pr-42-rds: ")


def test_grace_period_is_configurable() -> None:
    raw = workspace(
        "pr-42-rds",
        conditions=[ready(), cond("Synced", "False", "ReconcileError", at=ago(minutes=3), message=PLAN_ERROR)],
    )
    obj = observe_raw(raw, WORKSPACE)
    assert workspace_verdict(obj, NOW).state is WorkspaceState.FAILING
    strict = VerdictPolicy(failure_grace=dt.timedelta(minutes=2))
    verdict = workspace_verdict(obj, NOW, strict)
    assert verdict.state is WorkspaceState.FAILED
    assert verdict.detail == PLAN_ERROR
    assert verdict.since == NOW - dt.timedelta(minutes=3)


def test_stuck_deleting_limit_is_configurable() -> None:
    raw = workspace("pr-42-rds", deleting_since=ago(minutes=10), finalizers=["a.example.com", "b.example.com"])
    obj = observe_raw(raw, WORKSPACE)
    assert workspace_verdict(obj, NOW).state is WorkspaceState.DELETING
    verdict = workspace_verdict(obj, NOW, VerdictPolicy(stuck_deleting_after=dt.timedelta(minutes=5)))
    assert verdict.state is WorkspaceState.STUCK_DELETING
    assert verdict.finalizers == ("a.example.com", "b.example.com")
    assert "a.example.com, b.example.com" in verdict.reason


def test_namespaced_workspace_is_judged_the_same_and_named_with_its_namespace() -> None:
    raw = workspace("pr-42-rds", namespace="team-a", generation=2, observed_generation=2)
    validate(raw)
    kind = kind_of(raw)
    assert kind is NAMESPACED_WORKSPACE
    verdict = workspace_verdict(observe_raw(raw, kind), NOW)
    assert verdict.state is WorkspaceState.AVAILABLE
    assert str(verdict.object) == "workspaces.tf.m.upbound.io/pr-42-rds -n team-a"


def test_rows_are_shapes_the_upstream_crds_accept(fixtures_dir: Any) -> None:
    for row in ROWS:
        raw = row.values[0]
        assert isinstance(raw, dict)
        validate_upstream(raw)
    validate_upstream(workspace("pr-42-rds", namespace="team-a", generation=2, observed_generation=2))


def test_provider_examples_without_status_are_pending(fixtures_dir: Any) -> None:
    """The upstream example manifests, as applied and not yet reconciled."""
    import yaml

    examples = sorted((fixtures_dir / "crds/examples/provider-terraform").rglob("workspace-*.yaml"))
    assert examples
    for path in examples:
        for raw in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            kind = kind_of(raw)
            if kind is None:
                continue
            verdict = workspace_verdict(observe_raw(raw, kind), NOW)
            assert verdict.state is WorkspaceState.PENDING, path
