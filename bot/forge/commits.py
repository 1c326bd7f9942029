"""What every forge decides alike when it pushes, merges and lists commits: pure steps over SHAs and trees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.forge.errors import BaseMovedError, ForgeNotFoundError
from bot.forge.model import FileChange, check_path

TreeT = TypeVar("TreeT")
"""What a forge compares trees by: git's tree SHA, or the files themselves (an in-memory forge)."""

MERGE_SUBJECT = "Merge pull request"


def changes_by_path(changes: Sequence[FileChange]) -> dict[str, str | None]:
    """Each path's new text (None: delete it), the last change of a path winning; ``ValueError`` for a bad path."""
    return {check_path(change.path): change.content for change in changes}


@dataclass(frozen=True)
class Tip(Generic[TreeT]):
    """The commit a branch points at: its SHA and its tree."""

    sha: str
    tree: TreeT


@dataclass(frozen=True)
class Head(Tip[TreeT]):
    """The commit a pushed branch points at now, with its parents: whether it already is the push."""

    parents: tuple[str, ...]


TipT = TypeVar("TipT", bound=Tip[Any])


def checked_base(base: str, tip: TipT | None, expected_base_sha: str | None, repository: str) -> TipT:
    """The tip of ``base`` a push builds on: ``ForgeNotFoundError`` when there is no such branch, ``BaseMovedError``
    when the caller expected it elsewhere (``expected_base_sha``)."""
    if tip is None:
        raise ForgeNotFoundError(f"base branch {base!r} does not exist in {repository}")
    if expected_base_sha is not None and expected_base_sha != tip.sha:
        raise BaseMovedError(base, expected_base_sha, tip.sha)
    return tip


def reusable_commit(base: Tip[TreeT], tree: TreeT, head: Head[TreeT] | None) -> str | None:
    """The commit that already is the base plus the changes, so none is made: the base's tip when the changes leave
    its tree as it is, the branch's head when that is one commit on the tip with exactly ``tree``; else None."""
    if tree == base.tree:
        return base.sha
    if head is not None and head.parents == (base.sha,) and head.tree == tree:
        return head.sha
    return None


@dataclass(frozen=True)
class BranchMove:
    """The one ref update of a push: ``branch`` from ``old`` (None: it is created) to ``new``.

    ``onto_base`` when the commit goes onto the base itself: a fast-forward from the tip the push built on, so a
    lost race there means the base moved (``BaseMovedError``), never a retry over someone's commit.
    """

    branch: str
    old: str | None
    new: str
    onto_base: bool


def branch_move(branch: str, base: str, base_sha: str, head_sha: str | None, target: str) -> BranchMove | None:
    """The ref update that leaves ``branch`` at ``target``; None when it is there already (nothing is written)."""
    onto_base = branch == base
    old = base_sha if onto_base else head_sha
    return None if target == old else BranchMove(branch, old, target, onto_base)


def merge_message(number: int, head: str, title: str) -> str:
    """The message of the commit that merges pull request ``number``, in GitHub's shape (its title below)."""
    return f"{MERGE_SUBJECT} #{number} from {head}\n\n{title}\n"


def history_title(subject: str, body: str) -> str:
    """A commit's title for people to read: its subject, and for a merge the pull request's title from the body."""
    title = body.strip().splitlines()[0] if subject.startswith(MERGE_SUBJECT) and body.strip() else ""
    return f"{subject}: {title}" if title else subject
