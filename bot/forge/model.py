"""Frozen values exchanged through the ``Forge`` seam; no PyGithub or GitPython object ever leaves bot/forge."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.forge.errors import ForgeRejectedError

StatusState = Literal["pending", "success", "failure", "error"]
"""A commit status state, as GitHub names them."""

PullRequestState = Literal["open", "closed", "merged"]
"""``closed`` means closed without being merged."""

MergeMethod = Literal["merge", "squash"]
"""How ``Forge.merge`` joins the head into the base: a merge commit, or one squashed commit."""

STATUS_STATES: frozenset[str] = frozenset({"pending", "success", "failure", "error"})
MAX_STATUS_DESCRIPTION = 140
"""GitHub rejects longer commit status descriptions; both forges cut them to this length."""

_MARKER_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")

BOT_BRANCH_PREFIX = "envbot/"
"""envbot's own branches start with this; ``Forge.delete_branch`` deletes no other."""
CLOSED_MARKER = "envbot:closed"
"""The hidden marker of the comment ``Forge.close_pull_request`` leaves, so that a retried close edits it in place."""


@dataclass(frozen=True)
class FileChange:
    """One file of a commit: new ``content`` for ``path``, or its deletion when ``content`` is ``None``.

    Paths are relative to the repository root, with ``/`` separators (``registry/environments/dev/x.yaml``).
    Content is text, written as UTF-8 with mode 100644.
    """

    path: str
    content: str | None

    @classmethod
    def write(cls, path: str, content: str) -> FileChange:
        """A change that creates or overwrites ``path``."""
        return cls(path, content)

    @classmethod
    def delete(cls, path: str) -> FileChange:
        """A change that removes ``path`` (ignored when the file does not exist)."""
        return cls(path, None)

    @property
    def is_deletion(self) -> bool:
        """True when this change removes the file."""
        return self.content is None


@dataclass(frozen=True)
class CommitResult:
    """What ``Forge.push_commit`` left on the branch.

    ``sha`` is the branch head afterwards and ``base_sha`` the base commit it was built on; they are equal when
    the changes made no difference to the base (nothing to propose). ``changed`` is False when the branch was
    already exactly base + changes, so nothing was written.
    """

    branch: str
    sha: str
    base_sha: str
    changed: bool

    @property
    def has_diff(self) -> bool:
        """True when the branch differs from its base, so a pull request has something to show."""
        return self.sha != self.base_sha


@dataclass(frozen=True)
class PullRequest:
    """A pull request as envbot needs it.

    ``mergeable`` is ``None`` when unknown: GitHub computes it in the background, only ``get_pull_request``
    reads it, and it is always ``None`` once the pull request is closed or merged. ``labels`` are sorted.
    """

    number: int
    title: str
    body: str
    head: str
    base: str
    head_sha: str
    state: PullRequestState
    labels: tuple[str, ...] = ()
    mergeable: bool | None = None
    url: str = ""
    head_repository: str | None = None
    """``owner/name`` the head branch lives in (a fork's, for a pull request from a fork); None when unknown."""
    head_label: str | None = None
    """GitHub's ``owner:branch`` label of the head; once a fork is deleted, the only trace of whose it was."""
    head_repository_deleted: bool = False
    """True when GitHub reports the head repository as null: the pull request's fork was deleted."""


@dataclass(frozen=True)
class CommitStatus:
    """The latest status one ``context`` reported on a commit."""

    context: str
    state: StatusState
    description: str = ""
    target_url: str | None = None


@dataclass(frozen=True)
class CombinedStatus:
    """Every context's latest status on a commit, and GitHub's verdict over them.

    ``state`` follows GitHub: ``failure`` if any context is failure or error, else ``pending`` if any is pending
    **or there is no status at all**, else ``success``. ``statuses`` are sorted by context.
    """

    sha: str
    state: StatusState
    statuses: tuple[CommitStatus, ...] = ()

    def get(self, context: str) -> CommitStatus | None:
        """The status of one context, or ``None`` when it never reported."""
        return next((s for s in self.statuses if s.context == context), None)


@dataclass(frozen=True)
class Comment:
    """A bot comment on a pull request; ``body`` is the text stored, marker line included.

    ``created_at`` is when the forge says it was posted (no edit moves it); ``changed`` is False when the call that
    returned it wrote nothing.
    """

    id: int
    body: str
    url: str = ""
    created_at: dt.datetime | None = None
    changed: bool = True


class MergeOutcome(enum.Enum):
    """How a merge attempt ended: the typed results of GitHub's 200, 405 and 409."""

    MERGED = "merged"
    NOT_MERGEABLE = "not-mergeable"
    HEAD_MOVED = "head-moved"


@dataclass(frozen=True)
class MergeResult:
    """The result of ``Forge.merge``; ``sha`` is the merge commit when ``outcome`` is ``MERGED``."""

    outcome: MergeOutcome
    sha: str | None = None
    message: str = ""

    @property
    def merged(self) -> bool:
        """True when the pull request is merged (now, or already before this call)."""
        return self.outcome is MergeOutcome.MERGED


class Permission(enum.IntEnum):
    """A user's role on a repository, ordered so that ``permission >= Permission.WRITE`` reads naturally."""

    NONE = 0
    READ = 1
    TRIAGE = 2
    WRITE = 3
    MAINTAIN = 4
    ADMIN = 5

    @classmethod
    def parse(cls, name: str) -> Permission:
        """``"write"`` → ``Permission.WRITE``; an unknown name raises ``ValueError``."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown repository permission {name!r}") from None

    @property
    def label(self) -> str:
        """The lower-case name GitHub uses (``write``)."""
        return self.name.lower()

    def __str__(self) -> str:
        return self.label


def combine_states(states: list[str]) -> StatusState:
    """GitHub's combined verdict over the latest state of each context (see ``CombinedStatus``)."""
    if any(s in ("failure", "error") for s in states):
        return "failure"
    if not states or any(s == "pending" for s in states):
        return "pending"
    return "success"


def marker_line(key: str) -> str:
    """The hidden HTML comment that identifies a bot comment: ``<!-- envbot:status:dev -->``.

    ``key`` is a plain identifier (letters, digits and ``. _ : / -``); anything that could end the HTML comment
    early is refused with ``ValueError``.
    """
    if not _MARKER_KEY.match(key) or "--" in key:
        raise ValueError(f"comment marker {key!r} must be letters, digits and . _ : / - (no '--')")
    return f"<!-- {key} -->"


def marked_body(key: str, body: str) -> str:
    """``body`` with the marker line of ``key`` on top, as ``upsert_comment`` stores it."""
    return f"{marker_line(key)}\n{body}"


def has_marker(body: str, key: str) -> bool:
    """True when a comment body starts with the marker line of ``key`` (quotes of it elsewhere do not count)."""
    return body.startswith(marker_line(key) + "\n") or body == marker_line(key)


def status_description(text: str) -> str:
    """A status description cut to GitHub's 140 characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= MAX_STATUS_DESCRIPTION:
        return text
    return text[: MAX_STATUS_DESCRIPTION - 1] + "…"


def check_deletable_branch(name: str) -> str:
    """``name`` when it is one of envbot's own branches; ``ForgeRejectedError`` for any other (``main``, a person's)."""
    if not name.startswith(BOT_BRANCH_PREFIX) or name == BOT_BRANCH_PREFIX:
        raise ForgeRejectedError(
            f"refusing to delete branch {name!r}: envbot deletes only its own {BOT_BRANCH_PREFIX}* branches"
        )
    return name


def check_path(path: str) -> str:
    """A repository path, refused with ``ValueError`` when absolute, empty or escaping the root."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\x00" in path:
        raise ValueError(f"invalid repository path {path!r}")
    return path


def created_at(comment: Mapping[str, Any]) -> dt.datetime | None:
    """When a comment was posted, from its ``created_at`` (GitHub's ``2026-03-09T10:20:03Z``, or a stored ISO time);
    None when absent or unreadable. A time without a zone is UTC."""
    value = comment.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def posted_since(comment: Mapping[str, Any], since: dt.datetime) -> bool:
    """Whether ``comment`` was created at or after ``since`` (a comment without a readable time was not)."""
    created = created_at(comment)
    return created is not None and created >= since
