"""Carries out one proposal through a forge: push, ensure the pull request, gate it, and merge when it may."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.forge.errors import ForgeRejectedError
from bot.forge.model import CombinedStatus, FileChange, MergeMethod, MergeOutcome, PullRequest
from bot.forge.protocol import Forge
from bot.reconcile.model import Proposal

PR_LABEL = "envbot"


class Progress(enum.StrEnum):
    """How far a proposal got in one attempt."""

    IN_SYNC = "in-sync"
    OPEN = "open"
    CHECKS_PENDING = "checks-pending"
    CHECKS_FAILED = "checks-failed"
    NOT_MERGEABLE = "not-mergeable"
    HEAD_MOVED = "head-moved"
    MERGED = "merged"

    @property
    def moved_on(self) -> bool:
        """The base branch changed (or already held the change): observe again right away."""
        return self in (Progress.MERGED, Progress.IN_SYNC, Progress.HEAD_MOVED)


@dataclass(frozen=True)
class Outcome:
    """The result of acting on one proposal."""

    proposal: Proposal
    progress: Progress
    detail: str
    pull_request: PullRequest | None = None


def merge_readiness(pull_request: PullRequest, status: CombinedStatus) -> tuple[Progress | None, str]:
    """Whether a pull request may be merged now: (None, why) when it may, else the blocking progress. Pure."""
    if pull_request.state == "merged":
        return Progress.MERGED, f"#{pull_request.number} is merged"
    if pull_request.state == "closed":
        return Progress.NOT_MERGEABLE, f"#{pull_request.number} was closed by someone; reopen it or re-run"
    if pull_request.mergeable is False:
        return Progress.NOT_MERGEABLE, f"#{pull_request.number} has conflicts with its base"
    failed = [s.context for s in status.statuses if s.state in ("failure", "error")]
    if failed:
        return Progress.CHECKS_FAILED, f"#{pull_request.number}: check {', '.join(failed)} failed"
    pending = [s.context for s in status.statuses if s.state == "pending"]
    if pending:
        return Progress.CHECKS_PENDING, f"#{pull_request.number}: waiting on check {', '.join(pending)}"
    reason = "checks passed" if status.statuses else "no checks configured"
    return None, f"#{pull_request.number}: {reason}"


def carry_out(proposal: Proposal, forge: Forge, base: str, merge_method: MergeMethod = "merge") -> Outcome:
    """One idempotent attempt: re-running it after a crash at any point converges, never duplicates."""
    changes = [FileChange.write(path, content) for path, content in proposal.writes]
    changes += [FileChange.delete(path) for path in proposal.deletes]
    commit = forge.push_commit(proposal.branch, base, changes, proposal.title)
    if not commit.has_diff:
        return Outcome(proposal, Progress.IN_SYNC, f"{base} already holds the change")
    try:
        pull_request = forge.ensure_pull_request(
            proposal.branch, base, proposal.title, proposal.body, labels=(PR_LABEL,)
        )
    except ForgeRejectedError:
        # Another run merged the same change in between (the base then holds it), or someone deleted the branch
        # between the push and the pull request: push again and look once more.
        commit = forge.push_commit(proposal.branch, base, changes, proposal.title)
        if not commit.has_diff:
            return Outcome(proposal, Progress.IN_SYNC, f"{base} already holds the change (merged by another run)")
        pull_request = forge.ensure_pull_request(
            proposal.branch, base, proposal.title, proposal.body, labels=(PR_LABEL,)
        )
    if proposal.gate is not None:
        gate = proposal.gate
        forge.set_status(commit.sha, gate.context, gate.state, gate.description)
    if not proposal.merge:
        return Outcome(proposal, Progress.OPEN, f"#{pull_request.number} is open", pull_request)
    pull_request = forge.get_pull_request(pull_request.number)
    blocked, why = merge_readiness(pull_request, forge.commit_status(pull_request.head_sha))
    if blocked is not None:
        return Outcome(proposal, blocked, why, pull_request)
    result = forge.merge(pull_request.number, pull_request.head_sha, merge_method)
    if result.outcome is MergeOutcome.MERGED:
        return Outcome(proposal, Progress.MERGED, f"#{pull_request.number} merged", pull_request)
    if result.outcome is MergeOutcome.HEAD_MOVED:
        return Outcome(proposal, Progress.HEAD_MOVED, f"#{pull_request.number}: head moved; will check again")
    return Outcome(
        proposal, Progress.NOT_MERGEABLE, f"#{pull_request.number} cannot be merged: {result.message}", pull_request
    )
