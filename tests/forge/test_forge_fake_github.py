"""The GitHub fake itself: a request that GitHub's OpenAPI description rejects must fail loudly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses

from tests.fakes.github_api import FakeGitHub, SpecViolationError, openapi

API = "https://api.github.com/repos/acme/platform"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub().install(mock)
        fake.seed({"a.yaml": "a\n"})
        yield fake


@pytest.mark.parametrize(
    ("method", "url", "body", "reason"),
    [
        ("GET", f"{API}/no-such-endpoint", None, "no such operation"),
        ("PUT", f"{API}/git/trees", {"tree": []}, "no such operation"),
        ("POST", f"{API}/git/trees", {"tree": [{"path": "a", "mode": "100645", "type": "blob"}]}, "body rejected"),
        ("POST", f"{API}/git/trees", {"base_tree": "x"}, "body rejected"),
        ("POST", f"{API}/statuses/{'a' * 40}", {"state": "ok"}, "body rejected"),
        ("PUT", f"{API}/pulls/1/merge", {"sha": "x", "merge_method": "fast-forward"}, "body rejected"),
        ("POST", f"{API}/issues/1/comments", {"body": "x", "sticky": True}, "undocumented body fields"),
        ("GET", f"{API}/pulls?status=open", None, "unknown query parameters"),
        ("GET", f"{API}/deployments", None, "not implemented by the fake"),
        ("GET", "https://api.github.com/user", None, "no such operation"),
    ],
)
def test_requests_github_would_reject_fail_the_test(
    fake: FakeGitHub, method: str, url: str, body: object, reason: str
) -> None:
    with pytest.raises(SpecViolationError, match=reason):
        requests.request(method, url, json=body, timeout=5)
    assert len(fake.violations) == 1 and fake.calls == []


def test_nullable_fields_follow_openapi(fake: FakeGitHub) -> None:
    base = fake.commits[fake.refs["refs/heads/main"]].tree
    tree = {"base_tree": base, "tree": [{"path": "a.yaml", "mode": "100644", "type": "blob", "sha": None}]}
    reply = requests.post(f"{API}/git/trees", json=tree, timeout=5)
    assert reply.status_code == 201 and fake.violations == []
    status = {"state": "success", "target_url": None, "description": None, "context": "ci"}
    sha = fake.refs["refs/heads/main"]
    assert requests.post(f"{API}/statuses/{sha}", json=status, timeout=5).status_code == 201


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


def test_the_subset_covers_every_operation_the_forge_uses() -> None:
    ids = {op.operation_id for op in openapi().operations}
    used = {
        "repos/get-branch",
        "git/create-tree",
        "git/create-commit",
        "git/create-ref",
        "git/update-ref",
        "git/get-tree",
        "git/get-blob",
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
    assert used <= ids
