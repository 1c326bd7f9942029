"""Conformance: the Action end to end on real recorded payloads (drone/go-scm, create-issue-branch,
go-playground/webhooks), so the flows the own tier runs on our payloads also hold on payloads GitHub sent."""

from __future__ import annotations

import pytest
import yaml

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.events.support import real_payload

pytestmark = pytest.mark.conformance

BRANCH_CREATE = "drone-go-scm/branch_create.json"  # bradrydzewski/drone-test-go, ref feature-branch
MERGED = "create-issue-branch/pull_request.closed.json"  # #117, merged by robvanderleek
LABELED = "create-issue-branch/pull_request.labeled.json"  # the same repository's #675, label bug
COMMENT = "go-playground-webhooks/pull-request-issue-comment.json"  # chhsia0 on #3 of chhsia0/knative-route-demo


def record_of(world: ActionWorld, name: str) -> dict[str, object]:
    return yaml.safe_load(world.gitops_files("platform")[f"registry/environments/{name}/environment.yaml"])


def test_a_real_branch_create_provisions_its_environment(open_world: OpenWorld) -> None:
    document = real_payload(BRANCH_CREATE)
    repository, sender = document["repository"]["full_name"], document["sender"]["login"]
    world = open_world(repository)
    world.fake.grant(sender, "write")
    head = world.add_branch("feature-branch")

    assert world.handle("create", document) == 0, world.logs

    assert world.logs[0] == "envbot: provisioning feature-branch (branch feature-branch created)"
    environment = record_of(world, "feature-branch")["environment"]
    assert isinstance(environment, dict)
    assert environment["origin"] == {"kind": "branch", "repository": repository, "branch": "feature-branch"}
    assert world.statuses(head)["envbot/feature-branch"]["state"] == "pending"


def test_a_real_merged_pull_request_destroys_its_environment(open_world: OpenWorld) -> None:
    merged = real_payload(MERGED)
    branch = merged["pull_request"]["head"]["ref"]
    world = open_world(merged["repository"]["full_name"])
    world.add_pull_request(117, branch)
    world.fake.grant("robvanderleek", "write")
    # Provisioned by labelling: the repository's real labeled payload, pointed at #117 and its branch.
    labeled = real_payload(LABELED, number=117, label__name="envbot:provision")
    labeled["pull_request"].update(number=117, head={**labeled["pull_request"]["head"], "ref": branch})
    assert world.handle("pull_request", labeled) == 0, world.logs
    world.close_pull_request(117, merged=True)

    assert world.handle("pull_request", merged) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {branch}: pull request #117 was merged"
    deletion = record_of(world, branch)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == "robvanderleek"  # merged_by


def test_a_real_comment_on_a_pull_request_provisions_and_reports(open_world: OpenWorld) -> None:
    document = real_payload(COMMENT, comment__body="/provision")
    world = open_world(document["repository"]["full_name"])
    world.add_pull_request(3, "feature-login")
    world.fake.grant("chhsia0", "write")

    assert world.handle("issue_comment", document) == 0, world.logs

    assert world.logs[0] == "envbot: provisioning feature-login (/provision)"
    (comment,) = world.comments(3)
    assert comment.startswith("<!-- envbot:status:feature-login -->") and "Provisioning Infrastructure" in comment
