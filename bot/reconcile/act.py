"""Carries out one proposal through a forge: push, ensure the pull request, gate it, and merge when it may."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from bot.forge.errors import ForgeRejectedError
from bot.forge.model import AutoMergeOutcome, FileChange, MergeFacts, MergeMethod, MergeOutcome, PullRequest
from bot.forge.protocol import Forge
from bot.reconcile.gate import Blocker, BlockerKind, GateResult, MergePolicy, NativeMerge, Verdict, use_native, weigh
from bot.reconcile.model import Proposal, Withdrawal, Wording

PR_LABEL = "envbot"


class Progress(enum.StrEnum):
    """How far a proposal got in one attempt."""

    IN_SYNC = "in-sync"
    OPEN = "open"
    CHECKS_PENDING = "checks-pending"
    CHECKS_FAILED = "checks-failed"
    WAITING = "waiting"
    """Checks passed; GitHub still holds the merge back (a review, a draft, mergeability being computed)."""
    AUTO_MERGE = "auto-merge"
    """GitHub's auto-merge is on: GitHub merges the pull request once its rules pass."""
    NOT_MERGEABLE = "not-mergeable"
    HEAD_MOVED = "head-moved"
    SUPERSEDED = "superseded"
    MERGED = "merged"

    @property
    def moved_on(self) -> bool:
        """The base branch changed (or already held the change): observe again right away."""
        return self in (Progress.MERGED, Progress.IN_SYNC, Progress.HEAD_MOVED, Progress.SUPERSEDED)


@dataclass(frozen=True)
class Outcome:
    """The result of acting on one proposal."""

    proposal: Proposal
    progress: Progress
    detail: str
    pull_request: PullRequest | None = None
    blockers: tuple[Blocker, ...] = ()
    """What holds the merge back, one line each (empty once merged, or when nothing was weighed)."""
    settled_at: dt.datetime | None = None
    """When only the settle time holds the merge back: when it ends (nothing can merge it before)."""


BasisReader = Callable[[], str]
"""Reads the environment's folders on both base branches as they are now, as a ``folders_digest``."""


def carry_out(
    proposal: Proposal,
    forge: Forge,
    base: str,
    merge_method: MergeMethod = "merge",
    basis_now: BasisReader | None = None,
    *,
    policy: MergePolicy,
    now: dt.datetime,
    wording: Wording,
) -> Outcome:
    """One idempotent attempt: re-running it after a crash at any point converges, never duplicates.

    A proposal that may merge goes through the gate (``bot.reconcile.gate``) over what the forge reports for the
    pull request's head at ``now``; with ``policy.native`` it may be handed to GitHub's auto-merge instead.
    With ``basis_now``, a merge (or an auto-merge) happens only while both base branches still hold the
    environment's folders the decision was made from (a compare-and-swap): a decision that another run has
    overtaken never acts.
    """
    changes = [FileChange.write(path, content) for path, content in proposal.writes]
    changes += [FileChange.delete(path) for path in proposal.deletes]
    title, body = wording.title(proposal.purpose), wording.body(proposal.purpose)
    commit = forge.push_commit(proposal.branch, base, changes, title)
    if not commit.has_diff:
        return Outcome(proposal, Progress.IN_SYNC, f"{base} already holds the change")
    try:
        pull_request = forge.ensure_pull_request(proposal.branch, base, title, body, labels=(PR_LABEL,))
    except ForgeRejectedError:
        # Another run merged the same change in between (the base then holds it), or someone deleted the branch
        # between the push and the pull request: push again and look once more.
        commit = forge.push_commit(proposal.branch, base, changes, title)
        if not commit.has_diff:
            return Outcome(proposal, Progress.IN_SYNC, f"{base} already holds the change (merged by another run)")
        pull_request = forge.ensure_pull_request(proposal.branch, base, title, body, labels=(PR_LABEL,))
    if proposal.gate is not None:
        gate = proposal.gate
        forge.set_status(commit.sha, gate.context, gate.state, gate.description)
    if not proposal.merge:
        if pull_request.auto_merge:
            # An earlier decision handed it to GitHub; this one does not want it merged (yet).
            forge.disable_auto_merge(pull_request.number)
        return Outcome(proposal, Progress.OPEN, f"#{pull_request.number} is open", pull_request)
    facts = forge.merge_facts(pull_request.number)
    result = weigh(facts, policy, now)
    pull_request = facts.pull_request
    number = pull_request.number
    if result.verdict is Verdict.MERGED:
        _delete_branch(forge, proposal.branch)
        return Outcome(proposal, Progress.MERGED, f"#{number} is merged", pull_request)
    if result.verdict is Verdict.BEHIND:
        forge.push_commit(proposal.branch, base, changes, title)
        return _held(proposal, Progress.CHECKS_PENDING, result, pull_request, "rebuilt on the current base")
    if result.verdict in (Verdict.CLOSED, Verdict.CONFLICT, Verdict.FAILED):
        if pull_request.auto_merge and result.verdict is Verdict.FAILED:
            forge.disable_auto_merge(number)  # GitHub would merge past a failing check it does not require
        progress = Progress.CHECKS_FAILED if result.verdict is Verdict.FAILED else Progress.NOT_MERGEABLE
        return _held(proposal, progress, result, pull_request)
    if result.verdict is Verdict.WAIT:
        return _wait(proposal, forge, facts, result, policy, merge_method, basis_now)
    if _overtaken(proposal, basis_now):
        return _superseded(proposal, pull_request)
    merged = forge.merge(number, pull_request.head_sha, merge_method)
    if merged.outcome is MergeOutcome.MERGED:
        _delete_branch(forge, proposal.branch)
        return Outcome(proposal, Progress.MERGED, f"#{number} merged", pull_request)
    if merged.outcome is MergeOutcome.HEAD_MOVED:
        return Outcome(proposal, Progress.HEAD_MOVED, f"#{number}: head moved; will check again")
    refused = Blocker(BlockerKind.REFUSED, f"GitHub refused to merge #{number}: {merged.message}")
    return Outcome(proposal, Progress.NOT_MERGEABLE, f"#{number}: {refused.text}", pull_request, (refused,))


_CHECK_WAITS = frozenset({BlockerKind.PENDING, BlockerKind.MISSING, BlockerKind.SETTLING})
_PROGRESS_OF = {
    Verdict.MERGE: Progress.OPEN,
    Verdict.MERGED: Progress.MERGED,
    Verdict.CLOSED: Progress.NOT_MERGEABLE,
    Verdict.CONFLICT: Progress.NOT_MERGEABLE,
    Verdict.FAILED: Progress.CHECKS_FAILED,
    Verdict.BEHIND: Progress.CHECKS_PENDING,
}


def _progress_of(result: GateResult) -> Progress:
    """How far a pull request is, as the gate sees it (before envbot acts on it)."""
    if result.verdict in _PROGRESS_OF:
        return _PROGRESS_OF[result.verdict]
    return Progress.CHECKS_PENDING if any(b.kind in _CHECK_WAITS for b in result.blockers) else Progress.WAITING


def review(proposal: Proposal, forge: Forge, number: int, *, policy: MergePolicy, now: dt.datetime) -> Outcome:
    """What holds open pull request ``number`` of ``proposal`` back, as the gate weighs it now. Reads only."""
    facts = forge.merge_facts(number)
    result = weigh(facts, policy, now)
    progress = _progress_of(result)
    blockers = result.blockers
    if facts.pull_request.auto_merge and progress in (Progress.CHECKS_PENDING, Progress.WAITING):
        progress = Progress.AUTO_MERGE
        blockers = (_auto_merge_on(number), *blockers)
    text = "; ".join(b.line() for b in blockers) or ("can be merged" if progress is Progress.OPEN else progress.value)
    return Outcome(proposal, progress, f"#{number}: {text}", facts.pull_request, blockers)


def _auto_merge_on(number: int) -> Blocker:
    """The line that says GitHub's auto-merge carries the merge out from here."""
    return Blocker(BlockerKind.AUTO_MERGE, f"auto-merge is on: GitHub merges #{number} once its rules pass")


def _overtaken(proposal: Proposal, basis_now: BasisReader | None) -> bool:
    """True when the environment's folders on the base branches are no longer those the decision was made from."""
    return basis_now is not None and basis_now() != proposal.basis


def _superseded(proposal: Proposal, pull_request: PullRequest) -> Outcome:
    text = f"#{pull_request.number}: the environment changed on a base branch since; deciding again"
    return Outcome(proposal, Progress.SUPERSEDED, text, pull_request)


def _held(
    proposal: Proposal, progress: Progress, result: GateResult, pull_request: PullRequest, done: str = ""
) -> Outcome:
    """An outcome that names what holds the pull request back."""
    lead = f"{done}; " if done else ""
    detail = f"#{pull_request.number}: {lead}{result.summary()}"
    return Outcome(proposal, progress, detail, pull_request, result.blockers, result.settled_at)


def _wait(
    proposal: Proposal,
    forge: Forge,
    facts: MergeFacts,
    result: GateResult,
    policy: MergePolicy,
    merge_method: MergeMethod,
    basis_now: BasisReader | None,
) -> Outcome:
    """Something is left to wait for: hand the pull request to GitHub's auto-merge when that may carry it out,
    else wait and look again in a later run."""
    pull_request = facts.pull_request
    progress = _progress_of(result)
    wants_settings = policy.native is NativeMerge.AUTO and result.auto_merge_eligible and facts.rules.requires_anything
    settings = forge.repository_settings() if wants_settings else None
    if not use_native(result, facts, policy, settings):
        return _held(proposal, progress, result, pull_request)
    if not pull_request.auto_merge:
        if _overtaken(proposal, basis_now):
            return _superseded(proposal, pull_request)
        enabled = forge.enable_auto_merge(pull_request.number, pull_request.head_sha, merge_method)
        if enabled.outcome is AutoMergeOutcome.MERGED:
            _delete_branch(forge, proposal.branch)
            return Outcome(proposal, Progress.MERGED, f"#{pull_request.number} is merged", pull_request)
        if enabled.outcome is AutoMergeOutcome.REFUSED:
            refused = Blocker(
                BlockerKind.REFUSED,
                f"GitHub refused auto-merge for #{pull_request.number}: {enabled.message}"
                + (" (merge.native is always)" if policy.native is NativeMerge.ALWAYS else ""),
            )
            held = GateResult(result.verdict, (refused, *result.blockers))
            return _held(proposal, progress, held, pull_request)
    on = _auto_merge_on(pull_request.number)
    return _held(proposal, Progress.AUTO_MERGE, GateResult(result.verdict, (on, *result.blockers)), pull_request)


def _delete_branch(forge: Forge, branch: str) -> None:
    """envbot's branch goes once its pull request is merged or closed (a person's open PR on it keeps it)."""
    with contextlib.suppress(ForgeRejectedError):
        forge.delete_branch(branch)


def withdraw(withdrawal: Withdrawal, forge: Forge, comment: str) -> PullRequest:
    """Close one pull request that no intent asks for any more, saying why, and delete its branch. Idempotent."""
    closed = forge.close_pull_request(withdrawal.request.number, comment)
    if closed.state != "open":
        _delete_branch(forge, withdrawal.request.branch)
    return closed
