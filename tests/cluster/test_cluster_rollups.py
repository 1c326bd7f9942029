"""Environment rollups: all Available/Healthy, which object blocks and why, which expected ones are missing."""

from __future__ import annotations

from bot.cluster import APPLICATION, WORKSPACE
from bot.cluster.model import ObservedObject, observe_raw
from bot.reconcile.verdicts import (
    ApplicationState,
    VerdictOutcome,
    WorkspaceState,
    application_rollup,
    deletion_rollup,
    workspace_rollup,
)

from .cluster_support import NOW, ago, application, cond, ready, synced, workspace


def ws(*args: object, **kwargs: object) -> ObservedObject:
    return observe_raw(workspace(*args, **kwargs), WORKSPACE)  # type: ignore[arg-type]


def app(*args: object, **kwargs: object) -> ObservedObject:
    return observe_raw(application(*args, **kwargs), APPLICATION)  # type: ignore[arg-type]


CREATING = [cond("Ready", "False", "Creating", at=ago(minutes=2)), synced()]
ERROR = [ready(), cond("Synced", "False", "ReconcileError", at=ago(hours=1), message="apply failed: quota")]


def test_all_available() -> None:
    result = workspace_rollup("pr-42", [ws("pr-42-rds"), ws("pr-42-s3")], ["pr-42-rds", "pr-42-s3"], now=NOW)
    assert result.outcome is VerdictOutcome.DONE
    assert result.done
    assert result.blocking is None
    assert result.missing == ()
    assert result.summary == "all 2 Workspaces Available"


def test_one_creating_blocks_and_is_named() -> None:
    result = workspace_rollup(
        "pr-42", [ws("pr-42-rds", conditions=CREATING), ws("pr-42-s3")], ["pr-42-rds", "pr-42-s3"], now=NOW
    )
    assert result.outcome is VerdictOutcome.WAITING
    assert result.blocking is not None
    assert result.blocking.object.name == "pr-42-rds"
    assert result.blocking.state is WorkspaceState.CREATING
    assert result.summary.startswith("1/2 Workspaces Available; waiting on workspaces.tf.upbound.io/pr-42-rds:")


def test_failure_wins_over_waiting_and_is_the_blocker() -> None:
    result = workspace_rollup(
        "pr-42",
        [ws("pr-42-a", conditions=CREATING), ws("pr-42-b", conditions=ERROR), ws("pr-42-c")],
        ["pr-42-a", "pr-42-b", "pr-42-c"],
        now=NOW,
    )
    assert result.outcome is VerdictOutcome.FAILED
    assert result.failed
    assert result.blocking is not None
    assert result.blocking.object.name == "pr-42-b"
    assert "apply failed: quota" in result.summary
    assert result.summary.startswith("workspaces.tf.upbound.io/pr-42-b: ")


def test_expected_but_absent_objects_are_missing_and_keep_it_waiting() -> None:
    result = workspace_rollup("pr-42", [ws("pr-42-rds")], ["pr-42-rds", "pr-42-s3", "pr-42-dns"], now=NOW)
    assert result.outcome is VerdictOutcome.WAITING
    assert result.missing == ("pr-42-s3", "pr-42-dns")
    assert result.blocking is None
    assert "1/3 Workspaces Available" in result.summary
    assert "2 missing (pr-42-s3, pr-42-dns)" in result.summary


def test_unexpected_objects_are_reported_but_do_not_block() -> None:
    result = workspace_rollup("pr-42", [ws("pr-42-rds"), ws("pr-42-old", conditions=ERROR)], ["pr-42-rds"], now=NOW)
    assert result.done
    assert [v.object.name for v in result.unexpected] == ["pr-42-old"]


def test_held_application_is_its_own_outcome() -> None:
    result = application_rollup("pr-42", [app("web"), app("worker", health="Suspended")], ["web", "worker"], now=NOW)
    assert result.outcome is VerdictOutcome.HELD
    assert result.blocking is not None
    assert result.blocking.state is ApplicationState.SUSPENDED
    assert result.summary.startswith("applications.argoproj.io/worker -n argocd: health is Suspended")


def test_applications_all_healthy_and_degraded() -> None:
    assert application_rollup("pr-42", [app("web"), app("api")], ["web", "api"], now=NOW).summary == (
        "all 2 Applications Healthy"
    )
    degraded = application_rollup("pr-42", [app("web"), app("api", health="Degraded")], ["web", "api"], now=NOW)
    assert degraded.failed
    assert degraded.blocking is not None
    assert degraded.blocking.object.name == "api"


def test_nothing_expected_and_nothing_present() -> None:
    result = application_rollup("pr-42", [], [], now=NOW)
    assert result.done
    assert result.summary == "no Applications expected"


def test_without_expected_names_every_object_counts() -> None:
    result = workspace_rollup("pr-42", [ws("pr-42-rds", conditions=CREATING)], now=NOW)
    assert result.outcome is VerdictOutcome.WAITING
    assert result.missing == ()


def test_cleanup_is_done_when_nothing_is_left() -> None:
    result = deletion_rollup("pr-42", [], kind="Application", now=NOW)
    assert result.done
    assert result.summary == "all Applications deleted"


def test_cleanup_waits_for_objects_still_present_or_deleting() -> None:
    result = deletion_rollup(
        "pr-42",
        [app("web", deleting_since=ago(minutes=3)), app("api")],
        kind="Application",
        now=NOW,
    )
    assert result.outcome is VerdictOutcome.WAITING
    states = {v.object.name: v.state for v in result.verdicts}
    assert states == {"api": ApplicationState.AWAITING_DELETION, "web": ApplicationState.DELETING}
    assert result.summary.startswith("2 Applications left; waiting on ")


def test_cleanup_stuck_deletion_fails_with_its_finalizers() -> None:
    result = deletion_rollup("pr-42", [ws("pr-42-rds", deleting_since=ago(hours=4))], kind="Workspace", now=NOW)
    assert result.failed
    assert result.blocking is not None
    assert result.blocking.state is WorkspaceState.STUCK_DELETING
    assert result.blocking.finalizers == ("finalizer.managedresource.crossplane.io",)
    assert result.summary.startswith("1 Workspace left; workspaces.tf.upbound.io/pr-42-rds: stuck deleting")
