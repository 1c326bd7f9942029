"""Deleted forks, closed or merged pull requests, ``events.permission: read`` on public repositories: pure decisions."""

from __future__ import annotations

from typing import Any

import pytest

from bot.events.commands import REGISTRY
from bot.events.comments import Ignore, Reply
from bot.events.config import BranchRule, EventsConfig
from bot.events.intents import Decline, Destroy, Intent, Provision, Reconcile, Retry, RunCommand
from bot.events.naming import environment_name
from bot.events.payloads import Event, parse_event
from bot.events.routing import authorize, needs_permission, public_read_problem, resolve_command, to_intent
from bot.forge.model import Permission, PullRequestState
from tests.events.support import (
    BRANCH_CREATE,
    DISPATCH,
    PR_FORK_DELETED,
    PR_FROM_FORK,
    PR_LABELED,
    PR_MERGED,
    SCHEDULE,
    comment_payload,
)
from tests.webhooks import event_name_of, payload

CONFIG = EventsConfig(repository="acme/shop", default_template="environments/pull-request.yaml")
CLOSING = EventsConfig(repository="acme/shop", default_template="t.yaml", destroy_on_close_unmerged=True)
FORK_ENV = environment_name("mallory:feature-login")
FORK_PR = 58  # our closed-fork-deleted payload: head.repo null, head.label mallory:feature-login


def deleted_fork_head(**changes: Any) -> dict[str, Any]:
    head: dict[str, Any] = payload(PR_FORK_DELETED)["pull_request"]["head"]
    return {**head, **changes}


def intent_of(scenario: str, config: EventsConfig = CONFIG, **changes: Any) -> Intent:
    return to_intent(parse_event(event_name_of(scenario), payload(scenario, **changes)), config)


def labeled(head: dict[str, Any], **changes: Any) -> Intent:
    return intent_of(PR_LABELED, number=FORK_PR, pull_request__number=FORK_PR, pull_request__head=head, **changes)


def command(body: str) -> RunCommand:
    intent = to_intent(parse_event("issue_comment", comment_payload(body)), CONFIG)
    assert isinstance(intent, RunCommand)
    return intent


def resolved_for_deleted_fork(body: str, label: str | None, state: PullRequestState = "open") -> Intent | Reply:
    return resolve_command(
        command(body),
        "feature-login",
        CONFIG,
        head_label=label,
        head_repository_deleted=True,
        pull_request_state=state,
    )


# -- forks whose repository was deleted --------------------------------------------------------------------------------


def test_every_event_of_a_deleted_fork_pull_request_names_the_same_fork_environment() -> None:
    closed = intent_of(PR_FORK_DELETED, CLOSING)
    merged = intent_of(PR_FORK_DELETED, pull_request__merged=True)
    label = labeled(deleted_fork_head())
    comment = resolved_for_deleted_fork("/destroy", "mallory:feature-login")
    while_the_fork_existed = labeled(payload(PR_FROM_FORK)["pull_request"]["head"])
    names = [getattr(intent, "environment_name", None) for intent in (closed, merged, label, comment)]
    assert isinstance(while_the_fork_existed, Provision)
    assert names == [FORK_ENV] * 4 == [while_the_fork_existed.environment_name] * 4
    assert FORK_ENV != "feature-login"


@pytest.mark.parametrize(
    "head",
    [
        deleted_fork_head(label=None, user=None),  # a deleted account: GitHub keeps neither
        deleted_fork_head(label="ghost:feature-login"),
        deleted_fork_head(label="feature-login"),
    ],
)
def test_a_deleted_fork_of_unknown_owner_is_refused_without_acting(head: dict[str, Any]) -> None:
    merged = intent_of(PR_FORK_DELETED, pull_request__head=head, pull_request__merged=True)
    closed = intent_of(PR_FORK_DELETED, CLOSING, pull_request__head=head)
    for intent in (merged, closed):
        assert isinstance(intent, Ignore)
        assert "#58" in intent.reason and "cannot tell" in intent.reason and "sweep" in intent.reason
    label = labeled(head)
    assert isinstance(label, Decline) and needs_permission(label) == ("nadia", Permission.WRITE)
    answer = authorize(label, Permission.WRITE)
    assert isinstance(answer, Reply) and "`label envbot:provision on pull request #58`" in answer.text
    assert "fork that was deleted" in answer.text
    stranger = authorize(label, Permission.NONE)
    assert isinstance(stranger, Reply) and stranger.text.startswith("Sorry, ")


@pytest.mark.parametrize("body", ["/destroy", "/status", "/retry", "/provision"])
def test_commands_on_a_deleted_fork_of_unknown_owner_get_a_reply(body: str) -> None:
    answer = resolved_for_deleted_fork(body, None)
    assert isinstance(answer, Reply)
    assert answer.text.startswith(f"`{body}` was not carried out: pull request #42 comes from a fork that was deleted")


def test_help_needs_no_environment() -> None:
    assert resolved_for_deleted_fork("/help", None) == Reply(REGISTRY.help_text())


def test_non_fork_pull_requests_keep_their_branch_environment() -> None:
    own = intent_of(PR_MERGED)
    assert isinstance(own, Destroy) and own.environment_name == "feature-login"
    resolved = resolve_command(command("/destroy"), "feature-login", CONFIG, head_repository="acme/shop")
    assert isinstance(resolved, Destroy) and resolved.environment_name == "feature-login"
    unknown = resolve_command(command("/destroy"), "feature-login", CONFIG)  # a forge that does not say: as today
    assert isinstance(unknown, Destroy) and unknown.environment_name == "feature-login"


# -- closed and merged pull requests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({"pull_request__state": "closed"}, "closed"),
        ({"pull_request__state": "closed", "pull_request__merged": True}, "merged"),
    ],
)
def test_the_provision_label_on_a_closed_pull_request_is_refused_with_a_reply(
    changes: dict[str, Any], state: str
) -> None:
    intent = intent_of(PR_LABELED, **changes)
    assert isinstance(intent, Decline)
    assert needs_permission(intent) == ("nadia", Permission.WRITE)
    assert authorize(intent, Permission.WRITE) == Reply(
        f"`label envbot:provision on pull request #42` was not carried out: pull request #42 is {state}, and envbot"
        " provisions environments only for open pull requests. `/destroy` still removes its environment."
    )
    refused = authorize(intent, Permission.READ)  # the permission check comes first, as for any request
    assert isinstance(refused, Reply) and refused.text.startswith("Sorry, `label envbot:provision")


def test_the_provision_label_on_an_open_pull_request_still_provisions() -> None:
    assert isinstance(intent_of(PR_LABELED), Provision)
    assert isinstance(intent_of(PR_LABELED, pull_request__state=None), Provision)  # state unknown: as before


@pytest.mark.parametrize("state", ["closed", "merged"])
def test_provision_on_a_closed_pull_request_gets_a_reply(state: PullRequestState) -> None:
    answer = resolve_command(command("/provision"), "feature-login", CONFIG, pull_request_state=state)
    assert answer == Reply(
        f"`/provision` was not carried out: pull request #42 is {state}, and envbot provisions environments only for"
        " open pull requests. `/destroy` still removes its environment."
    )


@pytest.mark.parametrize("state", ["closed", "merged"])
@pytest.mark.parametrize(
    ("body", "kind"), [("/destroy", Destroy), ("/status", Reconcile), ("/retry", Retry), ("/help", Reply)]
)
def test_other_commands_still_work_on_a_closed_pull_request(body: str, kind: type, state: PullRequestState) -> None:
    assert isinstance(resolve_command(command(body), "feature-login", CONFIG, pull_request_state=state), kind)


# -- events.permission: read on public repositories --------------------------------------------------------------------


def event_of(scenario: str, **changes: Any) -> Event:
    return parse_event(event_name_of(scenario), payload(scenario, **changes))


READ = EventsConfig(
    repository="acme/shop",
    branches=(BranchRule("feature*", "t.yaml"),),
    default_template="t.yaml",
    permission=Permission.READ,
)
PRIVATE = {"repository__private": True, "repository__visibility": "private"}


@pytest.mark.parametrize(
    ("scenario", "changes"),
    [
        ("issue_comment/created-on-pull-request", {"comment__body": "/status"}),
        (PR_LABELED, {}),
        (BRANCH_CREATE, {}),
        (DISPATCH, {}),
    ],
)
def test_read_permission_is_refused_on_a_public_repository(scenario: str, changes: dict[str, Any]) -> None:
    event = event_of(scenario, **changes)
    intent = to_intent(event, READ)
    assert needs_permission(intent) is not None
    problem = public_read_problem(event, intent, READ)
    assert problem is not None and "events.permission: read" in problem and "acme/shop is public" in problem
    assert "\n" not in problem
    private = event_of(scenario, **changes, **PRIVATE)
    assert public_read_problem(private, intent, READ) is None
    internal = event_of(scenario, **changes, repository__visibility="internal")
    assert public_read_problem(internal, intent, READ) is None
    unknown = event_of(scenario, **changes, repository__private=None, repository__visibility=None)
    unknown_problem = public_read_problem(unknown, intent, READ)
    assert unknown_problem is not None and "does not say whether" in unknown_problem


def test_higher_permissions_and_requests_without_a_check_pass_on_a_public_repository() -> None:
    comment = event_of("issue_comment/created-on-pull-request", comment__body="/status")
    for permission in (Permission.TRIAGE, Permission.WRITE, Permission.ADMIN):
        config = EventsConfig(repository="acme/shop", permission=permission)
        assert public_read_problem(comment, to_intent(comment, config), config) is None
    merged = event_of(PR_MERGED)
    assert public_read_problem(merged, to_intent(merged, READ), READ) is None  # a fact: no permission is checked
    schedule = event_of(SCHEDULE)
    assert public_read_problem(schedule, to_intent(schedule, READ), READ) is None
