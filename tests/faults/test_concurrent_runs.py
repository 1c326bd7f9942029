"""Two workflow runs for the same environment at once (two jobs of one event, or two events close together): two
EventHandlers in threads, each with its own clients, on the same fake GitHub repositories. Whatever the
interleaving, one pull request per phase, one merge commit each, one sticky comment, the same files."""

from __future__ import annotations

import threading

import pytest

from bot.reconcile.model import Phase
from tests.faults import ledger
from tests.faults.world import STEP, EndState, Run, World, assert_converged_despite_a_twin, reference


def race(world: World, body: str) -> tuple[Run, Run]:
    """Two runs of ``body`` started at the same moment."""
    barrier = threading.Barrier(2)
    runs: list[Run] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            barrier.wait()
            runs.append(world.run(body))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    ledger.record("concurrent run of the same event")
    first, second = runs
    return first, second


def race_until(world: World, first: str, until: Phase, max_rounds: int = 8) -> None:
    body = first
    for _ in range(max_rounds):
        runs = race(world, body)
        world.clock.advance(STEP)
        assert [run.error for run in runs] == [None, None], [run.message for run in runs]
        if all(run.phase is until for run in runs):
            return
        started = {Phase.CREATING} if first == "/provision" else {Phase.READY}
        body = first if any(run.phase in started for run in runs) else "/status"
    raise AssertionError(f"not {until.value} after {max_rounds} rounds of two runs")


@pytest.mark.parametrize("attempt", [1, 2, 3])
def test_two_runs_at_once_make_one_pull_request_per_phase_and_one_sticky_comment(world: World, attempt: int) -> None:
    race_until(world, "/provision", Phase.READY)
    assert_converged_despite_a_twin(world.end_state(), reference("ready"))
    race_until(world, "/destroy", Phase.DELETED)
    assert_converged_despite_a_twin(world.end_state(), reference("deleted"))


def test_only_a_withdrawn_twin_of_a_merged_step_is_forgiven() -> None:
    """The comparison above allows what two runs at once may leave (a closed twin of a step the other run merged,
    which takes a number) and nothing else."""
    infra = ("envbot/x/infrastructure", "envbot: x: infrastructure")
    record = ("envbot/x/remove-record", "envbot: x: remove environment record")

    def state(platform: list[tuple[str, str, str]], history: list[str]) -> EndState:
        return EndState(
            pulls={"platform": platform, "apps": []}, files={"platform": {}, "apps": {}},
            history={"platform": history, "apps": []}, sticky_comments=1, phase_in_comment="Deleted",
        )  # fmt: skip

    expected = state([(*infra, "merged"), (*record, "merged")], ["Merge pull request #1 from envbot/x/infrastructure",
                     "Merge pull request #2 from envbot/x/remove-record"])  # fmt: skip
    twin = state(
        [(*infra, "merged"), (*infra, "closed"), (*record, "merged")],
        ["Merge pull request #1 from envbot/x/infrastructure", "Merge pull request #4 from envbot/x/remove-record"],
    )
    assert_converged_despite_a_twin(twin, expected)
    for wrong in (
        state([(*infra, "merged"), (*infra, "open"), (*record, "merged")], expected.history["platform"]),
        state([(*infra, "merged"), (*record, "closed"), (*record, "merged")][:2], expected.history["platform"]),
        state(expected.pulls["platform"], [*expected.history["platform"], "Merge pull request #5 from envbot/x/x"]),
    ):
        with pytest.raises(AssertionError):
            assert_converged_despite_a_twin(wrong, expected)
