"""The merge gate: whether envbot may merge a pull request now, from what the forge reports for its head. Pure."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bot.clock import readable_time
from bot.durations import format_duration
from bot.forge.model import CheckRun, CommitStatus, MergeFacts, RepositorySettings, RequiredCheck
from bot.reconcile.model import INFRASTRUCTURE_GATE

PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""Check run conclusions that let a merge through; every other conclusion (failure, cancelled, timed_out,
action_required, stale, startup_failure, or one GitHub adds later) blocks it."""
CONFIG_SOURCE = "envbot.yaml merge.requiredChecks"
DEFAULT_SETTLE = dt.timedelta(minutes=2)

_CONCLUSION_WORDS = {
    "failure": "failed",
    "timed_out": "timed out",
    "cancelled": "was cancelled",
    "action_required": "needs action",
    "stale": "went stale",
    "startup_failure": "failed to start",
}
_STATUS_WORDS = {"failure": "failed", "error": "errored"}


class NativeMerge(enum.StrEnum):
    """``merge.native``: when envbot hands the merge to GitHub's own auto-merge."""

    AUTO = "auto"
    """When the repository allows auto-merge and GitHub itself requires something (a check, a review)."""
    ALWAYS = "always"
    """Whenever GitHub requires something; a repository that does not allow auto-merge is a blocker to fix."""
    NEVER = "never"
    """envbot merges through the REST API once its own gate passes."""


@dataclass(frozen=True)
class MergePolicy:
    """How the gate weighs a pull request: ``merge`` in ``envbot.yaml``.

    ``own_contexts`` are the commit statuses envbot itself sets (its ``envbot/infrastructure`` gate): they take part
    in the gate like any status, but do not count as CI having reported (for the settle time).
    """

    required_checks: tuple[str, ...] = ()
    settle: dt.timedelta = DEFAULT_SETTLE
    native: NativeMerge = NativeMerge.AUTO
    own_contexts: frozenset[str] = frozenset({INFRASTRUCTURE_GATE})


class Verdict(enum.StrEnum):
    """What to do with the pull request now."""

    MERGE = "merge"
    """Everything passed: merge it now, at the head SHA that was weighed."""
    AUTO_MERGE = "auto-merge"
    """Only what GitHub itself enforces is left: GitHub's auto-merge can take it from here."""
    WAIT = "wait"
    """Something has not reported or finished yet, or a person must act (a review): look again later."""
    FAILED = "failed"
    """A check or status failed: it stays open until the check passes (a re-run) or a new head comes."""
    CONFLICT = "conflict"
    """The head conflicts with the base."""
    BEHIND = "behind"
    """The base requires an up-to-date head and it is not: rebuild the branch on the base first."""
    MERGED = "merged"
    CLOSED = "closed"


class BlockerKind(enum.StrEnum):
    """Why a pull request is not merged now."""

    FAILED = "failed"
    PENDING = "pending"
    MISSING = "missing"
    """A required check that has not reported at all yet."""
    SETTLING = "settling"
    REVIEW = "review"
    COMPUTING = "computing"
    DRAFT = "draft"
    RULES = "rules"
    CONFLICT = "conflict"
    BEHIND = "behind"
    CLOSED = "closed"
    REFUSED = "refused"
    """GitHub refused the merge or the auto-merge, in its own words."""
    AUTO_MERGE = "auto-merge"
    """Not a problem: GitHub's auto-merge is on and waits for the rest."""


@dataclass(frozen=True)
class Blocker:
    """One reason a pull request is not merged now: one line of text and, for a check, its link."""

    kind: BlockerKind
    text: str
    url: str = ""
    github_enforced: bool = False
    """True when GitHub's own rules hold the merge back for this (a required check or review): auto-merge waits
    for it. A non-required check, a check only ``envbot.yaml`` requires or the settle time is envbot's to wait for."""

    def line(self) -> str:
        """The blocker on one line, its link after it."""
        return f"{self.text} ({self.url})" if self.url else self.text


@dataclass(frozen=True)
class GateResult:
    """The gate's answer: a verdict and every reason that holds the merge back, most pressing first."""

    verdict: Verdict
    blockers: tuple[Blocker, ...] = ()
    settled_at: dt.datetime | None = None
    """With a settle wait: when the settle time ends."""

    @property
    def auto_merge_eligible(self) -> bool:
        """True when everything left is what GitHub enforces itself, so its auto-merge may carry the merge out."""
        return self.verdict is Verdict.WAIT and bool(self.blockers) and all(b.github_enforced for b in self.blockers)

    def summary(self) -> str:
        """Every blocker on one line (``; ``-separated); empty when nothing blocks."""
        return "; ".join(blocker.line() for blocker in self.blockers)


@dataclass(frozen=True)
class _Signal:
    """One check run or status, judged: passed, pending or failed."""

    name: str
    state: str
    text: str
    url: str
    app_id: int | None
    check_run: bool


def latest_check_runs(runs: Iterable[CheckRun]) -> tuple[CheckRun, ...]:
    """The newest run of each check (by name and app): a re-run supersedes the run before it. Sorted by name."""
    newest: dict[tuple[str, int | None], CheckRun] = {}
    for run in runs:
        key = (run.name, run.app_id)
        if key not in newest or run.run_id > newest[key].run_id:
            newest[key] = run
    return tuple(sorted(newest.values(), key=lambda run: (run.name, run.app_id or 0)))


def _check_signal(run: CheckRun) -> _Signal:
    name = f'check "{run.name}"'
    if run.status != "completed":
        state, text = "pending", f"waiting on {name} ({run.status.replace('_', ' ')})"
    elif run.conclusion in PASSING_CONCLUSIONS:
        state, text = "passed", f"{name} passed"
    else:
        words = _CONCLUSION_WORDS.get(run.conclusion or "", f"ended {run.conclusion or 'without a conclusion'}")
        state, text = "failed", f"{name} {words}"
    return _Signal(run.name, state, text, run.url, run.app_id, check_run=True)


def _status_signal(status: CommitStatus) -> _Signal:
    name = f'status "{status.context}"'
    detail = f": {status.description}" if status.description else ""
    if status.state == "success":
        state, text = "passed", f"{name} passed"
    elif status.state == "pending":
        state, text = "pending", f"waiting on {name}{detail}"
    else:
        state, text = "failed", f"{name} {_STATUS_WORDS.get(status.state, status.state)}{detail}"
    return _Signal(status.context, state, text, status.target_url or "", None, check_run=False)


def _matches(required: RequiredCheck, signal: _Signal) -> bool:
    if signal.name != required.context:
        return False
    return required.app_id is None or not signal.check_run or signal.app_id == required.app_id


def required_checks(facts: MergeFacts, policy: MergePolicy) -> tuple[RequiredCheck, ...]:
    """What the base branch requires, then what ``envbot.yaml`` adds (a context GitHub requires already is not
    named twice)."""
    found = list(facts.rules.required_checks)
    known = {check.context for check in found}
    found += [RequiredCheck(name, CONFIG_SOURCE) for name in policy.required_checks if name not in known]
    return tuple(found)


def weigh(facts: MergeFacts, policy: MergePolicy, now: dt.datetime) -> GateResult:
    """The verdict over one pull request's facts, with every blocker named (see docs/merging.md for the rules).

    Failed, errored, timed-out, cancelled and action-needing checks or statuses block; success, neutral and skipped
    pass. A required check that has not reported is pending, never passed; a pending check that is not required is
    waited for too. With nothing required and nothing reported, the pull request waits ``policy.settle`` after its
    head commit before it counts as having no checks.
    """
    pull_request = facts.pull_request
    if pull_request.state == "merged":
        return GateResult(Verdict.MERGED)
    if pull_request.state == "closed":
        text = f"#{pull_request.number} was closed by someone; reopen it or re-run"
        return GateResult(Verdict.CLOSED, (Blocker(BlockerKind.CLOSED, text),))
    signals = [_check_signal(run) for run in latest_check_runs(facts.check_runs)]
    signals += [_status_signal(status) for status in sorted(facts.statuses, key=lambda s: s.context)]
    required = required_checks(facts, policy)
    enforced_names = {check.context for check in facts.rules.required_checks}

    failed = [
        Blocker(BlockerKind.FAILED, s.text, s.url, github_enforced=s.name in enforced_names)
        for s in signals
        if s.state == "failed"
    ]
    missing = [
        Blocker(
            BlockerKind.MISSING,
            f'required check "{check.context}" has not reported yet (required by {check.source})',
            github_enforced=check.source != CONFIG_SOURCE,
        )
        for check in required
        if not any(_matches(check, s) for s in signals)
    ]
    pending = [
        Blocker(BlockerKind.PENDING, s.text, s.url, github_enforced=s.name in enforced_names)
        for s in signals
        if s.state == "pending"
    ]
    conflict = pull_request.mergeable is False or pull_request.mergeable_state == "dirty"
    if conflict:
        text = f"#{pull_request.number} has conflicts with its base"
        return GateResult(Verdict.CONFLICT, (Blocker(BlockerKind.CONFLICT, text), *failed))
    if failed:
        return GateResult(Verdict.FAILED, (*failed, *missing, *pending))
    if pull_request.mergeable_state == "behind":
        text = f"#{pull_request.number} is behind its base, which requires an up-to-date branch"
        return GateResult(Verdict.BEHIND, (Blocker(BlockerKind.BEHIND, text),))
    if missing or pending:
        return GateResult(Verdict.WAIT, (*missing, *pending))
    ci_reported = any(not (not s.check_run and s.name in policy.own_contexts) for s in signals)
    if facts.checks_supported and not required and not ci_reported and facts.head_committed_at is not None:
        settled_at = facts.head_committed_at + policy.settle
        if now < settled_at:
            until = readable_time(settled_at, date=False)
            text = (
                f"no check has reported on #{pull_request.number} yet; waiting until {until} "
                f"({format_duration(policy.settle)} after its head commit) before taking it as having none"
            )
            return GateResult(Verdict.WAIT, (Blocker(BlockerKind.SETTLING, text),), settled_at=settled_at)
    return _mergeability(facts)


def _mergeability(facts: MergeFacts) -> GateResult:
    """Every check has passed: what GitHub says of merging the pull request itself."""
    pull_request, rules = facts.pull_request, facts.rules
    number = pull_request.number
    if pull_request.draft or pull_request.mergeable_state == "draft":
        return GateResult(Verdict.WAIT, (Blocker(BlockerKind.DRAFT, f"#{number} is a draft; mark it ready"),))
    if pull_request.state == "open" and pull_request.mergeable is None and facts.checks_supported:
        text = f"GitHub is still working out whether #{number} can be merged"
        return GateResult(Verdict.WAIT, (Blocker(BlockerKind.COMPUTING, text, github_enforced=True),))
    if pull_request.mergeable_state == "blocked":
        if rules.required_reviews:
            reviews = "review" if rules.required_reviews == 1 else "reviews"
            text = f"#{number} needs {rules.required_reviews} approving {reviews} (a branch rule asks for it)"
            return GateResult(Verdict.WAIT, (Blocker(BlockerKind.REVIEW, text, github_enforced=True),))
        unread = f" ({'; '.join(rules.unread)})" if rules.unread else ""
        text = f"GitHub blocks merging #{number} for a rule envbot cannot see{unread}"
        return GateResult(Verdict.WAIT, (Blocker(BlockerKind.RULES, text, github_enforced=True),))
    return GateResult(Verdict.MERGE)


def use_native(result: GateResult, facts: MergeFacts, policy: MergePolicy, settings: RepositorySettings | None) -> bool:
    """Whether to hand this pull request to GitHub's auto-merge instead of waiting and merging it later.

    Only when what is left is enforced by GitHub itself (``auto_merge_eligible``); with ``auto`` only where the
    repository allows auto-merge (``settings``; None: not read, which ``always`` does not need).
    """
    if policy.native is NativeMerge.NEVER or not facts.rules.requires_anything or not result.auto_merge_eligible:
        return False
    if policy.native is NativeMerge.ALWAYS:
        return True
    return settings is not None and settings.allow_auto_merge
