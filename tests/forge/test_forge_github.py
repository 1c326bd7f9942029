"""GitHubForge specifics on the fake: request budget, request shapes, GitHub Enterprise, races GitHub can lose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses

from bot.forge import FileChange, ForgeRejectedError, MergeOutcome
from bot.forge.github import GitHubForge
from tests.fakes.github_api import FakeGitHub, ReplyError
from tests.forge.support import SEED, TOKEN, github_forge

BRANCH = "envbot/dev-feature-auth/infrastructure"
PR_REQUESTS = 8


def open_pull_request(fake: FakeGitHub, n_files: int) -> int:
    forge = github_forge(fake)
    changes = [
        FileChange.write(f"registry/environments/dev/infrastructure/c{i}.yaml", f"i: {i}\n") for i in range(n_files)
    ]
    forge.push_commit(BRANCH, "main", changes, "envbot: provision dev")
    forge.ensure_pull_request(BRANCH, "main", "Provision dev", "body", labels=["envbot"])
    assert forge.request_count == fake.count()
    return forge.request_count


@pytest.mark.parametrize("n_files", [3, 60])
def test_opening_a_pull_request_costs_a_constant_number_of_requests(github_fake: FakeGitHub, n_files: int) -> None:
    assert open_pull_request(github_fake, n_files) == PR_REQUESTS
    assert [c.operation for c in github_fake.calls] == [
        "repos/get-branch",  # base tip and tree
        "repos/get-branch",  # the bot branch (404: not there yet)
        "git/create-tree",  # every file inline, on top of the base tree
        "git/create-commit",
        "git/create-ref",
        "pulls/list",
        "pulls/create",
        "issues/add-labels",
    ]
    (tree,) = [c for c in github_fake.calls if c.operation == "git/create-tree"]
    assert len(tree.body["tree"]) == n_files and all("content" in e for e in tree.body["tree"])
    assert github_fake.count("git/create-blob") == 0


def test_rerunning_costs_only_reads(github_fake: FakeGitHub) -> None:
    open_pull_request(github_fake, 60)
    before = github_fake.count()
    forge = github_forge(github_fake)
    changes = [FileChange.write(f"registry/environments/dev/infrastructure/c{i}.yaml", f"i: {i}\n") for i in range(60)]
    assert not forge.push_commit(BRANCH, "main", changes, "envbot: provision dev").changed
    forge.ensure_pull_request(BRANCH, "main", "Provision dev", "body", labels=["envbot"])
    writes = [c for c in github_fake.calls[before:] if c.method != "GET" and c.operation != "git/create-tree"]
    assert writes == []  # the tree is content-addressed: re-posting it is how we learn nothing changed
    assert forge.request_count == 4


def test_deletions_send_null_shas_for_existing_files_only(github_fake: FakeGitHub) -> None:
    forge = github_forge(github_fake)
    forge.push_commit(BRANCH, "main", [FileChange.delete("old/stale.yaml"), FileChange.delete("nope.yaml")], "rm")
    (tree,) = [c for c in github_fake.calls if c.operation == "git/create-tree"]
    assert tree.body["tree"] == [{"path": "old/stale.yaml", "mode": "100644", "type": "blob", "sha": None}]


def test_merge_sends_the_expected_head_sha(github_fake: FakeGitHub) -> None:
    forge = github_forge(github_fake)
    forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    pr = forge.ensure_pull_request(BRANCH, "main", "t", "b")
    forge.merge(pr.number, pr.head_sha)
    (call,) = [c for c in github_fake.calls if c.operation == "pulls/merge"]
    assert call.body == {"sha": pr.head_sha, "merge_method": "merge"}


def test_github_enterprise_base_url() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(base_url="https://ghe.example.com/api/v3").install(mock)
        fake.seed(SEED)
        assert open_pull_request(fake, 3) == PR_REQUESTS
        assert all(call.request.url.startswith("https://ghe.example.com") for call in mock.calls)
        assert all("/api/v3/repos/acme/platform/" in call.request.url for call in mock.calls)
        assert fake.violations == []


def test_a_pull_request_opened_concurrently_is_found_not_duplicated(
    github_fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    forge = github_forge(github_fake)
    forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    other = github_forge(github_fake).ensure_pull_request(BRANCH, "main", "t", "b")
    real_list = github_fake.op_pulls_list
    answers = iter([(200, [])])  # our first list misses the other run's pull request

    def stale_list(*args: Any) -> tuple[int, Any]:
        return next(answers, None) or real_list(*args)

    monkeypatch.setattr(github_fake, "op_pulls_list", stale_list)
    pr = forge.ensure_pull_request(BRANCH, "main", "t", "b")
    assert pr.number == other.number and len(github_fake.pulls) == 1


def test_a_branch_created_concurrently_is_reset(github_fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    forge = github_forge(github_fake)
    real_branch = github_fake.op_repos_get_branch

    def racing_branch(p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if p["branch"] == BRANCH and f"refs/heads/{BRANCH}" not in github_fake.refs:
            github_fake.seed({"x": "created by another run\n"}, branch=BRANCH)
            raise ReplyError(404, "Branch not found")  # ... after we looked
        return real_branch(p, q, b)

    monkeypatch.setattr(github_fake, "op_repos_get_branch", racing_branch)
    result = forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    assert github_fake.refs[f"refs/heads/{BRANCH}"] == result.sha
    assert [c.operation for c in github_fake.calls][-2:] == ["git/create-ref", "git/update-ref"]


def test_an_unknown_mergeability_is_none(github_fake: FakeGitHub) -> None:
    forge = github_forge(github_fake)
    forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    pr = forge.ensure_pull_request(BRANCH, "main", "t", "b")
    github_fake.mergeable_unknown.add(pr.number)
    assert forge.get_pull_request(pr.number).mergeable is None


def test_a_closed_pull_request_is_not_mergeable(github_fake: FakeGitHub) -> None:
    forge = github_forge(github_fake)
    forge.push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    pr = forge.ensure_pull_request(BRANCH, "main", "t", "b")
    github_fake.pulls[pr.number]["state"] = "closed"
    assert forge.get_pull_request(pr.number).state == "closed"
    assert forge.merge(pr.number, pr.head_sha).outcome is MergeOutcome.NOT_MERGEABLE
    # the closed one is not reused: a new pull request is opened
    assert forge.ensure_pull_request(BRANCH, "main", "t", "b").number != pr.number


def test_custom_roles_fall_back_on_their_base_permission(github_fake: FakeGitHub) -> None:
    github_fake.grant("dave", "release-manager")
    assert str(github_forge(github_fake).permission("dave")) == "read"


def test_refusals_name_the_request_but_never_the_token(github_fake: FakeGitHub) -> None:
    forge = github_forge(github_fake)
    with pytest.raises(ForgeRejectedError) as caught:
        forge.ensure_pull_request("no-such-branch", "main", "t", "b")
    assert "no-such-branch" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in repr(forge)


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="owner/name"):
        GitHubForge("acme", TOKEN)
    with pytest.raises(ValueError, match="token"):
        GitHubForge("acme/platform", "")


@pytest.mark.parametrize("repository", ["acme/..", "acme/.", "-acme/platform", "ac me/platform", "a" * 40 + "/x"])
def test_only_a_github_owner_name_makes_a_forge(repository: str) -> None:
    # "acme/.." would put /repos/acme/.. in every request URL: GitHub's own rules (bot.names) refuse it first.
    with pytest.raises(ValueError, match="owner/name"):
        GitHubForge(repository, TOKEN)


# -- listings, closing and deleting: their request budgets ---------------------------------------------------------


def requests_of(fake: FakeGitHub, call: Callable[[GitHubForge], object]) -> list[str]:
    """The operations one call of a fresh GitHubForge sent."""
    before = fake.count()
    call(github_forge(fake))
    return [c.operation for c in fake.calls[before:]]


def test_closing_costs_two_requests_plus_the_comment(github_fake: FakeGitHub) -> None:
    open_pull_request(github_fake, 1)
    (number,) = github_fake.pulls
    comment = "Closed: superseded."
    assert requests_of(github_fake, lambda forge: forge.close_pull_request(number, comment)) == [
        "pulls/get",
        "issues/list-comments",  # upsert_comment: find, post, look again
        "issues/create-comment",
        "issues/list-comments",
        "pulls/update",
    ]
    (close,) = [c for c in github_fake.calls if c.operation == "pulls/update"]
    assert close.body == {"state": "closed"}
    assert requests_of(github_fake, lambda forge: forge.close_pull_request(number, comment)) == ["pulls/get"]
    other = "envbot/dev/applications"
    forge = github_forge(github_fake)
    forge.push_commit(other, "main", [FileChange.write("apps/a.yaml", "a\n")], "apps")
    second = forge.ensure_pull_request(other, "main", "Deploy", "body").number
    assert requests_of(github_fake, lambda forge: forge.close_pull_request(second)) == ["pulls/get", "pulls/update"]


def test_deleting_a_branch_costs_two_requests(github_fake: FakeGitHub) -> None:
    github_forge(github_fake).push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")
    assert requests_of(github_fake, lambda forge: forge.delete_branch(BRANCH)) == ["pulls/list", "git/delete-ref"]
    listing, deletion = github_fake.calls[-2:]
    assert listing.query == {"state": "open", "base": BRANCH, "per_page": "1"}
    assert deletion.path == f"/repos/acme/platform/git/refs/heads/{BRANCH}" and deletion.status == 204
    gone: list[bool] = []
    assert requests_of(github_fake, lambda forge: gone.append(forge.delete_branch(BRANCH))) == [
        "pulls/list",
        "git/delete-ref",  # 422 Reference does not exist
    ]
    assert gone == [False]
    forge = github_forge(github_fake)
    with pytest.raises(ForgeRejectedError):
        forge.delete_branch("main")
    assert forge.request_count == 0  # refused before asking


def test_a_deletion_github_refuses_for_another_reason_is_an_error(
    github_fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_forge(github_fake).push_commit(BRANCH, "main", [FileChange.write("a.yaml", "a\n")], "m")

    def refuse(p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        raise ReplyError(422, "Cannot delete this protected branch")

    monkeypatch.setattr(github_fake, "op_git_delete_ref", refuse)
    with pytest.raises(ForgeRejectedError, match="protected branch"):
        github_forge(github_fake).delete_branch(BRANCH)


def test_branch_sha_costs_one_request(github_fake: FakeGitHub) -> None:
    assert requests_of(github_fake, lambda forge: forge.branch_sha("main")) == ["repos/get-branch"]
    assert requests_of(github_fake, lambda forge: forge.branch_sha("gone")) == ["repos/get-branch"]


def test_open_pull_requests_read_every_page(github_fake: FakeGitHub) -> None:
    head = github_fake.refs["refs/heads/main"]
    for number in range(1, 152):
        github_fake.pulls[number] = {
            "number": number,
            "title": f"#{number}",
            "body": "",
            "head": f"envbot/env-{number}/infrastructure",
            "base": "main",
            "head_sha": head,
            "state": "open" if number % 3 else "closed",
            "labels": set(),
            "merged": False,
            "merge_sha": None,
        }
    forge = github_forge(github_fake)
    listed = forge.open_pull_requests()
    assert [pr.number for pr in listed] == [n for n in range(1, 152) if n % 3]
    assert forge.request_count == 2  # 100 open ones on the first page, the rest on the second
    assert forge.open_pull_request_heads() == {pr.head for pr in listed}
