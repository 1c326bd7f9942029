"""Pull requests from forks: a fork's branch never shares an environment with the repository's own branch of the
same name, whether the request comes as a comment command, a label, a merge or a close, and also once the fork
was deleted (GitHub then reports ``head.repo`` as null, and only ``head.label`` still says whose fork it was)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.events.naming import environment_name
from tests.action.support import ActionWorld, default_events, make_world
from tests.fakes.github_api import FakeGitHub
from tests.hostile.arena import PR, PR_BRANCH, REPO, WRITER, comment, gitops_state
from tests.webhooks import payload

FORK = "mallory/shop"
FORK_PR = 57  # our merged-from-a-fork payload's pull request
GONE_PR = 58  # our closed-fork-deleted payload's pull request: mallory's fork of feature-login, since deleted
RECORD = f"registry/environments/{PR_BRANCH}/environment.yaml"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionWorld]:
    """#42 from the repository's own ``feature-login`` (provisioned), #57 from a fork's ``feature-login``, and #58
    from another fork's ``feature-login`` whose repository was deleted; ``destroyOnCloseUnmerged`` is on."""
    original = FakeGitHub._pull_json

    def with_head_repository(fake: FakeGitHub, pr: dict[str, Any], full: bool) -> dict[str, Any]:
        """The head as GitHub reports it: ``repo`` (null once a fork is deleted) and ``label`` ``owner:branch``."""
        data = original(fake, pr, full)
        repository = pr.get("head_repository", fake.repository)
        data["head"]["repo"] = {"full_name": repository} if repository else None
        data["head"]["label"] = pr.get("head_label", f"{(repository or '').partition('/')[0]}:{pr['head']}")
        return data

    monkeypatch.setattr(FakeGitHub, "_pull_json", with_head_repository)
    events = default_events(REPO, destroyOnCloseUnmerged=True)
    with contextmanager(make_world)(tmp_path, REPO, events) as opened:
        opened.fake.grant(WRITER, "write")
        opened.add_pull_request(PR, PR_BRANCH)
        opened.add_pull_request(FORK_PR, PR_BRANCH)
        opened.fake.pulls[FORK_PR]["head_repository"] = FORK
        opened.add_pull_request(GONE_PR, PR_BRANCH)
        opened.fake.pulls[GONE_PR].update(head_repository=None, head_label=f"mallory:{PR_BRANCH}")
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


# -- a fork that was deleted ------------------------------------------------------------------------------------------


def deleted_fork(**changes: Any) -> dict[str, Any]:
    """Our closed-fork-deleted payload (#58, closed unmerged by omar), with fields changed."""
    head = payload("pull_request/closed-fork-deleted")["pull_request"]["head"]
    assert (head["repo"], head["label"], head["user"]["login"]) == (None, f"mallory:{PR_BRANCH}", "mallory")
    return payload("pull_request/closed-fork-deleted", **changes)


def labeled_deleted_fork(**head: Any) -> dict[str, Any]:
    """Our labeled payload (nadia adds envbot:provision), moved onto #58 and its deleted fork's head."""
    fork_head = {**payload("pull_request/closed-fork-deleted")["pull_request"]["head"], **head}
    return payload("pull_request/labeled", number=GONE_PR, pull_request__number=GONE_PR, pull_request__head=fork_head)


def assert_only_the_fork_environment(world: ActionWorld, verb: str, before: str) -> None:
    """#42's ``feature-login`` record is as it was; every destroy or provision named the fork's own environment."""
    assert world.gitops_files("platform")[RECORD] == before, world.logs
    touched = [line for line in world.logs if line.startswith(("envbot: destroying", "envbot: provisioning"))]
    assert touched and all(line.startswith(f"envbot: {verb} mallory-feature-login-") for line in touched), world.logs


@pytest.mark.parametrize(
    ("event_name", "document"),
    [
        pytest.param("pull_request", deleted_fork(), id="closed-unmerged"),
        pytest.param(
            "pull_request",
            deleted_fork(pull_request__merged=True, pull_request__merged_at="2026-03-13T08:45:30Z"),
            id="merged",
        ),
        pytest.param("issue_comment", comment("/destroy", issue__number=GONE_PR), id="destroy-comment"),
    ],
)
def test_destroying_a_deleted_fork_pull_request_leaves_the_same_named_environment_alone(
    world: ActionWorld, event_name: str, document: dict[str, Any]
) -> None:
    before = world.gitops_files("platform")[RECORD]

    assert world.handle(event_name, document) == 0, world.logs

    assert_only_the_fork_environment(world, "destroying", before)
    assert PR_BRANCH in environments(world)


def test_labelling_a_deleted_fork_pull_request_provisions_its_own_environment(world: ActionWorld) -> None:
    before = world.gitops_files("platform")[RECORD]

    assert world.handle("pull_request", labeled_deleted_fork()) == 0, world.logs

    assert_only_the_fork_environment(world, "provisioning", before)
    assert {PR_BRANCH, environment_name(f"mallory:{PR_BRANCH}")} <= environments(world)


def test_a_fork_environment_stays_the_same_from_label_to_close_after_the_fork_is_deleted(world: ActionWorld) -> None:
    fork_env = environment_name(f"mallory:{PR_BRANCH}")
    world.fake.pulls[GONE_PR].update(head_repository=FORK)  # labelled while the fork still exists
    assert world.handle("pull_request", labeled_deleted_fork(repo={"full_name": FORK})) == 0, world.logs
    assert fork_env in environments(world)
    world.fake.pulls[GONE_PR].update(head_repository=None)  # then mallory deletes the fork
    assert world.handle("issue_comment", comment("/status", issue__number=GONE_PR)) == 0, world.logs
    assert world.logs[-1].startswith(f"envbot: {fork_env}: "), world.logs
    before = world.gitops_files("platform")[RECORD]

    assert world.handle("pull_request", deleted_fork()) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {fork_env}: pull request #{GONE_PR} was closed without merging"
    deletion = yaml.safe_load(world.gitops_files("platform")[f"registry/environments/{fork_env}/environment.yaml"])
    assert deletion["deletion"]["requestedBy"] == "omar"  # who closed it
    assert world.gitops_files("platform")[RECORD] == before


UNKNOWN_OWNER = {"label": None, "user": None}  # how GitHub reports the head once the fork's account is deleted too


def test_a_deleted_fork_of_unknown_owner_is_closed_without_touching_anything(world: ActionWorld) -> None:
    before, writes = gitops_state(world), world.writes()
    closed = deleted_fork(pull_request__head={**deleted_fork()["pull_request"]["head"], **UNKNOWN_OWNER})

    assert world.handle("pull_request", closed) == 0, world.logs

    (line,) = world.logs
    assert line.startswith("envbot: nothing to do for PullRequestClosed: pull request #58 ") and "cannot tell" in line
    assert gitops_state(world) == before and world.writes() == writes


def test_a_command_on_a_deleted_fork_of_unknown_owner_gets_one_reply_and_touches_nothing(world: ActionWorld) -> None:
    world.fake.pulls[GONE_PR]["head_label"] = None
    before, writes = gitops_state(world), world.writes()

    assert world.handle("issue_comment", comment("/destroy", issue__number=GONE_PR)) == 0, world.logs

    assert gitops_state(world) == before
    assert world.writes()[len(writes) :] == ["POST issues/create-comment"]
    (reply,) = world.comments(GONE_PR)
    assert "`/destroy` was not carried out: pull request #58 comes from a fork that was deleted" in reply
