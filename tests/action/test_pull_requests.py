"""``pull_request`` events: closed and merged destroys, closed unmerged destroys only when configured, the
configured label provisions. Payloads: create-issue-branch (a real merged pull request) and octokit/webhooks."""

from __future__ import annotations

import yaml

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld, default_events, payload, repository_of

MERGED = "create-issue-branch/pull_request.closed.json"  # #117, merged, head issue-111-robvanderleek-patch-1
LABELED_CIB = "create-issue-branch/pull_request.labeled.json"  # same repository, #675, label bug
CLOSED = "octokit-webhooks/api.github.com/pull_request/closed.payload.json"  # #2, not merged, head "changes"
LABELED = "octokit-webhooks/api.github.com/pull_request/labeled.payload.json"  # #2, label bug
LABEL = "envbot:provision"


def record_of(world: ActionWorld, name: str) -> dict[str, object]:
    return yaml.safe_load(world.gitops_files("platform")[f"registry/environments/{name}/environment.yaml"])


def status_comments(world: ActionWorld, number: int) -> list[str]:
    return [body for body in world.comments(number) if "<!-- envbot:status:" in body]


def test_real_payloads_are_what_the_scenarios_assume() -> None:
    merged, closed, labeled = payload(MERGED), payload(CLOSED), payload(LABELED)
    assert (merged["action"], merged["pull_request"]["merged"]) == ("closed", True)
    assert (closed["action"], closed["pull_request"]["merged"]) == ("closed", False)
    assert (labeled["action"], labeled["label"]["name"]) == ("labeled", "bug")
    assert repository_of(LABELED_CIB) == repository_of(MERGED)
    assert repository_of(CLOSED) == repository_of(LABELED)


def test_labeled_with_the_configured_label_provisions_the_pull_request_environment(open_world: OpenWorld) -> None:
    world = open_world(repository_of(LABELED))
    world.add_pull_request(2, "changes")
    world.fake.grant("Codertocat", "write")

    assert world.handle("pull_request", payload(LABELED, label__name=LABEL)) == 0, world.logs

    assert world.logs[0] == "envbot: provisioning changes (label envbot:provision on pull request #2)"
    environment = record_of(world, "changes")["environment"]
    assert isinstance(environment, dict)
    assert environment["origin"] == {
        "kind": "pullRequest",
        "repository": "Codertocat/Hello-World",
        "branch": "changes",
        "pullRequest": 2,
    }
    (comment,) = world.comments(2)
    assert comment.startswith("<!-- envbot:status:changes -->")
    assert "Provisioning Infrastructure" in comment and "platform #1 (merged)" in comment
    assert world.statuses("changes")["envbot/changes"]["state"] == "pending"


def test_labeled_with_another_label_is_ignored(open_world: OpenWorld) -> None:
    world = open_world(repository_of(LABELED))
    world.add_pull_request(2, "changes")
    world.fake.grant("Codertocat", "write")
    before = world.gitops_refs()

    assert world.handle("pull_request", payload(LABELED)) == 0

    assert world.logs == ["envbot: nothing to do for PullRequestLabeled: label 'bug' on #2 is not 'envbot:provision'"]
    assert world.fake.calls == []
    assert world.gitops_refs() == before


def test_closed_and_merged_destroys_the_environment(open_world: OpenWorld) -> None:
    world = open_world(repository_of(MERGED))
    branch = payload(MERGED)["pull_request"]["head"]["ref"]
    world.add_pull_request(117, branch)
    world.fake.grant("robvanderleek", "write")
    # The environment was provisioned by labelling this pull request (the repository's real labeled payload,
    # pointed at #117 and its branch).
    labeled = payload(LABELED_CIB, number=117, label__name=LABEL)
    labeled["pull_request"].update(number=117, head={**labeled["pull_request"]["head"], "ref": branch})
    assert world.handle("pull_request", labeled) == 0, world.logs
    assert "deletion" not in record_of(world, branch)
    world.close_pull_request(117, merged=True)

    assert world.handle("pull_request", payload(MERGED)) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {branch}: pull request #117 was merged"
    deletion = record_of(world, branch)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == "robvanderleek"  # merged_by
    outputs = world.outputs()
    assert (outputs["environment"], outputs["phase"]) == (branch, "Deleting")
    (comment,) = status_comments(world, 117)  # the sticky comment, edited in place
    assert f"`{branch}` · Deleting" in comment
    assert world.statuses(world.fake.pulls[117]["head_sha"])[f"envbot/{branch}"]["state"] == "pending"


def test_closed_unmerged_is_ignored_by_default(open_world: OpenWorld) -> None:
    world = open_world(repository_of(CLOSED))
    world.add_pull_request(2, "changes")
    world.fake.grant("Codertocat", "write")
    assert world.handle("pull_request", payload(LABELED, label__name=LABEL)) == 0, world.logs
    world.close_pull_request(2, merged=False)
    before, calls = world.gitops_refs(), len(world.fake.calls)

    assert world.handle("pull_request", payload(CLOSED)) == 0

    assert world.logs[-1] == (
        "envbot: nothing to do for PullRequestClosed: pull request #2 was closed without merging;"
        " destroyOnCloseUnmerged is off"
    )
    assert world.gitops_refs() == before
    assert len(world.fake.calls) == calls
    assert "deletion" not in record_of(world, "changes")


def test_closed_unmerged_destroys_when_configured(open_world: OpenWorld) -> None:
    repository = repository_of(CLOSED)
    world = open_world(repository, default_events(repository, destroyOnCloseUnmerged=True))
    world.add_pull_request(2, "changes")
    world.fake.grant("Codertocat", "write")
    assert world.handle("pull_request", payload(LABELED, label__name=LABEL)) == 0, world.logs
    world.close_pull_request(2, merged=False)

    assert world.handle("pull_request", payload(CLOSED)) == 0, world.logs

    assert world.logs[-2] == "envbot: destroying changes: pull request #2 was closed without merging"
    deletion = record_of(world, "changes")["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == "Codertocat"
    (comment,) = status_comments(world, 2)
    assert "`changes` · Deleting" in comment
