"""The pure decision, table by table: each observation gives one phase, one wait, and the right proposals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import yaml
from manual_clock import START
from project_paths import CATALOGS

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.cluster.model import KNOWN_KINDS, ObservedObject, kind_of, observe_raw
from bot.environment import bind_environment
from bot.environment.model import SPEC_HASH_ANNOTATION, BoundEnvironment
from bot.environment.record import RecordedIntent, parse_record
from bot.reconcile.decide import decide, deletion_proposal, mark_record, merged_hashes
from bot.reconcile.model import Observation, Phase, Step
from bot.render import Repo, render_environment
from bot.report.pull_requests import WORDING
from tests.reconcile.harness import seed_environment

NAME = "dev-feature-auth"
RECORD = f"registry/environments/{NAME}/environment.yaml"


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


@pytest.fixture(scope="module")
def bound(catalogs: CatalogSet) -> BoundEnvironment:
    return bind_environment(seed_environment(), catalogs)


def ts(minutes: float) -> str:
    return (START + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def workspace(name: str, *, ready: str = "True", reason: str = "Available", synced: str = "True",
              message: str = "", changed: float = 0, outputs: dict[str, Any] | None = None,
              deleting: bool = False) -> ObservedObject:  # fmt: skip
    raw: dict[str, Any] = {
        "apiVersion": "tf.upbound.io/v1beta1",
        "kind": "Workspace",
        "metadata": {
            "name": name,
            "generation": 1,
            "labels": {"envbot.io/environment": NAME},
            **({"deletionTimestamp": ts(changed)} if deleting else {}),
        },
        "status": {
            "observedGeneration": 1,
            "conditions": [
                {"type": "Synced", "status": synced, "reason": "ReconcileSuccess" if synced == "True" else "ReconcileError",
                 "message": message, "lastTransitionTime": ts(changed)},
                {"type": "Ready", "status": ready, "reason": reason, "lastTransitionTime": ts(changed)},
            ],
            "atProvider": {"outputs": outputs or {}},
        },
    }  # fmt: skip
    kind = kind_of(raw, KNOWN_KINDS)
    assert kind is not None
    return observe_raw(raw, kind)


def application(name: str, sync: str = "Synced", health: str = "Healthy", deleting: bool = False) -> ObservedObject:
    raw = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "labels": {"envbot.io/environment": NAME},
            **({"deletionTimestamp": ts(0)} if deleting else {}),
        },
        "status": {"sync": {"status": sync}, "health": {"status": health}},
    }
    kind = kind_of(raw, KNOWN_KINDS)
    assert kind is not None
    return observe_raw(raw, kind)


def holding_merged(obj: ObservedObject, files: dict[str, str]) -> ObservedObject:
    """The object as the cluster holds it once the merged file of the same name was applied."""
    merged = merged_hashes(files, obj.kind).get(obj.name)
    if merged is None:
        return obj
    return dataclasses.replace(obj, annotations={**obj.annotations, SPEC_HASH_ANNOTATION: merged})


RDS_OUTPUTS = {"endpoint": "db.internal", "port": 5432, "database_name": "feature_auth_db", "master_username": "u"}


def merged_platform(bound: BoundEnvironment) -> dict[str, str]:
    return render_environment(bound).files(Repo.PLATFORM)


def merged_apps(bound: BoundEnvironment) -> dict[str, str]:
    return render_environment(bound, {"rds-postgres": {"endpoint": "db.internal", "port": 5432}}).files(Repo.APPS)


def observation(bound: BoundEnvironment | None, *, platform: dict[str, str] | None = None,
                apps: dict[str, str] | None = None, workspaces: tuple[ObservedObject, ...] = (),
                applications: tuple[ObservedObject, ...] = (), minutes: float = 1,
                applied: bool = True) -> Observation:  # fmt: skip
    """``applied``: the objects given carry the spec hash of the merged files (the controllers hold what merged)."""
    platform = platform or {}
    record = parse_record(platform[RECORD], RECORD) if RECORD in platform else None
    if applied:
        workspaces = tuple(holding_merged(w, platform) for w in workspaces)
        applications = tuple(holding_merged(a, apps or {}) for a in applications)
    return Observation(
        name=NAME,
        bound=bound,
        record=record,
        platform_files=platform,
        app_files=apps or {},
        workspaces=workspaces,
        applications=applications,
        now=START + dt.timedelta(minutes=minutes),
    )


def test_nothing_merged_yet_is_creating_with_one_platform_proposal(bound: BoundEnvironment) -> None:
    decision = decide(observation(bound))
    assert decision.phase is Phase.CREATING
    (proposal,) = decision.proposals
    assert (proposal.repo, proposal.step, proposal.branch, proposal.merge) == (
        Repo.PLATFORM,
        Step.INFRASTRUCTURE,
        f"envbot/{NAME}/infrastructure",
        True,
    )
    assert [path for path, _ in proposal.writes] == [
        RECORD,
        f"registry/environments/{NAME}/infrastructure/rds-postgres.yaml",
    ]
    assert WORDING.title(proposal.purpose) == f"envbot: {NAME}: infrastructure"
    assert f"| `registry/environments/{NAME}/infrastructure/rds-postgres.yaml` | write |" in WORDING.body(
        proposal.purpose
    )


def test_merged_but_not_available_waits_and_opens_the_gated_app_pull_request(bound: BoundEnvironment) -> None:
    creating = workspace(f"{NAME}-rds-postgres", ready="False", reason="Creating")
    decision = decide(observation(bound, platform=merged_platform(bound), workspaces=(creating,)))
    assert decision.phase is Phase.PROVISIONING_INFRASTRUCTURE
    assert "terraform apply in progress" in decision.waiting_on
    (early,) = decision.proposals
    assert (early.repo, early.merge, early.gate.state if early.gate else None) == (Repo.APPS, False, "pending")
    assert not any("sample-app" in path for path, _ in early.writes)
    assert "sample-app applications: parameter databaseEndpoint waits on output rds-postgres.endpoint" in WORDING.body(
        early.purpose
    )


def test_missing_workspace_is_waited_for(bound: BoundEnvironment) -> None:
    decision = decide(observation(bound, platform=merged_platform(bound)))
    assert decision.phase is Phase.PROVISIONING_INFRASTRUCTURE
    assert f"1 missing ({NAME}-rds-postgres)" in decision.waiting_on


def test_available_infrastructure_proposes_the_apps_with_outputs_and_a_green_gate(bound: BoundEnvironment) -> None:
    ready = workspace(f"{NAME}-rds-postgres", outputs=RDS_OUTPUTS)
    decision = decide(observation(bound, platform=merged_platform(bound), workspaces=(ready,)))
    assert decision.phase is Phase.INFRASTRUCTURE_READY
    (proposal,) = decision.proposals
    assert proposal.merge and proposal.gate is not None and proposal.gate.state == "success"
    sample = dict(proposal.writes)[f"registry/environments/{NAME}/dev-cluster/sample-app.yaml"]
    assert "value: db.internal" in sample


def test_sensitive_outputs_in_the_status_are_never_used(bound: BoundEnvironment) -> None:
    ready = workspace(f"{NAME}-rds-postgres", outputs={**RDS_OUTPUTS, "master_password": "canary-pw"})
    decision = decide(observation(bound, platform=merged_platform(bound), workspaces=(ready,)))
    assert all("canary-pw" not in content for p in decision.proposals for _, content in p.writes)


@pytest.mark.parametrize(
    ("apps", "phase", "waiting"),
    [
        ((), Phase.DEPLOYING_APPLICATIONS, "0/2 Applications Healthy"),
        (("Progressing",), Phase.DEPLOYING_APPLICATIONS, "0/2 Applications Healthy; 1 missing"),
        (("Healthy", "Healthy"), Phase.READY, "all 2 Applications Healthy"),
        (("Healthy", "Degraded"), Phase.FAILED, "Degraded"),
    ],
)
def test_application_health_decides_deploying_ready_or_failed(
    bound: BoundEnvironment, apps: tuple[str, ...], phase: Phase, waiting: str
) -> None:
    names = [f"{NAME}-datadog-agent", f"{NAME}-sample-app"]
    observed = tuple(application(n, health=h) for n, h in zip(names, apps, strict=False))
    ready = workspace(f"{NAME}-rds-postgres", outputs=RDS_OUTPUTS)
    decision = decide(
        observation(
            bound, platform=merged_platform(bound), apps=merged_apps(bound), workspaces=(ready,), applications=observed
        )
    )
    assert decision.phase is phase
    assert waiting in decision.waiting_on
    assert decision.proposals == ()


def test_a_workspace_error_fails_only_after_the_grace_period(bound: BoundEnvironment) -> None:
    failing = workspace(f"{NAME}-rds-postgres", ready="False", reason="Creating", synced="False", message="boom")
    within = decide(observation(bound, platform=merged_platform(bound), workspaces=(failing,), minutes=5))
    assert within.phase is Phase.PROVISIONING_INFRASTRUCTURE
    past = decide(observation(bound, platform=merged_platform(bound), workspaces=(failing,), minutes=11))
    assert past.phase is Phase.FAILED
    assert past.failure is not None and "boom" in past.failure and f"{NAME}-rds-postgres" in past.failure


def test_binding_problems_make_the_environment_failed() -> None:
    obs = Observation(NAME, None, None, {}, {}, now=START, problems=("environment x: catalog y: no such catalog",))
    decision = decide(obs)
    assert (decision.phase, decision.waiting_on) == (Phase.FAILED, "environment x: catalog y: no such catalog")


def deleting_platform(bound: BoundEnvironment) -> dict[str, str]:
    files = merged_platform(bound)
    files[RECORD] = mark_record(files[RECORD], "deletion", RecordedIntent(START, "test"))
    return files


def test_deletion_removes_apps_first(bound: BoundEnvironment) -> None:
    decision = decide(observation(bound, platform=deleting_platform(bound), apps=merged_apps(bound)))
    assert decision.phase is Phase.DELETING
    (proposal,) = decision.proposals
    assert (proposal.repo, proposal.step, proposal.writes) == (Repo.APPS, Step.CLEANUP_APPLICATIONS, ())
    assert len(proposal.deletes) == 3


def test_infrastructure_stays_while_applications_exist(bound: BoundEnvironment) -> None:
    leftover = application(f"{NAME}-sample-app", deleting=True)
    decision = decide(observation(bound, platform=deleting_platform(bound), applications=(leftover,)))
    assert decision.phase is Phase.DELETING and decision.proposals == ()
    assert "Application" in decision.waiting_on


def test_infrastructure_is_removed_once_apps_are_gone_and_the_record_last(bound: BoundEnvironment) -> None:
    platform = deleting_platform(bound)
    decision = decide(observation(bound, platform=platform))
    (proposal,) = decision.proposals
    assert proposal.step is Step.CLEANUP_INFRASTRUCTURE and RECORD not in proposal.deletes
    record_only = {RECORD: platform[RECORD]}
    still = workspace(f"{NAME}-rds-postgres", deleting=True)
    waiting = decide(observation(bound, platform=record_only, workspaces=(still,)))
    assert waiting.phase is Phase.DELETING and waiting.proposals == ()
    last = decide(observation(bound, platform=record_only))
    (remove,) = last.proposals
    assert (remove.step, remove.deletes) == (Step.REMOVE_RECORD, (RECORD,))
    assert decide(observation(None)).phase is Phase.DELETED


def test_deletion_request_is_written_once(bound: BoundEnvironment) -> None:
    platform = merged_platform(bound)
    proposal = deletion_proposal(observation(bound, platform=platform), RecordedIntent(START, "alice"))
    assert proposal is not None and proposal.step is Step.DESTROY
    record = yaml.safe_load(dict(proposal.writes)[RECORD])
    assert record["deletion"] == {"requestedAt": "2026-11-27T12:00:00Z", "requestedBy": "alice"}
    assert deletion_proposal(observation(bound, platform=deleting_platform(bound)), RecordedIntent(START, "x")) is None


def test_decisions_are_pure(bound: BoundEnvironment) -> None:
    obs = observation(bound, platform=merged_platform(bound), workspaces=(workspace(f"{NAME}-rds-postgres"),))
    assert decide(obs) == decide(obs)
