"""The pure decision: from one observation, the phase, what it waits on, and the proposals that move it on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from bot import yamldoc
from bot.cluster.model import ObservedObject, thaw
from bot.cluster.outputs import workspace_outputs
from bot.cluster.verdicts import (
    DEFAULT_POLICY,
    Rollup,
    VerdictPolicy,
    application_rollup,
    deletion_rollup,
    workspace_rollup,
    workspace_verdict,
)
from bot.environment.model import BoundEnvironment
from bot.environment.record import Intent
from bot.reconcile.model import (
    INFRASTRUCTURE_GATE,
    Decision,
    Gate,
    Observation,
    Phase,
    Proposal,
    Step,
    branch_name,
)
from bot.render.manifests import workspace_name
from bot.render.renderer import Pending, RenderResult, Repo, render_environment
from bot.render.settings import RenderSettings
from bot.report.text import render_text


def _diff(
    current: Mapping[str, str], desired: Mapping[str, str]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    writes = tuple((path, desired[path]) for path in sorted(desired) if current.get(path) != desired[path])
    deletes = tuple(sorted(path for path in current if path not in desired))
    return writes, deletes


def _proposal(
    obs: Observation,
    repo: Repo,
    step: Step,
    current: Mapping[str, str],
    desired: Mapping[str, str],
    *,
    merge: bool,
    gate: Gate | None = None,
    pending: Sequence[Pending] = (),
) -> Proposal | None:
    writes, deletes = _diff(current, desired)
    if not writes and not deletes:
        return None
    catalogs = [(c.name, c.catalog.version) for c in obs.bound.catalogs] if obs.bound else []
    context = {
        "environment": obs.name,
        "step": step.value,
        "first": not current,
        "writes": [path for path, _ in writes],
        "deletes": list(deletes),
        "pending": [str(p) for p in pending],
        "catalogs": catalogs,
    }
    return Proposal(
        repo=repo,
        step=step,
        branch=branch_name(obs.name, step),
        writes=writes,
        deletes=deletes,
        title=render_text("pull_request_title.txt.j2", **context).strip(),
        body=render_text("pull_request.md.j2", **context),
        merge=merge,
        gate=gate,
    )


def available_outputs(
    bound: BoundEnvironment, workspaces: Sequence[ObservedObject], now: dt.datetime, policy: VerdictPolicy
) -> dict[str, dict[str, Any]]:
    """Non-sensitive outputs of every Workspace that is Available, under the catalogs' output names."""
    by_name = {w.name: w for w in workspaces}
    outputs: dict[str, dict[str, Any]] = {}
    for item in bound.catalogs:
        catalog = item.catalog
        workspace = by_name.get(workspace_name(bound.name, catalog.name))
        if catalog.terraform is None or workspace is None or not workspace_verdict(workspace, now, policy).done:
            continue
        sensitive = [o.terraform_output for o in catalog.outputs.values() if o.sensitive]
        reported = workspace_outputs(workspace, sensitive=sensitive).outputs
        values = {
            name: thaw(reported[output.terraform_output].value)
            for name, output in catalog.outputs.items()
            if not output.sensitive and output.terraform_output in reported
        }
        outputs[catalog.name] = values
    return outputs


# envbot parses here only what it has just rendered itself, so libyaml's fast loader is safe and welcome.
_RENDERED_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _object_names(files: Mapping[str, str], kind: str) -> list[str]:
    names: list[str] = []
    for content in files.values():
        for document in yaml.load_all(content, Loader=_RENDERED_LOADER):
            if isinstance(document, dict) and document.get("kind") == kind:
                names.append(str(document["metadata"]["name"]))
    return names


def _retrying(retry: Intent | None, rollup: Rollup, now: dt.datetime, policy: VerdictPolicy) -> bool:
    """A failure that a person asked to retry counts as waiting for one more grace period."""
    return retry is not None and rollup.failed and now - retry.requested_at < policy.failure_grace


def _since(rollup: Rollup) -> dt.datetime | None:
    """When the blocking object entered its state; once all are done, when the last one became done."""
    blocking = rollup.blocking
    if blocking is not None:
        return blocking.since
    times = [v.since for v in rollup.verdicts if v.since is not None]
    return max(times) if times else None


def decide(
    obs: Observation, settings: RenderSettings | None = None, policy: VerdictPolicy = DEFAULT_POLICY
) -> Decision:
    """Where the environment stands and what to propose next; pure, so a crash or a rerun decides the same."""
    settings = settings or RenderSettings()
    if obs.problems:
        return Decision(obs.name, Phase.FAILED, obs.problems[0], failure="\n".join(obs.problems))
    if obs.deleting:
        return _decide_deletion(obs, policy)
    if obs.bound is None:
        return _decide_leftovers(obs, policy)
    return _decide_provisioning(obs, obs.bound, settings, policy)


def _decide_provisioning(
    obs: Observation, bound: BoundEnvironment, settings: RenderSettings, policy: VerdictPolicy
) -> Decision:
    name = obs.name
    retry = obs.record.retry if obs.record else None
    outputs = available_outputs(bound, obs.workspaces, obs.now, policy)
    rendered: RenderResult = render_environment(bound, outputs, settings, retry=retry)
    platform_desired = rendered.files(Repo.PLATFORM)
    infra_pending = [p for p in rendered.pending if p.part == "infrastructure"]
    app_pending = [p for p in rendered.pending if p.part == "applications"]

    platform = _proposal(
        obs, Repo.PLATFORM, Step.INFRASTRUCTURE, obs.platform_files, platform_desired, merge=True,
        pending=infra_pending,
    )  # fmt: skip
    if platform is not None:
        phase = Phase.CREATING if obs.record is None else Phase.PROVISIONING_INFRASTRUCTURE
        return Decision(
            name, phase, "the infrastructure pull request to pass its checks and merge", (platform,),
            pending=rendered.pending,
        )  # fmt: skip

    apps_desired = rendered.files(Repo.APPS)
    expected_workspaces = _object_names(
        {p: c for p, c in platform_desired.items() if "/infrastructure/" in p}, "Workspace"
    )
    workspaces = workspace_rollup(name, obs.workspaces, expected_workspaces, now=obs.now, policy=policy)
    if workspaces.failed and not _retrying(retry, workspaces, obs.now, policy):
        return Decision(
            name, Phase.FAILED, workspaces.summary, since=_since(workspaces), pending=rendered.pending,
            failure=workspaces.summary,
        )  # fmt: skip
    if not workspaces.done or infra_pending:
        waiting = workspaces.summary if not workspaces.done else "; ".join(str(p) for p in infra_pending)
        early = _proposal(
            obs, Repo.APPS, Step.APPLICATIONS, obs.app_files, apps_desired, merge=False,
            gate=Gate(INFRASTRUCTURE_GATE, "pending", "waiting until every Workspace is Available"),
            pending=app_pending,
        )  # fmt: skip
        return Decision(
            name, Phase.PROVISIONING_INFRASTRUCTURE, waiting, tuple(p for p in (early,) if p),
            since=_since(workspaces), pending=rendered.pending,
        )  # fmt: skip

    if app_pending:
        missing = "; ".join(str(p) for p in app_pending)
        message = f"every Workspace is Available, but an output is not reported: {missing}"
        return Decision(name, Phase.FAILED, message, pending=rendered.pending, failure=message)

    apps = _proposal(
        obs, Repo.APPS, Step.APPLICATIONS, obs.app_files, apps_desired, merge=True,
        gate=Gate(INFRASTRUCTURE_GATE, "success", "every Workspace is Available"),
    )  # fmt: skip
    if apps is not None:
        phase = Phase.INFRASTRUCTURE_READY if not obs.app_files else Phase.DEPLOYING_APPLICATIONS
        return Decision(name, phase, "the applications pull request to pass its checks and merge", (apps,))

    expected_apps = _object_names(apps_desired, "Application")
    if not expected_apps:
        return Decision(name, Phase.READY, workspaces.summary, since=_since(workspaces))
    applications = application_rollup(name, obs.applications, expected_apps, now=obs.now, policy=policy)
    if applications.failed and not _retrying(retry, applications, obs.now, policy):
        return Decision(
            name, Phase.FAILED, applications.summary, since=_since(applications), failure=applications.summary
        )
    if not applications.done:
        return Decision(name, Phase.DEPLOYING_APPLICATIONS, applications.summary, since=_since(applications))
    return Decision(name, Phase.READY, f"{workspaces.summary}; {applications.summary}", since=_since(applications))


def _decide_deletion(obs: Observation, policy: VerdictPolicy) -> Decision:
    """Apps first, then infrastructure, then the record: never remove what something still uses."""
    assert obs.record is not None and obs.record.deletion is not None
    name = obs.name
    since = obs.record.deletion.requested_at
    cleanup_apps = _proposal(obs, Repo.APPS, Step.CLEANUP_APPLICATIONS, obs.app_files, {}, merge=True)
    if cleanup_apps is not None:
        return Decision(name, Phase.DELETING, "the application cleanup pull request to merge", (cleanup_apps,), since)
    if obs.applications:
        left = deletion_rollup(name, obs.applications, kind="Application", now=obs.now, policy=policy)
        phase = Phase.FAILED if left.failed else Phase.DELETING
        return Decision(name, phase, left.summary, since=since, failure=left.summary if left.failed else None)
    record_path = next((p for p in obs.platform_files if p.endswith("/environment.yaml")), None)
    keep = {record_path: obs.platform_files[record_path]} if record_path else {}
    cleanup_infra = _proposal(obs, Repo.PLATFORM, Step.CLEANUP_INFRASTRUCTURE, obs.platform_files, keep, merge=True)
    if cleanup_infra is not None:
        return Decision(
            name, Phase.DELETING, "the infrastructure cleanup pull request to merge", (cleanup_infra,), since
        )
    if obs.workspaces:
        left = deletion_rollup(name, obs.workspaces, kind="Workspace", now=obs.now, policy=policy)
        phase = Phase.FAILED if left.failed else Phase.DELETING
        return Decision(name, phase, left.summary, since=since, failure=left.summary if left.failed else None)
    remove = _proposal(obs, Repo.PLATFORM, Step.REMOVE_RECORD, obs.platform_files, {}, merge=True)
    if remove is not None:
        return Decision(name, Phase.DELETING, "the record removal pull request to merge", (remove,), since)
    return Decision(name, Phase.DELETED, "nothing left", since=since)


def _decide_leftovers(obs: Observation, policy: VerdictPolicy) -> Decision:
    """No record and no request: the environment is gone, unless objects labelled for it remain."""
    for kind, objects in (("Application", obs.applications), ("Workspace", obs.workspaces)):
        if objects:
            left = deletion_rollup(obs.name, objects, kind=kind, now=obs.now, policy=policy)
            return Decision(obs.name, Phase.DELETING, left.summary, failure=left.summary if left.failed else None)
    return Decision(obs.name, Phase.DELETED, "no record, no pull request merged and nothing in the cluster")


def mark_record(record_text: str, field: str, intent: Intent, *, with_count: bool = False) -> str:
    """The record with one intent (``deletion`` or ``retry``) set; the rest of the record is kept as it is."""
    document = yamldoc.load_one(record_text)
    entry: dict[str, Any] = {
        "requestedAt": intent.requested_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "requestedBy": intent.requested_by,
    }
    if with_count:
        entry["count"] = intent.count
    document[field] = entry
    return yamldoc.dump_document(document)


def deletion_proposal(obs: Observation, record_path: str, intent: Intent) -> Proposal | None:
    """The pull request that records a destroy request; None when the record already carries one."""
    current = obs.platform_files.get(record_path)
    if current is None or obs.deleting:
        return None
    desired = dict(obs.platform_files)
    desired[record_path] = mark_record(current, "deletion", intent)
    return _proposal(obs, Repo.PLATFORM, Step.DESTROY, obs.platform_files, desired, merge=True)


def retry_proposal(
    obs: Observation, settings: RenderSettings, policy: VerdictPolicy, requested_by: str
) -> Proposal | None:
    """The infrastructure pull request that bumps the retry count, so every controller tries again."""
    if obs.bound is None or obs.record is None:
        return None
    previous = obs.record.retry.count if obs.record.retry else 0
    intent = Intent(requested_at=obs.now, requested_by=requested_by, count=previous + 1)
    outputs = available_outputs(obs.bound, obs.workspaces, obs.now, policy)
    rendered = render_environment(obs.bound, outputs, settings, retry=intent)
    return _proposal(
        obs, Repo.PLATFORM, Step.INFRASTRUCTURE, obs.platform_files, rendered.files(Repo.PLATFORM), merge=True
    )
