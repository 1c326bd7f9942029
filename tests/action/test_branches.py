"""``create`` and ``delete`` events: branches matching a pattern get an environment, deleted branches lose it,
tags are ignored. The payloads are our own (tests/fixtures/webhooks); test_real_payloads.py runs real ones."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.webhooks import payload, repository_of

CREATE = "create/branch"  # ref_type branch, ref feature-checkout, by nadia
DELETE = "delete/branch"
REPO = "acme/shop"
SENDER = "nadia"
BRANCH = "feature-checkout"
RECORD = "registry/environments/{}/environment.yaml"
NO_DELAY = dt.timedelta(0)


def record_of(world: ActionWorld, name: str) -> dict[str, object]:
    return yaml.safe_load(world.gitops_files("platform")[RECORD.format(name)])


def test_the_payloads_are_what_the_scenarios_assume() -> None:
    create, delete = payload(CREATE), payload(DELETE)
    assert (create["ref_type"], create["ref"], delete["ref_type"], delete["ref"]) == (
        "branch",
        BRANCH,
        "branch",
        BRANCH,
    )
    assert repository_of(CREATE) == repository_of(DELETE) == REPO
    assert create["sender"]["login"] == delete["sender"]["login"] == SENDER


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        (BRANCH, BRANCH),  # the payload as written: already a DNS-1123 label, kept
        ("feature/Login_Flow", r"feature-login-flow-[0-9a-f]{8}"),  # cleaned up, so a hash keeps it unique
    ],
)
def test_create_of_a_matching_branch_provisions_its_environment(
    open_world: OpenWorld, branch: str, expected: str
) -> None:
    world = open_world(REPO)
    world.fake.grant(SENDER, "write")
    head = world.add_branch(branch)

    assert world.handle("create", payload(CREATE, ref=branch)) == 0, world.logs

    (name,) = {p.split("/")[2] for p in world.gitops_files("platform")}
    assert re.fullmatch(expected, name) and len(name) <= 63
    record = record_of(world, name)
    environment = record["environment"]
    assert isinstance(environment, dict)
    assert environment["name"] == environment["namespace"] == name
    assert environment["origin"] == {"kind": "branch", "repository": REPO, "branch": branch}
    assert f"registry/environments/{name}/infrastructure/rds-postgres.yaml" in world.gitops_files("platform")
    assert world.logs[0] == f"envbot: provisioning {name} (branch {branch} created)"
    assert world.outputs()["environment"] == name
    assert world.outputs()["phase"] == "Provisioning Infrastructure"
    assert f"`{name}` | Provisioning Infrastructure" in world.summary()
    # No pull request in the source repository: the status goes on the branch head, no comment anywhere.
    status = world.fake.statuses[head][-1]
    assert (status["context"], status["state"]) == (f"envbot/{name}", "pending")
    assert status["description"].startswith("Provisioning Infrastructure")
    assert world.fake.comments == {}


def test_create_runs_to_ready_when_the_cluster_is_quick(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.fake.grant(SENDER, "write")
    head = world.add_branch(BRANCH)
    world.cluster_delay = NO_DELAY

    assert world.handle("create", payload(CREATE)) == 0, world.logs

    assert world.logs[-1].startswith(f"envbot: {BRANCH}: Ready: ")
    assert sorted(world.environment_files("apps", BRANCH)) == [
        f"registry/environments/{BRANCH}/dev-cluster/datadog-agent.yaml",
        f"registry/environments/{BRANCH}/dev-cluster/datadog-agent/manifests.yaml",
        f"registry/environments/{BRANCH}/dev-cluster/sample-app.yaml",
    ]
    assert world.statuses(head)[f"envbot/{BRANCH}"]["state"] == "success"


def test_create_of_a_branch_matching_no_pattern_is_ignored_with_one_log_line(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.fake.grant(SENDER, "write")
    before = world.gitops_refs()

    assert world.handle("create", payload(CREATE, ref="release-1.2")) == 0

    assert world.logs == [
        "envbot: nothing to do for BranchCreated: branch release-1.2 matches no configured branch pattern"
    ]
    assert world.fake.calls == []
    assert world.gitops_refs() == before


def test_create_by_someone_without_write_permission_is_refused_and_writes_nothing(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.fake.grant(SENDER, "read")
    world.add_branch(BRANCH)
    before = world.gitops_refs()

    assert world.handle("create", payload(CREATE)) == 0

    assert world.logs == [
        f"envbot: Sorry, `branch {BRANCH} created` needs write permission on this repository,"
        f" and `{SENDER}` has read permission."
    ]
    assert world.gitops_refs() == before
    assert world.writes() == []


@pytest.mark.parametrize("scenario", ["create/tag", "delete/tag"])
def test_tags_are_ignored(open_world: OpenWorld, scenario: str) -> None:
    event = scenario.partition("/")[0]
    document = payload(scenario)
    assert (document["ref_type"], document["ref"]) == ("tag", "v1.4.0")
    world = open_world(repository_of(scenario))
    world.fake.grant(document["sender"]["login"], "admin")
    before = world.gitops_refs()

    assert world.handle(event, document) == 0

    verb = "created" if event == "create" else "deleted"
    kind = "TagCreated" if event == "create" else "TagDeleted"
    assert world.logs == [f"envbot: nothing to do for {kind}: tag {document['ref']} {verb}: tags are ignored"]
    assert world.fake.calls == []
    assert world.gitops_refs() == before
    assert world.summary() == ""


def test_delete_of_the_branch_destroys_its_environment_apps_first(open_world: OpenWorld) -> None:
    world = open_world(REPO)
    world.fake.grant(SENDER, "write")
    world.add_branch(BRANCH)
    world.cluster_delay = NO_DELAY  # provision all the way to Ready in one run
    assert world.handle("create", payload(CREATE)) == 0, world.logs
    assert world.environment_files("apps", BRANCH)

    world.cluster_delay = None  # the simulated cluster's real finalizer delays: the destroy stops half-way
    world.delete_branch(BRANCH)
    assert world.handle("delete", payload(DELETE)) == 0, world.logs

    assert world.logs[-2] == f"envbot: destroying {BRANCH}: branch {BRANCH} was deleted"
    assert world.logs[-1].startswith(f"envbot: {BRANCH}: Deleting: 2 Applications left")
    assert world.outputs()["phase"] == "Deleting"
    deletion = record_of(world, BRANCH)["deletion"]
    assert isinstance(deletion, dict) and deletion["requestedBy"] == SENDER
    # Applications go first: the apps repository holds only the placeholders that keep its folders while Argo CD
    # prunes; the infrastructure is still there.
    assert {path.rsplit("/", 1)[-1] for path in world.environment_files("apps", BRANCH)} == {".envbot-keep"}
    assert f"registry/environments/{BRANCH}/infrastructure/rds-postgres.yaml" in world.gitops_files("platform")

    final = world.reconciler(NO_DELAY).run(BRANCH, wait=True, poll_interval=0.01)
    assert final.decision.phase.value == "Deleted"
    assert world.environment_files("platform", BRANCH) == {}
    assert world.environment_files("apps", BRANCH) == {}
