"""Helpers shared by the forge tests: test repositories, the harness of each forge, a GitHubForge on the fake."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Protocol

from manual_clock import ManualClock

from bot.forge import Forge, Permission
from bot.forge.github import GitHubForge
from bot.forge.local import STATE_REF, LocalForge, _State
from bot.forge.retry import RetryPolicy
from tests.fakes.github_api import FakeGitHub
from tests.fakes.memory_forge import MemoryForge

TOKEN = "ghp_TEST_TOKEN_0123456789abcdefghijklmnopqrstuv"
IDENTITY = {
    "GIT_AUTHOR_NAME": "seed",
    "GIT_AUTHOR_EMAIL": "seed@example.com",
    "GIT_COMMITTER_NAME": "seed",
    "GIT_COMMITTER_EMAIL": "seed@example.com",
}


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run git for test setup (with an explicit identity) and return its output."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **IDENTITY, **(env or {})}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def make_bare_repo(root: Path, files: dict[str, str], branch: str = "main") -> Path:
    """A bare repository whose ``branch`` holds one commit with ``files``."""
    bare = root / "origin.git"
    git("init", "-q", "--bare", "-b", branch, str(bare))
    work = root / "seed-work"
    git("init", "-q", "-b", branch, str(work))
    for path, content in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "initial", cwd=work)
    git("push", "-q", str(bare), f"HEAD:refs/heads/{branch}", cwd=work)
    return bare


SEED = {"README.md": "# platform\n", "registry/environments/.keep": "", "old/stale.yaml": "stale: true\n"}


class Harness(Protocol):
    """What a contract test needs beyond the Forge itself: setup and inspection of the underlying store."""

    name: str
    forge: Forge
    clock: ManualClock
    """The forge's time (GitHub's, or LocalForge's ``clock``): a test advances it."""

    def base_sha(self) -> str: ...
    def parents(self, sha: str) -> tuple[str, ...]: ...
    def branch_exists(self, branch: str) -> bool: ...
    def grant(self, user: str, permission: Permission) -> None: ...
    def plant_comment(self, number: int, body: str) -> None: ...
    def comments(self, number: int) -> list[str]: ...
    def open_pulls(self) -> list[int]: ...
    def status_history(self, sha: str) -> int: ...


class GitHubHarness:
    name = "github"

    def __init__(self, fake: FakeGitHub, forge: GitHubForge, clock: ManualClock) -> None:
        self.fake = fake
        self.forge = forge
        self.clock = clock

    def base_sha(self) -> str:
        return self.fake.refs["refs/heads/main"]

    def parents(self, sha: str) -> tuple[str, ...]:
        return self.fake.commits[sha].parents

    def branch_exists(self, branch: str) -> bool:
        return f"refs/heads/{branch}" in self.fake.refs

    def grant(self, user: str, permission: Permission) -> None:
        self.fake.grant(user, permission.label)

    def plant_comment(self, number: int, body: str) -> None:
        self.fake.add_comment(number, body)

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in sorted(self.fake.comments.values(), key=lambda c: c["id"]) if c["issue"] == number]

    def open_pulls(self) -> list[int]:
        return sorted(n for n, pr in self.fake.pulls.items() if pr["state"] == "open")

    def status_history(self, sha: str) -> int:
        return len(self.fake.statuses.get(sha, []))


class LocalHarness:
    name = "local"

    def __init__(self, bare: Path, forge: LocalForge, clock: ManualClock) -> None:
        self.bare = bare
        self.forge = forge
        self.clock = clock

    def _state(self) -> _State:
        return self.forge._state()

    def base_sha(self) -> str:
        return git("rev-parse", "refs/heads/main", cwd=self.bare)

    def parents(self, sha: str) -> tuple[str, ...]:
        return tuple(git("rev-parse", f"{sha}^@", cwd=self.bare).split())

    def branch_exists(self, branch: str) -> bool:
        return bool(git("for-each-ref", f"refs/heads/{branch}", cwd=self.bare))

    def grant(self, user: str, permission: Permission) -> None:
        self.forge.grant(user, permission)

    def plant_comment(self, number: int, body: str) -> None:
        # What a second writer (another process, another tool) may leave: written through the state ref.
        def change(state: _State) -> None:
            record = state.read(f"pulls/{number}.json", None)
            comment = {"id": state.next_id("comment"), "body": body}
            state.write(f"pulls/{number}.json", {**record, "comments": [*record["comments"], comment]})

        self.forge._transact(change, "plant a comment")

    def comments(self, number: int) -> list[str]:
        record: dict[str, Any] = self._state().read(f"pulls/{number}.json", {"comments": []})
        return [c["body"] for c in record["comments"]]

    def open_pulls(self) -> list[int]:
        return sorted(r["number"] for r in self.forge._pulls(self._state()) if r["state"] == "open")

    def status_history(self, sha: str) -> int:
        return len(self._state().read(f"statuses/{sha}.json", []))

    def state_commits(self) -> int:
        return int(git("rev-list", "--count", STATE_REF, cwd=self.bare) or 0)


class MemoryHarness:
    name = "memory"

    def __init__(self, forge: MemoryForge, clock: ManualClock) -> None:
        self.forge = forge
        self.clock = clock

    def base_sha(self) -> str:
        return self.forge.commit("main").sha

    def parents(self, sha: str) -> tuple[str, ...]:
        return self.forge.commit(sha).parents

    def branch_exists(self, branch: str) -> bool:
        return branch in self.forge.branch_names()

    def grant(self, user: str, permission: Permission) -> None:
        self.forge.grant(user, permission)

    def plant_comment(self, number: int, body: str) -> None:
        self.forge.add_comment(number, body)

    def comments(self, number: int) -> list[str]:
        return [c.body for c in self.forge.comments(number)]

    def open_pulls(self) -> list[int]:
        return [pr.number for pr in self.forge.pull_requests() if pr.state == "open"]

    def status_history(self, sha: str) -> int:
        return len(self.forge.statuses(sha))


def no_sleep(seconds: float) -> None:
    """A RetryPolicy sleep for tests that must not wait."""


def github_forge(fake: FakeGitHub, **kwargs: Any) -> GitHubForge:
    """A GitHubForge talking to ``fake``, with no write spacing and no real sleeping."""
    kwargs.setdefault("retry", RetryPolicy(sleep=no_sleep))
    return GitHubForge(fake.repository, TOKEN, base_url=fake.base_url, seconds_between_writes=None, **kwargs)
