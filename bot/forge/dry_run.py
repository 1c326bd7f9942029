"""``--dry-run`` as a forge: reads go to the real repository, writes are told and kept in an overlay, never sent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence

from bot.forge.commits import changes_by_path
from bot.forge.errors import ForgeRejectedError
from bot.forge.model import (
    BOT_BRANCH_PREFIX,
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
)
from bot.forge.protocol import Forge

Tell = Callable[[str], None]
"""Where each write the dry run would make is told, as one line (``merge #7 (envbot/x/infrastructure → main)``)."""


def _under(path: str, prefix: str) -> bool:
    folder = prefix.strip("/")
    return not folder or path.startswith(folder + "/")


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("<!--")]
    return lines[0].strip() if lines else ""


class DryRunForge:
    """A ``Forge`` that reads the real repository and carries out no write: each one is told (``tell``) and then
    kept in memory, so that later reads of the same run see it, as they would after a real write.

    The run that uses it makes its decisions exactly as a real run would: on what the repository holds plus what
    this run would have written. A pull request the dry run would open has no checks and no mergeability yet, so
    the gate waits on it, as it would on GitHub; on a forge without CI (``checks_supported`` False: git on disk) it
    is mergeable at once, as it would be there. A merge the gate allows on a real pull request is applied to the
    overlay, so the run goes on to what would come next.
    """

    def __init__(self, inner: Forge, tell: Tell, *, checks_supported: bool = True) -> None:
        self.inner = inner
        self.tell = tell
        self.checks_supported = checks_supported
        self.writes: list[str] = []
        self._files: dict[str, dict[str, str | None]] = {}
        """Per branch, the files the overlay changed (None: deleted) over what it was built on."""
        self._built_on: dict[str, str] = {}
        """A branch the dry run (re)built → the base it was built on (its other files are the base's)."""
        self._shas: dict[str, str] = {}
        self._proposed: dict[str, dict[str, str | None]] = {}
        """A branch → the changes its last push asked for, written or not: what merging it brings to the base."""
        self._deleted: set[str] = set()
        self._pulls: dict[int, PullRequest] = {}
        """Pull requests the dry run opened, and real ones it changed (closed, merged, rebuilt)."""
        self._opened: set[int] = set()
        self._highest_number: int | None = None
        self._inner_open: tuple[PullRequest, ...] | None = None
        self._inner_states: dict[int, PullRequestState] | None = None
        """The real repository's pull requests, listed once: nothing in a dry run changes them."""

    # -- telling -------------------------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self.writes.append(text)
        self.tell(text)

    # -- files ---------------------------------------------------------------------------------------------------

    def read_file(self, path: str, ref: str) -> str | None:
        if ref in self._deleted:
            return None
        changed = self._files.get(ref, {})
        if path in changed:
            return changed[path]
        built_on = self._built_on.get(ref)
        return self.read_file(path, built_on) if built_on is not None else self.inner.read_file(path, ref)

    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        if ref in self._deleted:
            return ()
        built_on = self._built_on.get(ref)
        paths = set(self.list_tree(prefix, built_on) if built_on is not None else self.inner.list_tree(prefix, ref))
        for path, content in self._files.get(ref, {}).items():
            if _under(path, prefix):
                if content is None:
                    paths.discard(path)
                else:
                    paths.add(path)
        return tuple(sorted(paths))

    def branch_sha(self, name: str) -> str | None:
        if name in self._deleted:
            return None
        return self._shas.get(name) or self.inner.branch_sha(name)

    def _sha(self, *parts: object) -> str:
        return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()

    def push_commit(
        self,
        branch: str,
        base: str,
        changes: Sequence[FileChange],
        message: str,
        *,
        expected_base_sha: str | None = None,
    ) -> CommitResult:
        wanted = changes_by_path(changes)
        self._proposed[branch] = wanted
        base_sha = self.branch_sha(base) or self._sha("no base", base)
        differs = {path: content for path, content in wanted.items() if self.read_file(path, base) != content}
        if branch == base:
            if differs:
                self._write(f"commit to {base}: {message}")
                self._files.setdefault(base, {}).update(differs)
                self._shas[base] = self._sha(base_sha, sorted(differs.items(), key=lambda item: item[0]))
            return CommitResult(base, self.branch_sha(base) or base_sha, base_sha, changed=bool(differs))
        current = self.branch_sha(branch)
        holds = current is not None and all(self.read_file(path, branch) == wanted[path] for path in wanted)
        holds = holds and (bool(differs) or current == base_sha)
        if holds:
            assert current is not None
            return CommitResult(branch, current, base_sha, changed=False)
        self._write(f"push {branch} ({len(differs)} file(s) on {base}): {message}")
        self._deleted.discard(branch)
        self._built_on[branch] = base
        self._files[branch] = dict(differs)
        sha = self._sha(base_sha, sorted(differs.items(), key=lambda item: item[0])) if differs else base_sha
        self._shas[branch] = sha
        for number, pull in self._open_with_head(branch):
            self._pulls[number] = dataclasses.replace(pull, head_sha=sha, mergeable=None, mergeable_state=None)
        return CommitResult(branch, sha, base_sha, changed=True)

    # -- pull requests -------------------------------------------------------------------------------------------

    def _open_with_head(self, head: str) -> Iterable[tuple[int, PullRequest]]:
        return [(pull.number, pull) for pull in self.open_pull_requests() if pull.head == head]

    def _new_number(self) -> int:
        if self._highest_number is None:
            self._highest_number = max(self._real_states(), default=0)
        self._highest_number += 1
        return self._highest_number

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest:
        for pull in self.open_pull_requests():
            if (pull.head, pull.base) == (head, base):
                if (pull.title, pull.body) != (title, body):
                    self._write(f"edit the title and description of #{pull.number}: {title}")
                    pull = dataclasses.replace(pull, title=title, body=body)
                    self._pulls[pull.number] = pull
                return dataclasses.replace(pull, mergeable=None)
        number = self._new_number()
        self._write(f"open pull request #{number} ({head} → {base}): {title}")
        pull = PullRequest(
            number=number,
            title=title,
            body=body,
            head=head,
            base=base,
            head_sha=self.branch_sha(head) or "",
            state="open",
            labels=tuple(sorted(set(labels))),
        )
        self._pulls[number] = pull
        self._opened.add(number)
        return pull

    def get_pull_request(self, number: int) -> PullRequest:
        return self._pulls.get(number) or self.inner.get_pull_request(number)

    def merge_facts(self, number: int) -> MergeFacts:
        pull = self.get_pull_request(number)
        if number not in self._opened and pull.head not in self._built_on:
            facts = self.inner.merge_facts(number)
            return dataclasses.replace(facts, pull_request=self._pulls.get(number, facts.pull_request))
        if pull.state == "open" and not self.checks_supported:
            clean = dataclasses.replace(pull, mergeable=True, mergeable_state="clean")
            return MergeFacts(clean, checks_supported=False)
        # Opened or rebuilt by this dry run: GitHub has computed nothing for it yet, and no check has run on it.
        return MergeFacts(dataclasses.replace(pull, mergeable=None, mergeable_state=None))

    def merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> MergeResult:
        pull = self.get_pull_request(number)
        if pull.state == "merged":
            return MergeResult(MergeOutcome.MERGED, message="merged already")
        if pull.state != "open":
            return MergeResult(MergeOutcome.NOT_MERGEABLE, message=f"#{number} is {pull.state}")
        if pull.head_sha and expected_head_sha != pull.head_sha:
            return MergeResult(MergeOutcome.HEAD_MOVED, message=f"#{number}'s head is {pull.head_sha[:7]}")
        self._write(f"merge #{number} ({pull.head} → {pull.base}) by {method}")
        brought = {
            path: content
            for path, content in self._proposed.get(pull.head, {}).items()
            if self.read_file(path, pull.base) != content
        }
        self._files.setdefault(pull.base, {}).update(brought)
        sha = self._sha(self.branch_sha(pull.base), number)
        self._shas[pull.base] = sha
        self._pulls[number] = dataclasses.replace(pull, state="merged", mergeable=None, auto_merge=False)
        return MergeResult(MergeOutcome.MERGED, sha=sha)

    def close_pull_request(self, number: int, comment: str | None = None) -> PullRequest:
        pull = self.get_pull_request(number)
        if pull.state != "open":
            return pull
        said = f": {_first_line(comment)}" if comment else ""
        self._write(f"close #{number} ({pull.head}){said}")
        pull = dataclasses.replace(pull, state="closed", mergeable=None, auto_merge=False)
        self._pulls[number] = pull
        return pull

    def enable_auto_merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> AutoMergeResult:
        pull = self.get_pull_request(number)
        if pull.state == "merged":
            return AutoMergeResult(AutoMergeOutcome.MERGED)
        if not pull.auto_merge:
            self._write(f"turn on auto-merge ({method}) for #{number}")
            self._pulls[number] = dataclasses.replace(pull, auto_merge=True)
        return AutoMergeResult(AutoMergeOutcome.ENABLED)

    def disable_auto_merge(self, number: int) -> AutoMergeResult:
        pull = self.get_pull_request(number)
        if pull.auto_merge:
            self._write(f"turn off auto-merge for #{number}")
            self._pulls[number] = dataclasses.replace(pull, auto_merge=False)
        return AutoMergeResult(AutoMergeOutcome.DISABLED)

    # -- statuses and comments -----------------------------------------------------------------------------------

    def commit_status(self, ref: str) -> CombinedStatus:
        if ref in self._shas.values() or ref in self._built_on:
            return CombinedStatus(self.branch_sha(ref) or ref, "pending")
        return self.inner.commit_status(ref)

    def set_status(
        self,
        sha: str,
        context: str,
        state: StatusState,
        description: str,
        target_url: str | None = None,
    ) -> CommitStatus:
        self._write(f"set the status {context} on {sha[:7]} to {state}: {description}")
        return CommitStatus(context, state, description, target_url)

    def upsert_comment(
        self, number: int, marker: str, body: str, *, unless_posted_since: dt.datetime | None = None
    ) -> Comment:
        self._write(f"comment on #{number}: {_first_line(body)}")
        return Comment(id=0, body=body)

    # -- listings ------------------------------------------------------------------------------------------------

    def branch_names(self) -> frozenset[str]:
        return (self.inner.branch_names() | frozenset(self._built_on)) - self._deleted

    def pull_request_states(self) -> dict[int, PullRequestState]:
        states = dict(self._real_states())
        states.update({number: pull.state for number, pull in self._pulls.items()})
        return states

    def open_pull_requests(self) -> tuple[PullRequest, ...]:
        if self._inner_open is None:
            self._inner_open = self.inner.open_pull_requests()
        found = {pull.number: self._pulls.get(pull.number, pull) for pull in self._inner_open}
        found.update(self._pulls)
        return tuple(found[number] for number in sorted(found) if found[number].state == "open")

    def _real_states(self) -> dict[int, PullRequestState]:
        if self._inner_states is None:
            self._inner_states = self.inner.pull_request_states()
        return self._inner_states

    def open_pull_request_heads(self) -> frozenset[str]:
        return frozenset(pull.head for pull in self.open_pull_requests())

    def delete_branch(self, name: str) -> bool:
        if not name.startswith(BOT_BRANCH_PREFIX):
            raise ForgeRejectedError(f"{name} is not one of envbot's branches ({BOT_BRANCH_PREFIX}...)")
        if self.branch_sha(name) is None:
            return False
        if any(pull.base == name for pull in self.open_pull_requests()):
            raise ForgeRejectedError(f"an open pull request merges into {name}")
        self._write(f"delete the branch {name}")
        for number, pull in self._open_with_head(name):
            self._pulls[number] = dataclasses.replace(pull, state="closed", mergeable=None)
        self._deleted.add(name)
        return True

    # -- reads that no write changes -------------------------------------------------------------------------

    def repository_settings(self) -> RepositorySettings:
        return self.inner.repository_settings()

    def permission(self, user: str) -> Permission:
        return self.inner.permission(user)
