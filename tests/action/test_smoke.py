"""A first end-to-end check: /provision on a pull request, from the payload to both GitOps repositories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.action.support import ActionWorld, make_world
from tests.webhooks import payload

REPO = "acme/shop"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ActionWorld]:
    yield from make_world(tmp_path, REPO)


def test_provision_comment_opens_and_merges_phase_one_and_reports(world: ActionWorld) -> None:
    world.add_pull_request(42, "feature-login")
    world.fake.grant("nadia", "write")
    event = payload("issue_comment/created-on-pull-request")  # nadia's /provision on #42
    assert world.handle("issue_comment", event) == 0, world.logs
    files = world.gitops_files("platform")
    assert any(path.endswith("/environment.yaml") for path in files)
    (comment,) = world.comments(42)
    assert "envbot" in comment and "Provisioning Infrastructure" in comment
    assert world.handle("issue_comment", event) == 0
    assert len(world.comments(42)) == 1
