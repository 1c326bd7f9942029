"""``LocalForge``: the Forge on plain git (a bare repository on disk, or any git URL); pull requests live in it."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import git

from bot.clock import Clock, parse_timestamp, utc_now
from bot.forge.commits import (
    Head,
    Tip,
    branch_move,
    changes_by_path,
    checked_base,
    history_title,
    merge_message,
    reusable_commit,
)
from bot.forge.errors import BaseMovedError, ForgeNotFoundError, ForgeRejectedError, ForgeUnavailableError
from bot.forge.model import (
    CLOSED_MARKER,
    AutoMergeOutcome,
    AutoMergeResult,
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
    StatusState,
    check_deletable_branch,
    check_merge_method,
    check_path,
    check_status_state,
    combine_states,
    created_at,
    has_marker,
    is_object_id,
    marked_body,
    posted_since,
    status_description,
)

STATE_REF = "refs/envbot/forge"
"""One commit chain holds every pull request, comment, status and permission; each change is one commit,
published by compare-and-swap on this ref (atomically with the branch it touches, for merges)."""

ZERO = "0" * 40
_ATTEMPTS = 20
_IMMUTABLE_ENTRIES = 4096
_DIRECT_REFS = ("refs/heads/", "refs/envbot/")
"""Refs that always name a commit, so their files can be read without asking git to peel them."""
T = TypeVar("T")
NO_AUTO_MERGE = "auto-merge needs GitHub; a local repository has none"
AUTO_MERGE_OFF = "auto-merge is not on"


@dataclass
class _State:
    """A snapshot of the state ref; ``files`` holds the JSON documents changed by the current transaction."""

    commit: str | None
    blob: Callable[[str], bytes | None]
    files: dict[str, Any] = field(default_factory=dict)

    def read(self, path: str, default: Any) -> Any:
        if path in self.files:
            return self.files[path]
        data = self.blob(f"{self.commit}:{path}") if self.commit else None
        return default if data is None else json.loads(data)

    def write(self, path: str, value: Any) -> None:
        self.files[path] = value

    def next_id(self, kind: str) -> int:
        counters = dict(self.read("counters.json", {}))
        counters[kind] = counters.get(kind, 0) + 1
        self.write("counters.json", counters)
        return int(counters[kind])


@dataclass(frozen=True)
class _Update:
    ref: str
    new: str  # ZERO: delete the ref
    old: str | None  # None: the ref must not exist


def _jitter() -> None:
    """A short random pause after a lost compare-and-swap, so racing writers do not collide again in step."""
    time.sleep(random.uniform(0, 0.05))  # noqa: S311 - jitter, not cryptography


class _ConflictError(Exception):
    """A compare-and-swap lost against another writer: re-read and try again."""


class LocalForge:
    """A repository reached through git alone: a bare repository path, or a URL (``file://``, ``ssh://``, ...).

    Pull requests are real branches; their records (title, body, state, labels, comments, statuses) and the
    collaborators' permissions are JSON files in a commit chain under ``refs/envbot/forge`` in the repository
    itself. Every change is published with a compare-and-swap of that ref (``git update-ref`` with the old
    value, or ``git push --atomic --force-with-lease`` for URLs), so concurrent processes never lose an update
    and a crash leaves either the old state or the new one. Merges update the base branch and the record in
    one atomic transaction. The committer identity is set explicitly: no git configuration is needed.

    For a URL, objects are built in a private bare mirror (``cache_dir``, a temporary folder by default) that
    is fetched before every call. ``clock`` stamps each comment with the time it is posted.

    Plain git has no CI, no branch rules and no auto-merge: ``merge_facts`` reports the statuses set through
    ``set_status`` and git's own mergeability, with ``checks_supported`` False, and auto-merge is always refused.
    """

    checks_supported = False

    def __init__(
        self,
        location: str | Path,
        *,
        cache_dir: Path | None = None,
        identity: tuple[str, str] = ("envbot", "envbot@localhost"),
        default_permission: Permission = Permission.NONE,
        clock: Clock = utc_now,
    ) -> None:
        self.location = str(location)
        self.default_permission = default_permission
        self._clock = clock
        name, email = identity
        self._env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_TERMINAL_PROMPT": "0",
        }
        self._temp: Path | None = None
        self._immutable: dict[tuple[str, ...], Any] = {}
        path = Path(location)
        if "://" not in self.location and path.is_dir():
            self._remote: str | None = None
            try:
                self._repo = git.Repo(path)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                raise ForgeNotFoundError(f"{location} is not a git repository") from None
        else:
            self._remote = self.location
            if cache_dir is None:
                self._temp = cache_dir = Path(tempfile.mkdtemp(prefix="envbot-forge-"))
            self._repo = git.Repo.init(cache_dir, bare=True, mkdir=True)

    def __repr__(self) -> str:
        return f"LocalForge({self.location!r})"

    @classmethod
    def initialize(
        cls, path: Path, files: Mapping[str, str], *, branch: str = "main", message: str = "Initial commit"
    ) -> LocalForge:
        """Create a bare repository at ``path`` whose ``branch`` holds ``files`` in one first commit."""
        path.mkdir(parents=True, exist_ok=False)
        git.Repo.init(path, bare=True, initial_branch=branch).close()
        forge = cls(path)
        forge._check_branch(branch)
        commit = forge._commit_tree(forge._build_tree(None, dict(files)), [], message)
        forge._update_refs([_Update(f"refs/heads/{branch}", commit, None)])
        return forge

    def close(self) -> None:
        """Release git processes and the temporary mirror, if any."""
        self._repo.close()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None

    def __enter__(self) -> LocalForge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Forge -------------------------------------------------------------------------------------------------

    def read_file(self, path: str, ref: str) -> str | None:
        check_path(path)
        self._sync()
        sha = self._resolve(ref)
        data = self._blob(f"{sha}:{path}") if sha else None
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ForgeRejectedError(f"{path} is not a UTF-8 text file") from None

    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        folder = prefix.strip("/")
        if folder:
            check_path(folder)
        self._sync()
        sha = self._resolve(ref)
        if sha is None:
            return ()
        return self._remember(("ls-tree", sha, folder), lambda: self._paths_under(sha, folder))

    def _paths_under(self, commit: str, folder: str) -> tuple[str, ...]:
        args = ["ls-tree", "-r", "-z", "--name-only", commit]
        out = self._git(*args, *(["--", folder] if folder else []))
        lead = f"{folder}/" if folder else ""
        return tuple(sorted(p for p in out.split("\0") if p and p.startswith(lead)))

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
        for _ in range(_ATTEMPTS):
            self._sync()
            base_tip = checked_base(base, self._tip(base), expected_base_sha, self.location)
            head = None if branch == base else self._head(branch)
            tree = self._build_tree(base_tip.sha, wanted) if wanted else base_tip.tree
            target = reusable_commit(base_tip, tree, head)
            if target is None:
                target = self._commit_tree(tree, [base_tip.sha], message)
            move = branch_move(branch, base, base_tip.sha, head.sha if head else None, target)
            if move is None:
                return CommitResult(branch, target, base_tip.sha, changed=False)
            try:
                self._update_refs([_Update(f"refs/heads/{branch}", move.new, move.old)])
            except _ConflictError:
                if move.onto_base:
                    raise BaseMovedError(base, base_tip.sha, self._branch(base)) from None
                _jitter()
                continue
            return CommitResult(branch, target, base_tip.sha, changed=True)
        raise ForgeUnavailableError(f"could not update {branch!r}: too many concurrent writers")

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest:
        def change(state: _State) -> int:
            found = [r for r in self._pulls(state) if r["head"] == head and r["base"] == base and r["state"] == "open"]
            if found:
                record = min(found, key=lambda r: r["number"])
                updated = {**record, "title": title, "body": body, "labels": sorted({*record["labels"], *labels})}
                if updated == record:
                    return int(record["number"])
            else:
                head_sha, base_sha = self._branch(head), self._branch(base)
                if head_sha is None or base_sha is None:
                    missing = head if head_sha is None else base
                    raise ForgeRejectedError(f"cannot open {head} → {base}: branch {missing!r} does not exist")
                if self._is_ancestor(head_sha, base_sha):
                    raise ForgeRejectedError(f"cannot open {head} → {base}: no commits between {base} and {head}")
                number = state.next_id("pull")
                updated = {
                    "number": number,
                    "title": title,
                    "body": body,
                    "head": head,
                    "base": base,
                    "state": "open",
                    "labels": sorted(set(labels)),
                    "head_sha": head_sha,
                    "merge_sha": None,
                    "comments": [],
                }
            state.write(f"pulls/{updated['number']}.json", updated)
            return int(updated["number"])

        number = self._transact(change, "ensure pull request")
        return self._pull_request(self._state().read(f"pulls/{number}.json", None), with_mergeable=False)

    def get_pull_request(self, number: int) -> PullRequest:
        self._sync()
        return self._pull_request(self._record(self._state(), number), with_mergeable=True)

    def commit_status(self, ref: str) -> CombinedStatus:
        self._sync()
        sha = self._resolve(ref)
        if sha is None:
            raise ForgeNotFoundError(f"no commit {ref!r} in {self.location}")
        latest = self._latest_statuses(self._state(), sha)
        statuses = tuple(sorted(latest.values(), key=lambda s: s.context))
        return CombinedStatus(sha, combine_states([s.state for s in statuses]), statuses)

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

        def change(snapshot: _State) -> None:
            if not is_object_id(sha) or self._resolve(sha) != sha:
                raise ForgeNotFoundError(f"no commit {sha!r} in {self.location}")
            if self._latest_statuses(snapshot, sha).get(context.lower()) == wanted:
                return
            path = f"statuses/{sha}.json"
            history = snapshot.read(path, [])
            snapshot.write(
                path,
                [
                    *history,
                    {"context": context, "state": state, "description": wanted.description, "target_url": target_url},
                ],
            )

        self._transact(change, f"status {context} on {sha[:12]}")
        return wanted

    def upsert_comment(
        self, number: int, marker: str, body: str, *, unless_posted_since: dt.datetime | None = None
    ) -> Comment:
        text = marked_body(marker, body)
        now = self._clock().isoformat()

        def change(state: _State) -> tuple[dict[str, Any], bool]:
            record = self._record(state, number)
            comments = record["comments"]
            mine = [c for c in comments if has_marker(c["body"], marker)]
            if unless_posted_since is not None:
                recent = [c for c in mine if posted_since(c, unless_posted_since)]
                if recent:
                    return recent[-1], False
                mine = []  # earlier replies stay: a new one is posted below them
            elif mine and mine[0]["body"] == text and len(mine) == 1:
                return mine[0], False
            kept = {"id": mine[0]["id"] if mine else state.next_id("comment"), "body": text}
            kept["created_at"] = mine[0].get("created_at") if mine else now
            rest = [c for c in comments if c not in mine]
            state.write(f"pulls/{number}.json", {**record, "comments": sorted([*rest, kept], key=lambda c: c["id"])})
            return kept, True

        kept, changed = self._transact(change, f"comment on #{number}")
        return Comment(
            id=int(kept["id"]), body=text if changed else kept["body"], created_at=created_at(kept), changed=changed
        )

    def merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> MergeResult:
        check_merge_method(method)
        for _ in range(_ATTEMPTS):
            self._sync()
            state = self._state()
            record = self._record(state, number)
            if record["state"] == "merged":
                return MergeResult(MergeOutcome.MERGED, sha=record["merge_sha"], message="already merged")
            if record["state"] != "open":
                return MergeResult(MergeOutcome.NOT_MERGEABLE, message="pull request is closed")
            head_sha, base_sha = self._branch(record["head"]), self._branch(record["base"])
            if head_sha is None or base_sha is None:
                return MergeResult(MergeOutcome.NOT_MERGEABLE, message="a branch of the pull request is gone")
            if head_sha != expected_head_sha:
                return MergeResult(MergeOutcome.HEAD_MOVED, message=f"head is now {head_sha[:12]}")
            tree = self._merge_tree(base_sha, head_sha)
            if tree is None:
                return MergeResult(MergeOutcome.NOT_MERGEABLE, message="merge conflict")
            parents = [base_sha] if method == "squash" else [base_sha, head_sha]
            merged = self._commit_tree(tree, parents, merge_message(number, record["head"], record["title"]))
            state.write(
                f"pulls/{number}.json", {**record, "state": "merged", "head_sha": head_sha, "merge_sha": merged}
            )
            try:
                self._publish(state, f"merge #{number}", [_Update(f"refs/heads/{record['base']}", merged, base_sha)])
            except _ConflictError:
                _jitter()
                continue
            return MergeResult(MergeOutcome.MERGED, sha=merged, message="merged")
        raise ForgeUnavailableError(f"could not merge #{number}: too many concurrent writers")

    # -- the merge gate: git on disk has no CI, no branch rules and no auto-merge --------------------------------

    def merge_facts(self, number: int) -> MergeFacts:
        """The pull request as ``get_pull_request`` gives it (``mergeable_state`` ``dirty`` on a conflict, else
        ``clean``), the statuses set on its head through ``set_status``, no check runs and no rules; the head
        commit's committer time in UTC. ``checks_supported`` is False: nothing but envbot ever reports here."""
        self._sync()
        state = self._state()
        pull_request = self._pull_request(self._record(state, number), with_mergeable=True)
        head = pull_request.head_sha
        statuses = tuple(sorted(self._latest_statuses(state, head).values(), key=lambda s: s.context))
        return MergeFacts(
            pull_request, statuses=statuses, head_committed_at=self._committed_at(head), checks_supported=False
        )

    def repository_settings(self) -> RepositorySettings:
        """A local repository has no auto-merge to allow."""
        return RepositorySettings(allow_auto_merge=False)

    def enable_auto_merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> AutoMergeResult:
        """``MERGED`` when the pull request is merged already; ``REFUSED`` otherwise: auto-merge needs GitHub."""
        check_merge_method(method)
        self._sync()
        record = self._record(self._state(), number)
        if record["state"] == "merged":
            return AutoMergeResult(AutoMergeOutcome.MERGED, "already merged")
        if record["state"] != "open":
            return AutoMergeResult(AutoMergeOutcome.REFUSED, "pull request is closed")
        return AutoMergeResult(AutoMergeOutcome.REFUSED, NO_AUTO_MERGE)

    def disable_auto_merge(self, number: int) -> AutoMergeResult:
        """Always ``DISABLED`` "auto-merge is not on", with nothing written: it never is on a local repository
        (``ForgeNotFoundError`` when there is no such pull request)."""
        self._sync()
        self._record(self._state(), number)
        return AutoMergeResult(AutoMergeOutcome.DISABLED, AUTO_MERGE_OFF)

    def history(self, branch: str, limit: int = 50) -> tuple[tuple[str, dt.datetime, str], ...]:
        """First-parent history of ``branch``, newest first: (short SHA, commit time, title) for people to read.

        For a merge commit the title is the pull request's, taken from the commit body.
        """
        self._sync()
        sha = self._branch(branch)
        if sha is None:
            return ()
        out = self._git("log", "--first-parent", f"--max-count={limit}", "--format=%h%x00%cI%x00%s%x00%b%x1e", sha)
        entries = []
        for record in out.split("\x1e"):
            if not record.strip():
                continue
            short, when, subject, body = [*record.strip("\n").split("\0"), "", "", ""][:4]
            entries.append((short, parse_timestamp(when), history_title(subject, body)))
        return tuple(entries)

    def branch_names(self) -> frozenset[str]:
        """Every branch of the repository."""
        self._sync()
        out = self._git("for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads")
        return frozenset(line for line in out.splitlines() if line)

    def open_pull_requests(self) -> tuple[PullRequest, ...]:
        self._sync()
        records = sorted((r for r in self._pulls(self._state()) if r["state"] == "open"), key=lambda r: r["number"])
        return tuple(self._pull_request(r, with_mergeable=False) for r in records)

    def open_pull_request_heads(self) -> frozenset[str]:
        return frozenset(pr.head for pr in self.open_pull_requests())

    def pull_request_states(self) -> dict[int, PullRequestState]:
        """Every pull request's number and state."""
        self._sync()
        return {int(record["number"]): record["state"] for record in self._pulls(self._state())}

    def permission(self, user: str) -> Permission:
        self._sync()
        role = self._state().read("permissions.json", {}).get(user)
        return Permission.parse(role) if role else self.default_permission

    def close_pull_request(self, number: int, comment: str | None = None) -> PullRequest:
        self._sync()
        if self._record(self._state(), number)["state"] != "open":
            return self.get_pull_request(number)
        if comment is not None:
            self.upsert_comment(number, CLOSED_MARKER, comment)

        def change(state: _State) -> dict[str, Any]:
            record = self._record(state, number)
            if record["state"] != "open":
                return record
            closed = {**record, "state": "closed", "head_sha": self._head_sha(record)}
            state.write(f"pulls/{number}.json", closed)
            return closed

        return self._pull_request(self._transact(change, f"close #{number}"), with_mergeable=False)

    def delete_branch(self, name: str) -> bool:
        check_deletable_branch(name)
        self._check_branch(name)
        for _ in range(_ATTEMPTS):
            self._sync()
            sha = self._branch(name)
            if sha is None:
                return False
            state = self._state()
            open_pulls = [r for r in self._pulls(state) if r["state"] == "open"]
            into = [r["number"] for r in open_pulls if r["base"] == name]
            if into:
                raise ForgeRejectedError(f"refusing to delete branch {name!r}: pull request #{into[0]} merges into it")
            for record in open_pulls:
                if record["head"] == name:  # closed with its branch, as GitHub does
                    state.write(f"pulls/{record['number']}.json", {**record, "state": "closed", "head_sha": sha})
            deletion = _Update(f"refs/heads/{name}", ZERO, sha)
            try:
                if state.files:
                    self._publish(state, f"delete {name}", [deletion])
                else:
                    self._update_refs([deletion])
            except _ConflictError:
                _jitter()
                continue
            return True
        raise ForgeUnavailableError(f"could not delete {name!r}: too many concurrent writers")

    def branch_sha(self, name: str) -> str | None:
        self._sync()
        return self._branch(name)

    # -- beyond the protocol: setup for local use and tests ----------------------------------------------------

    def grant(self, user: str, permission: Permission) -> None:
        """Record ``user``'s role on this repository (GitHub keeps this itself; here it lives in the state)."""

        def change(state: _State) -> None:
            roles = dict(state.read("permissions.json", {}))
            if roles.get(user) != permission.label:
                roles[user] = permission.label
                state.write("permissions.json", roles)

        self._transact(change, f"grant {user} {permission.label}")

    # -- state -------------------------------------------------------------------------------------------------

    def _state(self) -> _State:
        return _State(self._ref(STATE_REF), self._blob)

    def _transact(self, change: Callable[[_State], T], message: str) -> T:
        """Run ``change`` on a fresh snapshot and publish what it wrote; on a lost race, start again."""
        for _ in range(_ATTEMPTS):
            self._sync()
            state = self._state()
            result = change(state)
            if not state.files:
                return result
            try:
                self._publish(state, message, [])
            except _ConflictError:
                _jitter()
                continue
            return result
        raise ForgeUnavailableError(f"could not record {message}: too many concurrent writers")

    def _publish(self, state: _State, message: str, also: list[_Update]) -> None:
        base = self._tree_of(state.commit) if state.commit else None
        files = {path: json.dumps(value, indent=1, sort_keys=True) + "\n" for path, value in state.files.items()}
        tree = self._build_tree(base, files)
        commit = self._commit_tree(tree, [state.commit] if state.commit else [], message)
        self._update_refs([_Update(STATE_REF, commit, state.commit), *also])

    def _pulls(self, state: _State) -> list[dict[str, Any]]:
        if state.commit is None:
            return []
        commit = state.commit

        def listing() -> tuple[str, ...]:
            status, out, _ = self._run("ls-tree", "-z", "--name-only", f"{commit}:pulls")
            return tuple(out.split("\0")) if status == 0 else ()

        names = self._remember(("pulls", commit), listing)
        return [state.read(f"pulls/{name}", None) for name in names if name.endswith(".json")]

    def _record(self, state: _State, number: int) -> dict[str, Any]:
        record: dict[str, Any] | None = state.read(f"pulls/{int(number)}.json", None)
        if record is None:
            raise ForgeNotFoundError(f"no pull request #{number} in {self.location}")
        return record

    def _head_sha(self, record: dict[str, Any]) -> str:
        if record["state"] == "open":
            return self._branch(record["head"]) or str(record["head_sha"])
        return str(record["head_sha"])

    def _pull_request(self, record: dict[str, Any], *, with_mergeable: bool) -> PullRequest:
        state: PullRequestState = record["state"]
        head_sha = self._head_sha(record)
        mergeable, mergeable_state = None, None
        if with_mergeable and state == "open":
            base_sha = self._branch(record["base"])
            mergeable = base_sha is not None and self._merge_tree(base_sha, head_sha) is not None
            mergeable_state = "clean" if mergeable else "dirty"
        return PullRequest(
            number=record["number"],
            title=record["title"],
            body=record["body"],
            head=record["head"],
            base=record["base"],
            head_sha=head_sha,
            state=state,
            labels=tuple(record["labels"]),
            mergeable=mergeable,
            mergeable_state=mergeable_state,
        )

    def _latest_statuses(self, state: _State, sha: str) -> dict[str, CommitStatus]:
        latest: dict[str, CommitStatus] = {}
        for s in state.read(f"statuses/{sha}.json", []):
            latest[s["context"].lower()] = CommitStatus(s["context"], s["state"], s["description"], s["target_url"])
        return latest

    # -- git ---------------------------------------------------------------------------------------------------

    def _git(self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None) -> str:
        status, out, err = self._run(*args, stdin=stdin, env=env)
        if status != 0:
            raise ForgeUnavailableError(f"git {args[0]} failed in {self.location}: {err.strip()[:300]}")
        return out

    def _run(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> tuple[int, str, str]:
        status, out, err = self._run_bytes(*args, stdin=stdin, env=env)
        return status, out.decode("utf-8", "surrogateescape"), err.decode("utf-8", "replace")

    def _run_bytes(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> tuple[int, bytes, bytes]:
        # A fresh git process per command: GitPython's long-lived ``cat-file --batch`` helpers cache the object
        # directory and would miss objects that other processes (or our own plumbing) wrote since.
        with tempfile.TemporaryFile() as handle:
            if stdin is not None:
                handle.write(stdin)
                handle.seek(0)
            status, out, err = self._repo.git.execute(
                ["git", *args],
                istream=handle if stdin is not None else None,
                env={**self._env, **(env or {})},
                with_extended_output=True,
                with_exceptions=False,
                strip_newline_in_stdout=False,
                stdout_as_string=False,
            )
        return int(status), bytes(out), err if isinstance(err, bytes) else str(err).encode()

    def _remember(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """What git says about an object named by its SHA never changes: ask once per forge (bounded memory)."""
        if key in self._immutable:
            return cast(T, self._immutable[key])
        value = compute()
        if len(self._immutable) >= _IMMUTABLE_ENTRIES:
            self._immutable.clear()
        self._immutable[key] = value
        return value

    def _blob(self, spec: str) -> bytes | None:
        """The content of a blob (``<commit>:<path>``), or ``None`` when it is missing or not a file."""

        def read() -> bytes | None:
            status, out, _ = self._run_bytes("cat-file", "blob", spec)
            return out if status == 0 else None

        commit = spec.partition(":")[0]
        return self._remember(("blob", spec), read) if is_object_id(commit) else read()

    def _ref(self, ref: str) -> str | None:
        if ref.startswith(_DIRECT_REFS):
            found = self._ref_from_files(ref)
            if found is not None:
                return found or None
        status, out, _ = self._run("rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}")
        return out.strip() if status == 0 else None

    def _ref_from_files(self, ref: str) -> str | None:
        """A branch or state ref read straight from a local repository's files, without starting git.

        Git writes loose refs and ``packed-refs`` by atomic rename, so a read sees the old or the new value.
        Returns "" when the ref does not exist, and None when only git can tell (a URL remote, the reftable
        format, a symbolic ref, anything unexpected).
        """
        if self._remote is not None or "/." in ref or ".." in ref:
            return None
        root = Path(self._repo.git_dir)
        if (root / "reftable").exists():
            return None
        try:
            loose = (root / ref).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            loose = None
        except (OSError, UnicodeDecodeError):
            return None
        if loose is not None:
            return loose if is_object_id(loose) else None
        try:
            packed = (root / "packed-refs").read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""
        except (OSError, UnicodeDecodeError):
            return None
        for line in packed.splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return sha if is_object_id(sha) else None
        return ""

    def _branch(self, name: str) -> str | None:
        return self._ref(f"refs/heads/{name}")

    def _tip(self, name: str) -> Tip[str] | None:
        sha = self._branch(name)
        return None if sha is None else Tip(sha, self._tree_of(sha))

    def _head(self, name: str) -> Head[str] | None:
        sha = self._branch(name)
        return None if sha is None else Head(sha, self._tree_of(sha), tuple(self._parents(sha)))

    def _resolve(self, ref: str) -> str | None:
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}"):
            sha = self._ref(candidate)
            if sha is not None:
                return sha
        return self._ref(ref) if is_object_id(ref) else None

    def _check_branch(self, name: str) -> None:
        if self._run("check-ref-format", f"refs/heads/{name}")[0] != 0 or name.startswith("-"):
            raise ValueError(f"invalid branch name {name!r}")

    def _tree_of(self, commit: str) -> str:
        return self._remember(("tree", commit), lambda: self._git("rev-parse", f"{commit}^{{tree}}").strip())

    def _parents(self, commit: str) -> list[str]:
        return list(self._remember(("parents", commit), lambda: tuple(self._git("rev-parse", f"{commit}^@").split())))

    def _committed_at(self, commit: str) -> dt.datetime | None:
        """The committer time of ``commit`` in UTC; None when the commit is not in the repository."""
        key = ("committed", commit)
        if key in self._immutable:
            return cast(dt.datetime, self._immutable[key])
        status, out, _ = self._run("show", "-s", "--format=%ct", commit, "--")
        if status != 0 or not out.strip():
            return None  # not remembered: a later fetch may bring the commit
        when = dt.datetime.fromtimestamp(int(out.strip()), dt.UTC)
        return self._remember(key, lambda: when)

    def _is_ancestor(self, older: str, newer: str) -> bool:
        return self._run("merge-base", "--is-ancestor", older, newer)[0] == 0

    def _merge_tree(self, base: str, head: str) -> str | None:
        """The tree of merging ``head`` into ``base``, or ``None`` on a conflict (git ≥ 2.38)."""
        status, out, err = self._run("merge-tree", "--write-tree", "--no-messages", base, head)
        if status == 0:
            return out.split()[0]
        if status == 1:
            return None
        raise ForgeUnavailableError(f"git merge-tree failed in {self.location}: {err.strip()[:300]}")

    def _build_tree(self, base: str | None, files: Mapping[str, str | None]) -> str:
        """``base`` (a commit or tree, or nothing) with ``files`` written (text) or deleted (``None``)."""
        with tempfile.TemporaryDirectory(prefix="envbot-index-") as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if base is not None:
                self._git("read-tree", base, env=env)
            else:
                self._git("read-tree", "--empty", env=env)
            writes = {p: c for p, c in files.items() if c is not None}
            shas: list[str] = []
            if writes:
                paths = []
                for i, content in enumerate(writes.values()):
                    item = Path(scratch) / f"blob-{i}"
                    item.write_bytes(content.encode("utf-8"))
                    paths.append(str(item))
                out = self._git("hash-object", "-w", "--no-filters", "--stdin-paths", stdin="\n".join(paths).encode())
                shas = out.split()
            present = set(self._git("ls-files", "-z", env=env).split("\0"))
            lines = [f"100644 {sha}\t{path}\0" for path, sha in zip(writes, shas, strict=True)]
            lines += [f"0 {ZERO}\t{p}\0" for p, c in files.items() if c is None and p in present]
            if lines:
                self._git("update-index", "-z", "--index-info", stdin="".join(lines).encode(), env=env)
            return self._git("write-tree", env=env).strip()

    def _commit_tree(self, tree: str, parents: list[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self._git(*args, "-F", "-", stdin=message.encode("utf-8")).strip()

    # -- publishing: local update-ref, or push to a URL --------------------------------------------------------

    def _sync(self) -> None:
        if self._remote is None:
            return
        status, _, err = self._run(
            "fetch",
            "--prune",
            "--no-tags",
            "--quiet",
            "--",
            self._remote,
            "+refs/heads/*:refs/heads/*",
            "+refs/envbot/*:refs/envbot/*",
        )
        if status != 0:
            raise ForgeUnavailableError(f"git fetch from {self._remote} failed: {err.strip()[:300]}")

    def _update_refs(self, updates: list[_Update]) -> None:
        """Move every ref at once if each still has its old value; else raise ``_ConflictError``, moving none."""
        if self._remote is None:
            lines = "".join(f"update {u.ref} {u.new} {u.old or ZERO}\n" for u in updates)
            status, _, err = self._run("update-ref", "--stdin", stdin=lines.encode())
            if status != 0:
                if any(self._ref(u.ref) != u.old for u in updates):
                    raise _ConflictError
                raise ForgeUnavailableError(f"git update-ref failed in {self.location}: {err.strip()[:300]}")
            return
        leases = [f"--force-with-lease={u.ref}:{u.old or ''}" for u in updates]
        specs = [f":{u.ref}" if u.new == ZERO else f"{u.new}:{u.ref}" for u in updates]
        status, out, err = self._run(
            "push", "--atomic", "--porcelain", "--no-verify", *leases, "--", self._remote, *specs
        )
        if status != 0:
            if "stale info" in out + err or "rejected" in out + err:
                raise _ConflictError
            raise ForgeUnavailableError(f"git push to {self._remote} failed: {err.strip()[:300]}")
        lines = "".join(f"update {u.ref} {u.new}\n" for u in updates)
        self._git("update-ref", "--stdin", stdin=lines.encode())
