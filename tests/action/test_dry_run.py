"""``--dry-run``: decide and log what would happen; write nothing to the GitOps repositories or to GitHub."""

from __future__ import annotations

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.webhooks import payload, repository_of

COMMENT = "issue_comment/created-on-pull-request"  # on #42, by nadia
CREATE = "create/branch"


def pr_world(open_world: OpenWorld) -> ActionWorld:
    world = open_world(repository_of(COMMENT))
    world.add_pull_request(42, "feature-login")
    world.fake.grant("nadia", "write")
    return world


def writes_since(world: ActionWorld, start: int) -> list[str]:
    return [f"{c.method} {c.operation}" for c in world.fake.calls[start:] if c.method != "GET"]


def test_dry_run_provision_logs_the_pull_request_it_would_open(open_world: OpenWorld) -> None:
    world = pr_world(open_world)
    before = world.gitops_refs()

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/provision"), dry_run=True) == 0

    assert world.logs == [
        "envbot: provisioning feature-login (/provision)",
        "envbot: dry run: would envbot: feature-login: infrastructure (platform envbot/feature-login/infrastructure)",
        "envbot: feature-login: Creating: the infrastructure pull request to pass its checks and merge",
    ]
    assert world.gitops_refs() == before
    assert world.writes() == [] and world.fake.comments == {} and world.fake.statuses == {}
    assert "Dry run: nothing was written." in world.summary()
    assert world.outputs()["phase"] == "Creating"


def test_dry_run_destroy_logs_the_destroy_and_the_cleanup_it_would_start(open_world: OpenWorld) -> None:
    world = pr_world(open_world)
    assert world.handle("issue_comment", payload(COMMENT, comment__body="/provision")) == 0, world.logs
    before, calls, comments = world.gitops_refs(), len(world.fake.calls), dict(world.fake.comments)
    start = len(world.logs)

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/destroy"), dry_run=True) == 0

    logs = world.logs[start:]
    assert logs[0] == "envbot: dry run: would destroy feature-login: /destroy by nadia"
    # The gated app pull request of the provisioning it interrupts would be closed first.
    assert logs[1].startswith(
        "envbot: dry run: would close apps #1: no longer needed: the environment is being deleted"
    )
    assert logs[2].startswith("envbot: dry run: would envbot: feature-login: ")
    assert "cleanup" in logs[2]
    assert logs[3].startswith("envbot: feature-login: Deleting: ")
    assert world.gitops_refs() == before
    assert writes_since(world, calls) == []
    assert world.fake.comments == comments
    assert "deletion" not in world.gitops_files("platform")["registry/environments/feature-login/environment.yaml"]


def test_dry_run_replies_go_to_the_log_only(open_world: OpenWorld) -> None:
    world = pr_world(open_world)

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/help"), dry_run=True) == 0
    assert world.handle("issue_comment", payload(COMMENT, comment__body="/retry"), dry_run=True) == 0

    assert world.logs[0].startswith("envbot: envbot commands: comment one at the start of a line")
    assert world.logs[1].startswith("envbot: `/retry` only applies to a Failed environment")
    assert world.writes() == [] and world.fake.comments == {}


def test_dry_run_sweep_names_the_orphan_and_destroys_nothing(open_world: OpenWorld) -> None:
    world = open_world(repository_of(CREATE))
    world.fake.grant("nadia", "write")
    for branch in ("feature-gone", "feature-kept"):
        world.add_branch(branch)
        assert world.handle("create", payload(CREATE, ref=branch)) == 0, world.logs
    world.delete_branch("feature-gone")
    before, calls, start = world.gitops_refs(), len(world.fake.calls), len(world.logs)

    schedule = {"schedule": "17 * * * *", "repository": payload(CREATE)["repository"]}
    assert world.handle("schedule", schedule, dry_run=True) == 0, world.logs

    logs = world.logs[start:]
    assert logs[0] == (
        "envbot: feature-gone is an orphan (branch feature-gone no longer exists); dry run: would destroy it"
    )
    assert any(line.startswith("envbot: feature-gone: Deleting: ") for line in logs)
    assert any(line.startswith("envbot: feature-kept: Provisioning Infrastructure: ") for line in logs)
    assert world.gitops_refs() == before
    assert writes_since(world, calls) == []
