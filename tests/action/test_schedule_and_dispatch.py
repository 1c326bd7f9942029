"""``schedule`` (reconcile everything, sweep orphans) and ``workflow_dispatch`` (provision / destroy / reconcile
by input). GitHub sends no webhook for a schedule; the Actions event file holds the cron and the repository, so the
schedule payload here is that (tests/fixtures/webhooks/schedule/hourly.json)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bot.events.routing import InputError
from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.webhooks import payload

CREATE = "create/branch"  # by nadia
REPO = "acme/shop"
DISPATCH = "workflow_dispatch/provision"  # by omar, on refs/heads/main: provision branch feature-checkout
DISPATCH_DEFAULTS = "workflow_dispatch/reconcile"  # the workflow's default inputs: reconcile everything
DISPATCHER = "omar"


def schedule_payload() -> dict[str, Any]:
    return payload("schedule/hourly")


def record_of(world: ActionWorld, name: str) -> dict[str, Any]:
    return yaml.safe_load(world.gitops_files("platform")[f"registry/environments/{name}/environment.yaml"])


def provision_branches(world: ActionWorld, *branches: str) -> None:
    world.fake.grant("nadia", "write")
    for branch in branches:
        world.add_branch(branch)
        assert world.handle("create", payload(CREATE, ref=branch)) == 0, world.logs


def test_schedule_destroys_environments_whose_branch_is_gone_and_keeps_the_others(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    provision_branches(world, "feature-gone", "feature-kept")
    world.delete_branch("feature-gone")
    start = len(world.logs)

    assert world.handle("schedule", schedule_payload()) == 0, world.logs

    logs = world.logs[start:]
    assert logs[0] == "envbot: feature-gone is an orphan (branch feature-gone no longer exists); destroying it"
    assert logs[1].startswith("envbot: feature-gone: Deleting: ")
    assert logs[2].startswith("envbot: feature-kept: Provisioning Infrastructure: ")
    assert len(logs) == 3
    assert record_of(world, "feature-gone")["deletion"]["requestedBy"] == (
        "envbot sweep: branch feature-gone no longer exists"
    )
    assert "deletion" not in record_of(world, "feature-kept")
    assert world.environment_files("platform", "feature-kept")  # reconciled, untouched
    summary = world.summary()
    assert "`feature-gone` | Deleting" in summary and "`feature-kept` | Provisioning Infrastructure" in summary


def test_schedule_with_nothing_orphaned_only_reconciles(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    provision_branches(world, "feature-kept")
    start = len(world.logs)

    assert world.handle("schedule", schedule_payload()) == 0, world.logs

    assert [line.split(":")[1].strip() for line in world.logs[start:]] == ["feature-kept"]
    assert "deletion" not in record_of(world, "feature-kept")


def test_schedule_sweeps_the_environment_of_a_merged_pull_request(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.add_pull_request(42, "feature-login")
    world.fake.grant("nadia", "write")
    assert world.handle("pull_request", payload("pull_request/labeled")) == 0, world.logs
    world.close_pull_request(42, merged=True)  # merged while envbot was not listening

    assert world.handle("schedule", schedule_payload()) == 0, world.logs

    assert "envbot: feature-login is an orphan (pull request #42 is merged); destroying it" in world.logs
    assert record_of(world, "feature-login")["deletion"]["requestedBy"] == "envbot sweep: pull request #42 is merged"


@pytest.fixture
def dispatch_world(open_world: OpenWorld) -> ActionWorld:
    world = open_world(REPO)
    world.fake.grant(DISPATCHER, "write")
    return world


def test_dispatch_provision_by_branch_input(dispatch_world: ActionWorld) -> None:
    world = dispatch_world
    head = world.add_branch("feature-checkout")

    assert world.handle("workflow_dispatch", payload(DISPATCH)) == 0, world.logs

    assert world.logs[0] == "envbot: provisioning feature-checkout (workflow_dispatch provision)"
    environment = record_of(world, "feature-checkout")["environment"]
    assert environment["origin"] == {"kind": "branch", "repository": REPO, "branch": "feature-checkout"}
    assert world.statuses(head)["envbot/feature-checkout"]["state"] == "pending"


def test_dispatch_provision_by_environment_and_template_inputs(dispatch_world: ActionWorld) -> None:
    world = dispatch_world
    inputs = {"action": "provision", "environment": "review-7", "template": "envs/feature.yaml"}

    assert world.handle("workflow_dispatch", payload(DISPATCH, inputs=inputs)) == 0, world.logs

    environment = record_of(world, "review-7")["environment"]
    assert environment["name"] == "review-7"
    # No branch input: the workflow ran on refs/heads/main, whose environment it is.
    assert environment["origin"] == {"kind": "branch", "repository": REPO, "branch": "main"}


def test_dispatch_destroy_by_environment_input(dispatch_world: ActionWorld) -> None:
    world = dispatch_world
    world.add_branch("feature-x")
    provision = payload(DISPATCH, inputs={"action": "provision", "branch": "feature-x"})
    assert world.handle("workflow_dispatch", provision) == 0, world.logs

    destroy = payload(DISPATCH, inputs={"action": "destroy", "environment": "feature-x"})
    assert world.handle("workflow_dispatch", destroy) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying feature-x: workflow_dispatch by {DISPATCHER}"
    assert record_of(world, "feature-x")["deletion"]["requestedBy"] == DISPATCHER
    assert world.outputs()["phase"] == "Deleting"


def test_dispatch_with_the_default_inputs_reconciles_every_environment(dispatch_world: ActionWorld) -> None:
    world = dispatch_world
    for branch in ("feature-a", "feature-b"):
        world.add_branch(branch)
        provision = payload(DISPATCH, inputs={"action": "provision", "branch": branch})
        assert world.handle("workflow_dispatch", provision) == 0, world.logs
    before, start = world.gitops_refs(), len(world.logs)

    # The workflow run with its default inputs: reconcile, no environment named, so every one.
    assert world.handle("workflow_dispatch", payload(DISPATCH_DEFAULTS)) == 0, world.logs

    assert [line.split(":")[1].strip() for line in world.logs[start:]] == ["feature-a", "feature-b"]
    assert world.gitops_refs() == before  # both were waiting on their Workspaces: nothing to merge


def test_dispatch_reconcile_of_one_environment(dispatch_world: ActionWorld) -> None:
    world = dispatch_world
    for branch in ("feature-a", "feature-b"):
        world.add_branch(branch)
        provision = payload(DISPATCH, inputs={"action": "provision", "branch": branch})
        assert world.handle("workflow_dispatch", provision) == 0, world.logs
    start = len(world.logs)

    reconcile = payload(DISPATCH, inputs={"action": "reconcile", "environment": "feature-b"})
    assert world.handle("workflow_dispatch", reconcile) == 0, world.logs

    assert [line.split(":")[1].strip() for line in world.logs[start:]] == ["feature-b"]


def test_dispatch_by_someone_without_write_permission_is_refused(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.fake.grant(DISPATCHER, "triage")
    before = world.gitops_refs()

    document = payload(DISPATCH, inputs={"action": "destroy", "environment": "feature-x"})
    assert world.handle("workflow_dispatch", document) == 0

    assert world.logs == [
        "envbot: Sorry, `workflow_dispatch destroy` needs write permission on this repository,"
        f" and `{DISPATCHER}` has triage permission."
    ]
    assert world.gitops_refs() == before and world.writes() == []


def test_dispatch_with_an_unknown_action_names_the_input(dispatch_world: ActionWorld) -> None:
    with pytest.raises(InputError, match=r"^workflow_dispatch input action: must be one of provision, destroy"):
        dispatch_world.handle("workflow_dispatch", payload(DISPATCH, inputs={"action": "explode"}))
    assert dispatch_world.fake.calls == []
