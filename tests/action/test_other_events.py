"""Events envbot does not act on: one log line, exit 0, nothing written anywhere."""

from __future__ import annotations

import pytest

from tests.action.conftest import OpenWorld
from tests.webhooks import event_name_of, payload, repository_of


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("ping/repository-hook", "Unsupported: ping: GitHub is checking the webhook; nothing to do"),
        ("push/branch-created", "Unsupported: push events are not acted on"),
        ("status/envbot-pending", "Unsupported: status events are not acted on"),
        ("pull_request/opened", "pull_request 'opened' is not acted on"),
        ("pull_request/synchronize", "pull_request 'synchronize' is not acted on"),
        ("pull_request/unlabeled", "pull_request 'unlabeled' is not acted on"),
        ("pull_request/reopened", "pull_request 'reopened' is not acted on"),
        ("issue_comment/edited", "was edited; only new comments are read"),
        ("issue_comment/deleted", "was deleted; only new comments are read"),
    ],
)
def test_other_events_are_a_no_op_with_one_log_line(open_world: OpenWorld, scenario: str, reason: str) -> None:
    world = open_world(repository_of(scenario))
    before = world.gitops_refs()

    assert world.handle(event_name_of(scenario), payload(scenario)) == 0

    (line,) = world.logs
    assert line.startswith("envbot: nothing to do for ") and reason in line
    assert world.fake.calls == []
    assert world.gitops_refs() == before
    assert world.summary() == ""


def test_an_event_of_another_repository_is_ignored(open_world: OpenWorld) -> None:
    world = open_world("acme/app")

    assert world.handle("create", payload("create/branch")) == 0

    assert world.logs == [
        "envbot: nothing to do for BranchCreated: event from acme/shop, not the configured repository acme/app"
    ]
    assert world.fake.calls == []
