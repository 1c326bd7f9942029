"""DryRunForge: reads come from the real repository plus the run's own untold writes; no write reaches it."""

from __future__ import annotations

import pytest

from bot.forge.dry_run import DryRunForge
from bot.forge.errors import ForgeRejectedError
from bot.forge.model import FileChange, MergeOutcome
from tests.fakes.memory_forge import MemoryForge

BRANCH = "envbot/dev/infrastructure"


def real() -> MemoryForge:
    forge = MemoryForge.initialize({"README.md": "platform\n", "env/dev/old.yaml": "old\n"})
    forge.push_commit("envbot/dev/applications", "main", [FileChange.write("apps/a.yaml", "a\n")], "apps")
    forge.ensure_pull_request("envbot/dev/applications", "main", "apps", "the apps")
    return forge


def snapshot(forge: MemoryForge) -> tuple[object, ...]:
    return (
        {branch: forge.files(branch) for branch in sorted(forge.branch_names())},
        forge.pull_requests(),
        forge.comments(1),
        forge.statuses(forge.branch_sha("main") or ""),
    )


def test_every_write_is_told_once_and_none_reaches_the_real_repository() -> None:
    inner = real()
    before = snapshot(inner)
    told: list[str] = []
    dry = DryRunForge(inner, told.append, checks_supported=False)

    commit = dry.push_commit(BRANCH, "main", [FileChange.write("env/dev/db.yaml", "db\n")], "infra")
    pull = dry.ensure_pull_request(BRANCH, "main", "infra", "the infrastructure")
    dry.set_status(commit.sha, "envbot/infrastructure", "pending", "waiting")
    dry.upsert_comment(1, "envbot:status", "<!-- envbot:status -->\n### Provisioning\nmore")
    assert dry.merge(pull.number, pull.head_sha).outcome is MergeOutcome.MERGED
    dry.close_pull_request(1, "envbot closed this pull request: not needed.\n\nmore")
    assert dry.delete_branch(BRANCH)

    assert snapshot(inner) == before
    assert (
        told
        == dry.writes
        == [
            f"push {BRANCH} (1 file(s) on main): infra",
            f"open pull request #2 ({BRANCH} → main): infra",
            f"set the status envbot/infrastructure on {commit.sha[:7]} to pending: waiting",
            "comment on #1: ### Provisioning",
            f"merge #2 ({BRANCH} → main) by merge",
            "close #1 (envbot/dev/applications): envbot closed this pull request: not needed.",
            f"delete the branch {BRANCH}",
        ]
    )


def test_later_reads_see_what_the_run_would_have_written() -> None:
    dry = DryRunForge(real(), [].append, checks_supported=False)
    changes = [FileChange.write("env/dev/db.yaml", "db\n"), FileChange.delete("env/dev/old.yaml")]
    commit = dry.push_commit(BRANCH, "main", changes, "infra")
    assert commit.has_diff and commit.changed
    assert dry.read_file("env/dev/db.yaml", BRANCH) == "db\n" and dry.read_file("env/dev/old.yaml", BRANCH) is None
    assert dry.list_tree("env", BRANCH) == ("env/dev/db.yaml",)
    assert dry.list_tree("env", "main") == ("env/dev/old.yaml",)
    assert BRANCH in dry.branch_names() and dry.branch_sha(BRANCH) == commit.sha

    pull = dry.ensure_pull_request(BRANCH, "main", "infra", "body")
    assert dry.ensure_pull_request(BRANCH, "main", "infra", "body") == pull  # found, not opened twice
    assert [p.number for p in dry.open_pull_requests()] == [1, pull.number]
    dry.merge(pull.number, pull.head_sha)
    assert dry.list_tree("env", "main") == ("env/dev/db.yaml",)
    assert dry.pull_request_states()[pull.number] == "merged"
    assert dry.get_pull_request(pull.number).state == "merged"

    dry.delete_branch(BRANCH)
    assert dry.read_file("env/dev/db.yaml", BRANCH) is None and BRANCH not in dry.branch_names()
    dry.close_pull_request(1)
    assert dry.open_pull_requests() == () and dry.open_pull_request_heads() == frozenset()


def test_a_push_that_changes_nothing_is_not_told() -> None:
    inner = real()
    told: list[str] = []
    dry = DryRunForge(inner, told.append)
    same = dry.push_commit("envbot/dev/applications", "main", [FileChange.write("apps/a.yaml", "a\n")], "apps")
    assert not same.changed and same.sha == inner.branch_sha("envbot/dev/applications")
    nothing = dry.push_commit(BRANCH, "main", [FileChange.write("README.md", "platform\n")], "no diff")
    assert not nothing.has_diff
    assert told == [f"push {BRANCH} (0 file(s) on main): no diff"]


def test_the_gate_sees_no_checks_on_what_the_dry_run_opened_and_the_real_facts_elsewhere() -> None:
    inner = MemoryForge.initialize({"README.md": "x\n"}, checks_supported=True)
    inner.push_commit("envbot/dev/applications", "main", [FileChange.write("a", "a\n")], "apps")
    real_pull = inner.ensure_pull_request("envbot/dev/applications", "main", "apps", "")
    inner.add_check_run(real_pull.head_sha, "build", status="completed", conclusion="success")
    dry = DryRunForge(inner, [].append, checks_supported=True)

    assert dry.merge_facts(real_pull.number) == inner.merge_facts(real_pull.number)
    dry.push_commit(BRANCH, "main", [FileChange.write("b", "b\n")], "infra")
    opened = dry.ensure_pull_request(BRANCH, "main", "infra", "")
    facts = dry.merge_facts(opened.number)
    assert facts.pull_request.mergeable is None and facts.check_runs == () and facts.checks_supported
    # a real pull request whose head the dry run would rebuild has no checks on that head either
    dry.push_commit("envbot/dev/applications", "main", [FileChange.write("a", "changed\n")], "apps")
    assert dry.merge_facts(real_pull.number).pull_request.mergeable is None

    without_ci = DryRunForge(MemoryForge.initialize({"README.md": "x\n"}), [].append, checks_supported=False)
    without_ci.push_commit(BRANCH, "main", [FileChange.write("b", "b\n")], "infra")
    pull = without_ci.ensure_pull_request(BRANCH, "main", "infra", "")
    facts = without_ci.merge_facts(pull.number)
    assert (facts.pull_request.mergeable, facts.pull_request.mergeable_state, facts.checks_supported) == (
        True,
        "clean",
        False,
    )


def test_merging_needs_the_head_it_was_weighed_at_and_an_open_pull_request() -> None:
    dry = DryRunForge(real(), [].append, checks_supported=False)
    dry.push_commit(BRANCH, "main", [FileChange.write("b", "b\n")], "infra")
    pull = dry.ensure_pull_request(BRANCH, "main", "infra", "")
    assert dry.merge(pull.number, "0" * 40).outcome is MergeOutcome.HEAD_MOVED
    dry.close_pull_request(pull.number)
    assert dry.merge(pull.number, pull.head_sha).outcome is MergeOutcome.NOT_MERGEABLE


def test_only_envbot_branches_are_deleted() -> None:
    dry = DryRunForge(real(), [].append)
    with pytest.raises(ForgeRejectedError):
        dry.delete_branch("main")
    assert not dry.delete_branch("envbot/nobody/infrastructure")
