"""A first end-to-end check: /provision on a pull request, from the real payload to both GitOps repositories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.action.support import ActionWorld, make_world, payload

REPO = "chhsia0/knative-route-demo"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ActionWorld]:
    yield from make_world(tmp_path, REPO)


def test_provision_comment_opens_and_merges_phase_one_and_reports(world: ActionWorld) -> None:
    world.add_pull_request(3, "feature-login")
    world.fake.grant("chhsia0", "write")
    event = payload("go-playground-webhooks/pull-request-issue-comment.json", comment__body="/provision")
    assert world.handle("issue_comment", event) == 0, world.logs
    files = world.gitops_files("platform")
    assert any(path.endswith("/environment.yaml") for path in files)
    (comment,) = world.comments(3)
    assert "envbot" in comment and "Provisioning Infrastructure" in comment
    assert world.handle("issue_comment", event) == 0
    assert len(world.comments(3)) == 1
