"""Events envbot does not act on: one log line, exit 0, nothing written anywhere."""

from __future__ import annotations

import pytest

from tests.action.conftest import OpenWorld
from tests.action.support import payload

OCTOKIT = "octokit-webhooks/api.github.com"


@pytest.mark.parametrize(
    ("event", "relative", "reason"),
    [
        ("ping", f"{OCTOKIT}/ping/payload.json", "Unsupported: ping: GitHub is checking the webhook; nothing to do"),
        ("ping", f"{OCTOKIT}/ping/with-app_id.payload.json", "Unsupported: ping: GitHub is checking the webhook"),
        ("push", f"{OCTOKIT}/push/payload.json", "Unsupported: push events are not acted on"),
        ("push", "drone-go-scm/push_branch_create.json", "Unsupported: push events are not acted on"),
        ("check_run", f"{OCTOKIT}/check_run/created.payload.json", "Unsupported: check_run events are not acted on"),
        ("check_run", "drone-go-scm/check_run.json", "Unsupported: check_run events are not acted on"),
        ("check_suite", "go-playground-webhooks/check-suite.json", "Unsupported: check_suite events are not acted on"),
        ("status", "go-playground-webhooks/status.json", "Unsupported: status events are not acted on"),
        ("pull_request", f"{OCTOKIT}/pull_request/opened.payload.json", "pull_request 'opened' is not acted on"),
        ("pull_request", f"{OCTOKIT}/pull_request/synchronize.payload.json", "pull_request 'synchronize' is not"),
        ("issue_comment", f"{OCTOKIT}/issue_comment/edited.payload.json", "was edited; only new comments are read"),
    ],
)
def test_other_events_are_a_no_op_with_one_log_line(
    open_world: OpenWorld, event: str, relative: str, reason: str
) -> None:
    document = payload(relative)
    world = open_world(document.get("repository", {}).get("full_name") or "acme/app")
    before = world.gitops_refs()

    assert world.handle(event, document) == 0

    (line,) = world.logs
    assert line.startswith("envbot: nothing to do for ") and reason in line
    assert world.fake.calls == []
    assert world.gitops_refs() == before
    assert world.summary() == ""


def test_an_event_of_another_repository_is_ignored(open_world: OpenWorld) -> None:
    world = open_world("acme/app")
    document = payload("drone-go-scm/branch_create.json")

    assert world.handle("create", document) == 0

    assert world.logs == [
        "envbot: nothing to do for BranchCreated: event from bradrydzewski/drone-test-go,"
        " not the configured repository acme/app"
    ]
    assert world.fake.calls == []
