"""GitHub outages during a provisioning: 500 / 502 / 503, slow answers past the client timeout, 429 and primary and
secondary rate limits. Within the retry budget a fault is absorbed by a bounded wait; past it the run ends at once
with ``error: ... (a temporary fault; try again later)``, and the next run converges. Either way nothing is lost
or duplicated: the end state is the one of the same runs without the fault."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from bot.forge.errors import ForgeUnavailableError
from bot.forge.retry import RetryPolicy
from tests.faults.github import (
    Fault,
    primary_rate_limit,
    secondary_rate_limit,
    server_error,
    slow,
    too_many_requests,
)
from tests.faults.world import Run, World, assert_converged, reference

MakeWorld = Callable[..., World]
BUDGET = RetryPolicy().max_total_wait
TIMEOUT = 0.4
"""The client timeout of the timeout tests, in seconds; an injected slow answer comes 0.3 s after it."""


def clear_after_failure(world: World, run: Run) -> None:
    """The outage is over by the time the failed job is re-run."""
    if run.error is not None:
        for fake in world.fakes:
            fake.clear_faults()


def drive_with(world: World, repo: str, fault: Fault) -> list[Run]:
    """Provision with ``fault`` injected into one repository (``source``, ``platform`` or ``apps``)."""
    getattr(world, repo).inject(fault)
    return world.drive(between=clear_after_failure)


# -- absorbed: the fault passes within one request's retry budget -------------------------------------------------


@pytest.mark.parametrize(
    ("repo", "fault", "waits"),
    [
        pytest.param(
            "platform", server_error(500, method="PUT", path=r"/pulls/\d+/merge$", times=2), [1.0], id="500-on-merge"
        ),
        pytest.param("apps", server_error(502, "git/create-tree", times=2), [1.0], id="502-on-push"),
        pytest.param("platform", server_error(503, "repos/get-branch", times=3), [1.0, 2.0], id="503-on-read"),
        pytest.param("source", server_error(503, "issues/create-comment"), [], id="503-on-sticky-comment"),
        pytest.param("platform", too_many_requests(1, "pulls/create"), [1.0], id="429-retry-after-1s"),
        pytest.param("apps", secondary_rate_limit(3, "git/create-ref"), [3.0], id="secondary-retry-after-3s"),
    ],
)
def test_a_fault_within_the_retry_budget_is_absorbed(world: World, repo: str, fault: Fault, waits: list[float]) -> None:
    fault = dataclasses.replace(fault)  # a fresh copy: the table's faults are shared
    runs = drive_with(world, repo, fault)
    assert fault.fired == fault.times
    assert [run.error for run in runs] == [None] * len(runs)
    assert world.sleeps.waits == waits
    assert_converged(world.end_state(), reference())


def test_a_primary_rate_limit_that_resets_soon_is_waited_out(world: World) -> None:
    fault = primary_rate_limit(2, "git/create-commit")
    runs = drive_with(world, "platform", fault)
    assert fault.fired == 1 and all(run.error is None for run in runs)
    (wait,) = world.sleeps.waits
    assert 1.0 < wait <= 4.0  # until the reset, plus a second
    assert_converged(world.end_state(), reference())


# -- past the budget: a clear "try again later", at once, then the next run converges -------------------------------


@pytest.mark.parametrize(
    ("repo", "fault", "phrase", "waits"),
    [
        pytest.param(
            "platform",
            server_error(500, "pulls/merge", times=99),
            "GitHub PUT acme/gitops-platform/pulls/1/merge failed: 500 Internal Server Error",
            [1.0, 2.0, 4.0],
            id="500-persists-at-merge",
        ),
        pytest.param(
            "apps",
            server_error(502, "git/create-tree", times=99),
            "GitHub POST acme/gitops-apps/git/trees failed: 502 Bad Gateway",
            [1.0, 2.0, 4.0],
            id="502-persists-at-the-second-push",
        ),
        pytest.param(
            "source",
            server_error(503, "repos/get-collaborator-permission-level", times=99),
            "GitHub GET acme/shop/collaborators/nadia/permission failed: 503 Service Unavailable",
            [1.0, 2.0, 4.0],
            id="503-persists-from-the-first-request",
        ),
        pytest.param(
            "platform",
            too_many_requests(3600, "pulls/create"),
            "GitHub POST acme/gitops-platform/pulls: asked to wait 3600s before retrying, more than the 20s left",
            [],
            id="429-retry-after-an-hour",
        ),
        pytest.param(
            "platform",
            primary_rate_limit(3600, "repos/get-branch"),
            "GitHub GET acme/gitops-platform/branches/main failed: 403 API rate limit exceeded",
            [],
            id="primary-reset-in-an-hour",
        ),
        pytest.param(
            "apps",
            secondary_rate_limit(None, "pulls/list"),
            "GitHub GET acme/gitops-apps/pulls failed: 403 You have exceeded a secondary rate limit",
            [],
            id="secondary-without-retry-after",
        ),
    ],
)
def test_a_fault_past_the_retry_budget_says_try_again_later_and_the_next_run_converges(
    world: World, repo: str, fault: Fault, phrase: str, waits: list[float]
) -> None:
    fault = dataclasses.replace(fault)  # a fresh copy: the table's faults are shared
    runs = drive_with(world, repo, fault)
    failed = runs[0]
    assert isinstance(failed.error, ForgeUnavailableError) and failed.code == 1
    assert failed.message.startswith(f"error: {phrase}"), failed.message
    assert failed.message.endswith("(a temporary fault; try again later)")
    assert "\n" not in failed.message and "ghs_" not in failed.message
    assert world.sleeps.waits == waits and world.sleeps.total <= BUDGET  # bounded, never a hang
    assert failed.seconds < 2.0
    assert all(run.error is None for run in runs[1:])
    assert_converged(world.end_state(), reference())


def test_a_fault_at_the_first_request_writes_nothing(world: World) -> None:
    world.source.inject(server_error(503, times=99))
    failed = world.run("/provision")
    assert isinstance(failed.error, ForgeUnavailableError)
    assert [fake.writes() for fake in world.fakes] == [0, 0, 0]
    assert [fake.received for fake in world.fakes] == [5, 0, 0]  # one request, retried 4 times
    world.source.clear_faults()
    world.drive()
    assert_converged(world.end_state(), reference())


# -- slow answers: the client gives up at its timeout and retries --------------------------------------------------


@pytest.mark.parametrize(
    ("repo", "fault"),
    [
        pytest.param("platform", slow(TIMEOUT + 0.3, "repos/get-combined-status-for-ref"), id="read"),
        pytest.param("platform", slow(TIMEOUT + 0.3, "pulls/create", applied=True), id="pull-request-created"),
        pytest.param("apps", slow(TIMEOUT + 0.3, "git/create-ref", applied=True), id="branch-created"),
        pytest.param("platform", slow(TIMEOUT + 0.3, "pulls/merge", applied=True), id="merged"),
        pytest.param("source", slow(TIMEOUT + 0.3, "issues/create-comment", applied=True), id="comment-posted"),
    ],
)
def test_a_timed_out_request_is_retried_even_when_it_took_effect(
    make_world: MakeWorld, repo: str, fault: Fault
) -> None:
    """With ``applied`` GitHub did the work and only the answer was lost: the retry finds the pull request, the
    branch or the merge already there, or posts a second sticky comment that envbot removes at once."""
    world = make_world(timeout=TIMEOUT)
    fault = dataclasses.replace(fault)  # a fresh copy: the table's faults are shared
    runs = drive_with(world, repo, fault)
    assert fault.fired == 1
    assert [run.error for run in runs] == [None] * len(runs)
    assert_converged(world.end_state(), reference())


def test_a_comment_posted_twice_by_a_retried_request_is_deduplicated_at_once(make_world: MakeWorld) -> None:
    """The timed-out POST and its retry both land; envbot looks again after posting and keeps the older one."""
    world = make_world(timeout=TIMEOUT)
    fault = world.source.inject(slow(TIMEOUT + 0.3, "issues/create-comment", applied=True))[0]
    assert world.run("/provision").error is None
    assert fault.fired == 1 and world.source.count("issues/create-comment") == 2
    assert world.source.count("issues/delete-comment") == 1
    assert len(world.sticky_comments()) == 1


def test_a_server_that_never_answers_in_time_gives_up_quickly(make_world: MakeWorld) -> None:
    world = make_world(timeout=TIMEOUT)
    world.policy = RetryPolicy(retries=2, sleep=world.sleeps)
    fault = slow(TIMEOUT + 0.3, "repos/get-branch", times=99)
    runs = drive_with(world, "platform", fault)
    failed = runs[0]
    assert isinstance(failed.error, ForgeUnavailableError)
    assert failed.message == (
        "error: GitHub GET acme/gitops-platform/branches/main failed: no answer in time (the request timed out)"
        " (a temporary fault; try again later)"
    )
    assert fault.fired == 3  # the request and two retries, each given up at the client timeout
    assert failed.seconds < 3 * TIMEOUT + 1.0
    assert_converged(world.end_state(), reference())
