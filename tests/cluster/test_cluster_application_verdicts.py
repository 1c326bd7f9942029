"""Application verdicts from real Argo CD status shapes, one named table row per verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from kube_schemas import validate, validate_upstream

from bot.cluster import APPLICATION
from bot.cluster.model import observe_raw
from bot.reconcile.verdicts import ApplicationState, VerdictOutcome, VerdictPolicy, application_verdict

from .cluster_support import NOW, OLD_SHA, ago, app_condition, app_resource, application

APPLY_FAILED = (
    'one or more objects failed to apply, reason: Deployment.apps "web" is invalid: '
    "spec.template.spec.containers[0].image: Required value"
)
COMPARISON_ERROR = (
    "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
    "desc = registry/environments/pr-42/in-cluster/web: app path does not exist"
)
ARGO_FINALIZER = "resources-finalizer.argocd.argoproj.io"

ROWS = [
    pytest.param(
        application("web"),
        ApplicationState.HEALTHY,
        VerdictOutcome.DONE,
        ["Synced and Healthy at revision 4f2c9d0"],
        id="healthy",
    ),
    pytest.param(
        application("web", status=False),
        ApplicationState.PENDING,
        VerdictOutcome.WAITING,
        ["no status", "project exists"],
        id="missing-status",
    ),
    pytest.param(
        application("web", health="Progressing", health_message="Waiting for rollout to finish"),
        ApplicationState.PROGRESSING,
        VerdictOutcome.WAITING,
        ["still rolling out", "Waiting for rollout to finish"],
        id="progressing",
    ),
    pytest.param(
        application("web", health="Degraded", health_message='Deployment "web" exceeded its progress deadline'),
        ApplicationState.DEGRADED,
        VerdictOutcome.FAILED,
        ["Degraded", "exceeded its progress deadline", "argocd app get web"],
        id="degraded",
    ),
    pytest.param(
        application(
            "web",
            health="Degraded",
            resources=[
                app_resource("Service", "web", "Healthy"),
                app_resource("Deployment", "web", "Degraded", 'Deployment "web" exceeded its progress deadline'),
                app_resource("Job", "migrate", "Degraded", "Job has reached the specified backoff limit"),
            ],
        ),
        ApplicationState.DEGRADED,
        VerdictOutcome.FAILED,
        [
            'Deployment pr-42/web: Deployment "web" exceeded its progress deadline',
            "Job pr-42/migrate: Job has reached the specified backoff limit",
        ],
        id="degraded-names-its-failed-resources",
    ),
    pytest.param(
        application(
            "web",
            health="Progressing",
            resources=[app_resource("Deployment", "web", "Progressing", "Waiting for rollout to finish")],
        ),
        ApplicationState.PROGRESSING,
        VerdictOutcome.WAITING,
        ["Deployment pr-42/web: Waiting for rollout to finish"],
        id="progressing-names-its-resources",
    ),
    pytest.param(
        application("web", sync="OutOfSync", health="Missing", phase=None),
        ApplicationState.MISSING,
        VerdictOutcome.WAITING,
        ["do not exist in the destination yet"],
        id="missing",
    ),
    pytest.param(
        application("web", health="Suspended"),
        ApplicationState.SUSPENDED,
        VerdictOutcome.HELD,
        ["Suspended", "resume it"],
        id="suspended",
    ),
    pytest.param(
        application("web", health="Unknown"),
        ApplicationState.UNKNOWN,
        VerdictOutcome.WAITING,
        ["health Unknown"],
        id="unknown-health",
    ),
    pytest.param(
        application("web", sync="OutOfSync", health="Healthy"),
        ApplicationState.OUT_OF_SYNC,
        VerdictOutcome.WAITING,
        ["OutOfSync with git", "waiting for Argo CD to sync"],
        id="out-of-sync",
    ),
    pytest.param(
        application(
            "web",
            sync="OutOfSync",
            health="Missing",
            phase="Failed",
            op_message=APPLY_FAILED,
            retry_count=5,
        ),
        ApplicationState.SYNC_FAILED,
        VerdictOutcome.FAILED,
        ["the last sync failed at revision 4f2c9d0 after 5 retries", APPLY_FAILED],
        id="operation-failed",
    ),
    pytest.param(
        application("web", sync="Unknown", health="Healthy", phase="Error", op_message=COMPARISON_ERROR),
        ApplicationState.SYNC_ERROR,
        VerdictOutcome.FAILED,
        ["the last sync hit an error", "app path does not exist"],
        id="operation-error",
    ),
    pytest.param(
        application("web", phase="Failed", op_message="one or more synchronization tasks completed unsuccessfully"),
        ApplicationState.SYNC_FAILED,
        VerdictOutcome.FAILED,
        ["synchronization tasks completed unsuccessfully"],
        id="operation-failed-although-synced-and-healthy",  # e.g. a PostSync hook (a migration Job) failed
    ),
    pytest.param(
        application(
            "web", sync="OutOfSync", health="Healthy", phase="Failed", op_message=APPLY_FAILED, op_revision=OLD_SHA
        ),
        ApplicationState.OUT_OF_SYNC,
        VerdictOutcome.WAITING,
        ["OutOfSync"],
        id="failure-of-an-older-revision-is-not-current",
    ),
    pytest.param(
        application(
            "web", sync="OutOfSync", health="Progressing", phase="Running", op_message="waiting for healthy state"
        ),
        ApplicationState.SYNCING,
        VerdictOutcome.WAITING,
        ["a sync is running for 3m", "waiting for healthy state"],
        id="operation-running",
    ),
    pytest.param(
        application(
            "web",
            sync="Unknown",
            health="Healthy",
            phase=None,
            conditions=[app_condition("ComparisonError", COMPARISON_ERROR, at=ago(minutes=2))],
        ),
        ApplicationState.FAILING,
        VerdictOutcome.WAITING,
        ["ComparisonError for 2m", "Failed after 10m", "app path does not exist"],
        id="error-condition-within-grace",
    ),
    pytest.param(
        application(
            "web",
            sync="Unknown",
            health="Healthy",
            phase=None,
            conditions=[app_condition("ComparisonError", COMPARISON_ERROR, at=ago(minutes=45))],
        ),
        ApplicationState.FAILED,
        VerdictOutcome.FAILED,
        ["ComparisonError for 45m", "past the 10m grace period"],
        id="error-condition-past-grace",
    ),
    pytest.param(
        application(
            "web",
            conditions=[app_condition("SharedResourceWarning", "ConfigMap/x is part of applications a and b")],
        ),
        ApplicationState.HEALTHY,
        VerdictOutcome.DONE,
        ["Synced and Healthy"],
        id="warnings-do-not-block",
    ),
    pytest.param(
        application("web", compared_path="registry/environments/pr-42/in-cluster/old-web"),
        ApplicationState.STALE,
        VerdictOutcome.WAITING,
        ["has not compared the new one yet"],
        id="healthy-for-a-source-it-no-longer-has",
    ),
    pytest.param(
        application("web", deleting_since=ago(minutes=1)),
        ApplicationState.DELETING,
        VerdictOutcome.WAITING,
        ["deleting for 1m", "Argo CD's deletion of the app's resources", ARGO_FINALIZER],
        id="deleting",
    ),
    pytest.param(
        application(
            "web",
            deleting_since=ago(hours=3),
            conditions=[app_condition("DeletionError", 'namespaces "pr-42" is forbidden')],
        ),
        ApplicationState.STUCK_DELETING,
        VerdictOutcome.FAILED,
        ["stuck deleting for 3h00m", f"finalizers: {ARGO_FINALIZER}", "is forbidden"],
        id="stuck-deleting-with-finalizers",
    ),
]


@pytest.mark.parametrize(("raw", "state", "outcome", "phrases"), ROWS)
def test_application_verdict(
    raw: dict[str, Any], state: ApplicationState, outcome: VerdictOutcome, phrases: list[str]
) -> None:
    validate(raw)  # every row is a shape the CRD facts accept (and the upstream CRD: see the conformance test)
    verdict = application_verdict(observe_raw(raw, APPLICATION), NOW)
    assert verdict.state is state, verdict.reason
    assert verdict.outcome is outcome
    for phrase in phrases:
        assert phrase in verdict.reason, f"{phrase!r} not in {verdict.reason!r}"
    assert str(verdict).startswith("applications.argoproj.io/web -n argocd: ")


def test_operation_failure_keeps_argo_cds_words_as_detail() -> None:
    raw = application("web", sync="OutOfSync", health="Missing", phase="Failed", op_message=APPLY_FAILED)
    verdict = application_verdict(observe_raw(raw, APPLICATION), NOW)
    assert verdict.detail == APPLY_FAILED
    assert verdict.since == NOW - dt.timedelta(minutes=2)


def test_error_condition_grace_is_the_same_policy_as_workspaces() -> None:
    raw = application(
        "web",
        sync="Unknown",
        health="Healthy",
        phase=None,
        conditions=[app_condition("InvalidSpecError", "application destination is not permitted in project")],
    )
    obj = observe_raw(raw, APPLICATION)
    assert application_verdict(obj, NOW).state is ApplicationState.FAILING
    immediate = VerdictPolicy(failure_grace=dt.timedelta(0))
    assert application_verdict(obj, NOW, immediate).state is ApplicationState.FAILED


def test_rows_are_shapes_the_upstream_crd_accepts(fixtures_dir: Any) -> None:
    for row in ROWS:
        raw = row.values[0]
        assert isinstance(raw, dict)
        validate_upstream(raw)


def test_upstream_example_application_without_status_is_pending(fixtures_dir: Any) -> None:
    import yaml

    raw = yaml.safe_load((fixtures_dir / "crds/examples/argo-cd/operator-manual/application.yaml").read_text())
    verdict = application_verdict(observe_raw(raw, APPLICATION), NOW)
    assert verdict.state is ApplicationState.PENDING
    assert verdict.object.namespace == "argocd"
