"""The merge gate end to end: workflow runs against the GitHub fake whose GitOps repositories have CI (check runs),
rulesets, required reviews and auto-merge; what holds a merge back reaches the pull request's sticky comment."""

from __future__ import annotations

import datetime as dt

import yaml

from bot.environment import parse_environment
from bot.reconcile.model import Phase
from tests.faults.world import ENV, STEP, World, environment_document

INFRA_PR = 1


def infra_head(world: World) -> str:
    return str(world.platform._pull_json(world.platform.pulls[INFRA_PR], full=False)["head"]["sha"])


def comment(world: World) -> str:
    (sticky,) = world.sticky_comments()
    return sticky


def test_a_check_in_progress_holds_the_merge_until_it_passes(world: World) -> None:
    """GitHub Actions registers its check a few seconds after the push: envbot first waits out the settle time (in
    the same run), then sees the running check and says so on the pull request; the run after it passed merges."""
    world.platform.clock = world.clock  # commits are stamped with the runs' time, so the settle time counts
    registered: list[int] = []
    waited: list[float] = []

    def ci_registers_while_envbot_waits(seconds: float) -> None:
        waited.append(seconds)
        if not registered and INFRA_PR in world.platform.pulls:
            registered.append(world.platform.add_check_run(infra_head(world), "terraform-plan", "in_progress"))
        world.clock.advance(dt.timedelta(seconds=seconds))

    world.clock.sleep = ci_registers_while_envbot_waits  # type: ignore[method-assign]
    first = world.run("/provision")
    assert waited == [120.0]  # the 2m settle time from the head commit, in one sleep
    assert world.platform.pulls[INFRA_PR]["state"] == "open"
    assert first.phase is Phase.CREATING
    assert '(checks-pending): `waiting on check "terraform-plan" (in progress)`' in comment(world)

    world.platform.update_check_run(registered[0], conclusion="success")
    world.clock.advance(STEP)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True
    assert world.drive("/status")[-1].phase is Phase.READY


def test_without_ci_a_run_waits_out_the_settle_time_and_merges(world: World) -> None:
    """No check ever registers: the run that opened the pull request waits the settle time once and merges it,
    rather than leave it to the next scheduled run."""
    world.platform.clock = world.apps.clock = world.clock
    started = world.clock.now
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True
    assert world.clock.now - started == dt.timedelta(minutes=2)


def test_a_failing_check_keeps_the_pull_request_open_and_a_green_rerun_lets_it_through(world: World) -> None:
    world.platform.add_ruleset("gitops", required_checks=["terraform-plan"])
    world.run("/provision")
    run_id = world.platform.add_check_run(infra_head(world), "terraform-plan", conclusion="failure")
    world.clock.advance(STEP)
    failed = world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["state"] == "open"
    (line,) = failed.rows[-1].pull_request_texts
    link = f"https://github.example/{world.platform.repository}/runs/{run_id}"
    assert line.endswith(f'(checks-failed): check "terraform-plan" failed ({link})'), line
    assert f"[details]({link})" in comment(world)

    rerun = world.platform.rerun_check_run(run_id)
    world.platform.update_check_run(rerun, conclusion="success")
    world.clock.advance(STEP)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True


def test_with_auto_merge_github_merges_the_moment_the_required_check_passes(world: World) -> None:
    """``merge.native: auto`` and a repository that allows it: envbot turns auto-merge on with the head it weighed
    and the run ends; GitHub merges when the check passes, with no runner alive."""
    world.platform.allow_auto_merge = True
    world.platform.add_ruleset("gitops", required_checks=["terraform-plan"])
    first = world.run("/provision")
    assert world.platform.count("graphql/enablePullRequestAutoMerge") == 1
    assert world.platform.pulls[INFRA_PR]["state"] == "open"
    (line,) = first.rows[-1].pull_request_texts
    assert "(auto-merge): auto-merge is on: GitHub merges #1 once its rules pass; required check" in line

    world.platform.add_check_run(infra_head(world), "terraform-plan", conclusion="success")
    assert world.platform.pulls[INFRA_PR]["merged"] is True  # by GitHub, between runs
    assert world.platform.count("pulls/merge") == 0
    assert world.drive("/status")[-1].phase is Phase.READY
    assert world.platform.count("graphql/enablePullRequestAutoMerge") == 1  # the later runs found it merged


def test_without_auto_merge_allowed_envbot_waits_and_merges_itself(world: World) -> None:
    world.platform.add_ruleset("gitops", required_checks=["terraform-plan"])
    world.run("/provision")
    assert world.platform.count("graphql/enablePullRequestAutoMerge") == 0
    assert "required check" in comment(world) and "terraform-plan" in comment(world)
    world.platform.add_check_run(infra_head(world), "terraform-plan", conclusion="success")
    world.clock.advance(STEP)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True
    assert world.platform.count("pulls/merge") == 1


def test_merge_native_always_names_a_repository_that_does_not_allow_auto_merge(world: World) -> None:
    world.configure(merge={"native": "always"})
    world.platform.add_ruleset("gitops", required_checks=["terraform-plan"])
    first = world.run("/provision")
    (line,) = first.rows[-1].pull_request_texts
    assert "GitHub refused auto-merge for #1: Auto merge is not allowed for this repository" in line, line
    assert "(merge.native is always)" in line
    assert world.platform.pulls[INFRA_PR]["state"] == "open"


def test_a_required_review_is_waited_for_with_its_reason(world: World) -> None:
    world.configure(merge={"native": "never"})
    world.platform.add_ruleset("gitops", required_reviews=1)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["state"] == "open"
    assert "#1 needs 1 approving review (a branch rule asks for it)" in comment(world)
    world.platform.approve(INFRA_PR, "maria")
    world.clock.advance(STEP)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True


def test_a_check_only_envbot_yaml_requires_is_waited_for(world: World) -> None:
    world.configure(merge={"requiredChecks": ["terraform-plan"]})
    world.run("/provision")
    assert "required by envbot.yaml merge.requiredChecks" in comment(world)
    world.platform.add_check_run(infra_head(world), "terraform-plan", conclusion="success")
    world.clock.advance(STEP)
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True


def test_rules_the_token_cannot_read_are_named_when_github_blocks_the_merge(world: World) -> None:
    world.platform.rules_status = 403
    world.platform.add_ruleset("gitops", required_checks=["terraform-plan"])
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["state"] == "open"
    assert world.platform.count("pulls/merge") == 0
    text = comment(world)
    assert (
        "GitHub blocks merging #1 for a rule envbot cannot see (the rulesets of main could not be read (403))" in text
    )


def test_a_settle_time_of_zero_merges_a_repository_without_ci_at_once(world: World) -> None:
    world.platform.clock = world.apps.clock = world.clock
    world.configure(merge={"settle": "0s"})
    world.run("/provision")
    assert world.platform.pulls[INFRA_PR]["merged"] is True  # in the run that opened it
    assert world.drive("/status")[-1].phase is Phase.READY


def test_a_waiting_run_sleeps_through_the_settle_time_at_once(world: World) -> None:
    """``--wait`` on a repository without CI: nothing can merge the pull request before its settle time ends, so the
    run waits that long in one sleep instead of polling GitHub every few seconds."""
    world.platform.clock = world.apps.clock = world.clock
    slept: list[float] = []
    reconciler = world.reconciler()
    reconciler.sleep = lambda seconds: (slept.append(seconds), world.clock.sleep(seconds))[1]
    document = {**environment_document(), "name": ENV, "namespace": ENV}
    request = parse_environment(yaml.safe_dump(document), "feature.yaml")
    final = reconciler.run(ENV, request, wait=True, poll_interval=5)
    assert final.decision.phase is Phase.READY
    assert slept[0] == 120.0  # the infrastructure pull request's 2m, from its head commit
    settles = [seconds for seconds in slept if seconds > 5]
    assert len(settles) == 2, slept  # and the app pull request's, once it is re-rendered with the outputs
