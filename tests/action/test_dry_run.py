"""``--dry-run``: the same run over forges that log each write instead of making it; nothing reaches git or GitHub."""

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


def test_dry_run_provision_logs_every_write_a_real_run_would_make(open_world: OpenWorld) -> None:
    world = pr_world(open_world)
    before = world.gitops_refs()

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/provision"), dry_run=True) == 0

    infrastructure = "envbot/feature-login/infrastructure"
    assert world.logs[:5] == [
        "envbot: provisioning feature-login (/provision)",
        f"envbot: dry run: platform: would push {infrastructure} (2 file(s) on main): envbot: feature-login:"
        " infrastructure",
        f"envbot: dry run: platform: would open pull request #1 ({infrastructure} → main): envbot: feature-login:"
        " infrastructure",
        # git on disk has no CI: the pull request would merge at once, and the run would go on from there
        f"envbot: dry run: platform: would merge #1 ({infrastructure} → main) by merge",
        f"envbot: dry run: platform: would delete the branch {infrastructure}",
    ]
    assert any(line.startswith("envbot: dry run: apps: would open pull request #1 ") for line in world.logs)
    assert any(line.startswith("envbot: dry run: source: would comment on #42: ") for line in world.logs)
    assert world.logs[-1].startswith("envbot: feature-login: Provisioning Infrastructure: 0/1 Workspaces Available")
    assert world.gitops_refs() == before
    assert world.writes() == [] and world.fake.comments == {} and world.fake.statuses == {}
    assert "Dry run: nothing was written." in world.summary()
    assert world.outputs()["phase"] == "Provisioning Infrastructure"


def test_dry_run_destroy_logs_the_destroy_and_the_cleanup_it_would_start(open_world: OpenWorld) -> None:
    world = pr_world(open_world)
    assert world.handle("issue_comment", payload(COMMENT, comment__body="/provision")) == 0, world.logs
    before, calls, comments = world.gitops_refs(), len(world.fake.calls), dict(world.fake.comments)
    start = len(world.logs)

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/destroy"), dry_run=True) == 0

    logs = world.logs[start:]
    assert logs[0] == "envbot: dry run: would destroy feature-login: /destroy by nadia"
    # The gated app pull request of the provisioning it interrupts would be closed first.
    assert logs[1] == (
        "envbot: dry run: apps: would close #1 (envbot/feature-login/applications): envbot closed this pull request:"
        " `a destroy was requested by nadia`."
    )
    assert "envbot: dry run: platform: would merge #2 (envbot/feature-login/destroy → main) by merge" in logs
    assert any(line.startswith("envbot: dry run: platform: would open pull request #3 (envbot/feature-login/cleanup-")
               for line in logs)  # fmt: skip
    assert logs[-1].startswith("envbot: feature-login: Deleting: ")
    assert world.gitops_refs() == before
    assert writes_since(world, calls) == []
    assert world.fake.comments == comments
    assert "deletion" not in world.gitops_files("platform")["registry/environments/feature-login/environment.yaml"]


def test_dry_run_replies_go_to_the_log_only(open_world: OpenWorld) -> None:
    world = pr_world(open_world)

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/help"), dry_run=True) == 0
    assert world.handle("issue_comment", payload(COMMENT, comment__body="/retry"), dry_run=True) == 0

    assert world.logs[0].startswith(
        "envbot: dry run: source: would comment on #42: envbot commands: comment one at the start of a line"
    )
    assert world.logs[1].startswith(
        "envbot: dry run: source: would comment on #42: `/retry` only applies to a Failed environment"
    )
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
