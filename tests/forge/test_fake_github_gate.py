"""The GitHub fake keeps GitHub's merge rules: check runs and commit statuses, rulesets and classic branch
protection, approving reviews, ``mergeable_state``, the merge's refusals, and native auto-merge over GraphQL. Each
test drives it as GitHub is driven (plain HTTP, PyGithub's requester), on the project's own descriptions and, in the
conformance tier, on GitHub's OpenAPI description and GraphQL schema; every request and answer is checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import responses
from github import Auth, Github, GithubException
from manual_clock import ManualClock

from tests.fakes.github_api import FakeGitHub, SpecViolationError, own_api, upstream_api
from tests.forge.support import TOKEN

API = "https://api.github.com/repos/acme/platform"
GRAPHQL = "https://api.github.com/graphql"
BRANCH = "envbot/dev/infrastructure"
ENABLE = """
mutation Enable($id: ID!, $head: GitObjectID, $method: PullRequestMergeMethod) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, expectedHeadOid: $head, mergeMethod: $method}) {
    pullRequest { id number autoMergeRequest { enabledAt mergeMethod } }
  }
}
"""
DISABLE = """
mutation Disable($id: ID!) {
  disablePullRequestAutoMerge(input: {pullRequestId: $id}) { pullRequest { number autoMergeRequest { enabledAt } } }
}
"""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["own", pytest.param("github", marks=pytest.mark.conformance)])
def fake(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[FakeGitHub]:
    """The fake on the project's descriptions, or (conformance) on GitHub's; fails the test on any request the
    description refuses and on any answer it contradicts."""
    api = own_api() if request.param == "own" else upstream_api()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(api=api, clock=clock).install(mock)
        fake.seed({"README.md": "# platform\n"})
        yield fake
        assert fake.violations == []
        assert [problem for call in fake.calls for problem in api.reply_problems(call)] == []


def branch_from_main(fake: FakeGitHub, branch: str, files: dict[str, str]) -> str:
    """A commit on ``branch`` (created from main) that adds ``files`` to main's; its SHA."""
    fake.refs.setdefault(f"refs/heads/{branch}", fake.refs["refs/heads/main"])
    return fake.seed({**fake.files(branch), **files}, branch=branch)


def open_pull(
    fake: FakeGitHub, branch: str = BRANCH, files: dict[str, str] | None = None, *, draft: bool = False
) -> int:
    """A pull request of ``branch``, which adds ``files`` to main's; its number."""
    branch_from_main(fake, branch, files or {"registry/dev.yaml": "dev: 1\n"})
    body: dict[str, Any] = {"head": branch, "base": "main", "title": "Provision dev", "draft": draft}
    reply = requests.post(f"{API}/pulls", json=body, timeout=5)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["number"])


def pull(number: int) -> dict[str, Any]:
    reply = requests.get(f"{API}/pulls/{number}", timeout=5)
    assert reply.status_code == 200
    data: dict[str, Any] = reply.json()
    return data


def post_status(sha: str, context: str, state: str) -> None:
    assert requests.post(f"{API}/statuses/{sha}", json={"state": state, "context": context}, timeout=5).ok


def merge(number: int, **body: Any) -> requests.Response:
    return requests.put(f"{API}/pulls/{number}/merge", json=body, timeout=5)


def graphql(query: str, **variables: Any) -> dict[str, Any]:
    reply = requests.post(GRAPHQL, json={"query": query, "variables": variables}, timeout=5)
    assert reply.status_code == 200
    answer: dict[str, Any] = reply.json()
    return answer


def enable(number: int, head: str | None = None, method: str | None = "MERGE") -> dict[str, Any]:
    data = pull(number)
    return graphql(ENABLE, id=data["node_id"], head=head or data["head"]["sha"], method=method)


def refusal(answer: dict[str, Any], field: str = "enablePullRequestAutoMerge") -> tuple[str, str]:
    """GitHub's error answer to a mutation: its one error's type and message (the field is null)."""
    assert answer["data"] == {field: None}
    (error,) = answer["errors"]
    assert error["path"] == [field] and error["locations"]
    return error["type"], error["message"]


# -- pull requests ---------------------------------------------------------------------------------------------


def test_pull_requests_carry_node_id_draft_auto_merge_and_mergeable_state(fake: FakeGitHub) -> None:
    created = requests.post(f"{API}/pulls", json={"head": "main", "base": "main"}, timeout=5)
    assert created.status_code == 422  # nothing between them
    branch_from_main(fake, BRANCH, {"a.yaml": "a\n"})
    made = requests.post(f"{API}/pulls", json={"head": BRANCH, "base": "main", "title": "t"}, timeout=5).json()
    assert (made["mergeable"], made["mergeable_state"], made["draft"], made["auto_merge"]) == (
        None,
        "unknown",
        False,
        None,
    )
    number = made["number"]
    data = pull(number)
    assert data["node_id"].startswith("PR_") and data["node_id"] == fake.node_id(number)
    assert (data["mergeable"], data["mergeable_state"], data["draft"], data["auto_merge"]) == (
        True,
        "clean",
        False,
        None,
    )
    (listed,) = requests.get(f"{API}/pulls", timeout=5).json()
    assert (listed["node_id"], listed["draft"], listed["auto_merge"]) == (data["node_id"], False, None)
    fake.mergeable_unknown.add(number)
    assert (pull(number)["mergeable"], pull(number)["mergeable_state"]) == (None, "unknown")
    fake.mergeable_unknown.discard(number)
    other = open_pull(fake, "envbot/qa/infrastructure", {"b.yaml": "b\n"})
    assert fake.node_id(other) != fake.node_id(number)


def test_a_draft_and_a_conflict_have_their_own_state(fake: FakeGitHub) -> None:
    drafted = open_pull(fake, draft=True)
    assert (pull(drafted)["draft"], pull(drafted)["mergeable_state"]) == (True, "draft")
    assert (merge(drafted).status_code, merge(drafted).json()["message"]) == (405, "Pull Request is still a draft")
    clashing = open_pull(fake, "envbot/qa/infrastructure", {"README.md": "# theirs\n"})
    fake.seed({"README.md": "# ours\n"})
    assert (pull(clashing)["mergeable"], pull(clashing)["mergeable_state"]) == (False, "dirty")
    assert merge(clashing).status_code == 405


Setup = Callable[[FakeGitHub, str], None]

STATES: list[tuple[str, Setup, str]] = [
    ("nothing reported, nothing required", lambda f, head: None, "clean"),
    ("a passing status", lambda f, head: post_status(head, "lint", "success"), "clean"),
    ("a failing status nobody requires", lambda f, head: post_status(head, "lint", "failure"), "unstable"),
    ("a check run nobody requires, running", lambda f, head: run_check(f, head, "in_progress"), "unstable"),
    ("a check run nobody requires, failed", lambda f, head: run_check(f, head, "completed", "failure"), "unstable"),
    ("a required check not reported", lambda f, head: require(f), "blocked"),
    ("a required check queued", lambda f, head: require_and_run(f, head, "queued"), "blocked"),
    ("a required check running", lambda f, head: require_and_run(f, head, "in_progress"), "blocked"),
    ("a required check succeeded", lambda f, head: require_and_run(f, head, "completed", "success"), "clean"),
    ("a required check neutral", lambda f, head: require_and_run(f, head, "completed", "neutral"), "clean"),
    ("a required check skipped", lambda f, head: require_and_run(f, head, "completed", "skipped"), "clean"),
    ("a required check failed", lambda f, head: require_and_run(f, head, "completed", "failure"), "blocked"),
    ("a required check timed out", lambda f, head: require_and_run(f, head, "completed", "timed_out"), "blocked"),
    ("a required check cancelled", lambda f, head: require_and_run(f, head, "completed", "cancelled"), "blocked"),
    ("a required check as a commit status", lambda f, head: require_status(f, head, "success"), "clean"),
    ("a required check's status pending", lambda f, head: require_status(f, head, "pending"), "blocked"),
    ("a required check from another app", lambda f, head: other_app(f, head), "blocked"),
    ("a failed check re-run and passed", lambda f, head: rerun_green(f, head), "clean"),
    ("a passed check re-run, running again", lambda f, head: rerun_running(f, head), "blocked"),
    ("classic protection, context missing", lambda f, head: f.protect("main", contexts=["ci"]), "blocked"),
    ("classic protection, context passed", lambda f, head: protect_and_pass(f, head), "clean"),
    ("a ruleset in evaluate mode", lambda f, head: require(f, enforcement="evaluate"), "clean"),
    ("a ruleset on other branches", lambda f, head: require(f, branches=["release/*"]), "clean"),
    ("a ruleset on the default branch", lambda f, head: require(f, branches=["~DEFAULT_BRANCH"]), "blocked"),
    ("a review required", lambda f, head: void(f.add_ruleset("review", required_reviews=1)), "blocked"),
    ("a review required and given", lambda f, head: review_given(f), "clean"),
    ("a protected branch's review required", lambda f, head: f.protect("main", required_reviews=2), "blocked"),
    ("strict and behind", lambda f, head: strict_and_behind(f, head), "behind"),
    ("behind without a strict rule", lambda f, head: void(f.seed({**f.files("main"), "n.yaml": "n\n"})), "clean"),
]  # fmt: skip


def void(_: object) -> None:
    """Drop a helper's result (a lambda's body is one expression)."""


def require(fake: FakeGitHub, **options: Any) -> None:
    fake.add_ruleset("ci", required_checks=["ci"], **options)


def run_check(fake: FakeGitHub, head: str, status: str, conclusion: str | None = None) -> None:
    fake.add_check_run(head, "e2e", status, conclusion)


def require_and_run(fake: FakeGitHub, head: str, status: str, conclusion: str | None = None) -> None:
    fake.add_ruleset("ci", required_checks=[("ci", 15368)])
    fake.add_check_run(head, "ci", status, conclusion)


def require_status(fake: FakeGitHub, head: str, state: str) -> None:
    fake.add_ruleset("ci", required_checks=["ci"])
    post_status(head, "ci", state)


def other_app(fake: FakeGitHub, head: str) -> None:
    fake.add_ruleset("ci", required_checks=[("ci", 15368)])
    fake.add_check_run(head, "ci", conclusion="success", app_id=99, app_slug="someone-else")


def rerun_green(fake: FakeGitHub, head: str) -> None:
    fake.add_ruleset("ci", required_checks=["ci"])
    again = fake.rerun_check_run(fake.add_check_run(head, "ci", conclusion="failure"))
    fake.update_check_run(again, conclusion="success")


def rerun_running(fake: FakeGitHub, head: str) -> None:
    fake.add_ruleset("ci", required_checks=["ci"])
    fake.update_check_run(
        fake.rerun_check_run(fake.add_check_run(head, "ci", conclusion="success")), status="in_progress"
    )


def protect_and_pass(fake: FakeGitHub, head: str) -> None:
    fake.protect("main", contexts=["ci"], checks=[("build", 15368)])
    post_status(head, "ci", "success")
    fake.add_check_run(head, "build", conclusion="success")


def review_given(fake: FakeGitHub) -> None:
    fake.add_ruleset("review", required_reviews=1)
    fake.approve(1, "alice")


def strict_and_behind(fake: FakeGitHub, head: str) -> None:
    fake.add_ruleset("ci", required_checks=["ci"], strict=True)
    fake.add_check_run(head, "ci", conclusion="success")
    fake.seed({**fake.files("main"), "n.yaml": "n\n"})


@pytest.mark.parametrize(("case", "setup", "state"), STATES, ids=[case for case, _, _ in STATES])
def test_mergeable_state_follows_githubs_rules(fake: FakeGitHub, case: str, setup: Setup, state: str) -> None:
    number = open_pull(fake)
    assert number == 1
    setup(fake, pull(number)["head"]["sha"])
    data = pull(number)
    assert (data["mergeable"], data["mergeable_state"]) == (True, state)
    assert (merge(number).status_code == 200) is (state in ("clean", "unstable"))


# -- what merges refuse ------------------------------------------------------------------------------------------


def test_a_merge_is_refused_the_way_github_words_it(fake: FakeGitHub) -> None:
    number = open_pull(fake)
    head = pull(number)["head"]["sha"]
    fake.add_ruleset("ci", required_checks=[("ci", 15368)])
    assert merge(number, sha="0" * 40).status_code == 409  # a moved head is still a 409
    refused = merge(number, sha=head)
    assert (refused.status_code, refused.json()["message"]) == (
        405,
        'Repository rule violations found\n\nRequired status check "ci" is expected.',
    )
    run = fake.add_check_run(head, "ci", conclusion="failure")
    assert (
        merge(number).json()["message"] == 'Repository rule violations found\n\nRequired status check "ci" is failing.'
    )
    fake.update_check_run(fake.rerun_check_run(run), conclusion="success")
    fake.protect("main", contexts=["lint"], required_reviews=1)
    assert merge(number).json()["message"] == (
        'Required status check "lint" is expected. '
        "At least 1 approving review is required by reviewers with write access."
    )
    post_status(head, "lint", "success")
    assert merge(number).json()["message"] == "At least 1 approving review is required by reviewers with write access."
    fake.approve(number, "alice")
    fake.add_ruleset("strict", required_checks=["ci"], strict=True)
    fake.seed({**fake.files("main"), "n.yaml": "n\n"})
    assert (merge(number).status_code, merge(number).json()["message"]) == (
        405,
        "Head branch is out of date. Review and try the merge again.",
    )
    assert fake.pulls[number]["state"] == "open"


def test_an_unreadable_ruleset_still_holds_the_merge_back(fake: FakeGitHub) -> None:
    number = open_pull(fake)
    fake.add_ruleset("ci", required_checks=["ci"])
    for status, message in ((403, "Resource not accessible by integration"), (404, "Not Found")):
        fake.rules_status = status
        reply = requests.get(f"{API}/rules/branches/main", params={"per_page": 100, "page": 1}, timeout=5)
        assert (reply.status_code, reply.json()["message"]) == (status, message)
    assert pull(number)["mergeable_state"] == "blocked" and merge(number).status_code == 405


# -- statuses, check runs, rules, protection, the repository ------------------------------------------------------


def test_the_combined_status_is_paged(fake: FakeGitHub) -> None:
    sha = fake.refs["refs/heads/main"]
    for context, state in (("a", "success"), ("b", "failure"), ("c", "success"), ("a", "pending")):
        post_status(sha, context, state)
    pages = [
        requests.get(f"{API}/commits/main/status", params={"per_page": 2, "page": page}, timeout=5).json()
        for page in (1, 2, 3)
    ]
    assert [[s["context"] for s in page["statuses"]] for page in pages] == [["a", "b"], ["c"], []]
    assert {(page["total_count"], page["state"], page["sha"]) for page in pages} == {(3, "failure", sha)}
    assert pages[0]["statuses"][0]["state"] == "pending"  # the latest of context a


def test_check_runs_are_listed_latest_first_with_their_details(fake: FakeGitHub, clock: ManualClock) -> None:
    number = open_pull(fake)
    head = pull(number)["head"]["sha"]
    first = fake.add_check_run(BRANCH, "ci", conclusion="failure")
    clock.advance(dt.timedelta(minutes=3))
    again = fake.rerun_check_run(first)
    lint = fake.add_check_run(head, "lint", "in_progress", app_id=99, app_slug="linter")
    assert first < again < lint

    def listed(**query: Any) -> tuple[int, list[int]]:
        reply = requests.get(f"{API}/commits/{head}/check-runs", params=query, timeout=5).json()
        return reply["total_count"], [run["id"] for run in reply["check_runs"]]

    assert listed(filter="latest", per_page=100, page=1) == (2, [lint, again])
    assert listed(filter="all") == (3, [lint, again, first])
    assert listed() == listed(filter="latest")
    assert listed(check_name="ci", filter="all") == (2, [again, first])
    assert listed(status="queued") == (1, [again])
    assert listed(app_id=99) == (1, [lint])
    assert listed(filter="all", per_page=2, page=2) == (3, [first])
    assert listed(filter="latest", per_page=1, page=1) == (2, [lint])
    (run,) = requests.get(f"{API}/commits/heads/{BRANCH}/check-runs", params={"app_id": 15368}, timeout=5).json()[
        "check_runs"
    ]
    assert run["id"] == again and run["node_id"] and run["head_sha"] == head
    assert (run["name"], run["status"], run["conclusion"], run["completed_at"]) == ("ci", "queued", None, None)
    assert run["started_at"] == "2026-11-27T12:03:00Z"
    assert run["app"]["id"] == 15368 and run["app"]["slug"] == "github-actions" and run["app"]["name"]
    assert run["html_url"] and run["details_url"] and run["url"].endswith(f"/check-runs/{again}")
    assert run["check_suite"]["id"] and run["external_id"] == "" and "summary" in run["output"]
    assert [pr["number"] for pr in run["pull_requests"]] == [number]
    clock.advance(dt.timedelta(minutes=4))
    fake.update_check_run(again, status="in_progress")
    fake.update_check_run(again, conclusion="success")
    done = requests.get(f"{API}/commits/{head}/check-runs", params={"check_name": "ci"}, timeout=5).json()
    assert [(r["status"], r["conclusion"], r["completed_at"]) for r in done["check_runs"]] == [
        ("completed", "success", "2026-11-27T12:07:00Z")
    ]


def test_check_runs_reported_through_the_api(fake: FakeGitHub, clock: ManualClock) -> None:
    number = open_pull(fake)
    head = pull(number)["head"]["sha"]
    fake.add_ruleset("ci", required_checks=[("build", 15368)])
    made = requests.post(
        f"{API}/check-runs", json={"name": "build", "head_sha": head, "status": "in_progress"}, timeout=5
    )
    assert made.status_code == 201
    run = made.json()
    assert (run["status"], run["app"]["id"], run["app"]["slug"]) == ("in_progress", 15368, "github-actions")
    assert pull(number)["mergeable_state"] == "blocked"
    clock.advance(dt.timedelta(seconds=90))
    body: dict[str, Any] = {"conclusion": "success", "output": {"title": "Build", "summary": "green"}}
    updated = requests.patch(f"{API}/check-runs/{run['id']}", json=body, timeout=5)
    assert updated.status_code == 200
    assert (updated.json()["status"], updated.json()["completed_at"]) == ("completed", "2026-11-27T12:01:30Z")
    assert updated.json()["output"]["summary"] == "green"
    assert pull(number)["mergeable_state"] == "clean"
    incomplete = {"name": "build", "head_sha": head, "status": "completed"}
    assert requests.post(f"{API}/check-runs", json=incomplete, timeout=5).status_code == 422
    unknown = {"name": "build", "head_sha": "f" * 40}
    assert requests.post(f"{API}/check-runs", json=unknown, timeout=5).status_code == 422
    assert requests.patch(f"{API}/check-runs/1", json={"conclusion": "success"}, timeout=5).status_code == 404
    assert fake.count("checks/create") == 3 and len(fake.check_runs) == 1  # the refused ones left nothing


def test_branch_rules_are_listed_as_github_details_them(fake: FakeGitHub) -> None:
    fake.add_ruleset("ci", required_checks=[("ci", 15368), "lint"], strict=True)
    fake.add_ruleset("review", required_reviews=2)
    fake.add_ruleset("trial", required_checks=["slow"], enforcement="evaluate")
    fake.add_ruleset("off", required_checks=["old"], enforcement="disabled")
    fake.add_ruleset("releases", branches=["release/*"], required_checks=["release"])

    def rules(branch: str, **query: Any) -> list[dict[str, Any]]:
        reply = requests.get(f"{API}/rules/branches/{branch}", params=query, timeout=5)
        assert reply.status_code == 200
        found: list[dict[str, Any]] = reply.json()
        return found

    found = rules("main", per_page=100, page=1)
    assert found == [
        {
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": "ci", "integration_id": 15368}, {"context": "lint"}],
                "strict_required_status_checks_policy": True,
            },
            "ruleset_source_type": "Repository",
            "ruleset_source": "acme/platform",
            "ruleset_id": 1,
        },
        {
            "type": "pull_request",
            "parameters": {
                "allowed_merge_methods": ["merge", "squash", "rebase"],
                "dismiss_stale_reviews_on_push": False,
                "require_code_owner_review": False,
                "require_last_push_approval": False,
                "required_approving_review_count": 2,
                "required_review_thread_resolution": False,
            },
            "ruleset_source_type": "Repository",
            "ruleset_source": "acme/platform",
            "ruleset_id": 2,
        },
    ]
    assert rules("main", per_page=1, page=2) == found[1:]
    assert [rule["ruleset_id"] for rule in rules("release/1.0")] == [5]
    assert rules("feature/x") == []


def test_branches_carry_their_protection_and_commit_time(fake: FakeGitHub, clock: ManualClock) -> None:
    clock.advance(dt.timedelta(hours=1))
    fake.seed({"README.md": "# platform, later\n"})
    plain = requests.get(f"{API}/branches/main", timeout=5).json()
    assert (plain["protected"], plain["protection"]) == (
        False,
        {"enabled": False, "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []}},
    )
    assert plain["commit"]["commit"]["committer"]["date"] == "2026-11-27T13:00:00Z"
    assert "required_approving_review_count" not in plain
    fake.protect("main", contexts=["ci"], checks=[("build", 15368)], strict=True, required_reviews=1)
    guarded = requests.get(f"{API}/branches/main", timeout=5).json()
    assert (guarded["protected"], guarded["protection"], guarded["required_approving_review_count"]) == (
        True,
        {
            "enabled": True,
            "required_status_checks": {
                "enforcement_level": "non_admins",
                "contexts": ["ci", "build"],
                "checks": [{"context": "ci", "app_id": None}, {"context": "build", "app_id": 15368}],
                "strict": True,
            },
        },
        1,
    )


def test_the_repository_tells_whether_auto_merge_is_allowed(fake: FakeGitHub) -> None:
    data = requests.get(API, timeout=5).json()
    assert (data["full_name"], data["name"], data["default_branch"], data["allow_auto_merge"]) == (
        "acme/platform",
        "platform",
        "main",
        False,
    )
    assert data["id"] and data["node_id"] and data["private"] is False
    assert {key for key in data if key.startswith(("allow_", "delete_branch"))} == {
        "allow_auto_merge",
        "allow_update_branch",
        "allow_merge_commit",
        "allow_squash_merge",
        "allow_rebase_merge",
        "delete_branch_on_merge",
    }
    fake.allow_auto_merge = True
    assert requests.get(API, timeout=5).json()["allow_auto_merge"] is True


def test_commits_carry_their_time(fake: FakeGitHub, clock: ManualClock) -> None:
    tree = fake.commits[fake.refs["refs/heads/main"]].tree
    clock.advance(dt.timedelta(minutes=5))
    made = requests.post(f"{API}/git/commits", json={"message": "m", "tree": tree}, timeout=5).json()
    assert made["committer"]["date"] == made["author"]["date"] == "2026-11-27T12:05:00Z"
    author = {"name": "Alice", "email": "alice@example.com", "date": "2026-10-01T08:00:00+02:00"}
    dated = requests.post(f"{API}/git/commits", json={"message": "m", "tree": tree, "author": author}, timeout=5)
    assert dated.json()["committer"] == {**author, "date": "2026-10-01T06:00:00Z"}
    read = requests.get(f"{API}/git/commits/{dated.json()['sha']}", timeout=5).json()
    assert (read["message"], read["author"]["name"], read["committer"]["date"]) == (
        "m",
        "Alice",
        "2026-10-01T06:00:00Z",
    )


# -- GraphQL and native auto-merge --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "endpoint"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
    ],
)
def test_graphql_is_where_pygithub_sends_it(base_url: str, endpoint: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(base_url=base_url).install(mock)
        fake.seed({"README.md": "# platform\n"})
        branch_from_main(fake, BRANCH, {"a.yaml": "a\n"})
        fake.op_pulls_create({}, {}, {"head": BRANCH, "base": "main", "title": "t"})
        requester = Github(auth=Auth.Token(TOKEN), base_url=base_url).requester
        assert fake.graphql_url == requester.graphql_url == endpoint
        query = "query Look($id: ID!) { node(id: $id) { __typename ... on PullRequest { number state headRefOid } } }"
        _, answer = requester.graphql_query(query, {"id": fake.node_id(1)})
        head = fake.refs[f"refs/heads/{BRANCH}"]
        assert answer == {
            "data": {"node": {"__typename": "PullRequest", "number": 1, "state": "OPEN", "headRefOid": head}}
        }
        with pytest.raises(GithubException) as unknown:  # PyGithub turns GitHub's NOT_FOUND into a 404
            requester.graphql_query(query, {"id": "PR_nothing"})
        assert unknown.value.status == 404
        assert fake.count("graphql/node") == 2 and fake.violations == []


def test_auto_merge_is_refused_as_github_refuses_it(fake: FakeGitHub) -> None:
    number = open_pull(fake)
    assert refusal(enable(number)) == ("UNPROCESSABLE", "Auto merge is not allowed for this repository")
    fake.allow_auto_merge = True
    assert refusal(enable(number)) == ("UNPROCESSABLE", "Pull request Pull request is in clean status")
    post_status(pull(number)["head"]["sha"], "lint", "failure")
    assert refusal(enable(number)) == ("UNPROCESSABLE", "Pull request Pull request is in unstable status")
    fake.add_ruleset("ci", required_checks=["ci"])
    assert refusal(enable(number, head="0" * 40)) == (
        "UNPROCESSABLE",
        "Head ref was modified. Review and try the merge again.",
    )
    missing = graphql(ENABLE, id="PR_nothing", head="0" * 40, method="MERGE")
    assert refusal(missing) == ("NOT_FOUND", "Could not resolve to a node with the global id of 'PR_nothing'")
    assert refusal(graphql(DISABLE, id=fake.node_id(number)), "disablePullRequestAutoMerge") == (
        "UNPROCESSABLE",
        "Auto merge is not enabled for this pull request",
    )
    assert requests.patch(f"{API}/pulls/{number}", json={"state": "closed"}, timeout=5).ok
    assert refusal(enable(number)) == ("UNPROCESSABLE", "Pull request is closed")
    merged = open_pull(fake, "envbot/qa/infrastructure", {"b.yaml": "b\n"})
    post_status(pull(merged)["head"]["sha"], "ci", "success")
    assert merge(merged).status_code == 200
    assert refusal(enable(merged)) == ("UNPROCESSABLE", "Pull request is already merged")
    assert pull(number)["auto_merge"] is None and fake.count("graphql/enablePullRequestAutoMerge") == 7


def test_auto_merge_waits_for_the_required_check_then_github_merges(fake: FakeGitHub, clock: ManualClock) -> None:
    fake.allow_auto_merge = True
    fake.add_ruleset("ci", required_checks=[("ci", 15368)])
    number = open_pull(fake)
    head = pull(number)["head"]["sha"]
    run = fake.add_check_run(head, "ci", "in_progress")
    answer = enable(number, method="SQUASH")
    assert answer == {
        "data": {
            "enablePullRequestAutoMerge": {
                "pullRequest": {
                    "id": fake.node_id(number),
                    "number": number,
                    "autoMergeRequest": {"enabledAt": "2026-11-27T12:00:00Z", "mergeMethod": "SQUASH"},
                }
            }
        }
    }
    clock.advance(dt.timedelta(minutes=1))
    again = enable(number, method="MERGE")  # on already: nothing changes
    assert again["data"]["enablePullRequestAutoMerge"]["pullRequest"]["autoMergeRequest"] == {
        "enabledAt": "2026-11-27T12:00:00Z",
        "mergeMethod": "SQUASH",
    }
    data = pull(number)
    assert data["mergeable_state"] == "blocked"
    assert data["auto_merge"] == {
        "enabled_by": {"login": "envbot[bot]", "type": "Bot"},
        "merge_method": "squash",
        "commit_title": f"Merge pull request #{number} from {BRANCH}",
        "commit_message": "",
    }
    (listed,) = requests.get(f"{API}/pulls", timeout=5).json()
    assert listed["auto_merge"]["merge_method"] == "squash"
    base = fake.refs["refs/heads/main"]
    fake.update_check_run(run, conclusion="success")
    data = pull(number)
    assert (data["state"], data["merged"], data["auto_merge"]) == ("closed", True, None)
    assert fake.commits[fake.refs["refs/heads/main"]].parents == (base,)  # squashed
    assert fake.files("main")["registry/dev.yaml"] == "dev: 1\n"
    assert fake.count("pulls/merge") == 0  # GitHub merged it, nobody asked
    assert fake.count("graphql/enablePullRequestAutoMerge") == 2


@pytest.mark.parametrize("trigger", ["status", "approval", "ref update"])
def test_auto_merge_is_carried_out_after_each_change_that_lets_it(fake: FakeGitHub, trigger: str) -> None:
    fake.allow_auto_merge = True
    number = open_pull(fake)
    head = pull(number)["head"]["sha"]
    if trigger == "approval":
        fake.add_ruleset("review", required_reviews=1)
    else:
        fake.add_ruleset("ci", required_checks=["ci"])
    tested = branch_from_main(fake, "tested", {"registry/dev.yaml": "dev: 2\n"})
    post_status(tested, "ci", "success")
    assert "errors" not in enable(number)
    if trigger == "status":
        post_status(head, "ci", "success")
    elif trigger == "approval":
        fake.approve(number, "alice")
    else:  # someone points the branch at a commit CI passed
        ref = requests.patch(f"{API}/git/refs/heads/{BRANCH}", json={"sha": tested, "force": True}, timeout=5)
        assert ref.status_code == 200
    data = pull(number)
    assert (data["state"], data["merged"]) == ("closed", True)
    merged = fake.commits[fake.refs["refs/heads/main"]]
    assert merged.parents[1] == data["head"]["sha"]  # a merge commit: the method defaults to MERGE


def test_a_push_keeps_auto_merge_on_and_disabling_turns_it_off(fake: FakeGitHub) -> None:
    fake.allow_auto_merge = True
    fake.add_ruleset("ci", required_checks=["ci"])
    number = open_pull(fake)
    assert "errors" not in enable(number)
    pushed = fake.seed({**fake.files(BRANCH), "more.yaml": "more\n"}, branch=BRANCH)
    data = pull(number)
    assert data["head"]["sha"] == pushed and data["auto_merge"] is not None
    answer = graphql(DISABLE, id=fake.node_id(number))
    assert answer == {
        "data": {"disablePullRequestAutoMerge": {"pullRequest": {"number": number, "autoMergeRequest": None}}}
    }
    post_status(pushed, "ci", "success")
    assert (pull(number)["state"], pull(number)["auto_merge"]) == ("open", None)  # nobody merges it now
    assert fake.count("graphql/disablePullRequestAutoMerge") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"query": "mutation { enablePullRequestAutoMerge(input: {}) { clientMutationId } }"}, "not valid"),
        ({"query": "mutation { mergePullRequestNow(id: 1) { ok } }"}, "not valid"),
        ({"query": "mutation {"}, "does not parse"),
        ({"query": ENABLE, "variables": {"id": 7, "head": None, "method": "FAST"}}, "variables do not fit"),
        ({"query": DISABLE, "variables": {"id": "x"}, "operation": "Disable"}, "undocumented GraphQL request fields"),
        ({"variables": {}}, "a 'query' string"),
    ],
)
def test_a_graphql_request_github_would_refuse_fails_the_test(
    fake: FakeGitHub, body: dict[str, Any], reason: str
) -> None:
    with pytest.raises(SpecViolationError, match=reason):
        requests.post(GRAPHQL, json=body, timeout=5)
    assert len(fake.violations) == 1 and fake.calls == []
    fake.violations.clear()


def test_a_graphql_field_the_fake_does_not_answer_fails_the_test(fake: FakeGitHub) -> None:
    number = open_pull(fake)
    query = "query Look($id: ID!) { node(id: $id) { ... on PullRequest { viewerCanEnableAutoMerge } } }"
    # The project's schema does not name the field; GitHub's does, but the fake does not answer it.
    with pytest.raises(SpecViolationError, match=r"not valid against envbot's|not implemented by the fake"):
        graphql(query, id=fake.node_id(number))
    assert len(fake.violations) == 1
    fake.violations.clear()
