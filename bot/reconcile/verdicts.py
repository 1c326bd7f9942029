"""Pure verdicts: is a Workspace Available, an Application Healthy, an environment done, and if not, why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.cluster.model import Condition, JsonValue, ObjectRef, ObservedObject, parse_time
from bot.durations import format_duration


class VerdictOutcome(StrEnum):
    """What a verdict means for the gate: go, wait, a person must resume it, or a person must fix it."""

    DONE = "done"
    WAITING = "waiting"
    HELD = "held"
    FAILED = "failed"


class WorkspaceState(StrEnum):
    AVAILABLE = "Available"
    PENDING = "Pending"
    CREATING = "Creating"
    STALE = "Stale"
    NOT_READY = "NotReady"
    FAILING = "Failing"
    FAILED = "Failed"
    PAUSED = "Paused"
    DELETING = "Deleting"
    STUCK_DELETING = "StuckDeleting"
    AWAITING_DELETION = "AwaitingDeletion"


class ApplicationState(StrEnum):
    HEALTHY = "Healthy"
    PENDING = "Pending"
    STALE = "Stale"
    SYNCING = "Syncing"
    OUT_OF_SYNC = "OutOfSync"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    UNKNOWN = "Unknown"
    SUSPENDED = "Suspended"
    DEGRADED = "Degraded"
    SYNC_FAILED = "SyncFailed"
    SYNC_ERROR = "SyncError"
    FAILING = "Failing"
    FAILED = "Failed"
    DELETING = "Deleting"
    STUCK_DELETING = "StuckDeleting"
    AWAITING_DELETION = "AwaitingDeletion"


State = WorkspaceState | ApplicationState

_OUTCOMES: Mapping[State, VerdictOutcome] = {
    WorkspaceState.AVAILABLE: VerdictOutcome.DONE,
    WorkspaceState.FAILED: VerdictOutcome.FAILED,
    WorkspaceState.STUCK_DELETING: VerdictOutcome.FAILED,
    WorkspaceState.PAUSED: VerdictOutcome.HELD,
    ApplicationState.HEALTHY: VerdictOutcome.DONE,
    ApplicationState.DEGRADED: VerdictOutcome.FAILED,
    ApplicationState.SYNC_FAILED: VerdictOutcome.FAILED,
    ApplicationState.SYNC_ERROR: VerdictOutcome.FAILED,
    ApplicationState.FAILED: VerdictOutcome.FAILED,
    ApplicationState.STUCK_DELETING: VerdictOutcome.FAILED,
    ApplicationState.SUSPENDED: VerdictOutcome.HELD,
}
"""Every state not listed here is ``WAITING`` (including ``Failing``: a failure still inside its grace)."""


@dataclass(frozen=True)
class VerdictPolicy:
    """The time limits verdicts apply; all measured against an injected ``now``."""

    failure_grace: dt.timedelta = dt.timedelta(minutes=10)
    """How long an error (``Synced=False``, an Argo CD error condition) may last before it is Failed."""
    stuck_deleting_after: dt.timedelta = dt.timedelta(minutes=30)
    """How long after ``deletionTimestamp`` an object still present counts as stuck."""


DEFAULT_POLICY = VerdictPolicy()


@dataclass(frozen=True)
class Verdict:
    """The state of one object, and a sentence that says what it waits for or what a person should fix."""

    object: ObjectRef
    state: State
    reason: str
    detail: str | None = None
    """The controller's own words (a condition or operation message), verbatim."""
    since: dt.datetime | None = None
    finalizers: tuple[str, ...] = ()

    @property
    def outcome(self) -> VerdictOutcome:
        return _OUTCOMES.get(self.state, VerdictOutcome.WAITING)

    @property
    def done(self) -> bool:
        return self.outcome is VerdictOutcome.DONE

    @property
    def failed(self) -> bool:
        return self.outcome is VerdictOutcome.FAILED

    def __str__(self) -> str:
        return f"{self.object}: {self.reason}"


def _elapsed(now: dt.datetime, since: dt.datetime | None) -> dt.timedelta:
    return now - since if since is not None else dt.timedelta(0)


def _for(now: dt.datetime, since: dt.datetime | None) -> str:
    return f" for {format_duration(now - since)}" if since is not None else ""


def _quote(message: str | None) -> str:
    return f": {message.strip()}" if message and message.strip() else ""


def _get(data: Mapping[str, JsonValue] | None, *path: str) -> JsonValue:
    value: JsonValue = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) and value else None


def _deleting(
    obj: ObservedObject,
    now: dt.datetime,
    policy: VerdictPolicy,
    states: tuple[State, State],
    remover: str,
    cause: str | None,
) -> Verdict:
    deleting, stuck = states
    since = obj.deletion_timestamp
    finalizers = ", ".join(obj.finalizers) or "none"
    if _elapsed(now, since) >= policy.stuck_deleting_after:
        hint = f"; last error{_quote(cause)}" if cause else ""
        reason = (
            f"stuck deleting{_for(now, since)} (limit {format_duration(policy.stuck_deleting_after)}), "
            f"held by finalizers: {finalizers}{hint}. Fix what blocks {remover}; remove a finalizer by hand "
            "only once the resources it guards are really gone"
        )
        return Verdict(obj.ref, stuck, reason, cause, since, obj.finalizers)
    reason = f"deleting{_for(now, since)}: waiting for {remover} (finalizers: {finalizers})"
    return Verdict(obj.ref, deleting, reason, cause, since, obj.finalizers)


# -- Workspaces (provider-terraform) ----------------------------------------------------------------------


def _is_current(cond: Condition | None, generation: int | None, top: int | None) -> bool:
    """Whether a condition speaks about the object's current spec (its own or the status-wide generation)."""
    if generation is None:
        return True
    if cond is not None and cond.observed_generation is not None:
        return cond.observed_generation == generation
    return top is None or top == generation


def workspace_verdict(workspace: ObservedObject, now: dt.datetime, policy: VerdictPolicy = DEFAULT_POLICY) -> Verdict:
    """Available only with ``Ready=True`` (reason ``Available``) and ``Synced=True``, both current."""
    ref = workspace.ref
    synced = workspace.condition("Synced")
    ready = workspace.condition("Ready")
    if workspace.deletion_timestamp is not None:
        cause = synced.message if synced is not None and synced.status == "False" else None
        return _deleting(
            workspace,
            now,
            policy,
            (WorkspaceState.DELETING, WorkspaceState.STUCK_DELETING),
            "provider-terraform's terraform destroy",
            cause,
        )
    if workspace.status is None or (synced is None and ready is None):
        return Verdict(
            ref,
            WorkspaceState.PENDING,
            "not reconciled yet (no Ready or Synced condition): check that provider-terraform is installed "
            "and healthy and that the Workspace's ProviderConfig exists",
            since=workspace.creation_timestamp,
        )

    generation = workspace.generation
    top_value = _get(workspace.status, "observedGeneration")
    top = top_value if isinstance(top_value, int) and not isinstance(top_value, bool) else None

    def stale(cond: Condition | None) -> Verdict:
        seen = cond.observed_generation if cond is not None and cond.observed_generation is not None else top
        return Verdict(
            ref,
            WorkspaceState.STALE,
            f"its spec is at generation {generation} but provider-terraform last reported on generation "
            f"{seen}: waiting for it to reconcile the change",
        )

    if synced is not None and synced.status == "False":
        if not _is_current(synced, generation, top):
            return stale(synced)
        since = synced.last_transition_time
        if synced.reason == "ReconcilePaused":
            return Verdict(
                ref,
                WorkspaceState.PAUSED,
                "reconciliation is paused (annotation crossplane.io/paused): remove the annotation to resume",
                synced.message,
                since,
            )
        if synced.reason == "ReconcileForbidden":
            return Verdict(
                ref,
                WorkspaceState.FAILED,
                "its spec changed but spec.managementPolicies do not allow Update: allow it or revert the "
                f"change{_quote(synced.message)}",
                synced.message,
                since,
            )
        what = f"provider-terraform reports {synced.reason or 'an error'}{_for(now, since)}"
        if _elapsed(now, since) >= policy.failure_grace:
            return Verdict(
                ref,
                WorkspaceState.FAILED,
                f"{what}, past the {format_duration(policy.failure_grace)} grace period"
                f"{_quote(synced.message)}. Fix the Terraform module or its inputs; provider-terraform "
                "retries on its own",
                synced.message,
                since,
            )
        return Verdict(
            ref,
            WorkspaceState.FAILING,
            f"{what}, Failed after {format_duration(policy.failure_grace)} unless it recovers{_quote(synced.message)}",
            synced.message,
            since,
        )

    for cond in (synced, ready):
        if not _is_current(cond, generation, top):
            return stale(cond)
    if top is not None and generation is not None and top != generation:
        return stale(None)

    if ready is None:
        return Verdict(
            ref,
            WorkspaceState.PENDING,
            "provider-terraform has not reported readiness yet (no Ready condition)",
            since=synced.last_transition_time if synced else None,
        )
    if ready.status == "True":
        if ready.reason != "Available":
            return Verdict(
                ref,
                WorkspaceState.NOT_READY,
                f"Ready=True with reason {ready.reason!r}; envbot counts only reason 'Available'",
                ready.message,
                ready.last_transition_time,
            )
        if synced is None or synced.status != "True":
            state = synced.status if synced is not None else "absent"
            return Verdict(
                ref,
                WorkspaceState.NOT_READY,
                f"Ready but Synced is {state}: waiting for provider-terraform to confirm its last reconcile",
                synced.message if synced else None,
                synced.last_transition_time if synced else None,
            )
        at = f" at generation {generation}" if generation is not None else ""
        return Verdict(ref, WorkspaceState.AVAILABLE, f"Available and Synced{at}", since=ready.last_transition_time)
    if ready.reason == "Creating":
        return Verdict(
            ref,
            WorkspaceState.CREATING,
            f"terraform apply in progress (Ready=False, Creating){_for(now, ready.last_transition_time)}",
            ready.message,
            ready.last_transition_time,
        )
    return Verdict(
        ref,
        WorkspaceState.NOT_READY,
        f"Ready={ready.status} ({ready.reason or 'no reason'}){_for(now, ready.last_transition_time)}"
        f"{_quote(ready.message)}",
        ready.message,
        ready.last_transition_time,
    )


# -- Applications (Argo CD) -------------------------------------------------------------------------------


def _holds(seen: JsonValue, wanted: JsonValue) -> bool:
    """Whether ``seen`` says everything ``wanted`` says (Argo CD may add defaults to what it compared)."""
    if isinstance(wanted, Mapping):
        return isinstance(seen, Mapping) and all(_holds(seen.get(k), v) for k, v in wanted.items())
    return seen == wanted


def _compared_is_stale(app: ObservedObject) -> bool:
    """Argo CD compared a different source than the spec names now (the spec changed since, e.g. Helm values)."""
    compared = _get(app.status, "sync", "comparedTo")
    if not isinstance(compared, Mapping):
        return False
    for field in ("source", "sources"):
        wanted, seen = app.spec.get(field), compared.get(field)
        if wanted is None or seen is None:
            continue
        if field == "sources":
            if not (isinstance(wanted, tuple) and isinstance(seen, tuple) and len(wanted) == len(seen)):
                return True
            if not all(_holds(s, w) for s, w in zip(seen, wanted, strict=True)):
                return True
        elif not _holds(seen, wanted):
            return True
    return False


def _short(revision: str | None) -> str:
    return revision[:7] if revision and len(revision) == 40 else (revision or "")


def _resources_in(app: ObservedObject, health: str) -> str:
    """`` (Deployment pr-42/web: message; ...)`` for the app's resources in that health, or ``""``."""
    resources = _get(app.status, "resources")
    named: list[str] = []
    for res in resources if isinstance(resources, tuple) else ():
        if not isinstance(res, Mapping) or _get(res, "health", "status") != health:
            continue
        where = "/".join(str(p) for p in (res.get("namespace"), res.get("name")) if p)
        message = _text(_get(res, "health", "message"))
        named.append(f"{res.get('kind')} {where}{_quote(message)}")
    if not named:
        return ""
    more = f"; and {len(named) - 3} more" if len(named) > 3 else ""
    return f" ({'; '.join(named[:3])}{more})"


def _error_conditions(app: ObservedObject) -> tuple[Condition, ...]:
    return tuple(c for c in app.conditions if c.type.endswith("Error"))


def application_verdict(app: ObservedObject, now: dt.datetime, policy: VerdictPolicy = DEFAULT_POLICY) -> Verdict:
    """Done with sync ``Synced`` and health ``Healthy``; every other shape names what it waits for or why."""
    ref = app.ref
    status = app.status
    if app.deletion_timestamp is not None:
        errors = _error_conditions(app)
        return _deleting(
            app,
            now,
            policy,
            (ApplicationState.DELETING, ApplicationState.STUCK_DELETING),
            "Argo CD's deletion of the app's resources",
            errors[0].message if errors else None,
        )
    if status is None:
        return Verdict(
            ref,
            ApplicationState.PENDING,
            "Argo CD has not reconciled it yet (no status): check that its namespace is one Argo CD watches "
            "and that its project exists",
            since=app.creation_timestamp,
        )

    sync = _text(_get(status, "sync", "status"))
    health = _text(_get(status, "health", "status"))
    health_message = _text(_get(status, "health", "message"))
    phase = _text(_get(status, "operationState", "phase"))
    op_message = _text(_get(status, "operationState", "message"))
    op_started = _text(_get(status, "operationState", "startedAt"))
    op_finished = _text(_get(status, "operationState", "finishedAt"))
    sync_revision = _text(_get(status, "sync", "revision"))
    op_revision = _text(_get(status, "operationState", "syncResult", "revision")) or _text(
        _get(status, "operationState", "operation", "sync", "revision")
    )

    if phase in ("Failed", "Error") and not (op_revision and sync_revision and op_revision != sync_revision):
        at = f" at revision {_short(op_revision)}" if op_revision else ""
        retries = _get(status, "operationState", "retryCount")
        tries = f" after {retries} retries" if isinstance(retries, int) and retries > 0 else ""
        verb = "failed" if phase == "Failed" else "hit an error"
        return Verdict(
            ref,
            ApplicationState.SYNC_FAILED if phase == "Failed" else ApplicationState.SYNC_ERROR,
            f"the last sync {verb}{at}{tries}{_quote(op_message)}. Fix the manifests or the destination; "
            "Argo CD syncs again on the next change",
            op_message,
            parse_time(op_finished),
        )
    if health == "Degraded":
        return Verdict(
            ref,
            ApplicationState.DEGRADED,
            f"health is Degraded{_resources_in(app, 'Degraded')}{_quote(health_message)}: a resource failed "
            f"(crash-looping pod, failed job, deadline exceeded); see `argocd app get {app.name}`",
            health_message,
            parse_time(_get(status, "health", "lastTransitionTime")),
        )
    if not (sync == "Synced" and health == "Healthy"):
        for cond in _error_conditions(app):
            since = cond.last_transition_time
            what = f"Argo CD reports {cond.type}{_for(now, since)}"
            if _elapsed(now, since) >= policy.failure_grace:
                return Verdict(
                    ref,
                    ApplicationState.FAILED,
                    f"{what}, past the {format_duration(policy.failure_grace)} grace period{_quote(cond.message)}",
                    cond.message,
                    since,
                )
            return Verdict(
                ref,
                ApplicationState.FAILING,
                f"{what}, Failed after {format_duration(policy.failure_grace)} unless it recovers"
                f"{_quote(cond.message)}",
                cond.message,
                since,
            )
    if _compared_is_stale(app):
        return Verdict(
            ref,
            ApplicationState.STALE,
            "its source changed and Argo CD has not compared the new one yet: waiting for a refresh",
        )
    if sync == "Synced" and health == "Healthy":
        at = f" at revision {_short(sync_revision)}" if sync_revision else ""
        healthy_since = parse_time(_get(status, "health", "lastTransitionTime"))
        return Verdict(ref, ApplicationState.HEALTHY, f"Synced and Healthy{at}", since=healthy_since)
    if health == "Suspended":
        return Verdict(
            ref,
            ApplicationState.SUSPENDED,
            f"health is Suspended{_quote(health_message)}: a resource is paused (e.g. a Rollout or CronJob); "
            "resume it to continue",
            health_message,
        )
    if phase in ("Running", "Terminating"):
        return Verdict(
            ref,
            ApplicationState.SYNCING,
            f"a sync is {phase.lower()}{_for(now, parse_time(op_started))}{_quote(op_message)}",
            op_message,
            parse_time(op_started),
        )
    if health == "Missing":
        return Verdict(
            ref,
            ApplicationState.MISSING,
            "its resources do not exist in the destination yet: waiting for Argo CD to create them "
            "(needs automated sync, which envbot's manifests enable)",
        )
    if sync == "OutOfSync":
        return Verdict(
            ref,
            ApplicationState.OUT_OF_SYNC,
            f"OutOfSync with git (health {health or 'unknown'}): waiting for Argo CD to sync",
        )
    if health == "Progressing":
        return Verdict(
            ref,
            ApplicationState.PROGRESSING,
            f"resources are still rolling out (health Progressing){_resources_in(app, 'Progressing')}"
            f"{_quote(health_message)}",
            health_message,
        )
    return Verdict(
        ref,
        ApplicationState.UNKNOWN,
        f"Argo CD cannot tell yet (sync {sync or 'unknown'}, health {health or 'unknown'}): waiting for it "
        "to compare the app with git",
    )


# -- binding to what was merged ---------------------------------------------------------------------------


def unapplied_verdict(obj: ObservedObject, merged_hash: str | None) -> Verdict | None:
    """Stale when the object in the cluster is not the one merged (its spec hash differs); ``None`` when it is.

    ``merged_hash`` ``None`` means the merged file carries no hash (written by hand or an older envbot): then only
    the controller's own generation tells.
    """
    if merged_hash is None or obj.spec_hash == merged_hash:
        return None
    state: State = ApplicationState.STALE if obj.kind == "Application" else WorkspaceState.STALE
    seen = f"spec hash {obj.spec_hash}" if obj.spec_hash else "no spec hash"
    return Verdict(
        obj.ref,
        state,
        f"the cluster holds another spec ({seen}, merged {merged_hash}): waiting for Argo CD to apply the merged "
        "change",
    )


def _bound(
    judge: Callable[[ObservedObject], Verdict], hashes: Mapping[str, str | None] | None
) -> Callable[[ObservedObject], Verdict]:
    if not hashes:
        return judge

    def bound_judge(obj: ObservedObject) -> Verdict:
        return unapplied_verdict(obj, hashes.get(obj.name)) or judge(obj)

    return bound_judge


# -- deletion (cleanup) ------------------------------------------------------------------------------------


def deletion_verdict(obj: ObservedObject, now: dt.datetime, policy: VerdictPolicy = DEFAULT_POLICY) -> Verdict:
    """For cleanup: an object that still exists is either deleting, stuck, or not yet asked to go."""
    is_app = obj.kind == "Application"
    if obj.deletion_timestamp is not None:
        return application_verdict(obj, now, policy) if is_app else workspace_verdict(obj, now, policy)
    state: State = ApplicationState.AWAITING_DELETION if is_app else WorkspaceState.AWAITING_DELETION
    remover = "Argo CD to prune it" + ("" if is_app else ", then provider-terraform to destroy it")
    return Verdict(obj.ref, state, f"still present, not deleting yet: waiting for {remover} once its file is gone")


# -- environment rollups -----------------------------------------------------------------------------------

_PRIORITY = {VerdictOutcome.FAILED: 0, VerdictOutcome.HELD: 1, VerdictOutcome.WAITING: 2, VerdictOutcome.DONE: 3}


@dataclass(frozen=True)
class Rollup:
    """All verdicts of one kind for one environment, plus the expected objects that do not exist at all."""

    environment: str
    kind: str
    verdicts: tuple[Verdict, ...]
    missing: tuple[str, ...] = ()
    """Expected object names not found in the cluster."""
    unexpected: tuple[Verdict, ...] = ()
    """Objects labelled for the environment but not expected; reported, never blocking."""
    done_word: str = "ready"
    cleanup: bool = False
    """A cleanup rollup: every listed object is one still to be deleted."""

    @property
    def outcome(self) -> VerdictOutcome:
        outcomes = {v.outcome for v in self.verdicts}
        for outcome in (VerdictOutcome.FAILED, VerdictOutcome.HELD):
            if outcome in outcomes:
                return outcome
        if self.missing or VerdictOutcome.WAITING in outcomes:
            return VerdictOutcome.WAITING
        return VerdictOutcome.DONE

    @property
    def done(self) -> bool:
        return self.outcome is VerdictOutcome.DONE

    @property
    def failed(self) -> bool:
        return self.outcome is VerdictOutcome.FAILED

    @property
    def blocking(self) -> Verdict | None:
        """The verdict most in need of attention (failed, then held, then waiting); ``None`` if none."""
        blocking = [v for v in self.verdicts if not v.done]
        return min(blocking, key=lambda v: _PRIORITY[v.outcome]) if blocking else None

    @property
    def summary(self) -> str:
        """One line for a PR comment or ``envbot status``."""
        plural = f"{self.kind}s"
        blocking = self.blocking
        if self.cleanup:
            if blocking is None:
                return f"all {plural} deleted"
            left = len(self.verdicts)
            head = f"{left} {plural if left != 1 else self.kind} left"
            verb = "" if blocking.outcome is not VerdictOutcome.WAITING else "waiting on "
            return f"{head}; {verb}{blocking}"
        missing = f"{len(self.missing)} missing ({', '.join(self.missing)})" if self.missing else ""
        if blocking is not None and blocking.outcome is not VerdictOutcome.WAITING:
            return str(blocking)
        if blocking is None and not missing:
            count = len(self.verdicts)
            if count == 0:
                return f"no {plural} expected"
            return f"all {count} {plural if count != 1 else self.kind} {self.done_word}"
        ready = sum(1 for v in self.verdicts if v.done)
        total = len(self.verdicts) + len(self.missing)
        parts = [f"{ready}/{total} {plural} {self.done_word}"]
        if missing:
            parts.append(f"{missing}: not in the cluster yet, waiting for Argo CD to apply the manifests")
        if blocking is not None:
            parts.append(f"waiting on {blocking}")
        return "; ".join(parts)


def rollup(
    environment: str,
    objects: Iterable[ObservedObject],
    judge: Callable[[ObservedObject], Verdict],
    expected: Iterable[str] | None = None,
    *,
    kind: str,
    done_word: str = "ready",
    cleanup: bool = False,
) -> Rollup:
    """Judge each object; with ``expected`` names, report the absent ones and set the others apart."""
    verdicts = sorted((judge(o) for o in objects), key=lambda v: (v.object.namespace or "", v.object.name))
    if expected is None:
        return Rollup(environment, kind, tuple(verdicts), done_word=done_word, cleanup=cleanup)
    wanted = list(dict.fromkeys(expected))
    seen = {v.object.name for v in verdicts}
    return Rollup(
        environment,
        kind,
        verdicts=tuple(v for v in verdicts if v.object.name in wanted),
        missing=tuple(name for name in wanted if name not in seen),
        unexpected=tuple(v for v in verdicts if v.object.name not in wanted),
        done_word=done_word,
        cleanup=cleanup,
    )


def workspace_rollup(
    environment: str,
    workspaces: Iterable[ObservedObject],
    expected: Iterable[str] | Mapping[str, str | None] | None = None,
    *,
    now: dt.datetime,
    policy: VerdictPolicy = DEFAULT_POLICY,
) -> Rollup:
    """Phase 1's gate: done only when every expected Workspace exists, holds the merged spec and is Available.

    ``expected`` as a mapping gives each name its merged spec hash (see ``unapplied_verdict``).
    """
    hashes = expected if isinstance(expected, Mapping) else None
    return rollup(
        environment,
        workspaces,
        _bound(lambda w: workspace_verdict(w, now, policy), hashes),
        expected,
        kind="Workspace",
        done_word="Available",
    )


def application_rollup(
    environment: str,
    applications: Iterable[ObservedObject],
    expected: Iterable[str] | Mapping[str, str | None] | None = None,
    *,
    now: dt.datetime,
    policy: VerdictPolicy = DEFAULT_POLICY,
) -> Rollup:
    """Phase 2's gate: done only when every expected Application exists, holds the merged spec, Synced and Healthy."""
    hashes = expected if isinstance(expected, Mapping) else None
    return rollup(
        environment,
        applications,
        _bound(lambda a: application_verdict(a, now, policy), hashes),
        expected,
        kind="Application",
        done_word="Healthy",
    )


def deletion_rollup(
    environment: str,
    objects: Iterable[ObservedObject],
    *,
    kind: str,
    now: dt.datetime,
    policy: VerdictPolicy = DEFAULT_POLICY,
) -> Rollup:
    """Cleanup's gate: done when no object of the kind is left; stuck deletions are failures."""
    return rollup(environment, objects, lambda o: deletion_verdict(o, now, policy), kind=kind, cleanup=True)
