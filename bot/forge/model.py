"""Frozen values exchanged through the ``Forge`` seam; no PyGithub or GitPython object ever leaves bot/forge."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from bot.clock import parse_timestamp
from bot.forge.errors import ForgeRejectedError

StatusState = Literal["pending", "success", "failure", "error"]
"""A commit status state, as GitHub names them."""

PullRequestState = Literal["open", "closed", "merged"]
"""``closed`` means closed without being merged."""

MergeMethod = Literal["merge", "squash"]
"""How ``Forge.merge`` joins the head into the base: a merge commit, or one squashed commit."""

STATUS_STATES: frozenset[str] = frozenset(get_args(StatusState))
MERGE_METHODS: frozenset[str] = frozenset(get_args(MergeMethod))
MAX_STATUS_DESCRIPTION = 140
"""GitHub rejects longer commit status descriptions; both forges cut them to this length."""

_MARKER_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}", re.ASCII)

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
    mergeable_state: str | None = None
    """GitHub's ``mergeable_state`` (``clean``, ``blocked``, ``behind``, ``dirty``, ``unstable``, ``draft``,
    ``has_hooks``, ``unknown``) as ``get_pull_request`` reads it; None when not read or not open."""
    auto_merge: bool = False
    """True when GitHub's auto-merge is enabled on the pull request (GitHub merges it once its rules pass)."""
    node_id: str = ""
    """GitHub's GraphQL ID of the pull request (what ``enablePullRequestAutoMerge`` takes); empty elsewhere."""
    draft: bool = False
    """True for a draft pull request, which GitHub does not merge until it is marked ready."""


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
class CheckRun:
    """One check run on a commit (GitHub Actions reports its jobs as check runs, not as statuses).

    ``conclusion`` is set once ``status`` is ``completed``: success, neutral, skipped, failure, cancelled, timed_out,
    action_required, stale (or one GitHub adds later). ``run_id`` grows with each run: a re-run of a check is a new
    run with the same ``name`` and a larger ``run_id``.
    """

    name: str
    status: str
    """queued, in_progress, completed; GitHub Actions also uses waiting, requested and pending."""
    conclusion: str | None = None
    url: str = ""
    run_id: int = 0
    app_id: int | None = None
    app: str = ""
    """The slug of the app that reported it (``github-actions``)."""


@dataclass(frozen=True)
class RequiredCheck:
    """A check the base branch requires before a merge, and who requires it (``source``, for people to read).

    ``app_id`` (when the rule names one) is the app whose check run counts; a commit status of that name counts too.
    """

    context: str
    source: str
    app_id: int | None = None


@dataclass(frozen=True)
class BranchRules:
    """What the base branch of a pull request requires, as far as the token may read it.

    ``required_checks`` come from rulesets and classic branch protection; ``strict`` means the head must be up to
    date with the base; ``required_reviews`` is the number of approving reviews a rule asks for. ``unread`` says
    what could not be read, and why, so that a merge GitHub refuses for a rule envbot could not see is explained.
    """

    required_checks: tuple[RequiredCheck, ...] = ()
    strict: bool = False
    required_reviews: int = 0
    unread: tuple[str, ...] = ()

    @property
    def requires_anything(self) -> bool:
        """True when GitHub itself holds the merge back for something (a check or a review): auto-merge then waits."""
        return bool(self.required_checks) or self.required_reviews > 0


@dataclass(frozen=True)
class MergeFacts:
    """Everything the merge gate weighs for one pull request, read together (``Forge.merge_facts``).

    ``statuses`` are every context's latest commit status on the head (all pages), ``check_runs`` every check run
    GitHub lists as latest on the head (all pages). ``head_committed_at`` is when the head commit was made (the
    settle time counts from it); ``checks_supported`` is False on a forge with no CI at all (git on disk), where
    nothing can ever report and there is nothing to settle.
    """

    pull_request: PullRequest
    statuses: tuple[CommitStatus, ...] = ()
    check_runs: tuple[CheckRun, ...] = ()
    rules: BranchRules = BranchRules()
    head_committed_at: dt.datetime | None = None
    checks_supported: bool = True


class AutoMergeOutcome(enum.Enum):
    """How ``Forge.enable_auto_merge`` ended."""

    ENABLED = "enabled"
    """Auto-merge is on (now, or already before this call): GitHub merges once its rules pass."""
    MERGED = "merged"
    """The pull request is merged already."""
    DISABLED = "disabled"
    """Auto-merge is off (now, or it was never on): the answer of ``Forge.disable_auto_merge``."""
    REFUSED = "refused"
    """GitHub refused (auto-merge off for the repository, nothing to wait for, head moved): see ``message``."""


@dataclass(frozen=True)
class AutoMergeResult:
    """The result of ``Forge.enable_auto_merge`` or ``Forge.disable_auto_merge``; ``message`` says why, in words."""

    outcome: AutoMergeOutcome
    message: str = ""


@dataclass(frozen=True)
class RepositorySettings:
    """The repository settings the merge gate needs: whether GitHub's auto-merge may be used at all."""

    allow_auto_merge: bool = False


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


def check_status_state(state: str) -> StatusState:
    """``state`` when it is a commit status state GitHub knows; ``ValueError`` otherwise."""
    if state not in STATUS_STATES:
        raise ValueError(f"unknown status state {state!r}")
    return cast(StatusState, state)


def check_merge_method(method: str) -> MergeMethod:
    """``method`` when it is a way ``Forge.merge`` joins branches (``merge``, ``squash``); ``ValueError`` otherwise."""
    if method not in MERGE_METHODS:
        raise ValueError(f"unknown merge method {method!r}")
    return cast(MergeMethod, method)


def is_object_id(text: str) -> bool:
    """Whether ``text`` is a full git object ID (40 lowercase hex digits), as a commit SHA is written."""
    return _OBJECT_ID.fullmatch(text) is not None


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
    """When a comment was posted, in UTC, from its ``created_at`` (GitHub's ``2026-03-09T10:20:03Z``, or the time a
    forge stored with its offset); None when absent or no RFC 3339 time."""
    value = comment.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def posted_since(comment: Mapping[str, Any], since: dt.datetime) -> bool:
    """Whether ``comment`` was created at or after ``since`` (a comment without a readable time was not)."""
    created = created_at(comment)
    return created is not None and created >= since
