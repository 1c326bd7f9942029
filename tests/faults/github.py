"""GitHub with faults: the stateful fake (``tests/fakes/github_api.py``) behind a fault queue, served on a real
socket so that urllib3's retries, PyGithub's rate-limit handling, the RetryPolicy's waits and client timeouts all
run as in production.

A ``Fault`` matches requests by operationId (``pulls/merge``), method and path; the next ``times`` matching
requests get its status, headers and body instead of the real answer, or are answered ``delay``
seconds late (past the client's timeout), or first let ``before`` act on the repository as someone else would
between two of envbot's requests. With ``applied`` the request takes effect and only its answer is lost.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes.github_api import FakeGitHub, ReplyError, SpecViolationError
from tests.faults import ledger

Hook = Callable[["FaultyGitHub"], None]


@dataclass
class Fault:
    """One kind of failure for the next ``times`` matching requests."""

    kind: str
    """How the tally names it: ``github 503``, ``github timeout``, ``race: head moved``."""
    operation: str | None = None
    method: str | None = None
    path: str | None = None
    """A regular expression searched in the request path below the base URL."""
    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    applied: bool = False
    before: Hook | None = None
    times: int = 1
    fired: int = 0

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        return (
            (self.operation is None or self.operation == operation)
            and (self.method is None or self.method == method)
            and (self.path is None or re.search(self.path, path) is not None)
        )

    @property
    def spent(self) -> bool:
        return self.fired >= self.times


def server_error(status: int, operation: str | None = None, **options: Any) -> Fault:
    message = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
    return Fault(f"github {status}", operation=operation, status=status, body={"message": message}, **options)


def too_many_requests(retry_after: int, operation: str | None = None, **options: Any) -> Fault:
    return Fault(
        "github 429",
        operation=operation,
        status=429,
        headers={"Retry-After": str(retry_after)},
        body={"message": "Too many requests"},
        **options,
    )


def primary_rate_limit(reset_in: int, operation: str | None = None, **options: Any) -> Fault:
    """403 with ``x-ratelimit-remaining: 0`` and a reset ``reset_in`` seconds from now, as GitHub sends it."""
    return Fault(
        "github 403 primary rate limit",
        operation=operation,
        status=403,
        headers={
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(int(time.time()) + reset_in),
            "x-ratelimit-resource": "core",
        },
        body={
            "message": "API rate limit exceeded for installation ID 4711.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
        },
        **options,
    )


def secondary_rate_limit(retry_after: int | None, operation: str | None = None, **options: Any) -> Fault:
    """403 "secondary rate limit", with ``retry-after`` when GitHub says how long to wait."""
    return Fault(
        "github 403 secondary rate limit",
        operation=operation,
        status=403,
        headers={} if retry_after is None else {"retry-after": str(retry_after)},
        body={
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        },
        **options,
    )


def slow(delay: float, operation: str | None = None, *, applied: bool = False, **options: Any) -> Fault:
    """An answer ``delay`` seconds late; with ``applied`` the request took effect and only the answer is lost."""
    kind = "github timeout (applied, answer lost)" if applied else "github timeout"
    return Fault(kind, operation=operation, delay=delay, applied=applied, **options)


@dataclass
class FaultyGitHub(FakeGitHub):
    """The GitHub fake with a fault queue, a lock that makes each request atomic (as on GitHub), and two rules of
    real GitHub the plain fake leaves out: deleting a branch closes its open pull requests, and a protected base
    may require a branch to be up to date before it merges (``require_up_to_date``)."""

    faults: list[Fault] = field(default_factory=list)
    received: int = 0
    """Every request, faulted ones included (``calls`` holds only the ones the fake handled)."""
    require_up_to_date: bool = False
    delete_head_branches: bool = False
    """GitHub's "Automatically delete head branches": a merged pull request's branch is deleted."""
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- faults ------------------------------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> list[Fault]:
        with self.lock:
            self.faults.extend(faults)
        return list(faults)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _operation(self, method: str, path: str) -> str | None:
        try:
            operation, _ = self.api.match(method, path)
        except SpecViolationError:
            return None
        return operation.operation_id

    def _take(self, method: str, path: str) -> Fault | None:
        operation = self._operation(method, path)
        for fault in self.faults:
            if fault.spent or not fault.matches(method, path, operation):
                continue
            fault.fired += 1
            return fault
        return None

    def _respond(self, request: Any) -> tuple[int, dict[str, str], str]:
        method = request.method.upper()
        path = urlsplit(request.url).path[len(self.prefix) :]
        with self.lock:
            self.received += 1
            fault = self._take(method, path)
            if fault is None:
                return super()._respond(request)
            ledger.record(fault.kind)
            if fault.before is not None:
                fault.before(self)
            answer = super()._respond(request) if fault.applied or not (fault.status or fault.delay) else None
        if fault.delay:
            time.sleep(fault.delay)  # outside the lock: GitHub goes on serving the client's retry meanwhile
        if fault.status:
            body = fault.body if fault.body is not None else {"message": "injected fault"}
            return fault.status, dict(fault.headers), json.dumps(body)
        if answer is not None:
            return answer
        return 504, {}, json.dumps({"message": "We couldn't respond to your request in time."})

    # -- what other people and GitHub itself do ----------------------------------------------------------------

    def push_as_someone(self, branch: str, changes: Mapping[str, str | None], message: str) -> str:
        """Someone else's commit on top of ``branch`` (``None`` deletes a file); its SHA."""
        with self.lock:
            ref = f"refs/heads/{branch}"
            parent = self.refs[ref]
            files = dict(self.trees[self.commits[parent].tree])
            for path, content in changes.items():
                if content is None:
                    files.pop(path, None)
                else:
                    files[path] = self._store_blob(content.encode())
            sha = self._store_commit(self._store_tree(files), (parent,), message)
            self.refs[ref] = sha
            return sha

    def delete_branch(self, branch: str) -> None:
        """Delete a branch as GitHub does: its open pull requests are closed with it."""
        with self.lock:
            del self.refs[f"refs/heads/{branch}"]
            for pr in self.pulls.values():
                if pr["head"] == branch and pr["state"] == "open":
                    pr["state"] = "closed"

    def open_pull_as_someone(self, head: str, base: str, title: str, body: str = "") -> int:
        with self.lock:
            _, data = self.op_pulls_create({}, {}, {"head": head, "base": base, "title": title, "body": body})
            return int(data["number"])

    def op_pulls_merge(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        pr = self._pull(p["pull_number"])
        if self.require_up_to_date and pr["state"] == "open":
            self._pull_json(pr, full=False)  # refresh the head SHA
            if self._resolve(pr["base"]) not in self._ancestors(pr["head_sha"]):
                raise ReplyError(405, "Head branch is not up to date with the base branch")
        answer = super().op_pulls_merge(p, q, b)
        if self.delete_head_branches:
            ledger.record("race: head branch deleted after the merge")
            self.delete_branch(pr["head"])
        return answer

    # -- reading back ------------------------------------------------------------------------------------------

    def main_files(self) -> dict[str, str]:
        with self.lock:
            return self.files(self.default_branch)

    def first_parent_messages(self, branch: str | None = None) -> list[str]:
        """The base branch's first-parent history, oldest first (merge commits carry the branch they merged)."""
        with self.lock:
            sha: str | None = self.refs[f"refs/heads/{branch or self.default_branch}"]
            messages: list[str] = []
            while sha is not None:
                commit = self.commits[sha]
                messages.append(commit.message)
                sha = commit.parents[0] if commit.parents else None
            return messages[::-1]

    def pull_summary(self) -> list[tuple[str, str, str]]:
        """Every pull request as (head branch, title, open | closed | merged), by number."""
        with self.lock:
            return [
                (pr["head"], pr["title"], "merged" if pr["merged"] else pr["state"])
                for _, pr in sorted(self.pulls.items())
            ]

    def writes(self) -> int:
        """Mutating requests the fake handled."""
        with self.lock:
            return sum(1 for call in self.calls if call.method != "GET")


class FakeReader:
    """Reads a fake's branches directly, without HTTP and without faults: how the simulated Crossplane and Argo CD
    see what is merged (they are not envbot and do not go through its GitHub client)."""

    def __init__(self, fake: FaultyGitHub) -> None:
        self.fake = fake

    def list_tree(self, prefix: str, ref: str) -> tuple[str, ...]:
        lead = prefix.strip("/") + "/" if prefix.strip("/") else ""
        with self.fake.lock:
            try:
                files = self.fake.files(ref)
            except ReplyError:
                return ()
        return tuple(sorted(path for path in files if path.startswith(lead)))

    def read_file(self, path: str, ref: str) -> str | None:
        with self.fake.lock:
            try:
                return self.fake.files(ref).get(path)
            except ReplyError:
                return None


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _owns(fake: FaultyGitHub, node: str) -> bool:
    """Whether ``node`` is the GraphQL ID of one of ``fake``'s pull requests."""
    return any(fake.node_id(number) == node for number in fake.pulls)


class GitHubServer:
    """Fakes served on 127.0.0.1 by a threaded werkzeug server; each fake answers below its own base URL path,
    and fakes that share a base URL are told apart by the ``/repos/{owner}/{repo}`` of the request."""

    def __init__(self) -> None:
        self._fakes: list[FaultyGitHub] = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-github", daemon=True
        )
        self._thread.start()

    def add(self, repository: str, prefix: str = "/api/v3", **options: Any) -> FaultyGitHub:
        fake = FaultyGitHub(repository=repository, base_url=self.url + prefix, **options)
        self._fakes.append(fake)
        return fake

    @property
    def fakes(self) -> Iterable[FaultyGitHub]:
        return tuple(self._fakes)

    def _route(self, path: str, body: bytes | None = None) -> FaultyGitHub | None:
        graphql = [fake for fake in self._fakes if path == fake.graphql_path]
        if graphql:
            # One GraphQL endpoint serves every repository below it: the fake that issued the node ID answers.
            node = str((json.loads(body or b"{}").get("variables") or {}).get("id") or "")
            return next((fake for fake in graphql if _owns(fake, node)), None)
        below = [fake for fake in self._fakes if path.startswith(fake.prefix + "/")]
        for fake in below:
            if path[len(fake.prefix) :].startswith(f"/repos/{fake.repository}/"):
                return fake
        return below[0] if below else None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
        url = self.url + raw
        fake = self._route(urlsplit(url).path, request.get_data())
        if fake is None:
            response = Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
            return response(environ, start_response)
        shim = SimpleNamespace(url=url, method=request.method, body=request.get_data() or None, headers=request.headers)
        try:
            status, headers, body = fake._respond(shim)
        except SpecViolationError as exc:  # recorded in fake.violations; the tests assert there are none
            status, headers, body = 400, {}, json.dumps({"message": f"spec violation: {exc}"})
        response = Response(body, status=status, headers=headers, content_type="application/json")
        return response(environ, start_response)

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()
