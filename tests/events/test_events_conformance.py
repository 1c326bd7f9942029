"""Conformance: the payload parser on every real recorded webhook (../shared scenario index), real and own payloads
giving the same intent for each scenario, and our own payloads checked against GitHub's webhook JSON schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.action import load_event
from bot.environment.model import Origin, OriginKind
from bot.events.comments import Command, Ignore
from bot.events.config import BranchRule, EventsConfig
from bot.events.intents import Intent, Provision, Reconcile, RunCommand
from bot.events.naming import environment_name
from bot.events.payloads import (
    Actor,
    BranchCreated,
    IssueComment,
    PullRequestClosed,
    PullRequestLabeled,
    TagCreated,
    TagDeleted,
    Unsupported,
    WorkflowDispatch,
    parse_event,
)
from bot.events.routing import to_intent
from bot.forge.model import Permission
from tests.events.support import (
    BRANCH_CREATE,
    BRANCH_DELETE,
    COMMENT_DELETED,
    COMMENT_EDITED,
    DISPATCH,
    DISPATCH_DEFAULTS,
    ISSUE_COMMENT,
    PING,
    PR_CLOSED,
    PR_COMMENT,
    PR_LABELED,
    PR_MERGED,
    PR_OPENED,
    PR_REOPENED,
    PR_SYNCHRONIZE,
    PR_UNLABELED,
    PUSH,
    REAL_WEBHOOKS,
    SCHEDULE,
    STATUS,
    TAG_CREATE,
    TAG_DELETE,
    real_event_name_of,
    real_path,
    real_payload,
    real_payload_files,
)
from tests.webhooks import event_name_of, payload, scenarios

pytestmark = pytest.mark.conformance

OCTOKIT = "octokit-webhooks/api.github.com"
CONFIG = EventsConfig(branches=(BranchRule("feature*", "t.yaml"),), default_template="t.yaml")


def real_event(relative: str) -> Any:
    return load_event(real_event_name_of(relative), real_path(relative))


# -- every real payload parses --------------------------------------------------------------------------------------


def test_every_real_payload_parses_into_a_frozen_event() -> None:
    files = real_payload_files()
    assert len(files) > 80, REAL_WEBHOOKS
    for relative in files:
        event = real_event(relative)
        assert dataclasses.is_dataclass(event), relative
        with pytest.raises(dataclasses.FrozenInstanceError):
            event.repository = "x/y"  # type: ignore[misc]


# -- the scenario index of SOURCES.md: what real payloads hold, read as recorded --------------------------------------


def test_branch_created_from_drone() -> None:
    assert real_event("drone-go-scm/branch_create.json") == BranchCreated(
        ref="feature-branch",
        default_branch="master",
        repository="bradrydzewski/drone-test-go",
        sender=Actor("bradrydzewski", "User"),
    )


@pytest.mark.parametrize(
    ("relative", "kind", "ref"),
    [
        ("drone-go-scm/tag_create.json", TagCreated, "v0.0.1"),
        ("drone-go-scm/tag_delete.json", TagDeleted, "v0.0.1"),
        ("go-playground-webhooks/create.json", TagCreated, "0.0.1"),
        ("go-playground-webhooks/delete.json", TagDeleted, "simple-tag"),
        (f"{OCTOKIT}/create/payload.json", TagCreated, "simple-tag"),
        (f"{OCTOKIT}/delete/with-installation.payload.json", TagDeleted, "simple-tag"),
    ],
)
def test_real_tags_are_their_own_events(relative: str, kind: type, ref: str) -> None:
    event = real_event(relative)
    assert isinstance(event, kind)
    assert event.ref == ref


def test_merged_pull_request_from_create_issue_branch() -> None:
    event = real_event("create-issue-branch/pull_request.closed.json")
    assert isinstance(event, PullRequestClosed)
    assert (event.merged, event.merged_by) == (True, Actor("robvanderleek", "User"))
    pr = event.pull_request
    assert (pr.number, pr.head_ref, pr.base_ref) == (117, "issue-111-robvanderleek-patch-1", "main")
    assert pr.head_repository == "robvanderleek/create-issue-branch"
    assert pr.head_sha == "59a63ccd828afb5fc4739ad8d3176d5c36eaebf6"
    assert pr.url == "https://github.com/robvanderleek/create-issue-branch/pull/117"


def test_drone_pull_request_keeps_its_reversed_refs() -> None:
    # SOURCES.md caveat 5: head.ref=master, base.ref=bradrydzewski-patch-1; taken as written.
    event = real_event("drone-go-scm/pr_closed.json")
    assert isinstance(event, PullRequestClosed) and event.merged is False
    assert (event.pull_request.head_ref, event.pull_request.base_ref) == ("master", "bradrydzewski-patch-1")


@pytest.mark.parametrize(
    ("relative", "number", "labels"),
    [
        (f"{OCTOKIT}/pull_request/labeled.payload.json", 2, ("bug",)),
        ("drone-go-scm/pr_labeled.json", 1, ("bug", "documentation")),
        ("create-issue-branch/pull_request.labeled.json", 675, ("bug",)),
    ],
)
def test_real_pull_request_labeled(relative: str, number: int, labels: tuple[str, ...]) -> None:
    event = real_event(relative)
    assert isinstance(event, PullRequestLabeled)
    assert (event.label, event.pull_request.number, event.pull_request.labels) == ("bug", number, labels)


def test_real_comment_with_a_command_on_a_pull_request() -> None:
    event = real_event("go-playground-webhooks/pull-request-issue-comment.json")
    assert isinstance(event, IssueComment)
    assert (event.action, event.issue_number, event.on_pull_request, event.body) == ("created", 3, True, "/build")
    assert (event.author, event.comment_id) == (Actor("chhsia0", "User"), 546616131)


def test_real_comment_without_its_author_is_the_senders() -> None:
    # create-issue-branch's comment holds only a body: the sender stands in for the author.
    event = real_event("create-issue-branch/issue_comment.created.json")
    assert isinstance(event, IssueComment)
    assert (event.on_pull_request, event.body, event.comment_id) == (False, "/create-issue-branch", None)
    assert event.author == Actor("robvanderleek", "User")


def test_real_workflow_dispatch_inputs_and_an_odd_ref() -> None:
    event = real_event(f"{OCTOKIT}/workflow_dispatch/payload.json")
    assert isinstance(event, WorkflowDispatch)
    assert dict(event.inputs) == {"name": "Mona the Octocat"}
    assert (event.branch, event.workflow) == ("master", ".github/workflows/hello-world-workflow.yml")
    odd = real_event("go-playground-webhooks/workflow_dispatch.json")  # SOURCES.md caveat 5: ref "started"
    assert isinstance(odd, WorkflowDispatch) and (odd.ref, odd.branch) == ("started", None)


def test_real_bot_senders_are_recognised() -> None:
    event = real_event(f"{OCTOKIT}/check_suite/rerequested.payload.json")
    assert isinstance(event, Unsupported)
    assert event.sender == Actor("octocoders-linter[bot]", "Bot") and event.sender.is_bot


@pytest.mark.parametrize(
    "relative",
    [
        f"{OCTOKIT}/pull_request/labeled.payload.json",
        "drone-go-scm/pr_labeled.json",
        "create-issue-branch/pull_request.labeled.json",
    ],
)
def test_the_provision_label_on_a_real_payload_provisions_its_pull_request(relative: str) -> None:
    document = real_payload(relative, label__name="envbot:provision")
    intent = to_intent(parse_event("pull_request", document), CONFIG)
    assert isinstance(intent, Provision)
    pr = document["pull_request"]
    assert intent.environment_name == environment_name(pr["head"]["ref"])
    assert intent.origin == Origin(
        OriginKind.PULL_REQUEST,
        repository=document["repository"]["full_name"],
        branch=pr["head"]["ref"],
        pull_request=pr["number"],
    )
    assert (intent.requested_by, intent.required, intent.pr_number) == (
        document["sender"]["login"],
        Permission.WRITE,
        pr["number"],
    )


# -- real and own payloads agree on each scenario -------------------------------------------------------------------

_WHY = (
    "tags are ignored",
    "matches no configured branch pattern",
    "destroyOnCloseUnmerged is off",
    "is not 'envbot:provision'",
    "is not acted on (only closed and labeled are)",
    "only new comments are read",
    "is an issue, not a pull request",
    "GitHub is checking the webhook",
    "push events are not acted on",
    "events are not acted on",
)


def verdict(intent: Intent) -> str:
    """What an intent decides, without the names and numbers of the payload it came from."""
    match intent:
        case Ignore():
            return "ignore: " + next((why for why in _WHY if why in intent.reason), intent.reason)
        case Provision():
            return f"provision a {intent.origin.kind.value} environment"
        case RunCommand():
            return f"run /{intent.command.name}" if isinstance(intent.command, Command) else "reply"
        case Reconcile():
            return "reconcile every environment" if intent.names is None else "reconcile some"
        case _:
            return type(intent).__name__.lower() + (" for a pull request" if getattr(intent, "pr_number", None) else "")


@dataclass(frozen=True)
class Scenario:
    """One row of the scenario index: our payload, the real ones, and changes made to all of them alike."""

    id: str
    own: str
    octokit: tuple[str, ...] = ()
    """octokit/webhooks examples, relative to its ``api.github.com/<event>`` folder."""
    others: tuple[str, ...] = ()
    """Other real payloads, relative to github-webhooks."""
    changes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def real(self) -> tuple[str, ...]:
        event = event_name_of(self.own)
        return (*(f"{OCTOKIT}/{event}/{name}" for name in self.octokit), *self.others)


SCENARIOS = [
    Scenario("branch-created", BRANCH_CREATE, others=("drone-go-scm/branch_create.json",)),
    Scenario("branch-deleted", BRANCH_DELETE, others=("drone-go-scm/branch_delete.json",)),
    Scenario(
        "tag-created",
        TAG_CREATE,
        (
            "payload.json",
            "with-description.payload.json",
            "with-installation.payload.json",
            "with-organization.payload.json",
        ),
        ("drone-go-scm/tag_create.json", "go-playground-webhooks/create.json"),
    ),
    Scenario(
        "tag-deleted",
        TAG_DELETE,
        ("payload.json", "with-installation.payload.json", "with-organization.payload.json"),
        ("drone-go-scm/tag_delete.json", "go-playground-webhooks/delete.json"),
    ),
    Scenario(
        "push",
        PUSH,
        (
            "1.payload.json",
            "payload.json",
            "with-installation.payload.json",
            "with-new-branch.payload.json",
            "with-no-username-committer.payload.json",
            "with-organization.payload.json",
        ),
        (
            "drone-go-scm/push.json",
            "drone-go-scm/push_branch_create.json",
            "drone-go-scm/push_branch_delete.json",
            "go-playground-webhooks/push.json",
        ),
    ),
    Scenario(
        "pull-request-opened",
        PR_OPENED,
        ("opened.payload.json", "opened.with-null-body.json", "opened.with-organization.payload.json"),
        (
            "drone-go-scm/pr_opened.json",
            "create-issue-branch/pull_request.opened.json",
            "go-playground-webhooks/pull-request.json",
        ),
    ),
    Scenario("pull-request-merged", PR_MERGED, others=("create-issue-branch/pull_request.closed.json",)),
    Scenario(
        "pull-request-closed-unmerged",
        PR_CLOSED,
        ("closed.payload.json", "closed.with-organization.payload.json"),
        ("drone-go-scm/pr_closed.json",),
    ),
    Scenario(
        "provision-label-added",
        PR_LABELED,
        ("labeled.payload.json", "labeled.with-organization.payload.json"),
        ("drone-go-scm/pr_labeled.json", "create-issue-branch/pull_request.labeled.json"),
        {"label__name": "envbot:provision"},
    ),
    Scenario(
        "another-label-added",
        PR_LABELED,
        ("labeled.payload.json",),
        ("drone-go-scm/pr_labeled.json",),
        {"label__name": "bug"},
    ),
    Scenario(
        "label-removed",
        PR_UNLABELED,
        ("unlabeled.payload.json", "unlabeled.with-organization.payload.json"),
        ("drone-go-scm/pr_unlabeled.json",),
    ),
    Scenario(
        "pull-request-synchronized", PR_SYNCHRONIZE, ("synchronize.payload.json",), ("drone-go-scm/pr_sync.json",)
    ),
    Scenario(
        "pull-request-reopened",
        PR_REOPENED,
        ("reopened.payload.json", "reopened.with-organization.payload.json"),
        ("drone-go-scm/pr_reopened.json",),
    ),
    Scenario(
        "command-on-a-pull-request",
        PR_COMMENT,
        others=("go-playground-webhooks/pull-request-issue-comment.json", "drone-go-scm/comment.json"),
        changes={"comment__body": "/provision"},
    ),
    Scenario(
        "command-on-a-plain-issue",
        ISSUE_COMMENT,
        (
            "created.payload.json",
            "created.1.payload.json",
            "created.with-installation.payload.json",
            "created.with-organization.payload.json",
        ),
        ("go-playground-webhooks/issue-comment.json", "create-issue-branch/issue_comment.created.json"),
        {"comment__body": "/provision"},
    ),
    Scenario("comment-edited", COMMENT_EDITED, ("edited.payload.json", "edited.with-organization.payload.json")),
    Scenario("comment-deleted", COMMENT_DELETED, ("deleted.payload.json", "deleted.with-organization.payload.json")),
    Scenario(
        "dispatch-without-an-action",
        DISPATCH_DEFAULTS,
        ("payload.json",),
        ("go-playground-webhooks/workflow_dispatch.json",),
    ),
    Scenario(
        "dispatch-provision-of-a-branch",
        DISPATCH,
        ("payload.json",),
        changes={"inputs": {"action": "provision", "branch": "feature-checkout"}},
    ),
    Scenario("ping", PING, ("payload.json", "with-app_id.payload.json", "with-organization.payload.json")),
    Scenario(
        "commit-status",
        STATUS,
        ("payload.json", "with-author-committer-null.payload.json", "with-installation.payload.json"),
        ("drone-go-scm/status.json", "go-playground-webhooks/status.json"),
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_real_payloads_give_the_intent_our_payload_gives(scenario: Scenario) -> None:
    name = event_name_of(scenario.own)
    expected = verdict(to_intent(parse_event(name, payload(scenario.own, **scenario.changes)), CONFIG))
    for relative in scenario.real:
        assert real_event_name_of(relative) == name, relative
        document = real_payload(relative, **scenario.changes)
        assert verdict(to_intent(parse_event(name, document), CONFIG)) == expected, relative


def test_the_scenarios_cover_every_real_payload_but_the_checks() -> None:
    covered = {relative for scenario in SCENARIOS for relative in scenario.real}
    left = {relative for relative in real_payload_files() if relative not in covered}
    assert {real_event_name_of(relative) for relative in left} <= {"check_run", "check_suite", "pull_request"}
    assert {relative for relative in left if real_event_name_of(relative) == "pull_request"} == {
        f"{OCTOKIT}/pull_request/ready_for_review.{variant}json"
        for variant in ("payload.", "with-installation.payload.", "with-organization.payload.")
    }


# -- our own payloads against GitHub's webhook schemas (octokit/webhooks) -------------------------------------------


def _schemas() -> Path:
    return REAL_WEBHOOKS / "schemas" / "api.github.com"


@functools.cache
def _registry() -> Registry:
    def retrieve(uri: str) -> Resource:
        return Resource.from_contents(json.loads((_schemas() / uri).read_text(encoding="utf-8")), DRAFT7)

    return Registry(retrieve=retrieve)


_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 with a zone, as GitHub writes timestamps (jsonschema checks date-time only with an extra)."""
    return not isinstance(value, str) or dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def schema_of(event: str, action: object) -> jsonschema.Draft7Validator | None:
    """The validator of GitHub's schema for one event and action (``<event>/<action>``, else ``<event>/event``)."""
    candidates = ([f"{action}.schema.json"] if isinstance(action, str) else []) + ["event.schema.json"]
    for name in candidates:
        path = _schemas() / event / name
        if path.is_file():
            schema = json.loads(path.read_text(encoding="utf-8"))
            return jsonschema.Draft7Validator(schema, registry=_registry(), format_checker=_FORMATS)
    return None


def _problems(validator: jsonschema.Draft7Validator, document: Any) -> list[str]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}" for e in errors]


@pytest.mark.parametrize("scenario", scenarios())
def test_our_payload_is_valid_for_githubs_schema(scenario: str) -> None:
    document = payload(scenario)
    validator = schema_of(event_name_of(scenario), document.get("action"))
    if validator is None:
        assert scenario == SCHEDULE  # an Actions event file, not a webhook: GitHub publishes no schema for it
        return
    assert _problems(validator, document) == []


@pytest.mark.parametrize(
    ("scenario", "change", "where"),
    [
        (PR_MERGED, {"pull_request__merged_by": "omar"}, "pull_request"),
        (PR_COMMENT, {"comment__reactions": None}, "comment.reactions"),
        (BRANCH_CREATE, {"ref_type": "repository"}, "ref_type"),
        (DISPATCH, {"installation": {"id": 1}}, "installation"),
        (PR_LABELED, {"pull_request__created_at": "9 March 2026"}, "pull_request"),
    ],
)
def test_the_schemas_do_catch_a_payload_github_would_not_send(
    scenario: str, change: dict[str, Any], where: str
) -> None:
    document = payload(scenario, **change)
    validator = schema_of(event_name_of(scenario), document.get("action"))
    assert validator is not None
    problems = _problems(validator, document)
    assert problems and all(problem.startswith(where) for problem in problems), problems
