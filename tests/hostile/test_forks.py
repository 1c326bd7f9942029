"""Pull requests from forks: a fork's branch never shares an environment with the repository's own branch of the
same name, whether the request comes as a comment command, a label or a merge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.action.support import ActionWorld, make_world
from tests.fakes.github_api import FakeGitHub
from tests.hostile.arena import PR, PR_BRANCH, REPO, WRITER, comment, gitops_state
from tests.webhooks import payload

FORK = "mallory/shop"
FORK_PR = 57  # our merged-from-a-fork payload's pull request


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionWorld]:
    """#42 from the repository's own ``feature-login`` (provisioned), and #57 from a fork's ``feature-login``."""
    original = FakeGitHub._pull_json

    def with_head_repository(fake: FakeGitHub, pr: dict[str, Any], full: bool) -> dict[str, Any]:
        data = original(fake, pr, full)
        data["head"]["repo"] = {"full_name": pr.get("head_repository", fake.repository)}
        return data

    monkeypatch.setattr(FakeGitHub, "_pull_json", with_head_repository)
    with contextmanager(make_world)(tmp_path, REPO) as opened:
        opened.fake.grant(WRITER, "write")
        opened.add_pull_request(PR, PR_BRANCH)
        opened.add_pull_request(FORK_PR, PR_BRANCH)
        opened.fake.pulls[FORK_PR]["head_repository"] = FORK
        assert opened.handle("issue_comment", comment("/provision")) == 0, opened.logs
        opened.logs.clear()
        yield opened


def environments(world: ActionWorld) -> set[str]:
    return {path.split("/")[2] for path in world.gitops_files("platform")}


@pytest.mark.parametrize("command", ["/destroy", "/provision"])
def test_a_command_on_a_fork_pull_request_never_touches_the_same_named_branch_environment(
    world: ActionWorld, command: str
) -> None:
    record = f"registry/environments/{PR_BRANCH}/environment.yaml"
    before = world.gitops_files("platform")[record]

    assert world.handle("issue_comment", comment(command, issue__number=FORK_PR)) == 0, world.logs

    assert world.gitops_files("platform")[record] == before  # #42's environment: not destroyed, not re-aimed
    touched = [line for line in world.logs if line.startswith(("envbot: destroying", "envbot: provisioning"))]
    assert touched and all(f" {PR_BRANCH} " not in f"{line} " for line in touched), world.logs
    assert all("mallory-feature-login-" in line for line in touched), world.logs


def test_a_merged_fork_pull_request_destroys_only_its_own_environment(world: ActionWorld) -> None:
    before = gitops_state(world)
    merged = payload("pull_request/closed-merged-from-fork")
    assert (merged["number"], merged["pull_request"]["head"]["repo"]["full_name"]) == (FORK_PR, FORK)

    assert world.handle("pull_request", merged) == 0, world.logs

    assert world.logs[0].startswith("envbot: destroying mallory-feature-login-"), world.logs
    assert gitops_state(world) == before
    assert PR_BRANCH in environments(world)


def test_a_closed_pull_request_whose_fork_was_deleted_leaves_the_same_named_environment_alone(
    world: ActionWorld,
) -> None:
    before = gitops_state(world)
    closed = payload("pull_request/closed-fork-deleted")  # head.repo null, head.ref feature-login
    assert closed["pull_request"]["head"]["repo"] is None

    assert world.handle("pull_request", closed) == 0, world.logs

    assert gitops_state(world) == before
    assert PR_BRANCH in environments(world)
