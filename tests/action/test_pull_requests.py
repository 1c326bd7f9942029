"""``pull_request`` events: closed and merged destroys, closed unmerged destroys only when configured, the
configured label provisions. The payloads are our own: #42 of acme/shop from ``feature-login``."""

from __future__ import annotations

import pytest
import yaml

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld, default_events
from tests.webhooks import payload, repository_of

MERGED = "pull_request/closed-merged"  # merged by omar
CLOSED = "pull_request/closed-unmerged"  # closed by nadia
LABELED = "pull_request/labeled"  # envbot:provision, added by nadia
REPO = "acme/shop"
PR, BRANCH, AUTHOR, MERGER = 42, "feature-login", "nadia", "omar"


def record_of(world: ActionWorld, name: str) -> dict[str, object]:
    return yaml.safe_load(world.gitops_files("platform")[f"registry/environments/{name}/environment.yaml"])


def status_comments(world: ActionWorld, number: int) -> list[str]:
    return [body for body in world.comments(number) if "<!-- envbot:status:" in body]


def labeled_world(open_world: OpenWorld, **events: object) -> ActionWorld:
    """#42 open, its author allowed to write, and its environment provisioned by the label."""
    world = open_world(REPO, default_events(REPO, **events)) if events else open_world(REPO)
    world.add_pull_request(PR, BRANCH)
    world.fake.grant(AUTHOR, "write")
    assert world.handle("pull_request", payload(LABELED)) == 0, world.logs
    return world


def test_the_payloads_are_what_the_scenarios_assume() -> None:
    merged, closed, labeled = payload(MERGED), payload(CLOSED), payload(LABELED)
    assert (merged["action"], merged["pull_request"]["merged"], merged["pull_request"]["merged_by"]["login"]) == (
        "closed",
        True,
        MERGER,
    )
    assert (closed["action"], closed["pull_request"]["merged"]) == ("closed", False)
    assert (labeled["action"], labeled["label"]["name"], labeled["sender"]["login"]) == (
        "labeled",
        "envbot:provision",
        AUTHOR,
    )
    for document in (merged, closed, labeled):
        assert (document["number"], document["pull_request"]["head"]["ref"]) == (PR, BRANCH)
    assert repository_of(MERGED) == repository_of(CLOSED) == repository_of(LABELED) == REPO


def test_labeled_with_the_configured_label_provisions_the_pull_request_environment(open_world: OpenWorld) -> None:
    world = labeled_world(open_world)

    assert world.logs[0] == f"envbot: provisioning {BRANCH} (label envbot:provision on pull request #{PR})"
    environment = record_of(world, BRANCH)["environment"]
    assert isinstance(environment, dict)
    assert environment["origin"] == {"kind": "pullRequest", "repository": REPO, "branch": BRANCH, "pullRequest": PR}
    (comment,) = world.comments(PR)
    assert comment.startswith(f"<!-- envbot:status:{BRANCH} -->")
    assert "Provisioning Infrastructure" in comment and "platform #1 (merged)" in comment
    assert world.statuses(BRANCH)[f"envbot/{BRANCH}"]["state"] == "pending"


def test_labeled_with_another_label_is_ignored(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.add_pull_request(PR, BRANCH)
    world.fake.grant(AUTHOR, "write")
    before = world.gitops_refs()

    assert world.handle("pull_request", payload(LABELED, label__name="bug")) == 0

    assert world.logs == [
        f"envbot: nothing to do for PullRequestLabeled: label 'bug' on #{PR} is not 'envbot:provision'"
    ]
    assert world.fake.calls == []
    assert world.gitops_refs() == before


def test_closed_and_merged_destroys_the_environment(open_world: OpenWorld) -> None:
    world = labeled_world(open_world)
    assert "deletion" not in record_of(world, BRANCH)
    world.close_pull_request(PR, merged=True)

    assert world.handle("pull_request", payload(MERGED)) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {BRANCH}: pull request #{PR} was merged"
    deletion = record_of(world, BRANCH)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == MERGER  # merged_by
    outputs = world.outputs()
    assert (outputs["environment"], outputs["phase"]) == (BRANCH, "Deleting")
    (comment,) = status_comments(world, PR)  # the sticky comment, edited in place
    assert f"`{BRANCH}` · Deleting" in comment
    assert world.statuses(world.fake.pulls[PR]["head_sha"])[f"envbot/{BRANCH}"]["state"] == "pending"


def test_closed_unmerged_is_ignored_by_default(open_world: OpenWorld) -> None:
    world = labeled_world(open_world)
    world.close_pull_request(PR, merged=False)
    before, calls = world.gitops_refs(), len(world.fake.calls)

    assert world.handle("pull_request", payload(CLOSED)) == 0

    assert world.logs[-1] == (
        f"envbot: nothing to do for PullRequestClosed: pull request #{PR} was closed without merging;"
        " destroyOnCloseUnmerged is off"
    )
    assert world.gitops_refs() == before
    assert len(world.fake.calls) == calls
    assert "deletion" not in record_of(world, BRANCH)


def test_closed_unmerged_destroys_when_configured(open_world: OpenWorld) -> None:
    world = labeled_world(open_world, destroyOnCloseUnmerged=True)
    world.close_pull_request(PR, merged=False)

    assert world.handle("pull_request", payload(CLOSED)) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {BRANCH}: pull request #{PR} was closed without merging"
    deletion = record_of(world, BRANCH)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == AUTHOR
    (comment,) = status_comments(world, PR)
    assert f"`{BRANCH}` · Deleting" in comment


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"pull_request__state": "closed"}, "closed"),
        ({"pull_request__state": "closed", "pull_request__merged": True}, "merged"),
    ],
)
def test_the_provision_label_on_a_closed_pull_request_gets_one_reply_and_writes_nothing(
    open_world: OpenWorld, changes: dict[str, object], state: str
) -> None:
    world = open_world(REPO)
    world.add_pull_request(PR, BRANCH)
    world.close_pull_request(PR, merged=state == "merged")
    world.fake.grant(AUTHOR, "write")
    before = world.gitops_refs()

    assert world.handle("pull_request", payload(LABELED, **changes)) == 0, world.logs

    (reply,) = world.comments(PR)
    assert reply.endswith(
        f"`label envbot:provision on pull request #{PR}` was not carried out: pull request #{PR} is {state}, and"
        " envbot provisions environments only for open pull requests. `/destroy` still removes its environment."
    )
    assert world.gitops_refs() == before
    assert world.writes() == ["POST issues/create-comment"]
    assert world.fake.statuses == {}
