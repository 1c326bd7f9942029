"""``issue_comment`` commands on a pull request, from our comment-on-a-PR payload (nadia's ``/provision`` on #42 of
acme/shop) with only the body changed, and comments on a plain issue (#40)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from bot.errors import UserError
from bot.events.commands import REGISTRY
from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld, default_events
from tests.webhooks import payload, repository_of

COMMENT = "issue_comment/created-on-pull-request"
REPO = "acme/shop"
USER = "nadia"
PR = 42
ENV = "feature-login"
RECORD = f"registry/environments/{ENV}/environment.yaml"


def on_pr(body: str, **changes: object) -> dict[str, Any]:
    return payload(COMMENT, comment__body=body, **changes)


@pytest.fixture
def world(open_world: OpenWorld) -> ActionWorld:
    world = open_world(REPO)
    world.add_pull_request(PR, ENV)
    world.fake.grant(USER, "write")
    return world


def record(world: ActionWorld) -> dict[str, object]:
    return yaml.safe_load(world.gitops_files("platform")[RECORD])


def by_kind(world: ActionWorld) -> tuple[list[str], list[str]]:
    """The comments on #42: (sticky status comments, replies)."""
    bodies = world.comments(PR)
    return (
        [b for b in bodies if b.startswith("<!-- envbot:status:")],
        [b for b in bodies if b.startswith("<!-- envbot:reply:")],
    )


def test_the_payload_is_a_comment_on_a_pull_request() -> None:
    document = payload(COMMENT)
    assert document["action"] == "created" and "pull_request" in document["issue"]
    assert (document["issue"]["number"], document["comment"]["user"]["login"]) == (PR, USER)
    assert repository_of(COMMENT) == REPO


def test_provision_with_catalogs_and_parameters(world: ActionWorld) -> None:
    command = "/provision sample-app rds-postgres allocatedStorage=50"

    assert world.handle("issue_comment", on_pr(command)) == 0, world.logs

    assert world.logs[0] == f"envbot: provisioning {ENV} ({command})"
    environment = record(world)["environment"]
    assert isinstance(environment, dict)
    assert [c["name"] for c in environment["catalogs"]] == ["sample-app", "rds-postgres"]  # only those, in order
    postgres = environment["catalogs"][1]["parameters"]
    assert postgres["allocatedStorage"] == 50  # typed by the catalog: an integer
    assert postgres["databaseName"] == "feature_auth_db"  # the template's other values are kept
    assert environment["origin"] == {"kind": "pullRequest", "repository": REPO, "branch": ENV, "pullRequest": PR}
    assert environment["owner"] == "alice"  # the template's owner stays
    infrastructure = world.gitops_files("platform")[f"registry/environments/{ENV}/infrastructure/rds-postgres.yaml"]
    assert "50" in infrastructure
    stickies, replies = by_kind(world)
    assert len(stickies) == 1 and replies == []
    assert "Provisioning Infrastructure" in stickies[0]
    head = world.fake.pulls[PR]["head_sha"]
    assert world.statuses(head)[f"envbot/{ENV}"]["state"] == "pending"


def test_provision_problems_get_one_reply_and_write_nothing(world: ActionWorld) -> None:
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/provision rds-postgres allocatedStorage=lots")) == 0

    stickies, (reply,) = by_kind(world)
    assert stickies == []
    assert "`/provision rds-postgres allocatedStorage=lots` cannot be carried out" in reply
    assert "rds-postgres.allocatedStorage must be an integer" in reply
    assert world.gitops_refs() == before


def test_destroy_after_provision_edits_the_sticky_comment(world: ActionWorld) -> None:
    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs

    assert world.handle("issue_comment", on_pr("/destroy")) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {ENV}: /destroy by {USER}"
    deletion = record(world)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == USER
    (sticky,), replies = by_kind(world)
    assert f"`{ENV}` · Deleting" in sticky and replies == []
    assert world.statuses(world.fake.pulls[PR]["head_sha"])[f"envbot/{ENV}"]["description"].startswith("Deleting")


def test_status_refreshes_the_sticky_comment_and_writes_nothing_to_gitops(world: ActionWorld) -> None:
    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/status")) == 0, world.logs

    assert world.logs[-1].startswith(f"envbot: {ENV}: Provisioning Infrastructure: ")
    assert world.gitops_refs() == before
    (sticky,), replies = by_kind(world)
    assert "Provisioning Infrastructure" in sticky and replies == []


def test_retry_on_an_environment_that_has_not_failed_gets_a_polite_reply(world: ActionWorld) -> None:
    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/retry")) == 0, world.logs

    stickies, (reply,) = by_kind(world)
    assert len(stickies) == 1
    assert reply.endswith(
        f"`/retry` only applies to a Failed environment; `{ENV}` is Provisioning Infrastructure, so there is"
        " nothing to retry. Comment `/status` to refresh its status."
    )
    assert "Traceback" not in reply
    assert world.gitops_refs() == before


def test_retry_on_a_failed_environment_asks_every_controller_to_try_again(open_world: OpenWorld) -> None:
    world = open_world(REPO, extra={"timeouts": {"failureGrace": "0s"}})
    world.add_pull_request(PR, ENV)
    world.fake.grant(USER, "write")
    world.cluster_delay = dt.timedelta(0)
    world.fail_workspaces = {f"{ENV}-rds-postgres": "Error: creating RDS instance: quota exceeded"}
    assert world.handle("issue_comment", on_pr("/provision")) == 1  # a Failed environment fails the job
    assert world.logs[-1].startswith(f"::error title=envbot%3A {ENV} failed::")
    assert "retry" not in record(world)
    assert f"`{ENV}` · Failed" in by_kind(world)[0][0]

    # The cause is still there and the grace period is 0s, so the retried environment fails again at once.
    assert world.handle("issue_comment", on_pr("/retry")) == 1, world.logs

    assert f"envbot: retrying {ENV}" in world.logs
    retry = record(world)["retry"]
    assert isinstance(retry, dict) and retry["requestedBy"] == USER and retry["count"] == 1
    stickies, replies = by_kind(world)
    assert len(stickies) == 1 and replies == []


def test_help_replies_with_the_commands_table(world: ActionWorld) -> None:
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/help")) == 0

    stickies, (reply,) = by_kind(world)
    assert stickies == []
    assert REGISTRY.help_text() in reply
    assert "| command | what it does | who may use it |" in reply
    for usage in ("/provision [catalog ...] [key=value ...]", "/destroy", "/status", "/retry", "/help"):
        assert f"| `{usage}` |" in reply
    assert world.gitops_refs() == before
    assert world.logs == ["envbot: replied on the pull request"]


@pytest.mark.parametrize(("role", "has"), [("read", "read permission"), (None, "no access")])
@pytest.mark.parametrize("command", ["/destroy", "/provision rds-postgres allocatedStorage=50"])
def test_a_commenter_without_write_permission_gets_one_refusal(
    open_world: OpenWorld, role: str | None, has: str, command: str
) -> None:
    world = open_world(REPO)
    world.add_pull_request(PR, ENV)
    if role is not None:
        world.fake.grant(USER, role)
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr(command)) == 0
    assert world.handle("issue_comment", on_pr(command)) == 0  # a redelivery does not add a second reply

    (reply,) = world.comments(PR)
    assert reply.endswith(f"Sorry, `{command}` needs write permission on this repository, and `{USER}` has {has}.")
    assert world.gitops_refs() == before
    assert world.fake.statuses == {}
    assert [c.operation for c in world.fake.calls if c.method != "GET"] == ["issues/create-comment"]


@pytest.mark.parametrize(
    "body",
    [
        "> /destroy",
        "Someone wrote:\n> /destroy\nbut please don't.",
        "```\n/destroy\n```",
        "~~~sh\n/destroy\n~~~",
        "    /destroy",
        "Do not run `/destroy` yet.",
        "<!--\n/destroy\n-->",
    ],
)
def test_quoted_fenced_and_inline_commands_do_nothing(world: ActionWorld, body: str) -> None:
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr(body)) == 0

    assert world.logs == [f"envbot: nothing to do for IssueComment: comment on #{PR}: the comment holds no command"]
    assert world.fake.calls == []
    assert world.gitops_refs() == before


@pytest.mark.parametrize(
    "changes",
    [{}, {"comment__body": "/destroy"}],  # as written: /provision
)
def test_comments_on_plain_issues_are_ignored(open_world: OpenWorld, changes: dict[str, str]) -> None:
    document = payload("issue_comment/created-on-issue", **changes)
    assert "pull_request" not in document["issue"]
    world = open_world(REPO)
    world.fake.grant(document["sender"]["login"], "admin")
    before = world.gitops_refs()

    assert world.handle("issue_comment", document) == 0

    number = document["issue"]["number"]
    assert world.logs == [
        f"envbot: nothing to do for IssueComment: comment on #{number}: #{number} is an issue, not a pull request"
    ]
    assert world.fake.calls == []
    assert world.gitops_refs() == before


def test_a_bot_commenter_is_ignored(world: ActionWorld) -> None:
    bot = {"login": "dependabot[bot]", "type": "Bot"}
    document = on_pr("/destroy")
    document["comment"]["user"].update(bot)
    document["sender"].update(bot)
    world.fake.grant("dependabot[bot]", "write")

    assert world.handle("issue_comment", document) == 0

    assert world.logs == [
        f"envbot: nothing to do for IssueComment: comment on #{PR} was written by the bot dependabot[bot]"
    ]
    assert world.fake.calls == []


def test_rerunning_the_same_events_keeps_one_sticky_comment_and_one_reply(world: ActionWorld) -> None:
    provision, retry = on_pr("/provision"), on_pr("/retry")
    for _ in range(2):
        assert world.handle("issue_comment", provision) == 0, world.logs
        assert world.handle("issue_comment", retry) == 0, world.logs

    stickies, replies = by_kind(world)
    assert len(stickies) == 1 and len(replies) == 1
    assert len(world.comments(PR)) == 2
    # The second provision found everything in place: one infrastructure pull request, merged once.
    assert [c.body["state"] for c in world.fake.calls if c.operation == "repos/create-commit-status"] == ["pending"]


# -- closed and merged pull requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("merged", "state"), [(False, "closed"), (True, "merged")])
def test_provision_on_a_closed_pull_request_gets_one_reply_and_writes_nothing(
    world: ActionWorld, merged: bool, state: str
) -> None:
    world.close_pull_request(PR, merged=merged)
    before = world.gitops_refs()

    assert world.handle("issue_comment", on_pr("/provision rds-postgres")) == 0, world.logs

    stickies, (reply,) = by_kind(world)
    assert stickies == []
    assert reply.endswith(
        f"`/provision rds-postgres` was not carried out: pull request #{PR} is {state}, and envbot provisions"
        " environments only for open pull requests. `/destroy` still removes its environment."
    )
    assert world.gitops_refs() == before
    assert world.writes() == ["POST issues/create-comment"]


def test_destroy_and_status_still_work_on_a_merged_pull_request(world: ActionWorld) -> None:
    assert world.handle("issue_comment", on_pr("/provision")) == 0, world.logs
    world.close_pull_request(PR, merged=True)

    assert world.handle("issue_comment", on_pr("/status")) == 0, world.logs
    assert world.handle("issue_comment", on_pr("/destroy")) == 0, world.logs

    assert f"envbot: destroying {ENV}: /destroy by {USER}" in world.logs
    deletion = record(world)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == USER
    assert by_kind(world)[1] == []  # no reply: both commands ran


# -- events.permission: read on a public repository --------------------------------------------------------------------


def read_world(open_world: OpenWorld) -> ActionWorld:
    world = open_world(REPO, default_events(REPO, permission="read"))
    world.add_pull_request(PR, ENV)
    world.fake.grant(USER, "read")
    return world


def test_read_permission_on_a_public_repository_is_a_config_error_and_nothing_runs(open_world: OpenWorld) -> None:
    world = read_world(open_world)
    document = on_pr("/status")
    assert (document["repository"]["private"], document["repository"]["visibility"]) == (False, "public")
    before = world.gitops_refs()

    with pytest.raises(UserError, match=r"events\.permission: read .*acme/shop is public") as raised:
        world.handle("issue_comment", document)

    assert "\n" not in str(raised.value)
    assert world.fake.calls == []  # not even the permission look-up
    assert world.gitops_refs() == before


def test_read_permission_on_a_private_repository_lets_a_reader_ask_for_status(open_world: OpenWorld) -> None:
    world = read_world(open_world)

    document = on_pr("/status", repository__private=True, repository__visibility="private")
    assert world.handle("issue_comment", document) == 0, world.logs

    assert world.logs[-1].startswith(f"envbot: {ENV}: ")
    assert by_kind(world)[1] == []
