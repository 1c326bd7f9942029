"""``GitHubForge``: the Forge on GitHub or GitHub Enterprise through PyGithub, a fixed number of requests per call."""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import logging
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException

from bot.clock import utc_timestamp
from bot.errors import EnvbotError
from bot.forge.commits import Head, branch_move, changes_by_path, checked_base, reusable_commit
from bot.forge.errors import BaseMovedError, ForgeNotFoundError, ForgeRejectedError, ForgeUnavailableError
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
    check_path,
    created_at,
    has_marker,
    is_object_id,
    marked_body,
    posted_since,
    status_description,
)
from bot.forge.retry import BoundedRetry, RetryBudgetExceededError, RetryPolicy
from bot.names import is_repository

if TYPE_CHECKING:
    from bot.forge.github_app import InstallationTokens

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.github.com"
_PAGE = 100
_MAX_PAGES = 50
_ENABLE_AUTO_MERGE = """
mutation EnableAutoMerge($id: ID!, $head: GitObjectID!, $method: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, expectedHeadOid: $head, mergeMethod: $method}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}
"""
_DISABLE_AUTO_MERGE = """
mutation DisableAutoMerge($id: ID!) {
  disablePullRequestAutoMerge(input: {pullRequestId: $id}) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}
"""


class _CountingToken(Auth.Auth):
    """A token auth that counts the requests it signs (PyGithub signs each request exactly once): a fixed token, or
    a GitHub App's installation token, asked of its source for every request (it renews the token before expiry)."""

    def __init__(self, token: str | InstallationTokens, forge: GitHubForge) -> None:
        self._source = token
        self._forge = forge
        self.last: str | None = None
        """The token the latest request was signed with."""

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._source if isinstance(self._source, str) else self._source.token()

    def authentication(self, headers: dict[str, str]) -> None:
        self.last = self.token  # first: a token that cannot be minted sends no request, so counts none
        headers["Authorization"] = f"{self.token_type} {self.last}"
        self._forge._count()

    @property
    def _masked_token(self) -> str:
        return "token (removed)"

    def refused(self) -> bool:
        """GitHub answered 401 to the latest request: whether a new installation token is minted for the next one."""
        return not isinstance(self._source, str) and self.last is not None and self._source.refused(self.last)

    def redact(self, text: str) -> str:
        if isinstance(self._source, str):
            return text.replace(self._source, "***")
        return self._source.redact(text)


@dataclass(frozen=True)
class _Branch(Head[str]):
    committed_at: dt.datetime | None = None
    protection: BranchRules = field(default_factory=BranchRules)
    """What classic branch protection of this branch requires, from the branch's own answer (read access)."""


class GitHubForge:
    """One repository on GitHub (``base_url`` for GitHub Enterprise: ``https://ghe.example.com/api/v3``).

    PyGithub supplies authentication, bounded retries (``RetryPolicy``), base URLs and error types. Requests go
    through its ``Requester`` rather than its lazily completed objects, so each Forge call maps to a fixed set of
    REST calls (``request_count`` counts every attempt, retries included). Opening a pull request for any
    number of files costs 8 requests: 2 branch reads, tree, commit, ref, pull list, pull create, labels.

    ``token`` is a fixed token or a GitHub App's ``InstallationTokens`` (``bot.forge.github_app``), asked for the
    token on each request so that it is renewed before it expires; a 401 to an installation token has the next
    request mint another (once). The token is held only by PyGithub's auth object: it is never logged and never
    part of an error message.
    ``seconds_between_writes`` spaces mutating requests as GitHub asks of integrations (None: no spacing).
    ``blob_cache`` is a folder of file contents by git blob SHA kept between runs; it is not trusted: a file is
    used only when it hashes to its name, and written atomically.
    """

    checks_supported = True

    def __init__(
        self,
        repository: str,
        token: str | InstallationTokens,
        *,
        base_url: str = DEFAULT_BASE_URL,
        retry: RetryPolicy | None = None,
        timeout: int = 15,
        seconds_between_writes: float | None = 1.0,
        user_agent: str = "envbot",
        blob_cache: Path | None = None,
        comment_author: str | None = None,
    ) -> None:
        if not is_repository(repository):
            raise ValueError(f"repository must be a GitHub 'owner/name', got {repository!r}")
        owner, _, name = repository.partition("/")
        if not token:
            raise ValueError("a GitHub token is required")
        self.repository = repository
        self.owner = owner
        self.base_url = base_url.rstrip("/")
        self._requests = 0
        self._auth = _CountingToken(token, self)
        self._gh = Github(
            auth=self._auth,
            base_url=self.base_url,
            timeout=timeout,
            user_agent=user_agent,
            per_page=_PAGE,
            retry=BoundedRetry(policy=retry or RetryPolicy(), on_retry=self._count),
            seconds_between_requests=None,
            seconds_between_writes=seconds_between_writes,
        )
        self._prefix = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        # Reads are served from the last tree listing of a ref (until any write) and from blobs cached by SHA:
        # a blob's SHA is its content's hash, so a cached blob never goes stale, in memory or on disk (where each
        # file is hashed again before use: the disk cache may hold what another run left there).
        self._listings: dict[str, dict[str, str]] = {}
        self._blobs: dict[str, str] = {}
        self._blob_cache = blob_cache
        self._comment_author = comment_author
        # What the merge gate reads that does not change within a run: each base branch's rules, the repository's
        # settings, when each commit was made (known from the answers that create or list it), and node IDs.
        self._rules: dict[str, BranchRules] = {}
        self._protection: dict[str, BranchRules] = {}
        self._settings: RepositorySettings | None = None
        self._commit_times: dict[str, dt.datetime] = {}
        self._node_ids: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"GitHubForge({self.repository!r}, base_url={self.base_url!r})"

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included (for benchmarks and request budgets)."""
        return self._requests

    @property
    def rate_limit_remaining(self) -> int | None:
        """Requests left in the current rate-limit window, as GitHub's last answer said; None before any answer."""
        remaining, _ = self._gh.requester.rate_limiting
        return remaining if remaining >= 0 else None

    def _count(self) -> None:
        self._requests += 1

    # -- Forge -------------------------------------------------------------------------------------------------

    def read_file(self, path: str, ref: str) -> str | None:
        listing = self._listings.get(ref)
        if listing is not None:
            sha = listing.get(check_path(path))
            return None if sha is None else self._blob(sha, path)
        status, data = self._call("GET", f"/contents/{quote(check_path(path))}", params={"ref": ref}, allow=(404,))
        if status == 404 or not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") == "base64" and (data.get("content") or not data.get("size")):
            return _decode(data.get("content") or "", path)
        # Files over 1 MB come without content; the blob API serves them.
        return self._blob(data["sha"], path)

    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        folder = prefix.strip("/")
        if folder:
            check_path(folder)
        status, data = self._call("GET", f"/git/trees/{quote(ref)}", params={"recursive": "1"}, allow=(404, 409, 422))
        if status != 200:
            return ()
        if data.get("truncated"):
            raise ForgeRejectedError(f"the tree of {ref!r} is too large for GitHub to list in one response")
        lead = f"{folder}/" if folder else ""
        blobs = {e["path"]: e["sha"] for e in data["tree"] if e["type"] == "blob"}
        self._listings[ref] = blobs
        return tuple(sorted(path for path in blobs if path.startswith(lead)))

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
        base_tip = checked_base(base, self._branch(base), expected_base_sha, self.repository)
        deletions = [p for p, c in wanted.items() if c is None]
        if deletions:
            existing = self._blob_paths(base_tip.tree)
            wanted = {p: c for p, c in wanted.items() if c is not None or p in existing}
        head = None if branch == base else self._branch(branch)

        tree = base_tip.tree
        if wanted:
            entries: list[dict[str, Any]] = [
                {"path": p, "mode": "100644", "type": "blob", "content": c}
                if c is not None
                else {"path": p, "mode": "100644", "type": "blob", "sha": None}
                for p, c in sorted(wanted.items())
            ]
            _, made = self._call("POST", "/git/trees", body={"base_tree": base_tip.tree, "tree": entries})
            tree = made["sha"]
            # Reading these files back (after the merge, say) needs no request: a blob's SHA is its content's hash.
            self._blobs.update((_blob_sha(c), c) for c in wanted.values() if c is not None)

        target = reusable_commit(base_tip, tree, head)
        if target is None:
            _, commit = self._call(
                "POST", "/git/commits", body={"message": message, "tree": tree, "parents": [base_tip.sha]}
            )
            target = commit["sha"]
            self._remember_commit_time(target, commit.get("committer"))

        move = branch_move(branch, base, base_tip.sha, head.sha if head else None, target)
        if move is None:
            return CommitResult(branch, target, base_tip.sha, changed=False)
        if move.onto_base:
            self._fast_forward(base, base_tip.sha, target)
        elif move.old is None:
            self._create_branch(branch, target)
        else:
            self._move_branch(branch, target)
        return CommitResult(branch, target, base_tip.sha, changed=True)

    def ensure_pull_request(
        self, head: str, base: str, title: str, body: str, labels: Sequence[str] = ()
    ) -> PullRequest:
        data = self._find_open_pull(head, base)
        if data is None:
            status, data = self._call(
                "POST", "/pulls", body={"title": title, "head": head, "base": base, "body": body}, allow=(422,)
            )
            if status == 422:
                # Another run opened it between our list and our create (or a retried create succeeded twice).
                refusal, data = data, self._find_open_pull(head, base)
                if data is None:
                    raise ForgeRejectedError(f"GitHub refused to open {head} → {base}: {_message(data_of=refusal)}")
        else:
            update = {k: v for k, v in (("title", title), ("body", body)) if (data.get(k) or "") != v}
            if update:
                _, data = self._call("PATCH", f"/pulls/{data['number']}", body=update)
        current = {label["name"] for label in data.get("labels") or ()}
        missing = sorted(set(labels) - current)
        if missing:
            _, added = self._call("POST", f"/issues/{data['number']}/labels", body={"labels": missing})
            data = {**data, "labels": added}
        return _pull(data, with_mergeable=False)

    def get_pull_request(self, number: int) -> PullRequest:
        return _pull(self._get_pull(number), with_mergeable=True)

    def commit_status(self, ref: str) -> CombinedStatus:
        """1 request, plus one per further 100 contexts."""
        found: list[dict[str, Any]] = []
        data: dict[str, Any] = {}
        for page in range(1, _MAX_PAGES + 1):
            status, data = self._call(
                "GET", f"/commits/{quote(ref)}/status", params={"per_page": _PAGE, "page": page}, allow=(404,)
            )
            if status == 404:
                raise ForgeNotFoundError(f"no commit {ref!r} in {self.repository}")
            batch = data.get("statuses") or []
            found.extend(batch)
            if len(batch) < _PAGE or len(found) >= int(data.get("total_count") or 0):
                break
        statuses = {
            s["context"]: CommitStatus(s["context"], s["state"], s.get("description") or "", s.get("target_url"))
            for s in found
        }
        ordered = tuple(statuses[context] for context in sorted(statuses))
        return CombinedStatus(sha=data["sha"], state=data["state"], statuses=ordered)

    # -- the merge gate ----------------------------------------------------------------------------------------

    def merge_facts(self, number: int) -> MergeFacts:
        """4 requests (the pull request, its head's statuses and check runs, the base's rules), one more per further
        page; the base's rules and protection are read once per forge object (protection comes with the base's
        branch answer that ``push_commit`` reads anyway), and the head's commit time is known from the push."""
        pull = _pull(self._get_pull(number), with_mergeable=True)
        statuses = self.commit_status(pull.head_sha).statuses if pull.state == "open" else ()
        runs = self._check_runs(pull.head_sha) if pull.state == "open" else ()
        return MergeFacts(
            pull_request=pull,
            statuses=statuses,
            check_runs=runs,
            rules=self._branch_rules(pull.base) if pull.state == "open" else BranchRules(),
            head_committed_at=self._commit_time(pull.head_sha) if pull.state == "open" else None,
            checks_supported=True,
        )

    def repository_settings(self) -> RepositorySettings:
        """1 request, once per forge object."""
        if self._settings is None:
            _, data = self._call("GET", "")
            self._settings = RepositorySettings(allow_auto_merge=bool(data.get("allow_auto_merge")))
        return self._settings

    def enable_auto_merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> AutoMergeResult:
        """1 GraphQL request (``enablePullRequestAutoMerge`` with the expected head), plus the pull request's read
        when no earlier answer gave its node ID."""
        node = self._node_id(number)
        variables = {"id": node, "head": expected_head_sha, "method": method.upper()}
        refusal = self._graphql(_ENABLE_AUTO_MERGE, variables, f"enable auto-merge on #{number}")
        if refusal is None:
            return AutoMergeResult(AutoMergeOutcome.ENABLED)
        pull = self._get_pull(number)
        if _is_merged(pull):
            return AutoMergeResult(AutoMergeOutcome.MERGED, "merged already")
        if pull.get("auto_merge") and pull["head"]["sha"] == expected_head_sha:
            return AutoMergeResult(AutoMergeOutcome.ENABLED, "enabled already")
        return AutoMergeResult(AutoMergeOutcome.REFUSED, refusal)

    def disable_auto_merge(self, number: int) -> AutoMergeResult:
        """1 GraphQL request (``disablePullRequestAutoMerge``), plus the pull request's read without a node ID or
        when GitHub refuses (auto-merge not on is no refusal: it is off, as asked)."""
        refusal = self._graphql(_DISABLE_AUTO_MERGE, {"id": self._node_id(number)}, f"disable auto-merge on #{number}")
        if refusal is None:
            return AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge disabled")
        if not self._get_pull(number).get("auto_merge"):
            return AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge is not on")
        return AutoMergeResult(AutoMergeOutcome.REFUSED, refusal)

    def set_status(
        self,
        sha: str,
        context: str,
        state: StatusState,
        description: str,
        target_url: str | None = None,
    ) -> CommitStatus:
        wanted = CommitStatus(context, state, status_description(description), target_url)
        if self.commit_status(sha).get(context) == wanted:
            return wanted
        body: dict[str, Any] = {"state": state, "context": context, "description": wanted.description}
        if target_url is not None:
            body["target_url"] = target_url
        self._call("POST", f"/statuses/{quote(sha, safe='')}", body=body)
        return wanted

    def upsert_comment(
        self, number: int, marker: str, body: str, *, unless_posted_since: dt.datetime | None = None
    ) -> Comment:
        text = marked_body(marker, body)
        if unless_posted_since is not None:
            return self._post_unless_recent(number, marker, text, unless_posted_since)
        mine = self._marked_comments(number, marker)
        changed = not mine
        if not mine:
            _, made = self._call("POST", f"/issues/{number}/comments", body={"body": text})
            # Another run that found none either (or a retried POST whose first answer was lost) may have posted
            # one too: look again and keep the oldest, so that two first runs at once leave exactly one.
            mine = self._marked_comments(number, marker)
            if not mine:
                return _comment(made)
        keep, *duplicates = mine
        if keep.get("body") != text:
            _, keep = self._call("PATCH", f"/issues/comments/{keep['id']}", body={"body": text})
            changed = True
        for extra in duplicates:
            self._call("DELETE", f"/issues/comments/{extra['id']}", allow=(404,))
        return _comment(keep, changed=changed)

    def merge(self, number: int, expected_head_sha: str, method: MergeMethod = "merge") -> MergeResult:
        status, data = self._call(
            "PUT",
            f"/pulls/{number}/merge",
            body={"sha": expected_head_sha, "merge_method": method},
            allow=(405, 409, 422),
        )
        if status == 200:
            return MergeResult(MergeOutcome.MERGED, sha=data.get("sha"), message=data.get("message") or "")
        if status == 409:
            return MergeResult(MergeOutcome.HEAD_MOVED, message=_message(data_of=data))
        # 405/422: not mergeable now, or merged already (a retried merge lands here after the first succeeded).
        pull = self._get_pull(number)
        if _is_merged(pull):
            return MergeResult(MergeOutcome.MERGED, sha=pull.get("merge_commit_sha"), message="already merged")
        return MergeResult(MergeOutcome.NOT_MERGEABLE, message=_message(data_of=data))

    def permission(self, user: str) -> Permission:
        status, data = self._call("GET", f"/collaborators/{quote(user, safe='')}/permission", allow=(404,))
        if status == 404:
            return Permission.NONE
        for name in (data.get("role_name"), data.get("permission")):
            try:
                return Permission.parse(name or "")
            except ValueError:
                continue  # a custom role: fall back on the base permission GitHub maps it to
        return Permission.NONE

    def close_pull_request(self, number: int, comment: str | None = None) -> PullRequest:
        """1 request for a pull request already closed; 2 to close one (read, close), plus the comment's."""
        pull = _pull(self._get_pull(number), with_mergeable=False)
        if pull.state != "open":
            return pull
        if comment is not None:
            self.upsert_comment(number, CLOSED_MARKER, comment)
        _, data = self._call("PATCH", f"/pulls/{number}", body={"state": "closed"})
        return _pull(data, with_mergeable=False)

    def delete_branch(self, name: str) -> bool:
        """2 requests: the open pull requests into it (at most one is listed), then the deletion."""
        check_deletable_branch(name)
        _, into = self._call("GET", "/pulls", params={"state": "open", "base": name, "per_page": 1})
        if into:
            raise ForgeRejectedError(
                f"refusing to delete branch {name!r}: pull request #{into[0]['number']} merges into it"
            )
        status, data = self._call("DELETE", f"/git/refs/heads/{quote(name)}", allow=(404, 422))
        if status == 200:
            return True
        if "reference does not exist" in _message(data_of=data).lower():
            return False  # deleted already (by a retried request, GitHub's auto-delete, or a person)
        failure = ForgeNotFoundError if status == 404 else ForgeRejectedError
        raise failure(
            self._redact(f"GitHub refused to delete branch {name!r} of {self.repository}: {_message(data_of=data)}")
        )

    def branch_sha(self, name: str) -> str | None:
        """1 request."""
        branch = self._branch(name)
        return None if branch is None else branch.sha

    # -- helpers -----------------------------------------------------------------------------------------------

    def _check_runs(self, sha: str) -> tuple[CheckRun, ...]:
        """The latest check run of each check on commit ``sha``: 1 request, plus one per further 100 runs."""
        found: list[dict[str, Any]] = []
        for page in range(1, _MAX_PAGES + 1):
            _, data = self._call(
                "GET",
                f"/commits/{quote(sha)}/check-runs",
                params={"filter": "latest", "per_page": _PAGE, "page": page},
            )
            batch = data.get("check_runs") or []
            found.extend(batch)
            if len(batch) < _PAGE or len(found) >= int(data.get("total_count") or 0):
                break
        return tuple(
            CheckRun(
                name=run["name"],
                status=run.get("status") or "queued",
                conclusion=run.get("conclusion"),
                url=run.get("html_url") or run.get("details_url") or "",
                run_id=int(run["id"]),
                app_id=(run.get("app") or {}).get("id"),
                app=(run.get("app") or {}).get("slug") or "",
            )
            for run in found
        )

    def _branch_rules(self, base: str) -> BranchRules:
        """What GitHub requires of a merge into ``base``: its rulesets (1 request a page, read access suffices) and
        its classic branch protection (from the branch's own answer), read once per forge object."""
        if base in self._rules:
            return self._rules[base]
        required: list[RequiredCheck] = []
        strict, reviews, unread = False, 0, []
        for page in range(1, _MAX_PAGES + 1):
            status, batch = self._call(
                "GET", f"/rules/branches/{quote(base)}", params={"per_page": _PAGE, "page": page}, allow=(403, 404)
            )
            if status != 200:
                unread.append(f"the rulesets of {base} could not be read ({status})")
                break
            for rule in batch:
                parameters = rule.get("parameters") or {}
                source = f"ruleset {rule.get('ruleset_id', '?')} of {rule.get('ruleset_source') or self.repository}"
                if rule.get("type") == "required_status_checks":
                    strict = strict or bool(parameters.get("strict_required_status_checks_policy"))
                    required += [
                        RequiredCheck(check["context"], source, check.get("integration_id"))
                        for check in parameters.get("required_status_checks") or ()
                    ]
                elif rule.get("type") == "pull_request":
                    reviews = max(reviews, int(parameters.get("required_approving_review_count") or 0))
            if len(batch) < _PAGE:
                break
        protection = self._protection.get(base)
        if protection is None:
            branch = self._branch(base)
            protection = branch.protection if branch is not None else BranchRules()
        rules = BranchRules(
            required_checks=(*required, *protection.required_checks),
            strict=strict or protection.strict,
            required_reviews=max(reviews, protection.required_reviews),
            unread=(*unread, *protection.unread),
        )
        self._rules[base] = rules
        return rules

    def _commit_time(self, sha: str) -> dt.datetime | None:
        """When commit ``sha`` was made: known from the answer that made or listed it, else 1 request."""
        if sha not in self._commit_times:
            status, data = self._call("GET", f"/git/commits/{quote(sha)}", allow=(404,))
            if status == 200:
                self._remember_commit_time(sha, data.get("committer"))
        return self._commit_times.get(sha)

    def _remember_commit_time(self, sha: str, person: Any) -> None:
        when = created_at({"created_at": person.get("date")}) if isinstance(person, dict) else None
        if when is not None:
            self._commit_times[sha] = when

    def _node_id(self, number: int) -> str:
        if number not in self._node_ids:
            self._get_pull(number)
        node = self._node_ids.get(number)
        if not node:
            raise ForgeRejectedError(f"GitHub gave no node ID for pull request #{number} of {self.repository}")
        return node

    def _graphql(self, document: str, variables: dict[str, Any], what: str) -> str | None:
        """One GraphQL mutation: None when it went through, else GitHub's reason (its errors' messages; GitHub
        answers them with 200)."""
        _, data = self._call(
            "POST", "/graphql", body={"query": document, "variables": variables}, url=self._gh.requester.graphql_url
        )
        errors = [e for e in (data.get("errors") or ()) if isinstance(e, dict)] if isinstance(data, dict) else []
        if not errors:
            return None
        messages = [str(e.get("message") or e.get("type") or "") for e in errors]
        return self._redact("; ".join(m for m in messages if m) or f"GitHub refused to {what}")

    def _blob(self, sha: str, path: str) -> str:
        """A blob's text by SHA: from memory, then the disk cache, then one request."""
        if sha in self._blobs:
            return self._blobs[sha]
        text = self._cached_blob(sha)
        if text is None:
            _, blob = self._call("GET", f"/git/blobs/{sha}")
            text = _decode(blob.get("content") or "", path)
            self._cache_blob(sha, text)
        self._blobs[sha] = text
        return text

    def _cache_file(self, sha: str) -> Path | None:
        """Where the disk cache keeps blob ``sha``; None without a cache, or for a name that is no object ID."""
        if self._blob_cache is None or not is_object_id(sha):
            return None
        return self._blob_cache / sha

    def _cached_blob(self, sha: str) -> str | None:
        """The cached text of blob ``sha`` when its file hashes to that SHA, else None (a miss).

        The cache is restored from other runs (``actions/cache`` restore-keys), so it is untrusted: a file whose
        content is not the blob (planted, truncated, damaged) is deleted and the blob fetched again. A cache
        that cannot be read is a miss too, never an error.
        """
        cached = self._cache_file(sha)
        if cached is None:
            return None
        try:
            data = cached.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("envbot: blob cache %s unreadable (%s); fetching from GitHub", cached, type(exc).__name__)
            return None
        if _git_blob_id(data) == sha:
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass  # the blob itself is not text: fetching it reports that as GitHub's answer does
        else:
            log.warning("envbot: blob cache %s does not hold blob %s; dropped, fetching from GitHub", cached, sha)
            with contextlib.suppress(OSError):
                cached.unlink()
        return None

    def _cache_blob(self, sha: str, text: str) -> None:
        """Keep ``text`` as blob ``sha`` on disk, atomically (a temporary file renamed into place), when it is
        that blob; a cache that cannot be written is skipped with a warning."""
        cached = self._cache_file(sha)
        data = text.encode("utf-8")
        if cached is None or _git_blob_id(data) != sha:
            return
        temporary: Path | None = None
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=f".{sha}.", suffix=".tmp", delete=False) as f:
                temporary = Path(f.name)
                f.write(data)
            temporary.replace(cached)
        except OSError as exc:
            log.warning("envbot: cannot write the blob cache %s (%s); continuing without it", cached, exc.strerror)
            if temporary is not None:
                with contextlib.suppress(OSError):
                    temporary.unlink()

    def _branch(self, name: str) -> _Branch | None:
        status, data = self._call("GET", f"/branches/{quote(name)}", allow=(404,))
        if status == 404:
            return None
        commit = data["commit"]
        self._remember_commit_time(commit["sha"], commit["commit"].get("committer"))
        branch = _Branch(
            sha=commit["sha"],
            tree=commit["commit"]["tree"]["sha"],
            parents=tuple(p["sha"] for p in commit.get("parents") or ()),
            committed_at=self._commit_times.get(commit["sha"]),
            protection=_protection(name, data),
        )
        self._protection[name] = branch.protection
        return branch

    def _blob_paths(self, tree: str) -> frozenset[str]:
        _, data = self._call("GET", f"/git/trees/{tree}", params={"recursive": "1"})
        if data.get("truncated"):
            raise ForgeRejectedError("the base tree is too large for GitHub to list; cannot check deletions")
        return frozenset(e["path"] for e in data["tree"] if e["type"] == "blob")

    def _fast_forward(self, branch: str, old: str, new: str) -> None:
        status, data = self._call(
            "PATCH", f"/git/refs/heads/{quote(branch)}", body={"sha": new, "force": False}, allow=(422,)
        )
        if status == 422:
            now = self._branch(branch)
            if now is None or now.sha != old:
                raise BaseMovedError(branch, old, now.sha if now else None)
            raise ForgeRejectedError(f"GitHub refused to update {branch!r}: {_message(data_of=data)}")

    def _move_branch(self, branch: str, sha: str) -> None:
        """Point one of envbot's branches at ``sha``; one deleted meanwhile (another run merged and deleted it)
        is created again."""
        status, _ = self._call(
            "PATCH", f"/git/refs/heads/{quote(branch)}", body={"sha": sha, "force": True}, allow=(422,)
        )
        if status == 422:
            self._create_branch(branch, sha)

    def _create_branch(self, branch: str, sha: str) -> None:
        status, _ = self._call("POST", "/git/refs", body={"ref": f"refs/heads/{branch}", "sha": sha}, allow=(422,))
        if status == 422:
            # Created meanwhile by another run: the branch belongs to the bot, so ours (same content) wins.
            self._call("PATCH", f"/git/refs/heads/{quote(branch)}", body={"sha": sha, "force": True})

    def _find_open_pull(self, head: str, base: str) -> dict[str, Any] | None:
        _, pulls = self._call(
            "GET",
            "/pulls",
            params={"state": "open", "head": f"{self.owner}:{head}", "base": base, "per_page": _PAGE},
        )
        matching = [p for p in pulls if p["head"]["ref"] == head and p["base"]["ref"] == base]
        return min(matching, key=lambda p: p["number"]) if matching else None

    # -- listings ----------------------------------------------------------------------------------------------

    def branch_names(self) -> frozenset[str]:
        """Every branch, from one matching-refs listing (GitHub answers it whole, without pages)."""
        _, refs = self._call("GET", "/git/matching-refs/heads")
        return frozenset(ref["ref"].removeprefix("refs/heads/") for ref in refs)

    def pull_request_states(self) -> dict[int, PullRequestState]:
        """Every pull request's state, from the pulls listing (``state=all``, paged, 100 a page)."""
        states: dict[int, PullRequestState] = {}
        for batch in self._pages("/pulls", {"state": "all"}):
            for pull in batch:
                states[int(pull["number"])] = _state(pull)
        return states

    def open_pull_requests(self) -> tuple[PullRequest, ...]:
        """Every open pull request of this repository, from the pulls listing (paged, 100 a page)."""
        found = {int(p["number"]): p for batch in self._pages("/pulls", {"state": "open"}) for p in batch}
        return tuple(_pull(found[number], with_mergeable=False) for number in sorted(found))

    def open_pull_request_heads(self) -> frozenset[str]:
        """The head branch of every open pull request (the listing of ``open_pull_requests``)."""
        return frozenset(pr.head for pr in self.open_pull_requests())

    def _pages(
        self, path: str, params: dict[str, Any] | None = None, *, missing: str | None = None
    ) -> list[list[dict[str, Any]]]:
        """Every page of a listing, 100 a page; with ``missing``, a 404 is ``ForgeNotFoundError`` with that text."""
        pages: list[list[dict[str, Any]]] = []
        for page in range(1, _MAX_PAGES + 1):
            status, batch = self._call(
                "GET", path, params={**(params or {}), "per_page": _PAGE, "page": page}, allow=(404,) if missing else ()
            )
            if status == 404:
                raise ForgeNotFoundError(missing)
            pages.append(batch)
            if len(batch) < _PAGE:
                break
        return pages

    def _get_pull(self, number: int) -> dict[str, Any]:
        status, data = self._call("GET", f"/pulls/{number}", allow=(404,))
        if status == 404:
            raise ForgeNotFoundError(f"no pull request #{number} in {self.repository}")
        result: dict[str, Any] = data
        if result.get("node_id"):
            self._node_ids[number] = result["node_id"]
        return result

    def _post_unless_recent(self, number: int, marker: str, text: str, since: dt.datetime) -> Comment:
        """``upsert_comment`` with ``unless_posted_since``: one listing when a recent reply exists, else a post."""
        recent = self._marked_comments(number, marker, since=since)
        if recent:
            return _comment(recent[-1], changed=False)
        _, made = self._call("POST", f"/issues/{number}/comments", body={"body": text})
        # Two runs at once may both have found none and posted: the oldest stays, the later ones go.
        keep, *later = self._marked_comments(number, marker, since=since) or [made]
        for extra in later:
            self._call("DELETE", f"/issues/comments/{extra['id']}", allow=(404,))
        return _comment(keep, changed=keep["id"] == made["id"])

    def _marked_comments(self, number: int, marker: str, *, since: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The pull request's comments that carry ``marker`` AND were written by envbot, oldest first (with
        ``since``: only those GitHub created at or after it).

        Anyone can type the marker; only a bot account (GitHub Apps, ``github-actions[bot]``) or the configured
        ``comment_author`` counts, so a person's look-alike is never adopted, edited or deleted.
        """
        found = (
            c
            for c in self._comments(number, since)
            if has_marker(c.get("body") or "", marker)
            and self._written_by_us(c)
            and (since is None or posted_since(c, since))
        )
        return sorted(found, key=lambda c: c["id"])

    def _written_by_us(self, comment: dict[str, Any]) -> bool:
        user = comment.get("user") or {}
        if self._comment_author is not None:
            return bool(user.get("login") == self._comment_author)
        return bool(user.get("type") == "Bot")

    def _comments(self, number: int, since: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The pull request's comments (with ``since``: those updated since, which includes every one created since)."""
        window = {} if since is None else {"since": utc_timestamp(since)}
        missing = f"no pull request #{number} in {self.repository}"
        return [c for batch in self._pages(f"/issues/{number}/comments", window, missing=missing) for c in batch]

    def _call(
        self,
        verb: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        allow: Collection[int] = (),
        url: str | None = None,
    ) -> tuple[int, Any]:
        """One REST call on this repository: ``(status, data)``; statuses in ``allow`` are returned, not raised.

        ``url``: another endpoint than the repository's ``path`` (GraphQL), with the same retries and errors."""
        url = url if url is not None else self._prefix + path
        if verb != "GET":
            self._listings.clear()  # a write may move any ref; the next read lists again
        failure: EnvbotError
        try:
            _, data = self._gh.requester.requestJsonAndCheck(verb, url, parameters=params, input=body)
            return 200, data
        except GithubException as exc:
            if exc.status in allow:
                return exc.status, exc.data if isinstance(exc.data, dict) else {}
            failure = self._error(verb, path, exc)
        except RetryBudgetExceededError as exc:  # raised while waiting to retry: name the request, as below
            failure = RetryBudgetExceededError(
                self._redact(f"GitHub {verb} {self.repository}{path}: {str(exc).removeprefix('GitHub ')}")
            )
        except requests.RequestException as exc:
            failure = ForgeUnavailableError(
                self._redact(f"GitHub {verb} {self.repository}{path} failed: {_transport_problem(exc)}")
            )
        # Raised outside the handler so that PyGithub's exception (headers, echoed data) is not even chained.
        raise failure

    def _error(self, verb: str, path: str, exc: GithubException) -> EnvbotError:
        status = exc.status
        text = self._redact(f"GitHub {verb} {self.repository}{path} failed: {status} {_message(exc)}")
        log.debug("%s", text)
        if status >= 500 or status == 429 or (status == 403 and _is_rate_limit(exc)):
            return ForgeUnavailableError(text)
        if status == 404:
            return ForgeNotFoundError(text)
        if status == 401 and self._auth.refused():
            return ForgeUnavailableError(text + " (the installation token was refused; the next request mints another)")
        if status == 401:
            return ForgeRejectedError(text + " (check the token)")
        return ForgeRejectedError(text)

    def _redact(self, text: str) -> str:
        return self._auth.redact(text)


def _is_rate_limit(exc: GithubException) -> bool:
    from github.GithubException import RateLimitExceededException

    return isinstance(exc, RateLimitExceededException) or "rate limit" in _message(exc).lower()


def _message(exc: GithubException | None = None, *, data_of: Any = None) -> str:
    data = exc.data if exc is not None else data_of
    if not isinstance(data, dict):
        return str(data or "")[:200]
    text = str(data.get("message") or "")
    found = (e.get("message") or e.get("code") for e in data.get("errors") or () if isinstance(e, dict))
    details = [str(d) for d in found if d]
    return f"{text} ({'; '.join(details)})" if details else text


def _transport_problem(exc: requests.RequestException) -> str:
    """Why no answer came, in words (the exception's text may hold URLs and urllib3 internals)."""
    if isinstance(exc, requests.Timeout) or "timed out" in str(exc).lower():
        return "no answer in time (the request timed out)"
    return f"cannot connect ({type(exc).__name__})"


def _blob_sha(text: str) -> str:
    """The git object ID of a blob holding ``text`` (UTF-8), as GitHub names the blob it stores for it."""
    return _git_blob_id(text.encode("utf-8"))


def _git_blob_id(data: bytes) -> str:
    """The git object ID of a blob of ``data``: SHA-1 over ``blob <length>\\0`` and the bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _decode(content: str, path: str) -> str:
    try:
        return base64.b64decode(content).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ForgeRejectedError(f"{path} is not a UTF-8 text file") from None


def _is_merged(pull: dict[str, Any]) -> bool:
    """Whether GitHub's answer about a pull request says it is merged (a listing carries only ``merged_at``)."""
    return bool(pull.get("merged") or pull.get("merged_at"))


def _state(pull: dict[str, Any]) -> PullRequestState:
    """A pull request's state from GitHub's answer: merged, else open or closed."""
    return "merged" if _is_merged(pull) else ("open" if pull["state"] == "open" else "closed")


def _pull(data: dict[str, Any], *, with_mergeable: bool) -> PullRequest:
    state = _state(data)
    mergeable = data.get("mergeable") if with_mergeable and state == "open" else None
    return PullRequest(
        number=data["number"],
        title=data.get("title") or "",
        body=data.get("body") or "",
        head=data["head"]["ref"],
        base=data["base"]["ref"],
        head_sha=data["head"]["sha"],
        state=state,
        labels=tuple(sorted(label["name"] for label in data.get("labels") or ())),
        mergeable=mergeable if isinstance(mergeable, bool) else None,
        url=data.get("html_url") or "",
        head_repository=(data["head"].get("repo") or {}).get("full_name"),
        head_label=data["head"].get("label"),
        head_repository_deleted="repo" in data["head"] and data["head"]["repo"] is None,
        mergeable_state=(data.get("mergeable_state") or None) if with_mergeable and state == "open" else None,
        auto_merge=bool(data.get("auto_merge")) and state == "open",
        node_id=data.get("node_id") or "",
        draft=bool(data.get("draft")),
    )


def _protection(name: str, branch: dict[str, Any]) -> BranchRules:
    """What classic branch protection requires, from a branch's answer: its required checks (``checks`` carries
    the app of each; ``contexts`` is the older list of names), whether the head must be up to date, reviews."""
    if not branch.get("protected"):
        return BranchRules()
    protection = branch.get("protection") or {}
    checks = protection.get("required_status_checks") or {}
    source = f"branch protection of {name}"
    required = [RequiredCheck(c["context"], source, c.get("app_id")) for c in checks.get("checks") or ()]
    named = {check.context for check in required}
    required += [RequiredCheck(context, source) for context in checks.get("contexts") or () if context not in named]
    return BranchRules(
        required_checks=tuple(required),
        strict=bool(checks.get("strict")),
        required_reviews=int(branch.get("required_approving_review_count") or 0),
        unread=(f"the review rules of {source} are shown to admins only",),
    )


def _comment(data: dict[str, Any], *, changed: bool = True) -> Comment:
    return Comment(
        id=data["id"],
        body=data.get("body") or "",
        url=data.get("html_url") or "",
        created_at=created_at(data),
        changed=changed,
    )
