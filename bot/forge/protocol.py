"""The ``Forge`` seam: everything envbot writes to a GitOps repository or a pull request goes through it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bot.forge.model import (
    AutoMergeResult,
    CombinedStatus,
    Comment,
    CommitResult,
    CommitStatus,
    FileChange,
    MergeFacts,
    MergeMethod,
    MergeResult,
    Permission,
    PullRequest,
    PullRequestState,
    RepositorySettings,
    StatusState,
)


@runtime_checkable
class Forge(Protocol):
    """One repository on a forge (GitHub, or git on disk). Every method is idempotent: re-running a call with
    the same arguments converges to the same state, so a crash or a second process never duplicates anything.

    Beyond the calls of one environment, it lists the whole repository (sweeps) and withdraws what is no longer
    wanted: closes pull requests and deletes envbot's branches.

    Implementations raise only ``EnvbotError`` subclasses: ``ForgeUnavailableError`` / ``BaseMovedError``
    (transient) and ``ForgeNotFoundError`` / ``ForgeRejectedError`` (permanent), from ``bot.forge.errors``.
    """

    @property
    def checks_supported(self) -> bool:
        """False on a forge with no CI at all (git on disk): nothing but envbot ever reports a check there."""
        ...

    def read_file(self, path: str, ref: str) -> str | None:
        """The text of ``path`` at ``ref`` (branch, tag or commit SHA); ``None`` when the file or ref is missing."""
        ...

    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        """Sorted paths of every file under the folder ``prefix`` (``""`` for all) at ``ref``; ``()`` if none."""
        ...

    def push_commit(
        self,
        branch: str,
        base: str,
        changes: Sequence[FileChange],
        message: str,
        *,
        expected_base_sha: str | None = None,
    ) -> CommitResult:
        """Make ``branch`` exactly ``base`` + ``changes`` as ONE commit whose parent is the tip of ``base``.

        The branch is created when missing and reset onto the current base otherwise (it belongs to the bot).
        With ``branch == base`` the commit goes onto the base itself, fast-forward only. Deletions of files
        that do not exist are ignored. Nothing is written when the branch already holds exactly that content,
        and no commit is made when the changes leave the base unchanged (the branch then points at the base).
        ``expected_base_sha`` makes it a compare-and-swap: ``BaseMovedError`` when the base is elsewhere.
        """
        ...

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest:
        """The open pull request from ``head`` into ``base``: found first, created only when none is open.

        Title and body are updated only when they differ; ``labels`` are added when missing (never removed).
        The returned ``mergeable`` is ``None``: read it with ``get_pull_request``.
        """
        ...

    def get_pull_request(self, number: int) -> PullRequest:
        """One pull request with its current head SHA, state and mergeability; ``ForgeNotFoundError`` if absent."""
        ...

    def commit_status(self, ref: str) -> CombinedStatus:
        """The combined status of a commit (SHA or branch): each context's latest state and the verdict."""
        ...

    def set_status(
        self,
        sha: str,
        context: str,
        state: StatusState,
        description: str,
        target_url: str | None = None,
    ) -> CommitStatus:
        """Report ``state`` for ``context`` on commit ``sha``; nothing is written when it already says that.

        The description is cut to GitHub's 140 characters.
        """
        ...

    def upsert_comment(
        self, number: int, marker: str, body: str, *, unless_posted_since: dt.datetime | None = None
    ) -> Comment:
        """The one comment on pull request ``number`` that starts with the hidden marker ``<!-- marker -->``.

        Edited in place when its text differs, created when missing; duplicates (left by an earlier crash or a
        retried request) are deleted so that exactly one remains. The stored body is the marker line + ``body``.
        Only comments envbot wrote count: a person's comment that starts with the marker is never touched.

        With ``unless_posted_since``, a reply said at most once a while: when a marked comment was created at or
        after that instant (by the forge's clock, which no edit moves), nothing is written and the newest is
        returned (``changed`` False); otherwise a new marked comment is posted below the others, which stay.
        Two calls at once post one.
        """
        ...

    def merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> MergeResult:
        """Merge pull request ``number`` only if its head is still ``expected_head_sha``.

        Returns ``MERGED`` (also when it was merged already), ``NOT_MERGEABLE`` (conflicts, closed, or refused
        by branch protection) or ``HEAD_MOVED`` (re-check the new head before merging).
        """
        ...

    # -- the merge gate ---------------------------------------------------------------------------------------

    def merge_facts(self, number: int) -> MergeFacts:
        """What the forge reports for pull request ``number`` as it is now, for the merge gate to weigh.

        The pull request (``mergeable``, ``mergeable_state``, auto-merge), every status and every latest check run
        on its head (all pages), what its base branch requires (rulesets and classic branch protection, as far as
        the token may read them; what could not be read is named in ``rules.unread``) and when the head commit was
        made. ``ForgeNotFoundError`` when there is no such pull request.
        """
        ...

    def repository_settings(self) -> RepositorySettings:
        """The repository's settings the gate needs (whether auto-merge is allowed); read once per forge object."""
        ...

    def enable_auto_merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> AutoMergeResult:
        """Turn on the forge's own auto-merge for pull request ``number`` while its head is ``expected_head_sha``.

        ``ENABLED`` also when it was on already (nothing is written then), ``MERGED`` when it is merged, ``REFUSED``
        with the forge's reason otherwise (auto-merge not allowed, nothing left to wait for, head moved, closed).
        """
        ...

    def disable_auto_merge(self, number: int) -> AutoMergeResult:
        """Turn the forge's auto-merge off for pull request ``number``: ``DISABLED`` (nothing written when it was off
        already), ``REFUSED`` with the forge's reason. ``ForgeNotFoundError`` when there is no such pull request."""
        ...

    def permission(self, user: str) -> Permission:
        """The role of ``user`` on this repository; ``Permission.NONE`` for unknown users."""
        ...

    # -- whole-repository listings, for sweeps: a fixed number of paged requests, never one per environment -----

    def branch_names(self) -> frozenset[str]:
        """The names of every branch."""
        ...

    def pull_request_states(self) -> dict[int, PullRequestState]:
        """Every pull request's number and state (open, closed, merged)."""
        ...

    def open_pull_requests(self) -> tuple[PullRequest, ...]:
        """Every open pull request (all pages of one listing), sorted by number; ``mergeable`` is ``None``."""
        ...

    def open_pull_request_heads(self) -> frozenset[str]:
        """The head branch of every open pull request (from the same listing as ``open_pull_requests``)."""
        ...

    # -- withdrawing and cleaning up -----------------------------------------------------------------------------

    def close_pull_request(self, number: int, comment: str | None = None) -> PullRequest:
        """Close pull request ``number`` without merging it, and return it as it now is.

        When it is open and ``comment`` is given, the comment is posted first, as the one comment marked
        ``CLOSED_MARKER`` (``bot.forge.model``) by ``upsert_comment``: a retried close edits it in place and never
        posts a second. A pull request that is already closed or merged is left as it is (no comment) and returned.
        ``ForgeNotFoundError`` when there is no such pull request.
        """
        ...

    def delete_branch(self, name: str) -> bool:
        """Delete branch ``name``: True when it was deleted, False when it did not exist (no error).

        Only envbot's own branches (``envbot/...``) are deleted, and never one that an open pull request merges
        into: ``ForgeRejectedError``. An open pull request whose head it is gets closed with it (as GitHub does).
        """
        ...

    def branch_sha(self, name: str) -> str | None:
        """The commit at the tip of branch ``name``; ``None`` when the branch does not exist."""
        ...
