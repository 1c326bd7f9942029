"""Webhook payloads → typed events: each of our own payloads, old and partial shapes, and broken files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bot.action import load_event
from bot.errors import UserError
from bot.events.payloads import (
    Actor,
    BranchCreated,
    BranchDeleted,
    IssueComment,
    PayloadError,
    PullRequestClosed,
    PullRequestLabeled,
    Schedule,
    TagCreated,
    TagDeleted,
    Unsupported,
    WorkflowDispatch,
    parse_event,
)
from tests.events.support import (
    BRANCH_CREATE,
    BRANCH_DELETE,
    COMMENT_DELETED,
    COMMENT_EDITED,
    DISPATCH,
    ISSUE_COMMENT,
    PING,
    PR_CLOSED,
    PR_COMMENT,
    PR_FORK_DELETED,
    PR_FROM_FORK,
    PR_LABELED,
    PR_MERGED,
    PR_OPENED,
    PR_REOPENED,
    PR_SYNCHRONIZE,
    PR_UNLABELED,
    PUSH,
    SCHEDULE,
    STATUS,
    TAG_CREATE,
    TAG_DELETE,
)
from tests.webhooks import event_name_of, path_of, payload, scenarios

HEAD_SHA = "360340ebae33cc9bfb547c7dbf7a2e5edb92abc4"  # #42's head in our payloads

# -- one payload per scenario ------------------------------------------------------------------------------------------


def test_branch_created() -> None:
    event = load_event("create", path_of(BRANCH_CREATE))
    assert event == BranchCreated(
        ref="feature-checkout", default_branch="main", repository="acme/shop", sender=Actor("nadia", "User")
    )


def test_branch_deleted() -> None:
    event = load_event("delete", path_of(BRANCH_DELETE))
    assert event == BranchDeleted(ref="feature-checkout", repository="acme/shop", sender=Actor("nadia", "User"))


@pytest.mark.parametrize(
    ("name", "scenario", "kind"), [("create", TAG_CREATE, TagCreated), ("delete", TAG_DELETE, TagDeleted)]
)
def test_tags_are_their_own_events(name: str, scenario: str, kind: type) -> None:
    event = load_event(name, path_of(scenario))
    assert isinstance(event, kind)
    assert (event.ref, event.sender) == ("v1.4.0", Actor("omar", "User"))


def test_merged_pull_request() -> None:
    event = load_event("pull_request", path_of(PR_MERGED))
    assert isinstance(event, PullRequestClosed)
    assert event.merged is True
    assert event.merged_by == Actor("omar", "User")
    assert event.sender == Actor("omar", "User")
    pr = event.pull_request
    assert (pr.number, pr.head_ref, pr.base_ref, pr.head_repository) == (42, "feature-login", "main", "acme/shop")
    assert (pr.head_sha, pr.url) == (HEAD_SHA, "https://github.com/acme/shop/pull/42")
    assert (pr.title, pr.author, pr.labels) == (
        "Sign in with a one-time code",
        Actor("nadia", "User"),
        ("envbot:provision",),
    )


def test_pull_request_closed_without_merging() -> None:
    event = load_event("pull_request", path_of(PR_CLOSED))
    assert isinstance(event, PullRequestClosed)
    assert (event.merged, event.merged_by, event.pull_request.number) == (False, None, 42)


def test_pull_request_from_a_fork_names_the_fork() -> None:
    event = load_event("pull_request", path_of(PR_FROM_FORK))
    assert isinstance(event, PullRequestClosed) and event.merged
    pr = event.pull_request
    assert (pr.number, pr.head_ref, pr.head_repository, pr.author) == (
        57,
        "feature-login",
        "mallory/shop",
        Actor("mallory", "User"),
    )
    assert event.repository == "acme/shop"


def test_pull_request_whose_fork_was_deleted_has_no_head_repository() -> None:
    event = load_event("pull_request", path_of(PR_FORK_DELETED))
    assert isinstance(event, PullRequestClosed) and not event.merged
    assert (event.pull_request.number, event.pull_request.head_ref) == (58, "feature-login")
    assert event.pull_request.head_repository is None


def test_a_deleted_fork_is_told_apart_from_a_payload_without_head_repo() -> None:
    deleted = load_event("pull_request", path_of(PR_FORK_DELETED))
    assert isinstance(deleted, PullRequestClosed)
    assert (deleted.pull_request.head_repository_deleted, deleted.pull_request.head_label) == (
        True,
        "mallory:feature-login",
    )
    own = parse_event("pull_request", payload(PR_MERGED))
    assert isinstance(own, PullRequestClosed)
    assert (own.pull_request.head_repository_deleted, own.pull_request.head_label) == (False, "acme:feature-login")
    old = parse_event("pull_request", _drop(payload(PR_MERGED), "pull_request.head.repo"))
    assert isinstance(old, PullRequestClosed)
    assert (old.pull_request.head_repository, old.pull_request.head_repository_deleted) == (None, False)
    odd_label = parse_event("pull_request", payload(PR_FORK_DELETED, pull_request__head__label=7))
    assert isinstance(odd_label, PullRequestClosed) and odd_label.pull_request.head_label is None


@pytest.mark.parametrize(
    ("scenario", "changes", "state"),
    [
        (PR_LABELED, {}, "open"),
        (PR_CLOSED, {}, "closed"),
        (PR_MERGED, {}, "merged"),
        (PR_LABELED, {"pull_request__state": "closed"}, "closed"),
        (PR_LABELED, {"pull_request__state": "closed", "pull_request__merged": True}, "merged"),
        (PR_MERGED, {"pull_request__merged": None}, "merged"),  # old payloads: merged_at tells
        (PR_LABELED, {"pull_request__state": None}, None),
        (PR_LABELED, {"pull_request__state": "draft"}, None),
    ],
)
def test_the_pull_request_state_is_read(scenario: str, changes: dict[str, Any], state: str | None) -> None:
    event = parse_event("pull_request", payload(scenario, **changes))
    assert isinstance(event, PullRequestClosed | PullRequestLabeled)
    assert event.pull_request.state == state


@pytest.mark.parametrize(
    ("changes", "visibility"),
    [
        ({}, "public"),
        ({"repository__visibility": "private", "repository__private": True}, "private"),
        ({"repository__visibility": "internal", "repository__private": True}, "internal"),
        ({"repository__visibility": None, "repository__private": True}, "private"),
        ({"repository__visibility": None, "repository__private": False}, "public"),
        ({"repository__visibility": "PUBLIC", "repository__private": True}, "public"),
        ({"repository__visibility": None, "repository__private": None}, None),
        ({"repository__visibility": 3, "repository__private": "yes"}, None),
        ({"repository": None}, None),
    ],
)
@pytest.mark.parametrize("scenario", [PR_LABELED, PR_COMMENT, BRANCH_CREATE, DISPATCH])
def test_the_repository_visibility_is_read(scenario: str, changes: dict[str, Any], visibility: str | None) -> None:
    event = parse_event(event_name_of(scenario), payload(scenario, **changes))
    assert event.repository_visibility == visibility


def test_pull_request_labeled() -> None:
    event = load_event("pull_request", path_of(PR_LABELED))
    assert isinstance(event, PullRequestLabeled)
    assert (event.label, event.pull_request.number, event.pull_request.labels) == (
        "envbot:provision",
        42,
        ("envbot:provision",),
    )
    assert event.sender == Actor("nadia", "User")


def test_comment_with_a_command_on_a_pull_request() -> None:
    event = load_event("issue_comment", path_of(PR_COMMENT))
    assert isinstance(event, IssueComment)
    assert (event.action, event.issue_number, event.on_pull_request, event.body) == ("created", 42, True, "/provision")
    assert (event.author, event.comment_id) == (Actor("nadia", "User"), 2730419001)
    assert event.url == "https://github.com/acme/shop/pull/42#issuecomment-2730419001"


def test_comment_on_a_plain_issue() -> None:
    event = load_event("issue_comment", path_of(ISSUE_COMMENT))
    assert isinstance(event, IssueComment)
    assert (event.issue_number, event.on_pull_request, event.body) == (40, False, "/provision")


def test_a_comment_without_its_author_is_the_senders() -> None:
    document = payload(ISSUE_COMMENT)
    del document["comment"]["user"], document["comment"]["id"]
    event = parse_event("issue_comment", document)
    assert isinstance(event, IssueComment)
    assert (event.author, event.comment_id) == (Actor("nadia", "User"), None)


@pytest.mark.parametrize(
    ("scenario", "action", "body"), [(COMMENT_EDITED, "edited", "/destroy"), (COMMENT_DELETED, "deleted", "/provision")]
)
def test_edited_and_deleted_comments(scenario: str, action: str, body: str) -> None:
    event = load_event("issue_comment", path_of(scenario))
    assert isinstance(event, IssueComment)
    assert (event.action, event.issue_number, event.on_pull_request, event.body) == (action, 42, True, body)


def test_workflow_dispatch_inputs() -> None:
    event = load_event("workflow_dispatch", path_of(DISPATCH))
    assert isinstance(event, WorkflowDispatch)
    assert dict(event.inputs) == {
        "action": "provision",
        "environment": "",
        "branch": "feature-checkout",
        "template": "",
    }
    assert (event.branch, event.workflow, event.sender) == (
        "main",
        ".github/workflows/envbot.yml",
        Actor("omar", "User"),
    )


@pytest.mark.parametrize("ref", ["started", "refs/tags/v1.4.0", "refs/heads/", None])
def test_workflow_dispatch_on_something_else_than_a_branch(ref: str | None) -> None:
    event = parse_event("workflow_dispatch", payload(DISPATCH, ref=ref))
    assert isinstance(event, WorkflowDispatch)
    assert (event.ref, event.branch) == (ref, None)


def test_workflow_dispatch_typed_inputs_become_strings() -> None:
    document = payload(DISPATCH, inputs={"dry": True, "count": 3, "skipped": None, "action": "destroy"})
    event = parse_event("workflow_dispatch", document)
    assert isinstance(event, WorkflowDispatch)
    assert dict(event.inputs) == {"dry": "true", "count": "3", "action": "destroy"}
    with pytest.raises(TypeError):
        event.inputs["x"] = "y"  # type: ignore[index]


def test_schedule() -> None:
    # GitHub sends no webhook for a schedule; the Actions event file holds the cron expression and the repository.
    assert load_event("schedule", path_of(SCHEDULE)) == Schedule(cron="17 * * * *", repository="acme/shop")
    assert parse_event("schedule", {}) == Schedule()


@pytest.mark.parametrize(
    ("name", "scenario", "reason"),
    [
        ("ping", PING, "ping: GitHub is checking the webhook"),
        ("push", PUSH, "push events are not acted on"),
        ("status", STATUS, "status events are not acted on"),
        ("pull_request", PR_OPENED, "pull_request 'opened' is not acted on"),
        ("pull_request", PR_SYNCHRONIZE, "pull_request 'synchronize' is not acted on"),
        ("pull_request", PR_UNLABELED, "pull_request 'unlabeled' is not acted on"),
        ("pull_request", PR_REOPENED, "pull_request 'reopened' is not acted on"),
    ],
)
def test_everything_else_is_unsupported_with_a_reason(name: str, scenario: str, reason: str) -> None:
    event = load_event(name, path_of(scenario))
    assert isinstance(event, Unsupported)
    assert event.event_name == name
    assert reason in event.reason
    assert event.repository == "acme/shop"


def test_bot_senders_are_recognised() -> None:
    event = load_event("status", path_of(STATUS))
    assert event.sender == Actor("envbot-acme[bot]", "Bot")
    assert event.sender.is_bot
    assert Actor("renovate[bot]").is_bot
    assert Actor("github-actions[BOT]", "User").is_bot
    assert not Actor("robot", "User").is_bot
    assert not Actor("octocat", "Organization").is_bot


@pytest.mark.parametrize("scenario", scenarios())
def test_every_own_payload_parses_into_a_frozen_event(scenario: str) -> None:
    event = load_event(event_name_of(scenario), path_of(scenario))
    assert dataclasses.is_dataclass(event)
    assert event.repository == "acme/shop"
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.repository = "x/y"  # type: ignore[misc]


# -- tolerance: older payloads lack newer fields -----------------------------------------------------------------------


def _drop(document: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    node = document
    for part in parents:
        node = node[part]
    del node[last]
    return document


@pytest.mark.parametrize(
    ("name", "scenario", "dropped"),
    [
        ("pull_request", PR_MERGED, "pull_request.merged"),  # very old payloads: merged_at still tells
        ("pull_request", PR_MERGED, "pull_request.merged_by"),
        ("pull_request", PR_MERGED, "pull_request.head.repo"),
        ("pull_request", PR_MERGED, "pull_request.labels"),
        ("pull_request", PR_MERGED, "number"),  # pull_request.number is enough
        ("pull_request", PR_MERGED, "repository"),
        ("pull_request", PR_MERGED, "sender"),
        ("issue_comment", PR_COMMENT, "comment.user"),
        ("issue_comment", PR_COMMENT, "comment.id"),
        ("issue_comment", PR_COMMENT, "comment.body"),
        ("create", BRANCH_CREATE, "master_branch"),
        ("create", BRANCH_CREATE, "sender.type"),
        ("workflow_dispatch", DISPATCH, "inputs"),
        ("workflow_dispatch", DISPATCH, "workflow"),
    ],
)
def test_missing_optional_fields_are_tolerated(name: str, scenario: str, dropped: str) -> None:
    event = parse_event(name, _drop(payload(scenario), dropped))
    assert not isinstance(event, Unsupported)


def test_merged_is_read_from_merged_at_when_merged_is_absent() -> None:
    event = parse_event("pull_request", _drop(payload(PR_MERGED), "pull_request.merged"))
    assert isinstance(event, PullRequestClosed)
    assert event.merged is True
    unmerged = parse_event("pull_request", _drop(payload(PR_CLOSED), "pull_request.merged"))
    assert isinstance(unmerged, PullRequestClosed) and unmerged.merged is False


def test_repository_from_owner_and_name_when_full_name_is_absent() -> None:
    event = parse_event("create", _drop(payload(BRANCH_CREATE), "repository.full_name"))
    assert event.repository == "acme/shop"


def test_workflow_dispatch_inputs_may_be_null() -> None:
    # A workflow that declares no inputs is dispatched with "inputs": null.
    event = parse_event("workflow_dispatch", payload(DISPATCH, inputs=None))
    assert isinstance(event, WorkflowDispatch) and dict(event.inputs) == {}


# -- broken payloads: one line, a PayloadError, never a KeyError -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "scenario", "dropped", "message"),
    [
        ("create", BRANCH_CREATE, "ref", "create event payload: ref is missing"),
        ("create", BRANCH_CREATE, "ref_type", "create event payload: ref_type is missing"),
        ("pull_request", PR_MERGED, "action", "pull_request event payload: action is missing"),
        ("pull_request", PR_MERGED, "pull_request", "pull_request event payload: pull_request is missing"),
        (
            "pull_request",
            PR_MERGED,
            "pull_request.head",
            "pull_request event payload: pull_request.head.ref is missing",
        ),
        (
            "pull_request",
            PR_MERGED,
            "pull_request.head.ref",
            "pull_request event payload: pull_request.head.ref is missing",
        ),
        ("pull_request", PR_LABELED, "label", "pull_request event payload: label.name is missing"),
        ("issue_comment", PR_COMMENT, "issue", "issue_comment event payload: issue is missing"),
        ("issue_comment", PR_COMMENT, "comment", "issue_comment event payload: comment is missing"),
        ("issue_comment", PR_COMMENT, "issue.number", "issue_comment event payload: issue.number is missing"),
    ],
)
def test_missing_required_fields(name: str, scenario: str, dropped: str, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_event(name, _drop(payload(scenario), dropped))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ref": 7}, "create event payload: ref must be a string, got a number"),
        ({"ref": ""}, "create event payload: ref is empty"),
        ({"sender": "nadia"}, "create event payload: sender must be an object, got a string"),
        ({"sender": {"type": "User"}}, "create event payload: sender.login is missing"),
        ({"repository": []}, "create event payload: repository must be an object, got a list"),
    ],
)
def test_wrong_types(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_event("create", payload(BRANCH_CREATE, **change))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": "42"}, "number must be a positive integer, got a string"),
        ({"number": True}, "number must be a positive integer, got a boolean"),
        ({"number": -1}, "number must be a positive integer, got a number"),
        ({"pull_request__merged": "yes"}, "pull_request.merged must be true or false, got a string"),
    ],
)
def test_pull_request_numbers_and_flags(change: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_event("pull_request", payload(PR_MERGED, **change))


@pytest.mark.parametrize(
    ("name", "document", "message"),
    [
        ("", {}, "no event name: set GITHUB_EVENT_NAME or pass --event-name"),
        ("   ", {}, "no event name"),
        ("Pull Request", {}, "is not a GitHub event name"),
        ("x" * 500, {}, "is not a GitHub event name"),
        ("push", [], "push event payload: must be a JSON object, got a list"),
        ("push", None, "push event payload: must be a JSON object, got null"),
        ("workflow_dispatch", {"inputs": ["a"]}, "inputs must be an object, got a list"),
        ("workflow_dispatch", {"inputs": {"a": {"b": 1}}}, "inputs.a must be a string, number or boolean"),
        ("workflow_dispatch", {"inputs": {str(i): "x" for i in range(51)}}, "at most 50 are read"),
    ],
)
def test_malformed_documents(name: str, document: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as caught:
        parse_event(name, document)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UserError)


_MISSING = object()


def _fields(document: dict[str, Any]) -> list[str]:
    """Every top-level and second-level field of a payload, dotted."""
    found: list[str] = []
    for key, value in document.items():
        found.append(key)
        if isinstance(value, dict):
            found.extend(f"{key}.{inner}" for inner in value)
    return found


@pytest.mark.parametrize(
    "scenario",
    [BRANCH_CREATE, BRANCH_DELETE, PR_MERGED, PR_LABELED, PR_FORK_DELETED, PR_COMMENT, ISSUE_COMMENT, DISPATCH],
)
def test_any_field_removed_or_replaced_gives_an_event_or_a_payload_error(scenario: str) -> None:
    name = event_name_of(scenario)
    for dotted in _fields(payload(scenario)):
        for replacement in (_MISSING, None, [], 0, "", {"x": 1}, True):
            document = payload(scenario)
            *parents, last = dotted.split(".")
            node = document
            for part in parents:
                node = node[part]
            if replacement is _MISSING:
                del node[last]
            else:
                node[last] = replacement
            try:
                parse_event(name, document)
            except PayloadError as exc:
                assert "\n" not in str(exc)


# -- the loader --------------------------------------------------------------------------------------------------------


def test_truncated_files_say_so(tmp_path: Path) -> None:
    data = path_of(PR_MERGED).read_bytes()
    for cut in (1, 100, len(data) // 2, len(data) - 2):
        file = tmp_path / "event.json"
        file.write_bytes(data[:cut])
        with pytest.raises(PayloadError) as caught:
            load_event("pull_request", file)
        message = str(caught.value)
        assert message.startswith(f"event payload {file}: not valid JSON (")
        assert "is the file truncated?" in message
        assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b'{"a": "\xc3\x28"}', "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'"just a string"', "must be a JSON object, got a string"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    file = tmp_path / "event.json"
    file.write_bytes(content)
    with pytest.raises(PayloadError, match=message):
        load_event("push", file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PayloadError, match=r"event payload .*nope.json: file not found"):
        load_event("push", tmp_path / "nope.json")


def test_oversized_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.events.payloads.MAX_PAYLOAD_BYTES", 1000)
    file = tmp_path / "event.json"
    file.write_text(json.dumps({"zen": "x" * 2000}))
    with pytest.raises(PayloadError, match="larger than 1000 bytes"):
        load_event("ping", file)
