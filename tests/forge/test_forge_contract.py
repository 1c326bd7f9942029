"""The Forge contract, run against GitHubForge (on the GitHub fake), LocalForge (on a bare repository) and the
tests' MemoryForge."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

import pytest

from bot.errors import PermanentError, TransientError
from bot.forge import (
    CLOSED_MARKER,
    BaseMovedError,
    Comment,
    FileChange,
    Forge,
    ForgeNotFoundError,
    ForgeRejectedError,
    MergeOutcome,
    Permission,
)
from bot.forge.model import (
    AutoMergeOutcome,
    BranchRules,
    CommitStatus,
    MergeFacts,
    RepositorySettings,
)
from tests.fakes.github_api import FakeGitHub
from tests.fakes.memory_forge import MemoryForge
from tests.forge.support import GitHubHarness, LocalHarness, git

if TYPE_CHECKING:
    from tests.forge.support import Harness

BRANCH = "envbot/dev-feature-auth/infrastructure"
MARKER = "envbot:status:dev-feature-auth"


def files(n: int, prefix: str = "registry/environments/dev-feature-auth/infrastructure") -> list[FileChange]:
    return [FileChange.write(f"{prefix}/catalog-{i:02}.yaml", f"kind: Workspace\nindex: {i}\n") for i in range(n)]


def open_pr(h: Harness, n: int = 3, title: str = "Provision dev-feature-auth") -> int:
    h.forge.push_commit(BRANCH, "main", files(n), "envbot: provision dev-feature-auth")
    return h.forge.ensure_pull_request(BRANCH, "main", title, "body", labels=["envbot"]).number


def test_every_implementation_satisfies_the_protocol(harness: Harness) -> None:
    assert isinstance(harness.forge, Forge)


# -- reading ---------------------------------------------------------------------------------------------------


def test_read_file_and_list_tree(harness: Harness) -> None:
    forge = harness.forge
    assert forge.read_file("README.md", "main") == "# platform\n"
    assert forge.read_file("missing.yaml", "main") is None
    assert forge.read_file("README.md", "no-such-branch") is None
    assert forge.read_file("registry", "main") is None  # a folder is not a file
    assert forge.read_file("README.md", harness.base_sha()) == "# platform\n"
    assert forge.list_tree("", "main") == ("README.md", "old/stale.yaml", "registry/environments/.keep")
    assert forge.list_tree("registry/", "main") == ("registry/environments/.keep",)
    assert forge.list_tree("regis", "main") == ()  # a prefix is a folder, not a string prefix
    assert forge.list_tree("", "no-such-branch") == ()


def test_paths_are_checked(harness: Harness) -> None:
    with pytest.raises(ValueError, match="invalid repository path"):
        harness.forge.read_file("../etc/passwd", "main")
    with pytest.raises(ValueError, match="invalid repository path"):
        harness.forge.push_commit(BRANCH, "main", [FileChange.write("/abs.yaml", "x")], "m")


# -- push_commit -----------------------------------------------------------------------------------------------


def test_push_of_many_files_is_one_commit_on_the_base(harness: Harness) -> None:
    base = harness.base_sha()
    result = harness.forge.push_commit(BRANCH, "main", files(60), "envbot: provision")
    assert result.changed and result.has_diff
    assert result.base_sha == base
    assert harness.parents(result.sha) == (base,)
    tree = harness.forge.list_tree("registry/environments/dev-feature-auth", BRANCH)
    assert len(tree) == 60
    assert harness.forge.read_file(tree[7], BRANCH) == "kind: Workspace\nindex: 7\n"
    assert harness.forge.read_file("README.md", BRANCH) == "# platform\n"  # the base's files are kept
    assert harness.forge.list_tree("registry/environments/dev-feature-auth", "main") == ()


def test_push_is_idempotent(harness: Harness) -> None:
    first = harness.forge.push_commit(BRANCH, "main", files(5), "m")
    again = harness.forge.push_commit(BRANCH, "main", files(5), "m")
    assert (again.sha, again.changed) == (first.sha, False)


def test_push_replaces_the_previous_proposal(harness: Harness) -> None:
    harness.forge.push_commit(BRANCH, "main", files(5), "m")
    second = harness.forge.push_commit(BRANCH, "main", files(2), "m")
    assert second.changed
    assert harness.parents(second.sha) == (harness.base_sha(),)  # still one commit on the base, not two
    assert len(harness.forge.list_tree("registry/environments/dev-feature-auth", BRANCH)) == 2


def test_deletions_apply_only_to_files_that_exist(harness: Harness) -> None:
    changes = [FileChange.delete("old/stale.yaml"), FileChange.delete("never/existed.yaml"), *files(1)]
    result = harness.forge.push_commit(BRANCH, "main", changes, "cleanup")
    assert harness.forge.read_file("old/stale.yaml", BRANCH) is None
    assert harness.forge.read_file("old/stale.yaml", "main") == "stale: true\n"
    assert result.has_diff


def test_changes_that_change_nothing_make_no_commit(harness: Harness) -> None:
    base = harness.base_sha()
    same = [FileChange.write("README.md", "# platform\n"), FileChange.delete("never/existed.yaml")]
    result = harness.forge.push_commit(BRANCH, "main", same, "noop")
    assert (result.sha, result.has_diff) == (base, False)
    assert harness.forge.push_commit(BRANCH, "main", same, "noop").changed is False


def test_push_follows_a_moved_base(harness: Harness) -> None:
    harness.forge.push_commit(BRANCH, "main", files(3), "m")
    moved = harness.forge.push_commit("main", "main", [FileChange.write("other.yaml", "x: 1\n")], "someone else")
    again = harness.forge.push_commit(BRANCH, "main", files(3), "m")
    assert again.changed and again.base_sha == moved.sha
    assert harness.parents(again.sha) == (moved.sha,)
    assert harness.forge.read_file("other.yaml", BRANCH) == "x: 1\n"


def test_compare_and_swap_refuses_a_moved_base(harness: Harness) -> None:
    seen = harness.base_sha()
    harness.forge.push_commit("main", "main", [FileChange.write("other.yaml", "x\n")], "someone else")
    with pytest.raises(BaseMovedError) as caught:
        harness.forge.push_commit(BRANCH, "main", files(2), "m", expected_base_sha=seen)
    assert isinstance(caught.value, TransientError)
    assert caught.value.expected == seen and caught.value.actual == harness.base_sha()
    assert not harness.branch_exists(BRANCH)  # nothing was written
    ok = harness.forge.push_commit(BRANCH, "main", files(2), "m", expected_base_sha=harness.base_sha())
    assert ok.changed


def test_commit_onto_the_base_itself_is_fast_forward_only(harness: Harness) -> None:
    base = harness.base_sha()
    record = [FileChange.write("registry/environments/dev/environment.yaml", "kind: Environment\n")]
    result = harness.forge.push_commit("main", "main", record, "record", expected_base_sha=base)
    assert result.changed and harness.base_sha() == result.sha and harness.parents(result.sha) == (base,)
    with pytest.raises(BaseMovedError):
        harness.forge.push_commit("main", "main", files(1), "stale", expected_base_sha=base)


def test_missing_base_branch_is_a_permanent_error(harness: Harness) -> None:
    with pytest.raises(ForgeNotFoundError):
        harness.forge.push_commit(BRANCH, "no-such-base", files(1), "m")


# -- pull requests ---------------------------------------------------------------------------------------------


def test_ensure_pull_request_is_idempotent(harness: Harness) -> None:
    harness.forge.push_commit(BRANCH, "main", files(3), "m")
    numbers = {
        harness.forge.ensure_pull_request(BRANCH, "main", "Provision", "body", labels=["envbot"]).number
        for _ in range(4)
    }
    assert len(numbers) == 1
    assert harness.open_pulls() == sorted(numbers)
    pr = harness.forge.get_pull_request(numbers.pop())
    assert (pr.title, pr.body, pr.head, pr.base, pr.state, pr.labels) == (
        "Provision",
        "body",
        BRANCH,
        "main",
        "open",
        ("envbot",),
    )


def test_ensure_pull_request_updates_title_body_and_labels(harness: Harness) -> None:
    number = open_pr(harness)
    pr = harness.forge.ensure_pull_request(BRANCH, "main", "New title", "new body", labels=["envbot", "phase-1"])
    assert pr.number == number
    assert (pr.title, pr.body, pr.labels, pr.mergeable) == ("New title", "new body", ("envbot", "phase-1"), None)
    # labels are only ever added
    assert harness.forge.ensure_pull_request(BRANCH, "main", "New title", "new body").labels == ("envbot", "phase-1")
    assert harness.open_pulls() == [number]


def test_pull_request_tracks_its_head(harness: Harness) -> None:
    number = open_pr(harness)
    pushed = harness.forge.push_commit(BRANCH, "main", files(4), "m")
    pr = harness.forge.get_pull_request(number)
    assert pr.head_sha == pushed.sha and pr.mergeable is True


def test_pull_request_needs_a_diff_and_a_head(harness: Harness) -> None:
    with pytest.raises(ForgeRejectedError):
        harness.forge.ensure_pull_request("no-such-branch", "main", "t", "b")
    harness.forge.push_commit(BRANCH, "main", [FileChange.write("README.md", "# platform\n")], "noop")
    with pytest.raises(ForgeRejectedError):
        harness.forge.ensure_pull_request(BRANCH, "main", "t", "b")
    assert harness.open_pulls() == []


def test_unknown_pull_request(harness: Harness) -> None:
    with pytest.raises(ForgeNotFoundError):
        harness.forge.get_pull_request(404)
    with pytest.raises(PermanentError):
        harness.forge.upsert_comment(404, MARKER, "x")


# -- comments --------------------------------------------------------------------------------------------------


def test_upsert_comment_leaves_exactly_one(harness: Harness) -> None:
    number = open_pr(harness)
    ids = {harness.forge.upsert_comment(number, MARKER, "Provisioning…").id for _ in range(4)}
    assert len(ids) == 1
    assert harness.comments(number) == [f"<!-- {MARKER} -->\nProvisioning…"]
    updated = harness.forge.upsert_comment(number, MARKER, "Ready")
    assert updated.id in ids and updated.body == f"<!-- {MARKER} -->\nReady"
    assert harness.comments(number) == [f"<!-- {MARKER} -->\nReady"]


def test_upsert_comment_keeps_other_comments_and_heals_duplicates(harness: Harness) -> None:
    number = open_pr(harness)
    harness.plant_comment(number, "LGTM")
    harness.plant_comment(number, f"> quoting <!-- {MARKER} -->\nnot the bot's")
    first = harness.forge.upsert_comment(number, MARKER, "one")
    harness.plant_comment(number, f"<!-- {MARKER} -->\nduplicate left by a crashed run")
    harness.forge.upsert_comment(number, MARKER, "two")
    mine = [c for c in harness.comments(number) if c.startswith(f"<!-- {MARKER} -->")]
    assert mine == [f"<!-- {MARKER} -->\ntwo"]
    assert "LGTM" in harness.comments(number) and len(harness.comments(number)) == 3
    other = harness.forge.upsert_comment(number, "envbot:status:other-env", "x")
    assert other.id != first.id and len(harness.comments(number)) == 4


def test_upsert_comment_tells_whether_it_wrote(harness: Harness) -> None:
    number = open_pr(harness)
    first = harness.forge.upsert_comment(number, MARKER, "Provisioning…")
    assert first.changed and first.created_at == harness.clock()
    harness.clock.advance(dt.timedelta(minutes=5))
    again = harness.forge.upsert_comment(number, MARKER, "Provisioning…")
    assert (again.id, again.changed, again.created_at) == (first.id, False, first.created_at)
    edited = harness.forge.upsert_comment(number, MARKER, "Ready")
    assert (edited.id, edited.changed, edited.created_at) == (first.id, True, first.created_at)  # an edit keeps it


def test_a_reply_unless_posted_since_is_said_at_most_once_a_while(harness: Harness) -> None:
    number = open_pr(harness)
    reply = "envbot:reply:refusal:nadia"
    hour = dt.timedelta(hours=1)

    def answer(text: str) -> Comment:
        return harness.forge.upsert_comment(number, reply, text, unless_posted_since=harness.clock() - hour)

    first = answer("Sorry, `/provision` needs write permission.")
    assert first.changed and first.created_at == harness.clock()
    for _ in range(3):
        harness.clock.advance(dt.timedelta(minutes=19))
        quiet = answer("Sorry, `/destroy` needs write permission.")
        assert (quiet.id, quiet.changed, quiet.body) == (first.id, False, first.body)  # nothing written
    assert harness.comments(number) == [first.body]

    harness.clock.advance(dt.timedelta(minutes=4))  # more than an hour since the first
    second = answer("Sorry, `/destroy` needs write permission.")
    assert second.changed and second.id != first.id and second.created_at == harness.clock()
    assert harness.comments(number) == [first.body, f"<!-- {reply} -->\nSorry, `/destroy` needs write permission."]
    other = harness.forge.upsert_comment(number, "envbot:reply:refusal:omar", "x", unless_posted_since=first.created_at)
    assert other.changed and len(harness.comments(number)) == 3  # another marker has its own


def test_markers_cannot_break_out_of_the_html_comment(harness: Harness) -> None:
    number = open_pr(harness)
    with pytest.raises(ValueError, match="marker"):
        harness.forge.upsert_comment(number, "x --> <script>", "body")


# -- statuses --------------------------------------------------------------------------------------------------


def test_commit_status_combines_the_latest_state_per_context(harness: Harness) -> None:
    sha = harness.forge.push_commit(BRANCH, "main", files(1), "m").sha
    empty = harness.forge.commit_status(sha)
    assert (empty.state, empty.statuses) == ("pending", ())
    harness.forge.set_status(sha, "envbot/infrastructure", "pending", "Provisioning")
    harness.forge.set_status(sha, "envbot/infrastructure", "success", "Available", "https://ci.example/1")
    assert harness.forge.commit_status(sha).state == "success"
    harness.forge.set_status(sha, "ci/lint", "failure", "lint failed")
    combined = harness.forge.commit_status(BRANCH)
    assert combined.sha == sha and combined.state == "failure"
    infra = combined.get("envbot/infrastructure")
    assert infra is not None and (infra.state, infra.description, infra.target_url) == (
        "success",
        "Available",
        "https://ci.example/1",
    )
    assert [s.context for s in combined.statuses] == ["ci/lint", "envbot/infrastructure"]


def test_set_status_writes_only_changes_and_fits_github_limits(harness: Harness) -> None:
    sha = harness.forge.push_commit(BRANCH, "main", files(1), "m").sha
    for _ in range(3):
        harness.forge.set_status(sha, "envbot/infrastructure", "pending", "Provisioning")
    assert harness.status_history(sha) == 1
    long = harness.forge.set_status(sha, "envbot/infrastructure", "pending", "word " * 100)
    assert len(long.description) == 140
    assert harness.forge.commit_status(sha).get("envbot/infrastructure") == long
    with pytest.raises(ForgeNotFoundError):
        harness.forge.set_status("f" * 40, "envbot/infrastructure", "success", "no such commit")


def test_commit_status_of_an_unknown_ref(harness: Harness) -> None:
    with pytest.raises(ForgeNotFoundError):
        harness.forge.commit_status("no-such-branch")


# -- merge -----------------------------------------------------------------------------------------------------


def test_merge_with_the_expected_head(harness: Harness) -> None:
    number = open_pr(harness, n=3)
    pr = harness.forge.get_pull_request(number)
    base = harness.base_sha()
    moved = harness.forge.merge(number, "0" * 40)
    assert moved.outcome is MergeOutcome.HEAD_MOVED and not moved.merged
    result = harness.forge.merge(number, pr.head_sha)
    assert result.merged and result.sha == harness.base_sha()
    assert harness.parents(harness.base_sha()) == (base, pr.head_sha)
    assert len(harness.forge.list_tree("registry/environments/dev-feature-auth", "main")) == 3
    done = harness.forge.get_pull_request(number)
    assert (done.state, done.mergeable, done.head_sha) == ("merged", None, pr.head_sha)
    again = harness.forge.merge(number, pr.head_sha)  # a retried merge is not an error
    assert again.merged and again.sha == result.sha
    assert harness.open_pulls() == []


def test_squash_merge_makes_one_commit(harness: Harness) -> None:
    number = open_pr(harness)
    base = harness.base_sha()
    result = harness.forge.merge(number, harness.forge.get_pull_request(number).head_sha, method="squash")
    assert result.merged and harness.parents(result.sha or "") == (base,)


def test_conflicting_pull_request_is_not_mergeable(harness: Harness) -> None:
    path = "registry/environments/dev-feature-auth/infrastructure/catalog-00.yaml"
    number = open_pr(harness)
    harness.forge.push_commit("main", "main", [FileChange.write(path, "kind: Other\n")], "conflicting change")
    pr = harness.forge.get_pull_request(number)
    assert pr.mergeable is False
    result = harness.forge.merge(number, pr.head_sha)
    assert result.outcome is MergeOutcome.NOT_MERGEABLE and result.sha is None
    assert harness.forge.read_file(path, "main") == "kind: Other\n"


def test_a_new_pull_request_after_a_merge(harness: Harness) -> None:
    first = open_pr(harness)
    harness.forge.merge(first, harness.forge.get_pull_request(first).head_sha)
    second = open_pr(harness, n=5)
    assert second != first and harness.open_pulls() == [second]


# -- permissions -----------------------------------------------------------------------------------------------


def test_permission(harness: Harness) -> None:
    for user, role in (("alice", Permission.ADMIN), ("bob", Permission.WRITE), ("carol", Permission.TRIAGE)):
        harness.grant(user, role)
    assert harness.forge.permission("alice") is Permission.ADMIN
    assert harness.forge.permission("bob") >= Permission.WRITE
    assert harness.forge.permission("carol") < Permission.WRITE
    assert harness.forge.permission("mallory") is Permission.NONE


def test_changes_to_different_lines_of_one_file_merge(harness: Harness) -> None:
    path = "registry/environments/dev/environment.yaml"
    lines = [f"line{i}: {i}\n" for i in range(10)]
    harness.forge.push_commit("main", "main", [FileChange.write(path, "".join(lines))], "record")
    ours = lines.copy()
    ours[1] = "line1: changed by the pull request\n"
    harness.forge.push_commit(BRANCH, "main", [FileChange.write(path, "".join(ours))], "update")
    number = harness.forge.ensure_pull_request(BRANCH, "main", "Update", "body").number
    theirs = lines.copy()
    theirs[8] = "line8: changed on main\n"
    harness.forge.push_commit("main", "main", [FileChange.write(path, "".join(theirs))], "someone else")
    pr = harness.forge.get_pull_request(number)
    assert pr.mergeable is True
    assert harness.forge.merge(number, pr.head_sha).merged
    both = lines.copy()
    both[1], both[8] = ours[1], theirs[8]
    assert harness.forge.read_file(path, "main") == "".join(both)


# -- listings --------------------------------------------------------------------------------------------------


def test_open_pull_requests_are_listed_by_number(harness: Harness) -> None:
    assert harness.forge.open_pull_requests() == ()
    first = open_pr(harness)
    other = "envbot/dev-feature-auth/applications"
    harness.forge.push_commit(other, "main", files(1, "registry/apps"), "apps")
    second = harness.forge.ensure_pull_request(other, "main", "Deploy", "apps body", labels=["envbot"]).number
    listed = harness.forge.open_pull_requests()
    assert [pr.number for pr in listed] == [first, second]
    assert [(pr.head, pr.base, pr.title, pr.state, pr.mergeable) for pr in listed] == [
        (BRANCH, "main", "Provision dev-feature-auth", "open", None),
        (other, "main", "Deploy", "open", None),
    ]
    assert listed[1].head_sha == harness.forge.branch_sha(other)
    assert harness.forge.open_pull_request_heads() == {BRANCH, other}
    harness.forge.merge(first, listed[0].head_sha)
    assert [pr.number for pr in harness.forge.open_pull_requests()] == [second]
    assert harness.forge.open_pull_request_heads() == {other}
    assert harness.forge.pull_request_states() == {first: "merged", second: "open"}
    assert {"main", BRANCH, other} <= harness.forge.branch_names()


def test_branch_sha(harness: Harness) -> None:
    assert harness.forge.branch_sha("main") == harness.base_sha()
    assert harness.forge.branch_sha(BRANCH) is None
    pushed = harness.forge.push_commit(BRANCH, "main", files(1), "m")
    assert harness.forge.branch_sha(BRANCH) == pushed.sha


# -- closing pull requests and deleting branches ---------------------------------------------------------------


def test_closing_a_pull_request_comments_once(harness: Harness) -> None:
    number = open_pr(harness)
    harness.plant_comment(number, "LGTM")
    closed = harness.forge.close_pull_request(number, "Closed: dev-feature-auth was destroyed.")
    assert (closed.number, closed.state, closed.mergeable, closed.head) == (number, "closed", None, BRANCH)
    again = harness.forge.close_pull_request(number, "Closed: dev-feature-auth was destroyed.")
    assert again == closed
    assert harness.comments(number) == ["LGTM", f"<!-- {CLOSED_MARKER} -->\nClosed: dev-feature-auth was destroyed."]
    assert harness.forge.get_pull_request(number).state == "closed"
    assert harness.open_pulls() == [] and harness.forge.open_pull_requests() == ()
    assert harness.forge.merge(number, closed.head_sha).outcome is MergeOutcome.NOT_MERGEABLE
    assert harness.forge.ensure_pull_request(BRANCH, "main", "again", "b").number != number  # a new one


def test_a_close_retried_after_its_comment_posts_no_second(harness: Harness) -> None:
    number = open_pr(harness)
    # A run that crashed between its comment and the close left the comment behind.
    harness.forge.upsert_comment(number, CLOSED_MARKER, "Closed: superseded by a newer pull request.")
    closed = harness.forge.close_pull_request(number, "Closed: superseded by a newer pull request.")
    assert closed.state == "closed"
    assert harness.comments(number) == [f"<!-- {CLOSED_MARKER} -->\nClosed: superseded by a newer pull request."]


def test_closing_without_a_comment_and_closing_what_is_not_open(harness: Harness) -> None:
    number = open_pr(harness)
    head = harness.forge.get_pull_request(number).head_sha
    assert harness.forge.close_pull_request(number).state == "closed"
    assert harness.comments(number) == []
    merged = open_pr(harness, n=2)
    harness.forge.merge(merged, harness.forge.get_pull_request(merged).head_sha)
    left = harness.forge.close_pull_request(merged, "Closed: not needed.")
    assert left.state == "merged" and harness.comments(merged) == []  # a merged one is left as it is
    assert harness.forge.close_pull_request(number, "late").head_sha == head and harness.comments(number) == []
    with pytest.raises(ForgeNotFoundError):
        harness.forge.close_pull_request(404, "x")


def test_deleting_a_branch_twice(harness: Harness) -> None:
    harness.forge.push_commit(BRANCH, "main", files(1), "m")
    assert harness.forge.delete_branch(BRANCH) is True
    assert not harness.branch_exists(BRANCH) and harness.forge.branch_sha(BRANCH) is None
    assert harness.forge.delete_branch(BRANCH) is False
    assert harness.forge.read_file("README.md", "main") == "# platform\n"


def test_only_envbots_own_branches_are_deleted(harness: Harness) -> None:
    harness.forge.push_commit("feature/login", "main", files(1), "a person's work")
    for name in ("main", "feature/login", "envbot", "envbot/", "no-such-branch"):
        with pytest.raises(ForgeRejectedError, match="envbot"):
            harness.forge.delete_branch(name)
    assert harness.branch_exists("main") and harness.branch_exists("feature/login")


def test_a_branch_an_open_pull_request_merges_into_is_kept(harness: Harness) -> None:
    base = "envbot/dev-feature-auth/staging"
    harness.forge.push_commit(base, "main", files(1), "staging")
    harness.forge.push_commit(BRANCH, base, files(2), "on staging")
    number = harness.forge.ensure_pull_request(BRANCH, base, "Into staging", "body").number
    with pytest.raises(ForgeRejectedError, match=f"#{number}"):
        harness.forge.delete_branch(base)
    assert harness.branch_exists(base)
    harness.forge.close_pull_request(number)
    assert harness.forge.delete_branch(base) is True


def test_deleting_the_head_of_an_open_pull_request_closes_it(harness: Harness) -> None:
    number = open_pr(harness)
    head = harness.forge.get_pull_request(number).head_sha
    assert harness.forge.delete_branch(BRANCH) is True
    pr = harness.forge.get_pull_request(number)
    assert (pr.state, pr.head_sha, pr.mergeable) == ("closed", head, None)
    assert harness.forge.open_pull_requests() == () and harness.forge.pull_request_states() == {number: "closed"}


# -- the merge gate: what each forge reports about a pull request, and native auto-merge -------------------------

CHECKS_SUPPORTED = {"github": True, "local": False, "memory": False}
"""Whether each forge has CI that may report on a commit (MemoryForge's default is LocalForge's: none)."""


def gate_forge(harness: Harness) -> Forge:
    """The harness's forge, once it has the merge gate's methods (GitHubForge gets them with the lead's change)."""
    if harness.name == "github" and not hasattr(harness.forge, "merge_facts"):
        pytest.skip("GitHubForge.merge_facts lands with the lead's change")
    return harness.forge


class CI(Protocol):
    """What a forge's CI, rules and settings do, driven by a test: the same steps on MemoryForge and the GitHub fake."""

    def require(self, *contexts: str) -> None: ...
    def add_check_run(self, sha: str, name: str, status: str = "queued", conclusion: str | None = None) -> int: ...
    def update_check_run(self, run_id: int, conclusion: str) -> None: ...
    def rerun_check_run(self, run_id: int) -> int: ...


class MemoryCI:
    def __init__(self, forge: MemoryForge) -> None:
        self.forge = forge
        forge.checks_supported = forge.allow_auto_merge = True

    def require(self, *contexts: str) -> None:
        self.forge.require(*contexts)

    def add_check_run(self, sha: str, name: str, status: str = "queued", conclusion: str | None = None) -> int:
        return self.forge.add_check_run(sha, name, status, conclusion)

    def update_check_run(self, run_id: int, conclusion: str) -> None:
        self.forge.update_check_run(run_id, conclusion=conclusion)

    def rerun_check_run(self, run_id: int) -> int:
        return self.forge.rerun_check_run(run_id)


class GitHubCI:
    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        fake.allow_auto_merge = True

    def require(self, *contexts: str) -> None:
        self.fake.add_ruleset("main", required_checks=contexts)

    def add_check_run(self, sha: str, name: str, status: str = "queued", conclusion: str | None = None) -> int:
        return self.fake.add_check_run(sha, name, status, conclusion)

    def update_check_run(self, run_id: int, conclusion: str) -> None:
        self.fake.update_check_run(run_id, conclusion=conclusion)

    def rerun_check_run(self, run_id: int) -> int:
        return self.fake.rerun_check_run(run_id)


def ci_of(harness: Harness) -> CI:
    """The CI of the harness's forge, with auto-merge allowed; skipped on git on disk, which has none."""
    gate_forge(harness)
    if isinstance(harness, LocalHarness):
        pytest.skip("git on disk has no CI: no check runs, branch rules, reviews or auto-merge")
    if isinstance(harness, GitHubHarness):
        return GitHubCI(harness.fake)
    assert isinstance(harness.forge, MemoryForge)
    return MemoryCI(harness.forge)


def runs(facts: MergeFacts) -> list[tuple[str, str, str | None, int, int | None, str]]:
    """The check runs of ``facts`` without their links (each forge links them its own way)."""
    return [(r.name, r.status, r.conclusion, r.run_id, r.app_id, r.app) for r in facts.check_runs]


def test_merge_facts_report_the_head_statuses_and_mergeability(harness: Harness) -> None:
    forge = gate_forge(harness)
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    forge.set_status(head, "envbot/infrastructure", "pending", "Provisioning")
    forge.set_status(head, "envbot/infrastructure", "success", "Available", "https://ci.example/1")
    forge.set_status(head, "ci/lint", "success", "lint passed")
    facts = forge.merge_facts(number)
    pr = facts.pull_request
    assert (pr.number, pr.head_sha, pr.state, pr.mergeable, pr.mergeable_state, pr.auto_merge) == (
        number,
        head,
        "open",
        True,
        "clean",
        False,
    )
    assert pr == forge.get_pull_request(number)
    assert sorted(facts.statuses, key=lambda s: s.context) == [
        CommitStatus("ci/lint", "success", "lint passed"),
        CommitStatus("envbot/infrastructure", "success", "Available", "https://ci.example/1"),  # the latest
    ]
    assert (facts.check_runs, facts.rules) == ((), BranchRules())
    assert facts.checks_supported is CHECKS_SUPPORTED[harness.name]
    moved = forge.push_commit(BRANCH, "main", files(4), "a new head")
    renewed = forge.merge_facts(number)
    assert (renewed.pull_request.head_sha, renewed.statuses) == (moved.sha, ())  # statuses are the head's


def test_merge_facts_of_a_conflict(harness: Harness) -> None:
    forge = gate_forge(harness)
    number = open_pr(harness)
    path = "registry/environments/dev-feature-auth/infrastructure/catalog-00.yaml"
    forge.push_commit("main", "main", [FileChange.write(path, "kind: Other\n")], "conflicting change")
    pr = forge.merge_facts(number).pull_request
    assert (pr.mergeable, pr.mergeable_state) == (False, "dirty")


def test_merge_facts_of_a_merged_and_of_an_unknown_pull_request(harness: Harness) -> None:
    forge = gate_forge(harness)
    number = open_pr(harness)
    assert forge.merge(number, forge.get_pull_request(number).head_sha).merged
    pr = forge.merge_facts(number).pull_request
    assert (pr.state, pr.mergeable, pr.mergeable_state) == ("merged", None, None)
    with pytest.raises(ForgeNotFoundError):
        forge.merge_facts(404)


def test_merge_facts_tell_when_the_head_was_committed(harness: Harness) -> None:
    forge = gate_forge(harness)
    harness.clock.advance(dt.timedelta(hours=1))
    pushed_at = harness.clock()
    number = open_pr(harness)
    harness.clock.advance(dt.timedelta(minutes=5))
    facts = forge.merge_facts(number)
    when = facts.head_committed_at
    assert when is not None and when.utcoffset() == dt.timedelta(0)
    if isinstance(harness, LocalHarness):  # git stamps its commits with the machine's time
        recorded = git("show", "-s", "--format=%cI", facts.pull_request.head_sha, cwd=harness.bare)
        assert when == dt.datetime.fromisoformat(recorded)
    else:  # the forge's clock
        assert when == pushed_at


def test_repository_settings(harness: Harness) -> None:
    assert gate_forge(harness).repository_settings() == RepositorySettings(allow_auto_merge=False)


def test_auto_merge_where_the_repository_has_none_is_refused(harness: Harness) -> None:
    forge = gate_forge(harness)
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    refused = forge.enable_auto_merge(number, head)
    assert refused.outcome is AutoMergeOutcome.REFUSED and refused.message
    pr = forge.get_pull_request(number)
    assert (pr.state, pr.auto_merge) == ("open", False)
    off = forge.disable_auto_merge(number)  # nothing to turn off: done, nothing written
    assert off.outcome is AutoMergeOutcome.DISABLED and off.message
    assert forge.merge(number, head).merged
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.MERGED
    with pytest.raises(ForgeNotFoundError):
        forge.enable_auto_merge(404, head)
    with pytest.raises(ForgeNotFoundError):
        forge.disable_auto_merge(404)


def test_a_pending_required_check_blocks_and_its_success_clears(harness: Harness) -> None:
    ci = ci_of(harness)
    forge = harness.forge
    ci.require("build")
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    facts = forge.merge_facts(number)
    assert (facts.pull_request.mergeable, facts.pull_request.mergeable_state) == (True, "blocked")
    assert [check.context for check in facts.rules.required_checks] == ["build"] and facts.checks_supported
    refused = forge.merge(number, head)
    assert refused.outcome is MergeOutcome.NOT_MERGEABLE and '"build"' in refused.message
    run = ci.add_check_run(head, "build", "in_progress")
    facts = forge.merge_facts(number)
    assert facts.pull_request.mergeable_state == "blocked"
    assert runs(facts) == [("build", "in_progress", None, run, 15368, "github-actions")]
    ci.update_check_run(run, "success")
    assert forge.merge_facts(number).pull_request.mergeable_state == "clean"
    assert forge.merge(number, head).merged


def test_auto_merge_merges_once_the_required_check_passes(harness: Harness) -> None:
    ci = ci_of(harness)
    forge = harness.forge
    ci.require("build")
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    base = harness.base_sha()
    run = ci.add_check_run(head, "build", "in_progress")
    assert forge.repository_settings().allow_auto_merge
    assert forge.enable_auto_merge(number, "0" * 40).outcome is AutoMergeOutcome.REFUSED  # not the head
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.ENABLED
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.ENABLED  # on already
    pr = forge.get_pull_request(number)
    assert (pr.state, pr.auto_merge, pr.mergeable_state) == ("open", True, "blocked")
    ci.update_check_run(run, "success")  # the forge merges it: no one calls merge
    assert forge.get_pull_request(number).state == "merged"
    assert harness.parents(harness.base_sha()) == (base, head)
    assert len(forge.list_tree("registry/environments/dev-feature-auth", "main")) == 3
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.MERGED


def test_auto_merge_is_refused_with_nothing_to_wait_for_and_can_be_turned_off(harness: Harness) -> None:
    ci = ci_of(harness)
    forge = harness.forge
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    refused = forge.enable_auto_merge(number, head)
    assert refused.outcome is AutoMergeOutcome.REFUSED and "clean status" in refused.message
    ci.require("build")
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.ENABLED
    assert forge.disable_auto_merge(number).outcome is AutoMergeOutcome.DISABLED  # done: it is off now
    assert forge.get_pull_request(number).auto_merge is False
    assert forge.disable_auto_merge(number).outcome is AutoMergeOutcome.DISABLED  # again: nothing left to turn off
    ci.add_check_run(head, "build", conclusion="success")
    assert forge.get_pull_request(number).state == "open"  # nobody merges it now


def test_a_rerun_supersedes_a_failed_check(harness: Harness) -> None:
    ci = ci_of(harness)
    forge = harness.forge
    ci.require("build")
    number = open_pr(harness)
    head = forge.get_pull_request(number).head_sha
    failed = ci.add_check_run(head, "build", conclusion="failure")
    facts = forge.merge_facts(number)
    assert facts.pull_request.mergeable_state == "blocked"
    assert [(r.run_id, r.status, r.conclusion) for r in facts.check_runs] == [(failed, "completed", "failure")]
    assert forge.merge(number, head).outcome is MergeOutcome.NOT_MERGEABLE
    rerun = ci.rerun_check_run(failed)
    assert rerun > failed
    facts = forge.merge_facts(number)
    assert [(r.name, r.run_id, r.status, r.conclusion) for r in facts.check_runs] == [("build", rerun, "queued", None)]
    assert facts.pull_request.mergeable_state == "blocked"
    ci.update_check_run(rerun, "success")
    assert forge.merge_facts(number).pull_request.mergeable_state == "clean"
    assert forge.merge(number, head).merged
