"""Carries out one proposal through a forge: push, ensure the pull request, gate it, and merge when it may."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Callable
from dataclasses import dataclass

from bot.forge.errors import ForgeRejectedError
from bot.forge.model import CombinedStatus, FileChange, MergeMethod, MergeOutcome, PullRequest
from bot.forge.protocol import Forge
from bot.reconcile.model import Proposal, Withdrawal

PR_LABEL = "envbot"


class Progress(enum.StrEnum):
    """How far a proposal got in one attempt."""

    IN_SYNC = "in-sync"
    OPEN = "open"
    CHECKS_PENDING = "checks-pending"
    CHECKS_FAILED = "checks-failed"
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


BasisReader = Callable[[], str]
"""Reads the environment's folders on both base branches as they are now, as a ``folders_digest``."""


def carry_out(
    proposal: Proposal,
    forge: Forge,
    base: str,
    merge_method: MergeMethod = "merge",
    basis_now: BasisReader | None = None,
) -> Outcome:
    """One idempotent attempt: re-running it after a crash at any point converges, never duplicates.

    With ``basis_now``, the merge happens only while both base branches still hold the environment's folders the
    decision was made from (a compare-and-swap): a decision that another run has overtaken never acts.
    """
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
    if basis_now is not None and basis_now() != proposal.basis:
        return Outcome(
            proposal, Progress.SUPERSEDED,
            f"#{pull_request.number}: the environment changed on a base branch since; deciding again", pull_request,
        )  # fmt: skip
    result = forge.merge(pull_request.number, pull_request.head_sha, merge_method)
    if result.outcome is MergeOutcome.MERGED:
        _delete_branch(forge, proposal.branch)
        return Outcome(proposal, Progress.MERGED, f"#{pull_request.number} merged", pull_request)
    if result.outcome is MergeOutcome.HEAD_MOVED:
        return Outcome(proposal, Progress.HEAD_MOVED, f"#{pull_request.number}: head moved; will check again")
    return Outcome(
        proposal, Progress.NOT_MERGEABLE, f"#{pull_request.number} cannot be merged: {result.message}", pull_request
    )


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
