"""MemoryForge specifics: the same answers as LocalForge on random schedules, its test helpers, line merges."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from manual_clock import ManualClock

from bot.errors import EnvbotError
from bot.forge import FileChange, Forge, ForgeNotFoundError, ForgeRejectedError, MergeOutcome, Permission
from bot.forge.local import LocalForge
from bot.forge.model import AutoMergeOutcome, AutoMergeResult, CheckRun, RepositorySettings
from tests.fakes.memory_forge import MemoryForge
from tests.fakes.three_way import merge_text, merge_trees
from tests.forge.support import SEED, make_bare_repo

BRANCHES = ("envbot/dev/infrastructure", "envbot/dev/applications", "envbot/qa/infrastructure")
PATHS = ("registry/dev/a.yaml", "registry/dev/b.yaml", "old/stale.yaml", "README.md")
_SHA = re.compile(r"\b[0-9a-f]{40}\b")
_SHORT_SHA = re.compile(r"\b[0-9a-f]{12}\b")
_NODE_ID = re.compile(r"node_id='[^']*'")
"""GitHub's GraphQL ID of a pull request, which MemoryForge makes up and LocalForge has none of."""


def lines(*values: str) -> str:
    return "".join(f"{v}\n" for v in values)


# -- three-way text merges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "ours", "theirs", "merged"),
    [
        (lines("a", "b", "c", "d", "e"), lines("A", "b", "c", "d", "e"), lines("a", "b", "c", "d", "E"),
         lines("A", "b", "c", "d", "E")),
        (lines("a", "b", "c"), lines("a", "B", "c"), lines("a", "B", "c"), lines("a", "B", "c")),  # the same change
        (lines("a", "b", "c"), lines("a", "B", "c"), lines("a", "X", "c"), None),  # one line, two changes
        (lines("a", "b", "c", "d"), lines("a", "B", "c", "d"), lines("a", "b", "C", "d"), None),  # adjacent lines
        (lines("a", "b", "c", "d", "e"), lines("x", "a", "b", "c", "d", "e"), lines("a", "b", "c", "d", "e", "y"),
         lines("x", "a", "b", "c", "d", "e", "y")),
        ("", lines("a"), lines("b"), None),  # added on both sides, differently
        (lines("a", "b"), lines("a", "b"), lines("a", "b", "c"), lines("a", "b", "c")),
    ],
)  # fmt: skip
def test_merge_text(origin: str, ours: str, theirs: str, merged: str | None) -> None:
    assert merge_text(origin, ours, theirs) == merged
    assert merge_text(origin, theirs, ours) == merged  # a merge is symmetric


def test_merge_trees() -> None:
    origin = {"keep": "k\n", "gone": "g\n", "edited": lines("a", "b", "c", "d")}
    ours = {"keep": "k\n", "edited": lines("A", "b", "c", "d"), "new": "n\n"}
    theirs = {"keep": "k\n", "gone": "g\n", "edited": lines("a", "b", "c", "D")}
    assert merge_trees(origin, ours, theirs) == {"keep": "k\n", "edited": lines("A", "b", "c", "D"), "new": "n\n"}
    assert merge_trees(origin, ours, {**theirs, "gone": "changed\n"}) is None  # deleted here, changed there


# -- the same answers as LocalForge ----------------------------------------------------------------------------


def random_schedule(seed: int, length: int) -> list[Callable[[Forge, dict[str, Any]], Any]]:
    """``length`` random calls; each takes the forge and what earlier calls learnt (pull request numbers)."""
    rng = random.Random(seed)
    steps: list[Callable[[Forge, dict[str, Any]], Any]] = []
    for index in range(length):
        kind = rng.choice(["push", "push", "push", "push-main", "open", "open", "open", "read", "merge", "merge",
                           "merge", "comment", "close", "delete", "status", "list"])  # fmt: skip
        branch = rng.choice(BRANCHES)
        message = f"step {index}"  # unique: git names two equal commits made in one second alike
        number = rng.randrange(1, 4)
        if kind in ("push", "push-main"):
            changes = [
                FileChange.delete(path)
                if rng.random() < 0.2
                else FileChange.write(path, lines(*(rng.choice("abc") for _ in range(rng.randrange(1, 5)))))
                for path in rng.sample(PATHS, rng.randrange(1, 3))
            ]
            target = "main" if kind == "push-main" else branch
            steps.append(lambda f, _, t=target, c=changes, m=message: f.push_commit(t, "main", c, m))
        elif kind == "open":
            labels = rng.sample(["envbot", "phase-1", "phase-2"], rng.randrange(0, 3))
            steps.append(lambda f, _, b=branch, la=labels: f.ensure_pull_request(b, "main", f"t {b}", "body", la))
        elif kind == "read":
            steps.append(lambda f, _, b=branch: (f.list_tree("", b), [f.read_file(p, b) for p in PATHS]))
        elif kind == "merge":
            stale = rng.random() < 0.2
            method = rng.choice(["merge", "squash"])

            def merge(f: Forge, _: dict[str, Any], n: int = number, s: bool = stale, how: Any = method) -> Any:
                pr = f.get_pull_request(n)
                facts = f.merge_facts(n)  # when its head was committed: git's wall clock there, the clock here
                seen = (facts.pull_request, facts.statuses, facts.check_runs, facts.rules, facts.checks_supported)
                return pr, seen, f.merge(n, "0" * 40 if s else pr.head_sha, how), f.read_file(PATHS[0], "main")

            steps.append(merge)
        elif kind == "comment":
            text = rng.choice(["Provisioning", "Ready", "Failed"])
            steps.append(lambda f, _, n=number, t=text: f.upsert_comment(n, "envbot:status:dev", t).body)
        elif kind == "close":
            note = rng.choice([None, "Closed: superseded."])
            steps.append(lambda f, _, n=number, c=note: f.close_pull_request(n, c))
        elif kind == "delete":
            steps.append(lambda f, _, b=branch: f.delete_branch(b))
        elif kind == "status":
            state = rng.choice(["pending", "success", "failure"])
            steps.append(
                lambda f, _, b=branch, s=state: (
                    f.set_status(f.commit_status(b).sha, "ci/plan", s, "plan"),
                    f.commit_status(b),
                )
            )
        else:
            steps.append(lambda f, _: (f.open_pull_requests(), f.pull_request_states(), sorted(f.branch_names())))
    return steps


def transcript(forge: Forge, steps: list[Callable[[Forge, dict[str, Any]], Any]]) -> list[str]:
    """What each step answered (or which error it raised), SHAs named by the order they first appear."""
    names: dict[str, str] = {}
    said: list[str] = []
    for step in steps:
        try:
            answer = repr(step(forge, {}))
        except (EnvbotError, ValueError) as exc:
            answer = f"error {type(exc).__name__}"
        answer = _NODE_ID.sub("node_id=…", answer)
        answer = _SHA.sub(lambda m: names.setdefault(m.group(), f"commit-{len(names)}"), answer)
        said.append(
            _SHORT_SHA.sub(lambda m: next((n for s, n in names.items() if s.startswith(m.group())), "?"), answer)
        )
    return said


@pytest.mark.parametrize("seed", [19, 23])
def test_random_schedules_get_the_same_answers_as_on_local_git(tmp_path: Path, seed: int) -> None:
    steps = random_schedule(seed, 60)
    clock = ManualClock()
    with LocalForge(make_bare_repo(tmp_path, SEED), clock=clock) as local:
        expected = transcript(local, steps)
    assert transcript(MemoryForge.initialize(SEED, clock=clock), steps) == expected
    found = r"MERGED|HEAD_MOVED|merge conflict|'closed'|mergeable_state='dirty'"
    outcomes = {word for line in expected for word in re.findall(found, line)}
    assert outcomes >= {"MERGED", "merge conflict", "'closed'", "mergeable_state='dirty'"}  # the interesting cases


@pytest.mark.parametrize("name", ["bad..name", "-flag", "a b", "x.lock", "trailing/", ".hidden", "a:b", "@", "ok/x"])
def test_branch_names_are_checked_as_git_checks_them(tmp_path: Path, name: str) -> None:
    memory = MemoryForge.initialize(SEED)
    with LocalForge(make_bare_repo(tmp_path, SEED)) as local:
        outcomes = []
        for forge in (local, memory):
            try:
                forge.push_commit(name, "main", [FileChange.write("x.yaml", "x\n")], "m")
                outcomes.append("ok")
            except ValueError:
                outcomes.append("refused")
    assert outcomes[0] == outcomes[1]


# -- helpers for tests -----------------------------------------------------------------------------------------


def test_history_files_and_pull_requests(tmp_path: Path) -> None:
    clock = ManualClock()
    memory = MemoryForge.initialize({"README.md": "platform\n"}, clock=clock)
    memory.push_commit(BRANCHES[0], "main", [FileChange.write("a.yaml", "a\n")], "envbot: provision dev")
    number = memory.ensure_pull_request(BRANCHES[0], "main", "envbot: dev: infrastructure", "body").number
    memory.merge(number, memory.get_pull_request(number).head_sha)
    assert [subject for _, _, subject in memory.history("main")] == [
        f"Merge pull request #{number} from {BRANCHES[0]}: envbot: dev: infrastructure",
        "Initial commit",
    ]
    assert all(when == clock() and len(short) == 7 for short, when, _ in memory.history("main"))
    assert memory.history("no-such-branch") == ()
    assert memory.files("main") == {"README.md": "platform\n", "a.yaml": "a\n"}
    assert [(pr.number, pr.state) for pr in memory.pull_requests()] == [(number, "merged")]


def test_a_persons_look_alike_comment_is_never_adopted() -> None:
    memory = MemoryForge.initialize(SEED)
    memory.push_commit(BRANCHES[0], "main", [FileChange.write("a.yaml", "a\n")], "m")
    number = memory.ensure_pull_request(BRANCHES[0], "main", "t", "b").number
    memory.add_comment(number, "<!-- envbot:status:dev -->\nnot envbot's", author="mallory")
    memory.upsert_comment(number, "envbot:status:dev", "Ready")
    assert [c.body for c in memory.comments(number)] == [
        "<!-- envbot:status:dev -->\nnot envbot's",
        "<!-- envbot:status:dev -->\nReady",
    ]


def test_shas_are_deterministic_and_differ_between_repositories() -> None:
    def shas(files: dict[str, str]) -> list[str]:
        forge = MemoryForge.initialize(files)
        return [forge.branch_sha("main") or "", forge.push_commit(BRANCHES[0], "main", [], "m").sha]

    assert shas({"README.md": "platform\n"}) == shas({"README.md": "platform\n"})
    assert not set(shas({"README.md": "platform\n"})) & set(shas({"README.md": "apps\n"}))


def test_defaults_and_grants() -> None:
    memory = MemoryForge.initialize(SEED, default_permission=Permission.READ)
    memory.grant("alice", Permission.ADMIN)
    assert (memory.permission("alice"), memory.permission("bob")) == (Permission.ADMIN, Permission.READ)
    assert isinstance(memory, Forge)


# -- the merge gate: GitHub's rules, check runs, reviews and auto-merge ----------------------------------------

GATE_BRANCH = BRANCHES[0]
NOTE = "registry/dev/a.yaml"


def with_ci(**switches: Any) -> MemoryForge:
    """A repository whose CI reports check runs, with auto-merge allowed unless ``switches`` say otherwise."""
    return MemoryForge.initialize(SEED, **{"checks_supported": True, "allow_auto_merge": True, **switches})


def open_gate_pr(forge: MemoryForge) -> tuple[int, str]:
    """A pull request that adds one file; its number and head."""
    forge.push_commit(GATE_BRANCH, "main", [FileChange.write(NOTE, "a: 1\n")], "provision dev")
    pr = forge.ensure_pull_request(GATE_BRANCH, "main", "Provision dev", "body")
    return pr.number, pr.head_sha


def move_main(forge: MemoryForge, path: str = "registry/other.yaml", text: str = "other: 1\n") -> None:
    forge.push_commit("main", "main", [FileChange.write(path, text)], "someone else")


STATES: dict[str, tuple[Callable[[MemoryForge, int, str], Any], str]] = {
    "nothing reported, nothing required": (lambda f, n, h: None, "clean"),
    "a check nobody requires is running": (lambda f, n, h: f.add_check_run(h, "lint", "in_progress"), "unstable"),
    "a check nobody requires failed": (lambda f, n, h: f.add_check_run(h, "lint", conclusion="failure"), "unstable"),
    "a status nobody requires failed": (lambda f, n, h: f.set_status(h, "ci/plan", "failure", "plan"), "unstable"),
    "neutral and skipped checks pass": (
        lambda f, n, h: (f.add_check_run(h, "a", conclusion="neutral"), f.add_check_run(h, "b", conclusion="skipped")),
        "clean",
    ),
    "a required check not reported yet": (lambda f, n, h: f.require("build"), "blocked"),
    "a required check reported by another app": (
        lambda f, n, h: (f.require("build", app_id=1), f.add_check_run(h, "build", conclusion="success")),
        "blocked",
    ),
    "a required check reported as a status": (
        lambda f, n, h: (f.require("build"), f.set_status(h, "build", "success", "built")),
        "clean",
    ),
    "a required check passed, one nobody requires runs": (
        lambda f, n, h: (
            f.require("build"),
            f.add_check_run(h, "build", conclusion="success"),
            f.add_check_run(h, "lint", "queued"),
        ),
        "unstable",
    ),
    "a required review missing": (lambda f, n, h: f.require(reviews=1), "blocked"),
    "a required review given": (lambda f, n, h: (f.require(reviews=1), f.approve(n)), "clean"),
    "behind the base under strict": (lambda f, n, h: (f.require(strict=True), move_main(f)), "behind"),
    "behind the base without strict": (lambda f, n, h: move_main(f), "clean"),
    "a conflict": (lambda f, n, h: move_main(f, NOTE, "a: 2\n"), "dirty"),
}


@pytest.mark.parametrize("case", list(STATES))
def test_mergeable_state_as_github_computes_it(case: str) -> None:
    forge = with_ci()
    number, head = open_gate_pr(forge)
    setup, expected = STATES[case]
    setup(forge, number, head)
    facts = forge.merge_facts(number)
    assert facts.pull_request.mergeable_state == expected
    assert forge.get_pull_request(number).mergeable_state == expected
    assert facts.pull_request.mergeable is (expected != "dirty")
    outcome = forge.merge(number, head).outcome
    assert outcome is (MergeOutcome.MERGED if expected in ("clean", "unstable") else MergeOutcome.NOT_MERGEABLE)


def test_without_ci_no_report_makes_a_pull_request_unstable() -> None:
    forge = MemoryForge.initialize(SEED)  # the default: LocalForge's world, where only envbot reports
    number, head = open_gate_pr(forge)
    forge.set_status(head, "ci/plan", "failure", "plan")
    facts = forge.merge_facts(number)
    assert (facts.pull_request.mergeable_state, facts.checks_supported) == ("clean", False)
    assert forge.repository_settings() == RepositorySettings(allow_auto_merge=False)
    with pytest.raises(ValueError, match="no CI"):
        forge.add_check_run(head, "build")
    forge.require("envbot/infrastructure")  # rules still hold on a forge without CI
    assert forge.merge_facts(number).pull_request.mergeable_state == "blocked"


def test_merges_are_refused_in_githubs_words_while_a_rule_is_not_met() -> None:
    forge = with_ci()
    number, head = open_gate_pr(forge)
    forge.require("build", "lint", reviews=2, source="branch protection")
    run = forge.add_check_run(head, "lint", "in_progress")
    refused = forge.merge(number, head)
    assert (refused.outcome, refused.sha) == (MergeOutcome.NOT_MERGEABLE, None)
    assert refused.message == (
        'Required status check "build" is expected. Required status check "lint" is in progress. '
        "At least 2 approving reviews are required by reviewers with write access."
    )
    forge.update_check_run(run, conclusion="cancelled")
    forge.require("build", "lint", strict=True)
    move_main(forge)
    assert forge.merge(number, head).message == (
        "Repository rule violations found: Head branch is not up to date with the base branch. "
        'Required status check "build" is expected. Required status check "lint" is failing.'
    )
    assert [pr.state for pr in forge.pull_requests()] == ["open"] and NOTE not in forge.files("main")


def test_merge_facts_carry_the_latest_run_of_each_check_rules_and_time() -> None:
    clock = ManualClock()
    forge = MemoryForge.initialize(SEED, clock=clock, checks_supported=True)
    rules = forge.require("build", strict=True, reviews=1)
    clock.advance(dt.timedelta(minutes=3))
    number, head = open_gate_pr(forge)
    first = forge.add_check_run(GATE_BRANCH, "build", conclusion="failure")  # a branch names its tip
    again = forge.rerun_check_run(first)
    other = forge.add_check_run(head, "docs", "in_progress", app_id=42)
    clock.advance(dt.timedelta(minutes=5))
    facts = forge.merge_facts(number)
    assert facts.check_runs == (
        CheckRun("build", "queued", None, f"https://ci.example/check-runs/{again}", again, 15368, "github-actions"),
        CheckRun("docs", "in_progress", None, f"https://ci.example/check-runs/{other}", other, 42, "app-42"),
    )
    assert [r.run_id for r in forge.check_runs(head)] == [first, again, other]  # every run is kept
    assert facts.rules == rules and facts.rules.requires_anything
    assert facts.head_committed_at == ManualClock().now + dt.timedelta(minutes=3)
    assert facts.checks_supported


def test_check_runs_move_as_githubs_do() -> None:
    forge = with_ci()
    number, head = open_gate_pr(forge)
    run = forge.add_check_run(head, "build")
    assert forge.update_check_run(run, "in_progress").status == "in_progress"
    done = forge.update_check_run(run, conclusion="timed_out")
    assert (done.status, done.conclusion) == ("completed", "timed_out")
    assert forge.update_check_run(run, "completed").conclusion == "timed_out"
    with pytest.raises(ValueError, match="needs a conclusion"):
        forge.add_check_run(head, "build", "completed")
    with pytest.raises(ValueError, match="unknown check run status"):
        forge.add_check_run(head, "build", "running")
    with pytest.raises(ForgeNotFoundError):
        forge.update_check_run(999, "in_progress")
    with pytest.raises(ForgeNotFoundError):
        forge.rerun_check_run(999)
    with pytest.raises(ForgeNotFoundError):
        forge.add_check_run("no-such-branch", "build")
    forge.close_pull_request(number)
    with pytest.raises(ForgeRejectedError, match="closed"):
        forge.approve(number)


Step = Callable[[MemoryForge, int, str], Any]
AUTO_MERGE_TRIGGERS: dict[str, tuple[Step, Step]] = {
    "a check run completes": (
        lambda f, n, h: f.add_check_run(h, "build", "in_progress"),
        lambda f, n, h: f.update_check_run(f.check_runs(h)[0].run_id, conclusion="success"),
    ),
    "a status reports": (
        lambda f, n, h: f.set_status(h, "build", "pending", "building"),
        lambda f, n, h: f.set_status(h, "build", "success", "built"),
    ),
    "a reviewer approves": (
        lambda f, n, h: (f.require("build", reviews=1), f.add_check_run(h, "build", conclusion="success")),
        lambda f, n, h: f.approve(n),
    ),
    "the rules are relaxed": (lambda f, n, h: None, lambda f, n, h: f.require()),
}


@pytest.mark.parametrize("trigger", list(AUTO_MERGE_TRIGGERS))
def test_auto_merge_is_carried_out_by_the_change_that_lets_it_through(trigger: str) -> None:
    forge = with_ci()
    forge.require("build")
    number, head = open_gate_pr(forge)
    assert forge.enable_auto_merge(number, head, "squash") == AutoMergeResult(
        AutoMergeOutcome.ENABLED, "auto-merge enabled"
    )
    before, change = AUTO_MERGE_TRIGGERS[trigger]
    before(forge, number, head)
    assert forge.get_pull_request(number).state == "open"
    change(forge, number, head)
    assert forge.get_pull_request(number).state == "merged" and forge.files("main")[NOTE] == "a: 1\n"
    assert forge.commit("main").parents == (forge.commit(head).parents[0],)  # squashed, as asked


def test_auto_merge_follows_a_rebuilt_head_under_strict_rules() -> None:
    forge = with_ci()
    forge.require(strict=True, reviews=1)
    number, head = open_gate_pr(forge)
    forge.approve(number)
    move_main(forge)
    assert forge.merge_facts(number).pull_request.mergeable_state == "behind"
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.ENABLED
    rebuilt = forge.push_commit(GATE_BRANCH, "main", [FileChange.write(NOTE, "a: 1\n")], "provision dev")
    assert rebuilt.changed and forge.get_pull_request(number).state == "merged"  # the approval survived the push
    assert forge.commit("main").parents == (rebuilt.base_sha, rebuilt.sha)


def test_auto_merge_merges_past_a_failing_check_nobody_requires() -> None:
    forge = with_ci()
    forge.require("build")
    number, head = open_gate_pr(forge)
    forge.add_check_run(head, "lint", conclusion="failure")
    assert forge.enable_auto_merge(number, head).outcome is AutoMergeOutcome.ENABLED
    forge.add_check_run(head, "build", conclusion="success")
    assert forge.get_pull_request(number).state == "merged"  # as GitHub does: envbot turns it off to hold it


def test_auto_merge_waits_for_the_checks_of_a_new_head() -> None:
    forge = with_ci()
    forge.require("build")
    number, head = open_gate_pr(forge)
    forge.enable_auto_merge(number, head)
    pushed = forge.push_commit(GATE_BRANCH, "main", [FileChange.write(NOTE, "a: 2\n")], "a new head")
    forge.add_check_run(head, "build", conclusion="success")  # the old head's check counts for nothing
    pr = forge.get_pull_request(number)
    assert (pr.state, pr.auto_merge, pr.head_sha) == ("open", True, pushed.sha)  # still on, as on GitHub
    forge.add_check_run(pushed.sha, "build", conclusion="success")
    assert forge.get_pull_request(number).state == "merged" and forge.files("main")[NOTE] == "a: 2\n"


def test_auto_merge_refusals() -> None:
    forge = with_ci(allow_auto_merge=False)
    forge.require("build")
    number, head = open_gate_pr(forge)
    assert forge.enable_auto_merge(number, head) == AutoMergeResult(
        AutoMergeOutcome.REFUSED, "Auto merge is not allowed for this repository"
    )
    forge.allow_auto_merge = True
    assert forge.repository_settings().allow_auto_merge
    refused = forge.enable_auto_merge(number, "0" * 40)
    assert refused.outcome is AutoMergeOutcome.REFUSED and head[:12] in refused.message
    with pytest.raises(ValueError, match="merge method"):
        forge.enable_auto_merge(number, head, "rebase")  # type: ignore[arg-type]
    forge.add_check_run(head, "lint", "in_progress")
    forge.require()
    assert forge.enable_auto_merge(number, head).message == "Pull request is in unstable status"
    move_main(forge, NOTE, "a: 2\n")
    assert forge.enable_auto_merge(number, head).message == "Pull request is in dirty status"
    assert not forge.get_pull_request(number).auto_merge


def test_closing_turns_auto_merge_off() -> None:
    forge = with_ci()
    forge.require("build")
    number, head = open_gate_pr(forge)
    forge.enable_auto_merge(number, head)
    assert [pr.auto_merge for pr in forge.open_pull_requests()] == [True]
    assert forge.ensure_pull_request(GATE_BRANCH, "main", "Provision dev", "body").auto_merge
    closed = forge.close_pull_request(number)
    assert (closed.state, closed.auto_merge) == ("closed", False)
    assert forge.enable_auto_merge(number, head) == AutoMergeResult(AutoMergeOutcome.REFUSED, "Pull request is closed")
    assert forge.disable_auto_merge(number) == AutoMergeResult(AutoMergeOutcome.DISABLED, "auto-merge is not on")
    forge.set_status(head, "build", "success", "built")
    assert forge.get_pull_request(number).state == "closed"


def test_node_ids_are_stable_and_never_shared() -> None:
    platform, apps = MemoryForge.initialize({"README.md": "platform\n"}), MemoryForge.initialize(SEED)
    ids = []
    for forge in (platform, apps):
        for branch in BRANCHES[:2]:
            forge.push_commit(branch, "main", [FileChange.write(f"{branch}.yaml", "x\n")], "m")
            pr = forge.ensure_pull_request(branch, "main", "t", "b")
            assert (
                pr.node_id
                == forge.get_pull_request(pr.number).node_id
                == forge.merge_facts(pr.number).pull_request.node_id
            )
            ids.append(pr.node_id)
    assert len(set(ids)) == 4 and all(ids)
