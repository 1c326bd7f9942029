"""Seeded random lifecycles (``schedules.py``): every invariant holds after every write, whatever happens."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.environment import bind_environment
from bot.errors import UserError
from bot.forge.model import FileChange
from bot.render.renderer import Repo, render_environment
from tests.reconcile.harness import Crash
from tests.reconcile.schedules import (
    CatalogChoice,
    ChangeOutput,
    Controllers,
    Destroy,
    FailWorkspace,
    FixWorkspaces,
    FromOutput,
    Provision,
    Race,
    Reconcile,
    Request,
    Result,
    Retry,
    Schedule,
    Sweep,
    Tick,
    Trial,
    Violation,
    generate,
    no_pull_request_outlives_its_intent,
    nothing_left_after_destroy,
    provision_settled_with_current_values,
    run_schedule,
    shrink,
    without_crash,
)

CHUNKS = 30
"""The schedules are dealt round-robin over this many tests, so that xdist spreads them over its workers."""
SCHEDULES = int(os.environ.get("ENVBOT_RANDOM_SCHEDULES", "300"))
REPLAYED = os.environ.get("ENVBOT_RANDOM_SEED", "").strip()
SHRINK_TRIES = int(os.environ.get("ENVBOT_RANDOM_SHRINK", "200"))
"""How many shorter schedules a failure may try to find the shortest one that still fails (0: none)."""
THIS_FILE = "tests/reconcile/test_random_lifecycle.py"


def seeds(chunk: int) -> list[int]:
    return [int(REPLAYED)] if REPLAYED else list(range(chunk, SCHEDULES, CHUNKS))


def failure_report(failures: list[Result]) -> str:
    first = failures[0]
    assert first.violation is not None
    seed = first.schedule.seed
    lines = [
        f"seed {seed} broke {first.violation.invariant} (other failing seeds here: "
        f"{[f.schedule.seed for f in failures[1:]] or 'none'})",
        f"replay: ENVBOT_RANDOM_SEED={seed} pytest {THIS_FILE} -k keep_every_invariant -p no:cacheprovider",
        "",
        run_schedule(first.schedule, verbose=True).report(),
    ]
    if SHRINK_TRIES:
        shortest = shrink(first, budget=SHRINK_TRIES)
        lines += ["", f"shortest schedule found that breaks it ({len(shortest.schedule.steps)} steps):"]
        lines += [run_schedule(shortest.schedule, verbose=True).report(), "", f"as code: {shortest.schedule!r}"]
    return "\n".join(lines)


@pytest.mark.parametrize("chunk", range(1 if REPLAYED else CHUNKS))
def test_random_lifecycles_keep_every_invariant(chunk: int) -> None:
    """Each schedule mixes provisions (catalogs added, removed, parameters changed), destroys, retries, the same
    event twice, two runs at once, crashes after a random write, and controllers that lag or fail for a while; then
    each environment's last intent is issued once more and must settle. Replay a seed with
    ``ENVBOT_RANDOM_SEED=<seed>``; run more schedules with ``ENVBOT_RANDOM_SCHEDULES=<count>``."""
    failures = [result for seed in seeds(chunk) if (result := run_schedule(generate(seed))).violation is not None]
    if failures:
        pytest.fail(failure_report(failures), pytrace=False)


# -- the schedules reach what they are meant to -----------------------------------------------------------------


def test_the_default_schedules_cover_every_kind_of_step() -> None:
    """Over the CI seeds every kind of step appears, with crashes, both kinds of race and duplicate events."""
    kinds: set[type] = set()
    crashes = overlapping = between = duplicates = 0
    for seed in range(300):
        steps = generate(seed).steps
        for before, step in zip((None, *steps), steps, strict=False):
            kinds.add(type(step))
            commands = (step.first, step.second) if isinstance(step, Race) else (step,)
            crashes += sum(1 for command in commands if getattr(command, "crash_after", None) is not None)
            if isinstance(step, Race):
                overlapping, between = overlapping + step.overlap, between + (not step.overlap)
                duplicates += without_crash(step.first) == without_crash(step.second)
            elif before is not None and not isinstance(step, Tick):
                duplicates += without_crash(before) == without_crash(step)
    every = {Provision, Destroy, Retry, Reconcile, Sweep, Race, Tick, Controllers, FailWorkspace, FixWorkspaces}
    assert every | {ChangeOutput} <= kinds
    assert crashes > 300 and overlapping > 50 and between > 50 and duplicates > 50, (
        crashes,
        overlapping,
        between,
        duplicates,
    )


def test_the_default_schedules_settle_both_ways() -> None:
    """Some schedules end with a provision and some with a destroy, and some with each in one of two environments."""
    last: list[tuple[str, ...]] = []
    for seed in range(300):
        intents: dict[str, str] = {}
        for step in generate(seed).steps:
            for command in (step.first, step.second) if isinstance(step, Race) else (step,):
                if isinstance(command, Provision):
                    intents[command.request.name] = "provision"
                elif isinstance(command, Destroy):
                    intents[command.name] = "destroy"
        last.append(tuple(sorted(intents.values())))
    ends = Counter(last)
    assert ends[("provision",)] > 100 and ends[("destroy",)] > 30 and ends[("destroy", "provision")] > 3, ends


# -- the invariants catch what they are meant to ----------------------------------------------------------------

DATABASE = CatalogChoice("rds-postgres", (("databaseName", "app_db"), ("vpcId", "vpc-0abc")))
SAMPLE = CatalogChoice("sample-app", (("replicas", 2), ("databaseEndpoint", FromOutput("rds-postgres.endpoint"))))
CACHE = CatalogChoice("redis-cache", (("vpcId", "vpc-0abc"),))
OUTPUTS = {
    "rds-postgres": {"endpoint": "db.internal", "port": 5432},
    "redis-cache": {"primaryEndpoint": "cache.internal", "port": 6379},
}


def rendered(trial: Trial, request: Request, repo: Repo) -> dict[str, str | None]:
    bound = bind_environment(request.environment, trial.world.catalogs)
    return dict(render_environment(bound, OUTPUTS).files(repo))


def commit(trial: Trial, repo: Repo, files: dict[str, str | None]) -> None:
    """A commit straight to a main branch, as a person (or a buggy bot) would push it; ``None`` deletes a file."""
    trial.world.forge(repo).push_commit("main", "main", [FileChange(p, c) for p, c in files.items()], "by hand")


def broken(trial: Trial) -> Violation:
    with pytest.raises(Violation) as caught:
        trial.check()
    return caught.value


def test_an_app_merged_while_its_workspace_still_applies_is_caught() -> None:
    trial = Trial(Schedule(0, ()))
    request = Request("alpha", (DATABASE, SAMPLE))
    trial.world.set_delays(600, 1, 1)  # terraform apply takes 10 minutes
    trial.check()
    commit(trial, Repo.PLATFORM, rendered(trial, request, Repo.PLATFORM))
    trial.check()
    commit(trial, Repo.APPS, rendered(trial, request, Repo.APPS))
    violation = broken(trial)
    assert violation.invariant == "apps_merged_only_on_available_infrastructure"
    assert "alpha-rds-postgres Ready is False (Creating)" in violation.message


def test_a_workspace_removed_while_its_apps_run_is_caught() -> None:
    trial = Trial(Schedule(0, ()))
    request = Request("alpha", (CACHE,))
    trial.world.set_delays(0, 0, 60)
    commit(trial, Repo.PLATFORM, rendered(trial, request, Repo.PLATFORM))
    trial.check()
    commit(trial, Repo.APPS, rendered(trial, request, Repo.APPS))
    trial.check()
    commit(trial, Repo.PLATFORM, {"registry/environments/alpha/infrastructure/redis-cache.yaml": None})
    violation = broken(trial)
    assert violation.invariant == "infrastructure_outlives_its_apps"
    assert "alpha-redis-cache is removed while Applications of alpha remain: redis-cache" in violation.message


def test_two_open_pull_requests_of_one_phase_are_caught() -> None:
    trial = Trial(Schedule(0, ()))
    branch = "envbot/alpha/infrastructure"
    for forge in (trial.world.platform, trial.world.apps):
        forge.push_commit(branch, "main", [FileChange.write("x.txt", "x")], "x")
        forge.ensure_pull_request(branch, "main", "x", "")
    violation = broken(trial)
    assert violation.invariant == "one_pull_request_per_phase"
    assert "alpha has 2 open infrastructure pull requests: platform #1, apps #1" in violation.message
    assert trial.latest is not None
    assert no_pull_request_outlives_its_intent(trial.latest, "alpha") == [
        "platform: #1 envbot/alpha/infrastructure is still open",
        "apps: #1 envbot/alpha/infrastructure is still open",
    ]
    assert no_pull_request_outlives_its_intent(trial.latest, "beta") == []


def test_a_settled_provision_with_a_stale_output_or_a_destroy_with_a_leftover_is_caught() -> None:
    request = Request("alpha", (DATABASE, SAMPLE))
    trial = Trial(Schedule(0, (Provision(request),)))
    assert trial.run().violation is None
    trial.world.cluster.output_overrides["alpha-rds-postgres"] = {"endpoint": "db-replaced.internal"}
    trial.check()
    assert trial.latest is not None
    stale = provision_settled_with_current_values(trial.world, trial.latest, request)
    assert any("sample-app.yaml is stale" in p for p in stale), stale
    assert any("sample-app holds replicas and endpoint" in p and "db-replaced.internal" in p for p in stale), stale
    left = nothing_left_after_destroy(trial.world, trial.latest, "alpha")
    assert "platform main still holds registry/environments/alpha/environment.yaml" in left
    assert any(p.startswith("the cluster still holds Workspace alpha-rds-postgres") for p in left), left


def test_an_error_no_person_should_see_is_a_violation_and_a_refusal_is_not() -> None:
    trial = Trial(Schedule(0, ()))

    def failing(error: Exception) -> Iterator[None]:
        raise error
        yield

    assert not trial.advance(
        failing(UserError("environment alpha is Ready, not Failed; there is nothing to retry")), "retry"
    )
    assert not trial.advance(failing(Crash("crash after action 3")), "provision")
    with pytest.raises(Violation) as caught:
        trial.advance(failing(KeyError("platform")), "provision")
    assert caught.value.invariant == "no_unexpected_exception" and "KeyError" in caught.value.message
    with pytest.raises(Violation):
        trial.advance(failing(UserError("environment alpha: more than 50 merges in one run; stopping")), "provision")
