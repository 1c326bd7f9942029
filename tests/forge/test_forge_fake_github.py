"""The GitHub fake itself: a request that the project's description of GitHub's REST API rejects fails loudly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
import responses

from tests.fakes.github_api import FakeGitHub, RestApi, SpecViolationError, api_from_description, own_api

API = "https://api.github.com/repos/acme/platform"

# Each request GitHub would refuse, and the words the violation must carry (shared with the conformance tier,
# which sends the same requests to the fake built on GitHub's OpenAPI description).
REFUSED: list[tuple[str, str, Any, str]] = [
    ("GET", f"{API}/no-such-endpoint", None, "no such operation"),
    ("PUT", f"{API}/git/trees", {"tree": []}, "no such operation"),
    ("POST", f"{API}/git/trees", {"tree": [{"path": "a", "mode": "100645", "type": "blob"}]}, "body rejected"),
    ("POST", f"{API}/git/trees", {"base_tree": "x"}, "body rejected"),
    ("POST", f"{API}/git/trees", {"tree": "a.yaml"}, "body rejected"),
    ("POST", f"{API}/git/trees", None, "request body required"),
    ("POST", f"{API}/statuses/{'a' * 40}", {"state": "ok"}, "body rejected"),
    ("POST", f"{API}/statuses/{'a' * 40}", {"state": "success", "context": 7}, "body rejected"),
    ("PUT", f"{API}/pulls/1/merge", {"sha": "x", "merge_method": "fast-forward"}, "body rejected"),
    ("PATCH", f"{API}/git/refs/heads/main", {"sha": "x", "force": "yes"}, "body rejected"),
    ("DELETE", f"{API}/git/refs/heads/envbot/dev/x", {"sha": "x"}, "takes no request body"),
    ("POST", f"{API}/issues/1/labels", {"labels": []}, "body rejected"),
    ("POST", f"{API}/issues/1/comments", {"body": "x", "sticky": True}, "undocumented body fields"),
    ("GET", f"{API}/pulls?status=open", None, "unknown query parameters"),
    ("GET", f"{API}/pulls/1", {"x": 1}, "takes no request body"),
    ("GET", "https://api.github.com/user", None, "no such operation"),
]


@contextmanager
def serve(api: RestApi | None = None) -> Iterator[FakeGitHub]:
    """The fake on ``responses``, checking requests against ``api`` (the project's own description by default)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = (FakeGitHub() if api is None else FakeGitHub(api=api)).install(mock)
        fake.seed({"a.yaml": "a\n"})
        yield fake


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with serve() as fake:
        yield fake


def assert_refused(fake: FakeGitHub, method: str, url: str, body: Any, reason: str) -> None:
    with pytest.raises(SpecViolationError, match=reason):
        requests.request(method, url, json=body, timeout=5)
    assert len(fake.violations) == 1 and fake.calls == []


@pytest.mark.parametrize(("method", "url", "body", "reason"), REFUSED)
def test_requests_github_would_reject_fail_the_test(
    fake: FakeGitHub, method: str, url: str, body: Any, reason: str
) -> None:
    assert_refused(fake, method, url, body, reason)


def test_a_documented_operation_without_a_handler_is_reported() -> None:
    api = api_from_description(
        {"operations": [{"id": "repos/list-deployments", "request": "GET /repos/{owner}/{repo}/deployments"}]}
    )
    with serve(api) as fake:
        assert_refused(fake, "GET", f"{API}/deployments", None, "not implemented by the fake")


def test_nullable_fields_follow_the_description(fake: FakeGitHub) -> None:
    base = fake.commits[fake.refs["refs/heads/main"]].tree
    tree: dict[str, Any] = {
        "base_tree": base,
        "tree": [{"path": "a.yaml", "mode": "100644", "type": "blob", "sha": None}],
    }
    reply = requests.post(f"{API}/git/trees", json=tree, timeout=5)
    assert reply.status_code == 201 and fake.violations == []
    status = {"state": "success", "target_url": None, "description": None, "context": "ci"}
    sha = fake.refs["refs/heads/main"]
    assert requests.post(f"{API}/statuses/{sha}", json=status, timeout=5).status_code == 201


def test_multi_segment_placeholders_take_slashes(fake: FakeGitHub) -> None:
    fake.seed({"deep/er/b.yaml": "b\n"}, branch="feature/x")
    assert requests.get(f"{API}/branches/feature/x", timeout=5).json()["name"] == "feature/x"
    assert requests.get(f"{API}/git/ref/heads/feature/x", timeout=5).json()["ref"] == "refs/heads/feature/x"
    assert requests.get(f"{API}/contents/deep/er/b.yaml?ref=feature/x", timeout=5).json()["path"] == "deep/er/b.yaml"
    assert fake.violations == []


def test_other_repositories_are_not_found(fake: FakeGitHub) -> None:
    reply = requests.get("https://api.github.com/repos/acme/other/branches/main", timeout=5)
    assert reply.status_code == 404 and fake.violations == []


def test_enterprise_prefix_is_required() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(base_url="https://ghe.example.com/api/v3").install(mock)
        fake.seed({"a.yaml": "a\n"})
        assert requests.get("https://ghe.example.com/api/v3/repos/acme/platform/branches/main", timeout=5).ok
        with pytest.raises(requests.ConnectionError):  # not GitHub Enterprise's API path: nothing answers
            requests.get("https://ghe.example.com/repos/acme/platform/branches/main", timeout=5)


def test_the_description_names_every_operation_the_fake_serves_and_no_other() -> None:
    described = {op.operation_id for op in own_api().operations}
    handlers = {name for name in dir(FakeGitHub) if name.startswith("op_")}
    assert {"op_" + op.replace("/", "_").replace("-", "_") for op in described} == handlers


def test_the_description_covers_every_operation_the_forge_uses() -> None:
    used = {
        "repos/get-branch",
        "git/create-tree",
        "git/create-commit",
        "git/create-ref",
        "git/update-ref",
        "git/get-tree",
        "git/get-blob",
        "git/list-matching-refs",
        "repos/get-content",
        "pulls/list",
        "pulls/create",
        "pulls/get",
        "pulls/update",
        "pulls/merge",
        "issues/add-labels",
        "issues/list-comments",
        "issues/create-comment",
        "issues/update-comment",
        "issues/delete-comment",
        "repos/create-commit-status",
        "repos/get-combined-status-for-ref",
        "repos/get-collaborator-permission-level",
    }
    assert used <= set(own_api().by_id)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"id": "x/y", "request": "FETCH /x"}, "METHOD /path"),
        ({"id": "x/y", "request": "GET /x", "queries": ["a"]}, "an operation has"),
        ({"id": "x/y", "request": "POST /x", "body": {"object": {"a": "str"}}}, "unknown type"),
        ({"id": "x/y", "request": "POST /x", "body": {"object": {"a": "string"}, "required": ["b"]}}, "required"),
        ({"id": "x/y", "request": "POST /x", "body": {"array": "string", "object": {}}}, "not a shape"),
    ],
)
def test_a_malformed_description_is_refused(entry: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        api_from_description({"operations": [entry]})
