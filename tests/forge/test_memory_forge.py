"""MemoryForge specifics: the same answers as LocalForge on random schedules, its test helpers, line merges."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from manual_clock import ManualClock

from bot.errors import EnvbotError
from bot.forge import FileChange, Forge, Permission
from bot.forge.local import LocalForge
from tests.fakes.memory_forge import MemoryForge
from tests.fakes.three_way import merge_text, merge_trees
from tests.forge.support import SEED, make_bare_repo

BRANCHES = ("envbot/dev/infrastructure", "envbot/dev/applications", "envbot/qa/infrastructure")
PATHS = ("registry/dev/a.yaml", "registry/dev/b.yaml", "old/stale.yaml", "README.md")
_SHA = re.compile(r"\b[0-9a-f]{40}\b")
_SHORT_SHA = re.compile(r"\b[0-9a-f]{12}\b")


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
                return pr, f.merge(n, "0" * 40 if s else pr.head_sha, how), f.read_file(PATHS[0], "main")

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
    outcomes = {word for line in expected for word in re.findall(r"MERGED|HEAD_MOVED|merge conflict|'closed'", line)}
    assert outcomes >= {"MERGED", "merge conflict", "'closed'"}  # the schedule reached the interesting cases


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
