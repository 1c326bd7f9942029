"""Webhook payloads → typed events: every real payload of ../shared, old and partial shapes, and broken files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

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
    load_event,
    parse_event,
)
from tests.events.support import (
    BRANCH_CREATE,
    BRANCH_DELETE,
    DISPATCH,
    ISSUE_COMMENT,
    PR_CLOSED,
    PR_COMMENT,
    PR_LABELED,
    PR_MERGED,
    event_name_of,
    path_of,
    payload,
    payload_files,
)

# -- the scenario index of SOURCES.md, one real file each --------------------------------------------------------


def test_branch_created_from_drone() -> None:
    event = load_event("create", path_of(BRANCH_CREATE))
    assert event == BranchCreated(
        ref="feature-branch",
        default_branch="master",
        repository="bradrydzewski/drone-test-go",
        sender=Actor("bradrydzewski", "User"),
    )


def test_branch_deleted_from_drone() -> None:
    event = load_event("delete", path_of(BRANCH_DELETE))
    assert isinstance(event, BranchDeleted)
    assert event.ref == "feature-branch"


@pytest.mark.parametrize(
    ("name", "relative", "kind", "ref"),
    [
        ("create", "drone-go-scm/tag_create.json", TagCreated, "v0.0.1"),
        ("delete", "drone-go-scm/tag_delete.json", TagDeleted, "v0.0.1"),
        ("create", "go-playground-webhooks/create.json", TagCreated, "0.0.1"),
        ("delete", "go-playground-webhooks/delete.json", TagDeleted, "simple-tag"),
        ("create", "octokit-webhooks/api.github.com/create/payload.json", TagCreated, "simple-tag"),
        ("delete", "octokit-webhooks/api.github.com/delete/with-installation.payload.json", TagDeleted, "simple-tag"),
    ],
)
def test_tags_are_their_own_events(name: str, relative: str, kind: type, ref: str) -> None:
    event = load_event(name, path_of(relative))
    assert isinstance(event, kind)
    assert event.ref == ref


def test_merged_pull_request_from_create_issue_branch() -> None:
    event = load_event("pull_request", path_of(PR_MERGED))
    assert isinstance(event, PullRequestClosed)
    assert event.merged is True
    assert event.merged_by == Actor("robvanderleek", "User")
    pr = event.pull_request
    assert (pr.number, pr.head_ref, pr.base_ref) == (117, "issue-111-robvanderleek-patch-1", "main")
    assert pr.head_repository == "robvanderleek/create-issue-branch"
    assert pr.head_sha == "59a63ccd828afb5fc4739ad8d3176d5c36eaebf6"
    assert pr.url == "https://github.com/robvanderleek/create-issue-branch/pull/117"


@pytest.mark.parametrize(
    "relative",
    [
        PR_CLOSED,
        "octokit-webhooks/api.github.com/pull_request/closed.with-organization.payload.json",
        "drone-go-scm/pr_closed.json",
    ],
)
def test_pull_requests_closed_without_merging(relative: str) -> None:
    event = load_event("pull_request", path_of(relative))
    assert isinstance(event, PullRequestClosed)
    assert event.merged is False
    assert event.merged_by is None


def test_drone_pull_request_keeps_its_reversed_refs() -> None:
    # SOURCES.md caveat 5: head.ref=master, base.ref=bradrydzewski-patch-1; taken as written.
    event = load_event("pull_request", path_of("drone-go-scm/pr_closed.json"))
    assert isinstance(event, PullRequestClosed)
    assert (event.pull_request.head_ref, event.pull_request.base_ref) == ("master", "bradrydzewski-patch-1")


@pytest.mark.parametrize(
    ("relative", "number", "labels"),
    [
        (PR_LABELED, 2, ("bug",)),
        ("drone-go-scm/pr_labeled.json", 1, ("bug", "documentation")),
        ("create-issue-branch/pull_request.labeled.json", 675, ("bug",)),
    ],
)
def test_pull_request_labeled(relative: str, number: int, labels: tuple[str, ...]) -> None:
    event = load_event("pull_request", path_of(relative))
    assert isinstance(event, PullRequestLabeled)
    assert event.label == "bug"
    assert event.pull_request.number == number
    assert event.pull_request.labels == labels


def test_comment_with_a_command_on_a_pull_request() -> None:
    event = load_event("issue_comment", path_of(PR_COMMENT))
    assert isinstance(event, IssueComment)
    assert (event.action, event.issue_number, event.on_pull_request, event.body) == ("created", 3, True, "/build")
    assert event.author == Actor("chhsia0", "User")
    assert event.comment_id == 546616131


def test_comment_on_a_plain_issue_without_comment_author() -> None:
    # create-issue-branch's comment holds only a body: the sender stands in for the author.
    event = load_event("issue_comment", path_of(ISSUE_COMMENT))
    assert isinstance(event, IssueComment)
    assert event.on_pull_request is False
    assert event.body == "/create-issue-branch"
    assert event.author == Actor("robvanderleek", "User")
    assert event.comment_id is None


@pytest.mark.parametrize("action", ["created", "edited", "deleted"])
def test_octokit_comment_actions(action: str) -> None:
    event = load_event("issue_comment", path_of(f"octokit-webhooks/api.github.com/issue_comment/{action}.payload.json"))
    assert isinstance(event, IssueComment)
    assert event.action == action
    assert event.on_pull_request is False


def test_drone_comment_on_a_pull_request() -> None:
    event = load_event("issue_comment", path_of("drone-go-scm/comment.json"))
    assert isinstance(event, IssueComment)
    assert (event.on_pull_request, event.body, event.issue_number) == (True, "trigger abc", 2)


def test_workflow_dispatch_inputs() -> None:
    event = load_event("workflow_dispatch", path_of(DISPATCH))
    assert isinstance(event, WorkflowDispatch)
    assert dict(event.inputs) == {"name": "Mona the Octocat"}
    assert event.branch == "master"
    assert event.workflow == ".github/workflows/hello-world-workflow.yml"


def test_workflow_dispatch_with_an_odd_ref() -> None:
    # SOURCES.md caveat 5: go-playground's ref is "started", not a ref.
    event = load_event("workflow_dispatch", path_of("go-playground-webhooks/workflow_dispatch.json"))
    assert isinstance(event, WorkflowDispatch)
    assert event.ref == "started"
    assert event.branch is None


def test_workflow_dispatch_typed_inputs_become_strings() -> None:
    document = payload(DISPATCH)
    document["inputs"] = {"dry": True, "count": 3, "skipped": None, "action": "destroy"}
    event = parse_event("workflow_dispatch", document)
    assert isinstance(event, WorkflowDispatch)
    assert dict(event.inputs) == {"dry": "true", "count": "3", "action": "destroy"}
    with pytest.raises(TypeError):
        event.inputs["x"] = "y"  # type: ignore[index]


def test_schedule() -> None:
    # No upstream example exists; Actions gives the cron expression under "schedule".
    event = parse_event("schedule", {"schedule": "*/30 * * * *"})
    assert event == Schedule(cron="*/30 * * * *")
    assert parse_event("schedule", {}) == Schedule()


@pytest.mark.parametrize(
    ("name", "relative", "reason"),
    [
        ("ping", "octokit-webhooks/api.github.com/ping/payload.json", "ping"),
        ("ping", "octokit-webhooks/api.github.com/ping/with-organization.payload.json", "ping"),
        ("push", "drone-go-scm/push_branch_create.json", "push"),
        ("push", "octokit-webhooks/api.github.com/push/with-new-branch.payload.json", "push"),
        ("pull_request", "octokit-webhooks/api.github.com/pull_request/opened.with-null-body.json", "opened"),
        ("pull_request", "drone-go-scm/pr_sync.json", "synchronize"),
        ("pull_request", "drone-go-scm/pr_unlabeled.json", "unlabeled"),
        ("check_suite", "octokit-webhooks/api.github.com/check_suite/rerequested.payload.json", "check_suite"),
        ("status", "drone-go-scm/status.json", "status"),
    ],
)
def test_everything_else_is_unsupported_with_a_reason(name: str, relative: str, reason: str) -> None:
    event = load_event(name, path_of(relative))
    assert isinstance(event, Unsupported)
    assert event.event_name == name
    assert reason in event.reason


def test_bot_senders_are_recognised() -> None:
    event = load_event("check_suite", path_of("octokit-webhooks/api.github.com/check_suite/rerequested.payload.json"))
    assert event.sender == Actor("octocoders-linter[bot]", "Bot")
    assert event.sender.is_bot
    assert Actor("renovate[bot]").is_bot
    assert Actor("github-actions[BOT]", "User").is_bot
    assert not Actor("robot", "User").is_bot
    assert not Actor("octocat", "Organization").is_bot


@pytest.mark.parametrize("relative", payload_files())
def test_every_real_payload_parses(relative: str) -> None:
    event = load_event(event_name_of(relative), path_of(relative))
    assert dataclasses.is_dataclass(event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.repository = "x/y"  # type: ignore[misc]


# -- tolerance: older payloads lack newer fields ------------------------------------------------------------------


def _drop(document: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    node = document
    for part in parents:
        node = node[part]
    del node[last]
    return document


@pytest.mark.parametrize(
    ("name", "relative", "dropped"),
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
def test_missing_optional_fields_are_tolerated(name: str, relative: str, dropped: str) -> None:
    event = parse_event(name, _drop(payload(relative), dropped))
    assert not isinstance(event, Unsupported)


def test_merged_is_read_from_merged_at_when_merged_is_absent() -> None:
    event = parse_event("pull_request", _drop(payload(PR_MERGED), "pull_request.merged"))
    assert isinstance(event, PullRequestClosed)
    assert event.merged is True


def test_repository_from_owner_and_name_when_full_name_is_absent() -> None:
    event = parse_event("create", _drop(payload(BRANCH_CREATE), "repository.full_name"))
    assert event.repository == "bradrydzewski/drone-test-go"


# -- broken payloads: one line, a PayloadError, never a KeyError ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "relative", "dropped", "message"),
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
        ("pull_request", PR_LABELED, "label", "pull_request event payload: label.name is missing"),
        ("issue_comment", PR_COMMENT, "issue", "issue_comment event payload: issue is missing"),
        ("issue_comment", PR_COMMENT, "comment", "issue_comment event payload: comment is missing"),
        ("issue_comment", PR_COMMENT, "issue.number", "issue_comment event payload: issue.number is missing"),
    ],
)
def test_missing_required_fields(name: str, relative: str, dropped: str, message: str) -> None:
    document = payload(relative)
    if dropped == "pull_request.head.ref":
        del document["pull_request"]["head"]["ref"]
    else:
        _drop(document, dropped)
    with pytest.raises(PayloadError) as caught:
        parse_event(name, document)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("create", {"ref": 7}, "create event payload: ref must be a string, got a number"),
        ("create", {"ref": ""}, "create event payload: ref is empty"),
        ("create", {"sender": "octocat"}, "create event payload: sender must be an object, got a string"),
        ("create", {"sender": {"type": "User"}}, "create event payload: sender.login is missing"),
        ("create", {"repository": []}, "create event payload: repository must be an object, got a list"),
    ],
)
def test_wrong_types(name: str, change: dict[str, Any], message: str) -> None:
    document = payload(BRANCH_CREATE)
    document.update(change)
    with pytest.raises(PayloadError) as caught:
        parse_event(name, document)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": "117"}, "number must be a positive integer, got a string"),
        ({"number": True}, "number must be a positive integer, got a boolean"),
        ({"number": -1}, "number must be a positive integer, got a number"),
    ],
)
def test_pull_request_numbers(change: dict[str, Any], message: str) -> None:
    document = payload(PR_MERGED)
    document.update(change)
    with pytest.raises(PayloadError, match=message):
        parse_event("pull_request", document)


def test_pull_request_merged_must_be_a_boolean() -> None:
    document = payload(PR_MERGED)
    document["pull_request"]["merged"] = "yes"
    with pytest.raises(PayloadError, match=r"pull_request.merged must be true or false, got a string"):
        parse_event("pull_request", document)


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
    ("name", "relative"),
    [
        ("create", BRANCH_CREATE),
        ("delete", BRANCH_DELETE),
        ("pull_request", PR_MERGED),
        ("pull_request", PR_LABELED),
        ("issue_comment", PR_COMMENT),
        ("issue_comment", ISSUE_COMMENT),
        ("workflow_dispatch", DISPATCH),
    ],
)
def test_any_field_removed_or_replaced_gives_an_event_or_a_payload_error(name: str, relative: str) -> None:
    for dotted in _fields(payload(relative)):
        for replacement in (_MISSING, None, [], 0, "", {"x": 1}, True):
            document = payload(relative)
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


# -- the loader ---------------------------------------------------------------------------------------------------


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
