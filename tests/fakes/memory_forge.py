"""``MemoryForge``: the whole Forge protocol in memory with LocalForge's semantics, fast enough for thousands of runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import heapq
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar, cast

from bot.clock import Clock, utc_now
from bot.forge.commits import (
    Head,
    branch_move,
    changes_by_path,
    checked_base,
    history_title,
    merge_message,
    reusable_commit,
)
from bot.forge.errors import ForgeNotFoundError, ForgeRejectedError
from bot.forge.model import (
    CLOSED_MARKER,
    AutoMergeOutcome,
    AutoMergeResult,
    BranchRules,
    CheckRun,
    CombinedStatus,
    Comment,
    CommitResult,
    CommitStatus,
    FileChange,
    MergeFacts,
    MergeMethod,
    MergeOutcome,
    MergeResult,
    Permission,
    PullRequest,
    PullRequestState,
    RepositorySettings,
    RequiredCheck,
    StatusState,
    check_deletable_branch,
    check_merge_method,
    check_path,
    check_status_state,
    combine_states,
    has_marker,
    is_object_id,
    marked_body,
    status_description,
)
from tests.fakes.three_way import merge_trees

F = TypeVar("F", bound=Callable[..., Any])

_BAD_BRANCH = re.compile(r"^[-/]|/\Z|\.\Z|\.\.|//|@\{|[\x00-\x20\x7f~^:?*\[\\]|(^|/)\.|\.lock(/|\Z)")
"""What ``git check-ref-format`` refuses in a branch name (LocalForge asks git; here the rules are spelled out)."""
_CACHE_ENTRIES = 4096
GITHUB_ACTIONS_APP_ID = 15368
"""The id of the GitHub Actions app, which reports every workflow job as a check run."""
CHECK_RUN_STATUSES = frozenset({"queued", "in_progress", "completed", "waiting", "requested", "pending"})
PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""What GitHub lets through for a required check; every other conclusion (failure, cancelled, ...) holds it back."""
MERGEABLE_STATES = frozenset({"clean", "unstable"})
"""The ``mergeable_state`` values at which GitHub merges (and carries out an auto-merge)."""


@dataclass(frozen=True)
class MemoryCommit:
    """One immutable snapshot: every file's text by path, its parents, and when it was made."""

    sha: str
    files: Mapping[str, str]
    parents: tuple[str, ...]
    message: str
    when: dt.datetime
    generation: int
    """1 for a root commit, else one more than its highest parent (prunes ancestry walks)."""


@dataclass
class _Comment:
    id: int
    body: str
    created_at: dt.datetime
    author: str

    def value(self, *, changed: bool = True) -> Comment:
        return Comment(id=self.id, body=self.body, created_at=self.created_at, changed=changed)


@dataclass
class _Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    head_sha: str
    state: PullRequestState = "open"
    labels: tuple[str, ...] = ()
    merge_sha: str | None = None
    comments: list[_Comment] = field(default_factory=list)
    approvals: int = 0
    auto_merge: MergeMethod | None = None
    """The merge method auto-merge will use; None while auto-merge is off."""


@dataclass(frozen=True)
class _Report:
    """One check's latest word on a commit, a commit status or a check run: passed, pending, or failed."""

    name: str
    verdict: str  # "passed" | "pending" | "failed"
    app_id: int | None = None


def _locked(method: F) -> F:
    """Run ``method`` holding the forge's lock: each call is atomic, as LocalForge's compare-and-swap makes it."""

    @functools.wraps(method)
    def locked(self: MemoryForge, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(F, locked)


class MemoryForge:
    """A repository held in memory: commits are immutable snapshots (``dict[path, text]``) with parents, branches
    point at them, and pull requests, comments, statuses and permissions live beside them. The semantics are
    LocalForge's (the forge contract suite runs on both): one commit per push on the base tip, compare-and-swap
    on the base, pull requests found before they are created, merges only at the expected head (a merge commit
    or a squash; line-by-line three-way merges, conflicts not mergeable), marked comments edited in place.

    No git, no disk, no sleeping: a call costs microseconds. Every call holds one lock, so threads see each
    call happen at once. ``clock`` stamps comments and commits; ``identity`` is the comment author counted as
    envbot (``add_comment`` plants other authors' comments, which are never adopted). SHAs are deterministic:
    the first commit's hashes its files, later ones that SHA and a counter, so two repositories seeded with
    different files never share a SHA.

    For the merge gate it models GitHub: rules of a base branch (``require``: required checks, strict, reviews),
    check runs (``add_check_run``, ``update_check_run``, ``rerun_check_run``), approvals (``approve``),
    ``mergeable_state`` computed as GitHub computes it, merges refused while a rule is not met, and native
    auto-merge, which this forge carries out itself after every change that can make the rules pass. By default
    it is a forge with no CI (``checks_supported`` False, as LocalForge): no check runs, and no report makes a
    pull request ``unstable``; ``allow_auto_merge`` is the repository setting (off by default, as on GitHub).
    Both are plain attributes a test may switch.
    """

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        identity: str = "envbot",
        default_permission: Permission = Permission.NONE,
        checks_supported: bool = False,
        allow_auto_merge: bool = False,
    ) -> None:
        self.identity = identity
        self.default_permission = default_permission
        self.checks_supported = checks_supported
        self.allow_auto_merge = allow_auto_merge
        self._clock = clock
        self._lock = threading.RLock()
        self._commits: dict[str, MemoryCommit] = {}
        self._branches: dict[str, str] = {}
        self._pulls: dict[int, _Pull] = {}
        self._open: dict[int, _Pull] = {}
        """The open pull requests (both dicts are in number order: numbers only grow)."""
        self._statuses: dict[str, list[CommitStatus]] = {}
        self._roles: dict[str, Permission] = {}
        self._check_runs: dict[str, list[CheckRun]] = {}
        """Every check run on a commit, oldest first (a re-run is appended with a larger ``run_id``)."""
        self._run_commits: dict[int, str] = {}
        self._rules: dict[str, tuple[BranchRules, str]] = {}
        """What each base branch requires, and who requires it (the ``source`` ``require`` was given)."""
        self._default_branch = "main"
        self._counters = {"commit": 0, "pull": 0, "comment": 0, "check_run": 0}
        self._salt = ""
        self._merges: dict[tuple[str, str], Mapping[str, str] | None] = {}
        self._trees: dict[tuple[str, str], tuple[str, ...]] = {}

    @classmethod
    def initialize(
        cls,
        files: Mapping[str, str],
        *,
        branch: str = "main",
        message: str = "Initial commit",
        clock: Clock = utc_now,
        identity: str = "envbot",
        default_permission: Permission = Permission.NONE,
        checks_supported: bool = False,
        allow_auto_merge: bool = False,
    ) -> MemoryForge:
        """A repository whose ``branch`` holds ``files`` in one first commit."""
        forge = cls(
            clock=clock,
            identity=identity,
            default_permission=default_permission,
            checks_supported=checks_supported,
            allow_auto_merge=allow_auto_merge,
        )
        forge._check_branch(branch)
        forge._default_branch = branch
        snapshot = {check_path(path): text for path, text in files.items()}
        forge._salt = hashlib.sha1(repr(sorted(snapshot.items())).encode(), usedforsecurity=False).hexdigest()
        forge._branches[branch] = forge._commit(snapshot, (), message)
        return forge

    def __repr__(self) -> str:
        return f"MemoryForge(branches={sorted(self._branches)}, pulls={len(self._pulls)})"

    # -- Forge: reading ----------------------------------------------------------------------------------------

    @_locked
    def read_file(self, path: str, ref: str) -> str | None:
        check_path(path)
        sha = self._resolve(ref)
        return None if sha is None else self._commits[sha].files.get(path)

    @_locked
    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        folder = prefix.strip("/")
        if folder:
            check_path(folder)
        sha = self._resolve(ref)
        if sha is None:
            return ()
        key = (sha, folder)
        if key not in self._trees:
            lead = f"{folder}/" if folder else ""
            self._remember(self._trees, key, tuple(sorted(p for p in self._commits[sha].files if p.startswith(lead))))
        return self._trees[key]

    # -- Forge: commits and pull requests ------------------------------------------------------------------------

    @_locked
    def push_commit(
        self,
        branch: str,
        base: str,
        changes: Sequence[FileChange],
        message: str,
        *,
        expected_base_sha: str | None = None,
    ) -> CommitResult:
        self._check_branch(branch)
        wanted = changes_by_path(changes)
        base_tip = checked_base(base, self._tip(base), expected_base_sha, repr(self))
        head = None if branch == base else self._tip(branch)
        files = dict(base_tip.tree)
        for path, content in wanted.items():
            if content is not None:
                files[path] = content
            else:
                files.pop(path, None)  # deleting a file that is not there changes nothing
        target = reusable_commit(base_tip, files, head)
        if target is None:
            target = self._commit(files, (base_tip.sha,), message)
        move = branch_move(branch, base, base_tip.sha, head.sha if head else None, target)
        if move is None:
            return CommitResult(branch, target, base_tip.sha, changed=False)
        self._branches[branch] = target
        self._carry_out_auto_merges()
        return CommitResult(branch, target, base_tip.sha, changed=True)

    @_locked
    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest:
        found = [p for p in self._open.values() if p.head == head and p.base == base]
        if found:
            pull = found[0]
            pull.title, pull.body = title, body
            pull.labels = tuple(sorted({*pull.labels, *labels}))
        else:
            head_sha, base_sha = self._branches.get(head), self._branches.get(base)
            if head_sha is None or base_sha is None:
                missing = head if head_sha is None else base
                raise ForgeRejectedError(f"cannot open {head} → {base}: branch {missing!r} does not exist")
            if self._is_ancestor(head_sha, base_sha):
                raise ForgeRejectedError(f"cannot open {head} → {base}: no commits between {base} and {head}")
            pull = _Pull(self._next("pull"), title, body, head, base, head_sha, labels=tuple(sorted(set(labels))))
            self._pulls[pull.number] = self._open[pull.number] = pull
        return self._value(pull, with_mergeable=False)

    @_locked
    def get_pull_request(self, number: int) -> PullRequest:
        return self._value(self._pull(number), with_mergeable=True)

    @_locked
    def merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> MergeResult:
        check_merge_method(method)
        pull = self._pull(number)
        if pull.state == "merged":
            return MergeResult(MergeOutcome.MERGED, sha=pull.merge_sha, message="already merged")
        if pull.state != "open":
            return MergeResult(MergeOutcome.NOT_MERGEABLE, message="pull request is closed")
        head_sha, base_sha = self._branches.get(pull.head), self._branches.get(pull.base)
        if head_sha is None or base_sha is None:
            return MergeResult(MergeOutcome.NOT_MERGEABLE, message="a branch of the pull request is gone")
        if head_sha != expected_head_sha:
            return MergeResult(MergeOutcome.HEAD_MOVED, message=f"head is now {head_sha[:12]}")
        if self._merged(base_sha, head_sha) is None:
            return MergeResult(MergeOutcome.NOT_MERGEABLE, message="merge conflict")
        violations = self._violations(pull, head_sha, base_sha)
        if violations:
            return MergeResult(MergeOutcome.NOT_MERGEABLE, message=self._refusal(pull.base, violations))
        merged = self._merge_now(pull, head_sha, base_sha, method)
        self._carry_out_auto_merges()
        return MergeResult(MergeOutcome.MERGED, sha=merged, message="merged")

    # -- Forge: the merge gate -----------------------------------------------------------------------------------

    @_locked
    def merge_facts(self, number: int) -> MergeFacts:
        pull = self._pull(number)
        value = self._value(pull, with_mergeable=True)
        head = value.head_sha
        statuses = tuple(sorted(self._latest_statuses(head).values(), key=lambda s: s.context))
        return MergeFacts(
            value,
            statuses=statuses,
            check_runs=tuple(sorted(self._latest_check_runs(head).values(), key=lambda r: r.name)),
            rules=self._branch_rules(pull.base),
            head_committed_at=self._commits[head].when if head in self._commits else None,
            checks_supported=self.checks_supported,
        )

    @_locked
    def repository_settings(self) -> RepositorySettings:
        return RepositorySettings(allow_auto_merge=self.allow_auto_merge)

    @_locked
    def enable_auto_merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> AutoMergeResult:
        """As GitHub's ``enablePullRequestAutoMerge``: refused when the repository does not allow it, when the head
        is not ``expected_head_sha``, and when nothing is left to wait for (GitHub's "Pull request is in clean
        status"); once on, this forge merges the pull request the moment its rules pass."""
        check_merge_method(method)
        pull = self._pull(number)
        if pull.state == "merged":
            return AutoMergeResult(AutoMergeOutcome.MERGED, "already merged")
        if pull.state != "open":
            return AutoMergeResult(AutoMergeOutcome.REFUSED, "Pull request is closed")
        if not self.allow_auto_merge:
            return AutoMergeResult(AutoMergeOutcome.REFUSED, "Auto merge is not allowed for this repository")
        head_sha = self._head_sha(pull)
        if head_sha != expected_head_sha:
            return AutoMergeResult(
                AutoMergeOutcome.REFUSED, f"Head sha {expected_head_sha[:12]} is not the head {head_sha[:12]}"
            )
        if pull.auto_merge is not None:
            return AutoMergeResult(AutoMergeOutcome.ENABLED, "auto-merge is on already")
        state = self._mergeable_state(pull)
        if state not in ("blocked", "behind"):
            return AutoMergeResult(AutoMergeOutcome.REFUSED, f"Pull request is in {state} status")
        pull.auto_merge = method
        return AutoMergeResult(AutoMergeOutcome.ENABLED, "auto-merge enabled")

    @_locked
    def disable_auto_merge(self, number: int) -> AutoMergeResult:
        """Auto-merge off: ``DISABLED`` "auto-merge disabled" when it was on; ``DISABLED`` "auto-merge is not on",
        with nothing written, when it was not (as on LocalForge)."""
        pull = self._pull(number)
        if pull.auto_merge is None:
            return AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge is not on")
        pull.auto_merge = None
        return AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge disabled")

    # -- Forge: statuses, comments, permissions ------------------------------------------------------------------

    @_locked
    def commit_status(self, ref: str) -> CombinedStatus:
        sha = self._resolve(ref)
        if sha is None:
            raise ForgeNotFoundError(f"no commit {ref!r} in {self!r}")
        statuses = tuple(sorted(self._latest_statuses(sha).values(), key=lambda s: s.context))
        return CombinedStatus(sha, combine_states([s.state for s in statuses]), statuses)

    @_locked
    def set_status(
        self,
        sha: str,
        context: str,
        state: StatusState,
        description: str,
        target_url: str | None = None,
    ) -> CommitStatus:
        check_status_state(state)
        wanted = CommitStatus(context, state, status_description(description), target_url)
        if not is_object_id(sha) or sha not in self._commits:
            raise ForgeNotFoundError(f"no commit {sha!r} in {self!r}")
        if self._latest_statuses(sha).get(context.lower()) != wanted:
            self._statuses.setdefault(sha, []).append(wanted)
            self._carry_out_auto_merges()
        return wanted

    @_locked
    def upsert_comment(
        self, number: int, marker: str, body: str, *, unless_posted_since: dt.datetime | None = None
    ) -> Comment:
        text = marked_body(marker, body)
        pull = self._pull(number)
        mine = [c for c in pull.comments if c.author == self.identity and has_marker(c.body, marker)]
        if unless_posted_since is not None:
            recent = [c for c in mine if c.created_at >= unless_posted_since]
            if recent:
                return recent[-1].value(changed=False)
            mine = []  # earlier replies stay: a new one is posted below them
        elif len(mine) == 1 and mine[0].body == text:
            return mine[0].value(changed=False)
        if mine:
            kept, *duplicates = mine
            kept.body = text
            gone = {c.id for c in duplicates}
            pull.comments = [c for c in pull.comments if c.id not in gone]
        else:
            kept = _Comment(self._next("comment"), text, self._clock(), self.identity)
            pull.comments.append(kept)
        return kept.value()

    @_locked
    def permission(self, user: str) -> Permission:
        return self._roles.get(user, self.default_permission)

    # -- Forge: listings ---------------------------------------------------------------------------------------

    @_locked
    def branch_names(self) -> frozenset[str]:
        return frozenset(self._branches)

    @_locked
    def pull_request_states(self) -> dict[int, PullRequestState]:
        return {number: pull.state for number, pull in self._pulls.items()}

    @_locked
    def open_pull_requests(self) -> tuple[PullRequest, ...]:
        return tuple(self._value(pull, with_mergeable=False) for pull in self._open.values())

    def open_pull_request_heads(self) -> frozenset[str]:
        return frozenset(pr.head for pr in self.open_pull_requests())

    # -- Forge: withdrawing and cleaning up --------------------------------------------------------------------

    @_locked
    def close_pull_request(self, number: int, comment: str | None = None) -> PullRequest:
        pull = self._pull(number)
        if pull.state == "open":
            if comment is not None:
                self.upsert_comment(number, CLOSED_MARKER, comment)
            self._end(pull, "closed", self._head_sha(pull))
        return self._value(pull, with_mergeable=False)

    @_locked
    def delete_branch(self, name: str) -> bool:
        check_deletable_branch(name)
        self._check_branch(name)
        sha = self._branches.get(name)
        if sha is None:
            return False
        into = [p.number for p in self._open.values() if p.base == name]
        if into:
            raise ForgeRejectedError(f"refusing to delete branch {name!r}: pull request #{into[0]} merges into it")
        for pull in [p for p in self._open.values() if p.head == name]:  # closed with its branch, as GitHub does
            self._end(pull, "closed", sha)
        del self._branches[name]
        return True

    @_locked
    def branch_sha(self, name: str) -> str | None:
        return self._branches.get(name)

    # -- beyond the protocol: setup and inspection for tests ---------------------------------------------------

    @_locked
    def grant(self, user: str, permission: Permission) -> None:
        """Record ``user``'s role on this repository."""
        self._roles[user] = permission

    @_locked
    def commit(self, ref: str) -> MemoryCommit:
        """The commit a branch or SHA names; ``ForgeNotFoundError`` when there is none."""
        sha = self._resolve(ref)
        if sha is None:
            raise ForgeNotFoundError(f"no commit {ref!r} in {self!r}")
        return self._commits[sha]

    def files(self, ref: str) -> dict[str, str]:
        """Every file at a branch or commit (a copy)."""
        return dict(self.commit(ref).files)

    @_locked
    def pull_requests(self) -> list[PullRequest]:
        """Every pull request, open, closed or merged, by number (``mergeable`` None)."""
        return [self._value(pull, with_mergeable=False) for pull in self._pulls.values()]

    @_locked
    def comments(self, number: int) -> list[Comment]:
        """Every comment on pull request ``number``, oldest first (envbot's and others')."""
        return [c.value() for c in self._pull(number).comments]

    @_locked
    def add_comment(self, number: int, body: str, author: str | None = None) -> int:
        """Post a comment as ``author`` (envbot's ``identity`` by default: a crashed run's duplicate; a person's
        look-alike otherwise, which envbot never adopts); its id."""
        comment = _Comment(self._next("comment"), body, self._clock(), author or self.identity)
        self._pull(number).comments.append(comment)
        return comment.id

    @_locked
    def statuses(self, sha: str) -> tuple[CommitStatus, ...]:
        """Every status ever written on commit ``sha``, oldest first."""
        return tuple(self._statuses.get(sha, ()))

    # -- beyond the protocol: what GitHub's CI, rules and reviewers do -----------------------------------------

    @_locked
    def add_check_run(
        self,
        sha_or_branch: str,
        name: str,
        status: str = "queued",
        conclusion: str | None = None,
        app_id: int | None = GITHUB_ACTIONS_APP_ID,
    ) -> int:
        """A new check run on a commit (a branch names its tip), as a CI app reports one; its ``run_id``.

        A conclusion completes it, as on GitHub. ``ValueError`` on a forge with no CI (``checks_supported``).
        """
        if not self.checks_supported:
            raise ValueError("this MemoryForge has no CI (checks_supported is False): no check run can report")
        sha = self._resolve(sha_or_branch)
        if sha is None:
            raise ForgeNotFoundError(f"no commit {sha_or_branch!r} in {self!r}")
        status, conclusion = _check_run_phase(status, conclusion)
        run_id = self._next("check_run")
        app = "github-actions" if app_id == GITHUB_ACTIONS_APP_ID else (f"app-{app_id}" if app_id else "")
        run = CheckRun(name, status, conclusion, f"https://ci.example/check-runs/{run_id}", run_id, app_id, app)
        self._check_runs.setdefault(sha, []).append(run)
        self._run_commits[run_id] = sha
        self._carry_out_auto_merges()
        return run_id

    @_locked
    def update_check_run(self, run_id: int, status: str | None = None, conclusion: str | None = None) -> CheckRun:
        """Move a check run on (``in_progress``, or ``completed`` with a conclusion); the run as it now is."""
        sha = self._run_commits.get(run_id)
        if sha is None:
            raise ForgeNotFoundError(f"no check run {run_id} in {self!r}")
        runs = self._check_runs[sha]
        index = next(i for i, run in enumerate(runs) if run.run_id == run_id)
        new_status = status or ("completed" if conclusion is not None else runs[index].status)
        if conclusion is None and new_status == "completed":
            conclusion = runs[index].conclusion
        new_status, conclusion = _check_run_phase(new_status, conclusion)
        runs[index] = dataclasses.replace(runs[index], status=new_status, conclusion=conclusion)
        self._carry_out_auto_merges()
        return runs[index]

    @_locked
    def rerun_check_run(self, run_id: int) -> int:
        """Re-run a check: a new queued run of the same name and app on the same commit, which supersedes it."""
        sha = self._run_commits.get(run_id)
        if sha is None:
            raise ForgeNotFoundError(f"no check run {run_id} in {self!r}")
        old = next(run for run in self._check_runs[sha] if run.run_id == run_id)
        return int(self.add_check_run(sha, old.name, "queued", None, old.app_id))

    @_locked
    def check_runs(self, sha_or_branch: str) -> tuple[CheckRun, ...]:
        """Every check run ever reported on a commit (a branch names its tip), oldest first, re-runs included."""
        sha = self._resolve(sha_or_branch)
        return tuple(self._check_runs.get(sha, ())) if sha else ()

    @_locked
    def require(
        self,
        *contexts: str,
        strict: bool = False,
        reviews: int = 0,
        source: str = "ruleset 'main'",
        branch: str | None = None,
        app_id: int | None = None,
    ) -> BranchRules:
        """Set what the base ``branch`` (the first branch by default) requires before a merge: these checks
        (a status or a check run of that name, of ``app_id``'s app when given), the head up to date with the base
        (``strict``) and ``reviews`` approvals; ``require()`` with nothing requires nothing again."""
        rules = BranchRules(tuple(RequiredCheck(c, source, app_id) for c in contexts), strict, reviews)
        self._rules[branch or self._default_branch] = (rules, source)
        self._carry_out_auto_merges()
        return rules

    @_locked
    def approve(self, number: int) -> None:
        """A reviewer with write access approves open pull request ``number`` (approvals survive pushes)."""
        pull = self._pull(number)
        if pull.state != "open":
            raise ForgeRejectedError(f"cannot approve #{number}: it is {pull.state}")
        pull.approvals += 1
        self._carry_out_auto_merges()

    @_locked
    def history(self, branch: str, limit: int = 50) -> tuple[tuple[str, dt.datetime, str], ...]:
        """First-parent history of ``branch``, newest first: (short SHA, commit time, title), as LocalForge's.

        For a merge commit the title is the pull request's, taken from the commit body.
        """
        sha = self._branches.get(branch)
        entries: list[tuple[str, dt.datetime, str]] = []
        while sha is not None and len(entries) < limit:
            commit = self._commits[sha]
            subject, _, body = commit.message.partition("\n")
            entries.append((sha[:7], commit.when, history_title(subject, body)))
            sha = commit.parents[0] if commit.parents else None
        return tuple(entries)

    # -- internals -------------------------------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._counters[kind] += 1
        return self._counters[kind]

    def _commit(self, files: Mapping[str, str], parents: tuple[str, ...], message: str) -> str:
        seed = f"{self._salt}\0{self._next('commit')}"
        sha = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
        generation = 1 + max((self._commits[p].generation for p in parents), default=0)
        snapshot = MappingProxyType(dict(files))
        self._commits[sha] = MemoryCommit(sha, snapshot, parents, message, self._clock(), generation)
        return sha

    def _tip(self, branch: str) -> Head[Mapping[str, str]] | None:
        """The commit ``branch`` points at, with its files and parents; None when there is no such branch."""
        sha = self._branches.get(branch)
        if sha is None:
            return None
        commit = self._commits[sha]
        return Head(sha, commit.files, commit.parents)

    def _resolve(self, ref: str) -> str | None:
        sha = self._branches.get(ref)
        if sha is not None:
            return sha
        return ref if is_object_id(ref) and ref in self._commits else None

    def _check_branch(self, name: str) -> None:
        if not name or _BAD_BRANCH.search(name):
            raise ValueError(f"invalid branch name {name!r}")

    def _pull(self, number: int) -> _Pull:
        pull = self._pulls.get(int(number))
        if pull is None:
            raise ForgeNotFoundError(f"no pull request #{number} in {self!r}")
        return pull

    def _end(self, pull: _Pull, state: PullRequestState, head_sha: str) -> None:
        """Close or merge an open pull request, keeping its last head; closing turns auto-merge off, as on GitHub."""
        pull.state, pull.head_sha = state, head_sha
        if state == "closed":
            pull.auto_merge = None
        del self._open[pull.number]

    def _head_sha(self, pull: _Pull) -> str:
        if pull.state == "open":
            return self._branches.get(pull.head) or pull.head_sha
        return pull.head_sha

    def _value(self, pull: _Pull, *, with_mergeable: bool) -> PullRequest:
        head_sha = self._head_sha(pull)
        mergeable, mergeable_state = None, None
        if with_mergeable and pull.state == "open":
            base_sha = self._branches.get(pull.base)
            mergeable = base_sha is not None and self._merged(base_sha, head_sha) is not None
            mergeable_state = self._mergeable_state(pull)
        return PullRequest(
            number=pull.number,
            title=pull.title,
            body=pull.body,
            head=pull.head,
            base=pull.base,
            head_sha=head_sha,
            state=pull.state,
            labels=pull.labels,
            mergeable=mergeable,
            mergeable_state=mergeable_state,
            auto_merge=pull.auto_merge is not None,
            node_id=f"PR_memory{self._salt[:8]}_{pull.number}",
        )

    def _latest_statuses(self, sha: str) -> dict[str, CommitStatus]:
        return {status.context.lower(): status for status in self._statuses.get(sha, ())}

    def _latest_check_runs(self, sha: str) -> dict[str, CheckRun]:
        """The latest run of each check on a commit (a re-run supersedes the run it repeats)."""
        return {run.name: run for run in sorted(self._check_runs.get(sha, ()), key=lambda r: r.run_id)}

    def _branch_rules(self, branch: str) -> BranchRules:
        return self._rules.get(branch, (BranchRules(), ""))[0]

    def _reports(self, sha: str) -> list[_Report]:
        """What every status and every latest check run on a commit says, as passed, pending or failed."""
        reports = [
            _Report(s.context, {"success": "passed", "pending": "pending"}.get(s.state, "failed"))
            for s in self._latest_statuses(sha).values()
        ]
        for run in self._latest_check_runs(sha).values():
            if run.status != "completed":
                verdict = "pending"
            else:
                verdict = "passed" if run.conclusion in PASSING_CONCLUSIONS else "failed"
            reports.append(_Report(run.name, verdict, run.app_id))
        return reports

    def _violations(self, pull: _Pull, head_sha: str, base_sha: str) -> list[tuple[str, str]]:
        """Each rule of the base branch the pull request does not meet yet: (kind, GitHub's words for it)."""
        rules = self._branch_rules(pull.base)
        found: list[tuple[str, str]] = []
        if rules.strict and not self._is_ancestor(base_sha, head_sha):
            found.append(("behind", "Head branch is not up to date with the base branch."))
        reports = self._reports(head_sha)
        for check in rules.required_checks:
            verdicts = {
                r.verdict
                for r in reports
                if r.name.lower() == check.context.lower()
                and (check.app_id is None or r.app_id in (None, check.app_id))
            }
            if "failed" in verdicts:
                found.append(("check", f'Required status check "{check.context}" is failing.'))
            elif "pending" in verdicts:
                found.append(("check", f'Required status check "{check.context}" is in progress.'))
            elif not verdicts:
                found.append(("check", f'Required status check "{check.context}" is expected.'))
        if pull.approvals < rules.required_reviews:
            wanted = rules.required_reviews
            reviews = "1 approving review is" if wanted == 1 else f"{wanted} approving reviews are"
            found.append(("review", f"At least {reviews} required by reviewers with write access."))
        return found

    def _refusal(self, base: str, violations: list[tuple[str, str]]) -> str:
        """GitHub's 405 message for a merge its rules hold back, on one line."""
        text = " ".join(message for _, message in violations)
        source = self._rules.get(base, (BranchRules(), ""))[1]
        return f"Repository rule violations found: {text}" if source.startswith("ruleset") else text

    def _mergeable_state(self, pull: _Pull) -> str:
        """GitHub's ``mergeable_state`` of an open pull request: dirty (a conflict), behind (strict and not up to
        date), blocked (a required check or review missing), unstable (some other check pending or failing; only
        on a forge with CI), else clean."""
        head_sha, base_sha = self._head_sha(pull), self._branches.get(pull.base)
        if base_sha is None or self._merged(base_sha, head_sha) is None:
            return "dirty"
        violations = self._violations(pull, head_sha, base_sha)
        if any(kind == "behind" for kind, _ in violations):
            return "behind"
        if violations:
            return "blocked"
        required = {check.context.lower() for check in self._branch_rules(pull.base).required_checks}
        others = [r for r in self._reports(head_sha) if r.name.lower() not in required]
        if self.checks_supported and any(r.verdict != "passed" for r in others):
            return "unstable"
        return "clean"

    def _merge_now(self, pull: _Pull, head_sha: str, base_sha: str, method: MergeMethod) -> str:
        """Merge an open, conflict-free pull request into its base; the merge commit."""
        files = self._merged(base_sha, head_sha)
        assert files is not None, "merge only what merges"
        parents = (base_sha,) if method == "squash" else (base_sha, head_sha)
        merged = self._commit(files, parents, merge_message(pull.number, pull.head, pull.title))
        self._branches[pull.base] = merged
        pull.merge_sha = merged
        self._end(pull, "merged", head_sha)
        return merged

    def _carry_out_auto_merges(self) -> None:
        """GitHub's side of auto-merge: each open pull request it is on for merges once its rules pass. A merge
        moves a base, which may let another through (or hold one back), so look again until none merges."""
        while True:
            ready = next(
                (p for p in self._open.values() if p.auto_merge and self._mergeable_state(p) in MERGEABLE_STATES),
                None,
            )
            if ready is None or ready.auto_merge is None:
                return
            self._merge_now(ready, self._head_sha(ready), self._branches[ready.base], ready.auto_merge)

    def _is_ancestor(self, older: str, newer: str) -> bool:
        """Whether ``older`` is ``newer`` or one of its ancestors (a walk that skips commits older than it)."""
        floor = self._commits[older].generation
        seen: set[str] = set()
        stack = [newer]
        while stack:
            sha = stack.pop()
            if sha == older:
                return True
            if sha in seen:
                continue
            seen.add(sha)
            stack += (p for p in self._commits[sha].parents if self._commits[p].generation >= floor)
        return False

    def _merge_base(self, one: str, other: str) -> str | None:
        """A best common ancestor: commits are visited newest generation first, marked by the side(s) reaching
        them; the first one both sides reach has no common ancestor that descends from it."""
        marks = {one: 1, other: 2} if one != other else {one: 3}
        queue = [(-self._commits[sha].generation, sha) for sha in marks]
        heapq.heapify(queue)
        while queue:
            _, sha = heapq.heappop(queue)
            mark = marks[sha]
            if mark == 3:
                return sha
            for parent in self._commits[sha].parents:
                before = marks.get(parent, 0)
                if before | mark != before:
                    marks[parent] = before | mark
                    heapq.heappush(queue, (-self._commits[parent].generation, parent))
        return None

    def _merged(self, base: str, head: str) -> Mapping[str, str] | None:
        """The files of merging ``head`` into ``base``, or None on a conflict (remembered: commits never change)."""
        key = (base, head)
        if key not in self._merges:
            ancestor = self._merge_base(base, head)
            origin = self._commits[ancestor].files if ancestor else {}
            merged = merge_trees(origin, self._commits[base].files, self._commits[head].files)
            self._remember(self._merges, key, None if merged is None else MappingProxyType(merged))
        return self._merges[key]

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= _CACHE_ENTRIES:
            cache.clear()
        cache[key] = value


def _check_run_phase(status: str, conclusion: str | None) -> tuple[str, str | None]:
    """A check run's (status, conclusion) as GitHub keeps them: a conclusion completes it, and only then is set."""
    if conclusion is not None:
        status = "completed"
    if status not in CHECK_RUN_STATUSES:
        raise ValueError(f"unknown check run status {status!r}")
    if status == "completed" and conclusion is None:
        raise ValueError("a completed check run needs a conclusion")
    return status, conclusion
