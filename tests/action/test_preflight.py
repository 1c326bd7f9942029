"""Before the Action's first write: every problem that would stop the run part-way, and no provisioning of an
environment that is being deleted (nadia's comments on pull request #42 of acme/shop)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.errors import UserError
from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.webhooks import payload

REPO = "acme/shop"
USER = "nadia"
PR = 42
ENV = "feature-login"


def on_pr(body: str) -> dict[str, Any]:
    return payload("issue_comment/created-on-pull-request", comment__body=body)


def open_pull_request(world: ActionWorld) -> ActionWorld:
    world.add_pull_request(PR, ENV)
    world.fake.grant(USER, "write")
    return world


def test_provision_of_an_environment_being_deleted_is_answered_and_not_carried_out(open_world: OpenWorld) -> None:
    world = open_pull_request(open_world(REPO))
    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs
    assert world.handle("issue_comment", on_pr("/destroy")) == 0, world.logs
    assert world.outputs()["phase"] == "Deleting"
    refs = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs

    assert world.gitops_refs() == refs
    (answer,) = [body for body in world.comments(PR) if body.startswith("<!-- envbot:reply:")]
    assert re.search(
        r"`/provision` was not carried out: environment `feature-login` is being deleted \(`nadia` asked for it at "
        r"2026-11-27 12:00:00 UTC\); wait until it is Deleted, then provision again\.$",
        answer,
    ), answer


def test_a_missing_apps_base_branch_stops_the_action_before_any_write(open_world: OpenWorld) -> None:
    world = open_pull_request(open_world(REPO, extra={"apps": {"repository": "./apps.git", "baseBranch": "release"}}))
    refs = world.gitops_refs()

    with pytest.raises(UserError) as caught:
        world.handle("issue_comment", on_pr("/provision"))

    assert caught.value.problems == ("apps repository ./apps.git: base branch release not found",)
    assert world.gitops_refs() == refs
    assert world.comments(PR) == []
