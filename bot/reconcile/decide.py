"""The pure decision: from one observation, the phase, what it waits on, and the proposals that move it on."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import functools
import json
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from bot import yamldoc
from bot.clock import utc_timestamp
from bot.cluster.model import ObservedObject, thaw
from bot.cluster.outputs import workspace_outputs
from bot.environment.model import CATALOG_LABEL, SPEC_HASH_ANNOTATION, BoundEnvironment
from bot.environment.record import RecordedIntent
from bot.environment.spec import environment_to_document
from bot.reconcile.model import (
    INFRASTRUCTURE_GATE,
    Decision,
    Gate,
    Observation,
    Phase,
    Proposal,
    Purpose,
    Step,
    Withdrawal,
    branch_name,
    folders_digest,
)
from bot.reconcile.verdicts import (
    DEFAULT_POLICY,
    Rollup,
    VerdictPolicy,
    application_rollup,
    deletion_rollup,
    unapplied_verdict,
    workspace_rollup,
    workspace_verdict,
)
from bot.render.manifests import workspace_name
from bot.render.renderer import Pending, RenderResult, Repo, render_environment
from bot.render.settings import PLACEHOLDER_NAME, PLACEHOLDER_TEXT, RenderSettings

Files = Mapping[str, str]


def _diff(current: Files, desired: Files) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    writes = tuple((path, desired[path]) for path in sorted(desired) if current.get(path) != desired[path])
    deletes = tuple(sorted(path for path in current if path not in desired))
    return writes, deletes


def _proposal(
    obs: Observation,
    settings: RenderSettings,
    repo: Repo,
    step: Step,
    current: Files,
    desired: Files,
    *,
    merge: bool,
    gate: Gate | None = None,
    pending: Sequence[Pending] = (),
) -> Proposal | None:
    writes, deletes = _diff(current, desired)
    if not writes and not deletes:
        return None
    purpose = Purpose(
        environment=obs.name,
        step=step,
        first=not current,
        writes=tuple(path for path, _ in writes),
        deletes=deletes,
        pending=tuple(str(p) for p in pending),
        catalogs=tuple((c.name, c.catalog.version) for c in obs.bound.catalogs) if obs.bound else (),
    )
    return Proposal(
        repo=repo,
        step=step,
        branch=branch_name(obs.name, step),
        writes=writes,
        deletes=deletes,
        purpose=purpose,
        merge=merge,
        gate=gate,
        basis=folders_digest(obs.platform_files, obs.app_files),
    )


# -- what the files say --------------------------------------------------------------------------------------

# envbot parses here what it rendered itself or what it merged: libyaml's fast loader is safe and welcome.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FileObject:
    """One Kubernetes object a file on a GitOps repository holds, as far as a decision needs it."""

    kind: str
    name: str
    catalog: str | None
    spec_hash: str | None


@functools.lru_cache(maxsize=4096)
def file_objects(content: str) -> tuple[FileObject, ...]:
    """The objects of one file (parsed once per distinct text); a file that is not YAML holds none."""
    try:
        documents = list(yaml.load_all(content, Loader=_LOADER))
    except yaml.YAMLError:
        return ()
    found: list[FileObject] = []
    for document in documents:
        metadata = document.get("metadata") if isinstance(document, dict) else None
        if not isinstance(metadata, dict) or not metadata.get("name"):
            continue
        labels, annotations = metadata.get("labels"), metadata.get("annotations")
        catalog = labels.get(CATALOG_LABEL) if isinstance(labels, dict) else None
        digest = annotations.get(SPEC_HASH_ANNOTATION) if isinstance(annotations, dict) else None
        found.append(
            FileObject(
                kind=str(document.get("kind")),
                name=str(metadata["name"]),
                catalog=str(catalog) if catalog else None,
                spec_hash=str(digest) if digest else None,
            )
        )
    return tuple(found)


def merged_hashes(files: Files, kind: str) -> dict[str, str | None]:
    """Each object of ``kind`` the files hold, with the spec hash it was rendered with."""
    return {o.name: o.spec_hash for content in files.values() for o in file_objects(content) if o.kind == kind}


def _catalogs_of(content: str) -> frozenset[str]:
    return frozenset(o.catalog for o in file_objects(content) if o.catalog)


def _keep_files(current: Files, desired: dict[str, str], catalogs: frozenset[str]) -> None:
    """Keep, as they are on the base branch, the files of these catalogs that the render left out."""
    for path, content in current.items():
        if path not in desired and _catalogs_of(content) & catalogs:
            desired[path] = content


def _with_placeholders(
    environment_dir: str, current: Files, desired: dict[str, str], holds: Callable[[str], bool]
) -> dict[str, str]:
    """A placeholder in every folder that would lose its last file while objects from it may still be there.

    Argo CD's generated app of a folder goes when the folder goes; envbot removes objects only by removing their
    files while the folder stays, and removes the folder (its placeholder) once the objects are gone.
    """
    folders = {posixpath.dirname(path) for path in current}
    for folder in sorted(folders):
        if folder == environment_dir or not folder.startswith(f"{environment_dir}/"):
            continue
        if any(path.startswith(f"{folder}/") for path in desired):
            continue
        if holds(folder):
            desired[f"{folder}/{PLACEHOLDER_NAME}"] = PLACEHOLDER_TEXT
    return desired


def _busy_folders(obs: Observation) -> frozenset[str]:
    """The folders whose generated app still lists resources (Argo CD has not pruned all of them yet)."""
    busy: set[str] = set()
    for app in obs.generated:
        source = app.spec.get("source")
        if isinstance(source, Mapping) and isinstance(source.get("path"), str) and (app.status or {}).get("resources"):
            busy.add(str(source["path"]).strip("/"))
    return frozenset(busy)


def _holding(obs: Observation, left_behind: bool) -> Callable[[str], bool]:
    """Whether objects from a folder may still be in the cluster: any object of the environment that no merged file
    asks for (``left_behind``), or a generated app of that folder still listing resources."""
    busy = _busy_folders(obs)

    def holds(folder: str) -> bool:
        return left_behind or folder in busy

    return holds


# -- outputs ---------------------------------------------------------------------------------------------------


def available_outputs(
    bound: BoundEnvironment,
    workspaces: Sequence[ObservedObject],
    now: dt.datetime,
    policy: VerdictPolicy,
    merged: Mapping[str, str | None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Non-sensitive outputs of every Workspace that is Available with the merged spec, under the output names.

    ``merged`` maps Workspace names to the spec hash merged on the platform base: a Workspace that holds another
    spec (its change not applied yet) reports outputs of the old spec, which do not count.
    """
    by_name = {w.name: w for w in workspaces}
    outputs: dict[str, dict[str, Any]] = {}
    for item in bound.catalogs:
        catalog = item.catalog
        name = workspace_name(bound.name, catalog.name)
        workspace = by_name.get(name)
        if catalog.terraform is None or workspace is None or not workspace_verdict(workspace, now, policy).done:
            continue
        if merged is not None and (name not in merged or unapplied_verdict(workspace, merged[name]) is not None):
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


_RENDER_MEMO: collections.OrderedDict[tuple[str, ...], tuple[tuple[object, ...], RenderResult]] = (
    collections.OrderedDict()
)
_RENDER_MEMO_SIZE = 256


def _rendered(
    bound: BoundEnvironment, outputs: Mapping[str, Any], settings: RenderSettings, retry: RecordedIntent | None
) -> RenderResult:
    """``render_environment``, remembered for the last few inputs: a run decides many times on the same ones.

    The key is the environment as written, the catalogs by identity (kept alive by the entry, so an identity is
    never reused while it counts), the outputs, the settings and the retry intent.
    """
    catalogs = tuple(item.catalog for item in bound.catalogs)
    key = (
        json.dumps(environment_to_document(bound.environment), sort_keys=True, default=str),
        ",".join(str(id(c)) for c in catalogs),
        json.dumps(outputs, sort_keys=True, default=str),
        repr(settings),
        repr(retry),
    )
    found = _RENDER_MEMO.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], catalogs, strict=True)):
        _RENDER_MEMO.move_to_end(key)
        return found[1]
    result = render_environment(bound, outputs, settings, retry=retry)
    _RENDER_MEMO[key] = (catalogs, result)
    if len(_RENDER_MEMO) > _RENDER_MEMO_SIZE:
        _RENDER_MEMO.popitem(last=False)
    return result


def _retrying(retry: RecordedIntent | None, rollup: Rollup, now: dt.datetime, policy: VerdictPolicy) -> bool:
    """A failure that a person asked to retry counts as waiting for one more grace period."""
    return retry is not None and rollup.failed and now - retry.requested_at < policy.failure_grace


def _ready_since(*rollups: Rollup) -> dt.datetime | None:
    """Ready since the last object became done, Workspace or Application (an update re-applies either)."""
    times = [t for t in (_since(r) for r in rollups) if t is not None]
    return max(times) if times else None


def _since(rollup: Rollup) -> dt.datetime | None:
    """When the blocking object entered its state; once all are done, when the last one became done."""
    blocking = rollup.blocking
    if blocking is not None:
        return blocking.since
    times = [v.since for v in rollup.verdicts if v.since is not None]
    return max(times) if times else None


# -- the decision ----------------------------------------------------------------------------------------------


def decide(
    obs: Observation, settings: RenderSettings | None = None, policy: VerdictPolicy = DEFAULT_POLICY
) -> Decision:
    """Where the environment stands and what to propose next; pure, so a crash or a rerun decides the same."""
    settings = settings or RenderSettings()
    if obs.problems:
        decision = Decision(obs.name, Phase.FAILED, obs.problems[0], failure="\n".join(obs.problems))
    elif obs.deleting:
        decision = _decide_deletion(obs, settings, policy)
    elif obs.bound is None:
        decision = _decide_leftovers(obs, policy)
    else:
        decision = _decide_provisioning(obs, obs.bound, settings, policy)
    return dataclasses.replace(decision, withdrawals=_withdrawals(obs, decision), open_requests=obs.open_requests)


def _withdrawals(obs: Observation, decision: Decision) -> tuple[Withdrawal, ...]:
    """Every open pull request of envbot's that the current intent no longer asks for.

    A Failed environment keeps its pull requests (a person decides what comes next); a destroy or retry request is
    withdrawn once it is recorded or no longer applies; every other pull request lives only while the decision
    proposes it.
    """
    if decision.phase is Phase.FAILED:
        return ()
    proposed = {(p.repo, p.branch) for p in decision.proposals}
    found: list[Withdrawal] = []
    for request in obs.open_requests:
        if (request.repo, request.branch) in proposed:
            continue
        if request.step is Step.DESTROY:
            if obs.requested and not obs.deleting:
                found.append(Withdrawal(request, "a provision was requested after it"))
            elif obs.deleting:
                found.append(Withdrawal(request, "the deletion is recorded already"))
            elif obs.record is None:
                found.append(Withdrawal(request, "the environment has no record any more"))
        elif request.step is Step.RETRY:
            found.append(Withdrawal(request, f"the environment is {decision.phase.value}, not Failed"))
        else:
            why = "the environment is being deleted" if obs.deleting else f"it is {decision.phase.value}"
            found.append(Withdrawal(request, f"no longer needed: {why}; {decision.waiting_on}"))
    return tuple(found)


def _left_over(obs: Observation, expected_workspaces: Mapping[str, Any], expected_apps: Mapping[str, Any]) -> bool:
    return any(w.name not in expected_workspaces for w in obs.workspaces) or any(
        a.name not in expected_apps for a in obs.applications
    )


def _decide_provisioning(
    obs: Observation, bound: BoundEnvironment, settings: RenderSettings, policy: VerdictPolicy
) -> Decision:
    name = obs.name
    layout = settings.layout
    environment_dir = layout.environment_dir(name)
    retry = obs.record.retry if obs.record else None
    outputs = available_outputs(bound, obs.workspaces, obs.now, policy, merged_hashes(obs.platform_files, "Workspace"))
    rendered = _rendered(bound, outputs, settings, retry)
    infra_pending = [p for p in rendered.pending if p.part == "infrastructure"]
    app_pending = [p for p in rendered.pending if p.part == "applications"]
    wanted = frozenset(item.name for item in bound.catalogs)

    # Apps of catalogs removed from the environment go before their infrastructure: until Argo CD has removed every
    # one of them (from git and from the cluster), a removed catalog's Workspace file stays as it is.
    apps_in_git = frozenset(c for content in obs.app_files.values() for c in _catalogs_of(content))
    apps_running = frozenset(a.catalog for a in obs.applications if a.catalog)
    catalog_folders = (f.removeprefix(f"{environment_dir}/").split("/") for f in _busy_folders(obs))
    busy_catalog_folders = frozenset(parts[1] for parts in catalog_folders if len(parts) == 2)
    removed_with_apps = (apps_in_git | apps_running | busy_catalog_folders) - wanted
    platform_desired = rendered.files(Repo.PLATFORM)
    _keep_files(obs.platform_files, platform_desired, frozenset(p.catalog for p in infra_pending) | removed_with_apps)
    expected_workspaces = merged_hashes(platform_desired, "Workspace")
    apps_desired = rendered.files(Repo.APPS)
    _keep_files(obs.app_files, apps_desired, frozenset(p.catalog for p in app_pending))
    expected_apps = merged_hashes(apps_desired, "Application")
    holds = _holding(obs, _left_over(obs, expected_workspaces, expected_apps))
    platform_desired = _with_placeholders(environment_dir, obs.platform_files, platform_desired, holds)
    apps_desired = _with_placeholders(environment_dir, obs.app_files, apps_desired, holds)

    platform = _proposal(
        obs, settings, Repo.PLATFORM, Step.INFRASTRUCTURE, obs.platform_files, platform_desired, merge=True,
        pending=infra_pending,
    )  # fmt: skip
    if platform is not None:
        phase = Phase.CREATING if obs.record is None else Phase.PROVISIONING_INFRASTRUCTURE
        return Decision(
            name, phase, "the infrastructure pull request to pass its checks and merge", (platform,),
            pending=rendered.pending,
        )  # fmt: skip

    workspaces = workspace_rollup(name, obs.workspaces, expected_workspaces, now=obs.now, policy=policy)
    if workspaces.failed and not _retrying(retry, workspaces, obs.now, policy):
        return Decision(
            name, Phase.FAILED, workspaces.summary, since=_since(workspaces), pending=rendered.pending,
            failure=workspaces.summary,
        )  # fmt: skip
    if not workspaces.done or infra_pending:
        waiting = workspaces.summary if not workspaces.done else "; ".join(str(p) for p in infra_pending)
        early = _proposal(
            obs, settings, Repo.APPS, Step.APPLICATIONS, obs.app_files, apps_desired, merge=False,
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
        obs, settings, Repo.APPS, Step.APPLICATIONS, obs.app_files, apps_desired, merge=True,
        gate=Gate(INFRASTRUCTURE_GATE, "success", "every Workspace is Available"),
    )  # fmt: skip
    if apps is not None:
        phase = Phase.INFRASTRUCTURE_READY if not obs.app_files else Phase.DEPLOYING_APPLICATIONS
        return Decision(name, phase, "the applications pull request to pass its checks and merge", (apps,))

    applications = application_rollup(name, obs.applications, expected_apps, now=obs.now, policy=policy)
    if applications.failed and not _retrying(retry, applications, obs.now, policy):
        return Decision(
            name, Phase.FAILED, applications.summary, since=_since(applications), failure=applications.summary
        )
    if not applications.done:
        return Decision(name, Phase.DEPLOYING_APPLICATIONS, applications.summary, since=_since(applications))

    # Objects that no merged file asks for any more (a removed catalog's) keep the environment from Ready until
    # they are gone: Applications first, then Workspaces.
    for kind, left, phase in (
        ("Application", applications.unexpected, Phase.DEPLOYING_APPLICATIONS),
        ("Workspace", workspaces.unexpected, Phase.PROVISIONING_INFRASTRUCTURE),
    ):
        if left:
            objects = [o for o in (obs.applications if kind == "Application" else obs.workspaces) if o.ref in
                       {v.object for v in left}]  # fmt: skip
            removal = deletion_rollup(name, objects, kind=kind, now=obs.now, policy=policy)
            waiting = f"removing what the environment no longer asks for: {removal.summary}"
            if removal.failed:
                return Decision(name, Phase.FAILED, waiting, since=_since(removal), failure=waiting)
            return Decision(name, phase, waiting, since=_since(removal))
    expected = f"{workspaces.summary}; {applications.summary}" if expected_apps else workspaces.summary
    return Decision(name, Phase.READY, expected, since=_ready_since(workspaces, applications))


def _is_placeholder(path: str) -> bool:
    return posixpath.basename(path) == PLACEHOLDER_NAME


def _decide_deletion(obs: Observation, settings: RenderSettings, policy: VerdictPolicy) -> Decision:
    """Apps first, then infrastructure, then the folders and the record: never remove what something still uses."""
    assert obs.record is not None and obs.record.deletion is not None
    name = obs.name
    since = obs.record.deletion.requested_at
    retry = obs.record.retry
    environment_dir = settings.layout.environment_dir(name)
    record_path = settings.layout.record_path(name)
    holds = _holding(obs, bool(obs.workspaces or obs.applications))

    def waiting_for(objects: tuple[ObservedObject, ...], kind: str) -> Decision:
        remaining = deletion_rollup(name, objects, kind=kind, now=obs.now, policy=policy)
        failed = remaining.failed and not _retrying(retry, remaining, obs.now, policy)
        return Decision(
            name, Phase.FAILED if failed else Phase.DELETING, remaining.summary, since=since,
            failure=remaining.summary if failed else None,
        )  # fmt: skip

    def proposing(repo: Repo, step: Step, current: Files, desired: dict[str, str], what: str) -> Decision | None:
        proposal = _proposal(obs, settings, repo, step, current, desired, merge=True)
        if proposal is None:
            return None
        return Decision(name, Phase.DELETING, f"the {what} pull request to merge", (proposal,), since)

    if any(not _is_placeholder(path) for path in obs.app_files):
        desired = _with_placeholders(environment_dir, obs.app_files, {}, holds)
        found = proposing(Repo.APPS, Step.CLEANUP_APPLICATIONS, obs.app_files, desired, "application cleanup")
        if found is not None:
            return found
    if obs.applications:
        return waiting_for(obs.applications, "Application")
    if any(path != record_path and not _is_placeholder(path) for path in obs.platform_files):
        keep = {record_path: obs.platform_files[record_path]} if record_path in obs.platform_files else {}
        desired = _with_placeholders(environment_dir, obs.platform_files, keep, holds)
        found = proposing(
            Repo.PLATFORM, Step.CLEANUP_INFRASTRUCTURE, obs.platform_files, desired, "infrastructure cleanup"
        )
        if found is not None:
            return found
    if obs.workspaces:
        return waiting_for(obs.workspaces, "Workspace")
    if obs.app_files:
        desired = _with_placeholders(environment_dir, obs.app_files, {}, _holding(obs, False))
        found = proposing(Repo.APPS, Step.REMOVE_FOLDERS, obs.app_files, desired, "folder removal")
        if found is not None:
            return found
        busy = ", ".join(sorted(posixpath.dirname(path) for path in desired))
        return Decision(name, Phase.DELETING, f"Argo CD to prune what its apps of {busy} still list", since=since)
    others = [r for r in obs.open_requests if r.step is not Step.REMOVE_RECORD]
    if others:
        listed = ", ".join(f"{r.repo.value} #{r.number}" for r in others)
        return Decision(name, Phase.DELETING, f"envbot's open pull requests to be closed: {listed}", since=since)
    found = proposing(Repo.PLATFORM, Step.REMOVE_RECORD, obs.platform_files, {}, "record removal")
    return (
        found
        if found is not None
        else Decision(name, Phase.DELETING if obs.platform_files else Phase.DELETED, "nothing left", since=since)
    )


def _decide_leftovers(obs: Observation, policy: VerdictPolicy) -> Decision:
    """No record and no request: the environment is gone, unless objects labelled for it remain."""
    for kind, objects in (("Application", obs.applications), ("Workspace", obs.workspaces)):
        if objects:
            left = deletion_rollup(obs.name, objects, kind=kind, now=obs.now, policy=policy)
            return Decision(obs.name, Phase.DELETING, left.summary, failure=left.summary if left.failed else None)
    return Decision(obs.name, Phase.DELETED, "no record, no pull request merged and nothing in the cluster")


# -- intents ---------------------------------------------------------------------------------------------------


def mark_record(record_text: str, field: str, intent: RecordedIntent, *, with_count: bool = False) -> str:
    """The record with one intent (``deletion`` or ``retry``) set; the rest of the record is kept as it is."""
    document = yamldoc.load_one(record_text)
    entry: dict[str, Any] = {
        "requestedAt": utc_timestamp(intent.requested_at),
        "requestedBy": intent.requested_by,
    }
    if with_count:
        entry["count"] = intent.count
    document[field] = entry
    return yamldoc.dump_document(document)


def deletion_proposal(
    obs: Observation, intent: RecordedIntent, settings: RenderSettings | None = None
) -> Proposal | None:
    """The pull request that records a destroy request; None when the record already carries one."""
    settings = settings or RenderSettings()
    record_path = settings.layout.record_path(obs.name)
    current = obs.platform_files.get(record_path)
    if current is None or obs.deleting:
        return None
    desired = dict(obs.platform_files)
    desired[record_path] = mark_record(current, "deletion", intent)
    return _proposal(obs, settings, Repo.PLATFORM, Step.DESTROY, obs.platform_files, desired, merge=True)


def retry_proposal(
    obs: Observation, settings: RenderSettings, policy: VerdictPolicy, requested_by: str
) -> Proposal | None:
    """The pull request that bumps the retry count, so the failed phase is entered again.

    While provisioning, every Workspace and Application is stamped with the count so that each controller sees a
    new generation. While deleting, only the record changes: the deletion it carries is never dropped.
    """
    if obs.bound is None or obs.record is None:
        return None
    previous = obs.record.retry.count if obs.record.retry else 0
    intent = RecordedIntent(requested_at=obs.now, requested_by=requested_by, count=previous + 1)
    record_path = settings.layout.record_path(obs.name)
    if obs.deleting:
        desired = dict(obs.platform_files)
        desired[record_path] = mark_record(obs.platform_files[record_path], "retry", intent, with_count=True)
    else:
        merged = merged_hashes(obs.platform_files, "Workspace")
        outputs = available_outputs(obs.bound, obs.workspaces, obs.now, policy, merged)
        desired = render_environment(obs.bound, outputs, settings, retry=intent).files(Repo.PLATFORM)
    return _proposal(obs, settings, Repo.PLATFORM, Step.RETRY, obs.platform_files, desired, merge=True)
