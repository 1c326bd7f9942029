"""The merge gate as a table: what GitHub reports for a pull request's head, and what envbot does with it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.forge.model import (
    BranchRules,
    CheckRun,
    CommitStatus,
    MergeFacts,
    PullRequest,
    RepositorySettings,
    RequiredCheck,
)
from bot.reconcile.gate import (
    BlockerKind,
    GateResult,
    MergePolicy,
    NativeMerge,
    Verdict,
    latest_check_runs,
    use_native,
    weigh,
)

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
JUST_PUSHED = NOW - dt.timedelta(seconds=5)
LONG_AGO = NOW - dt.timedelta(minutes=30)
RULESET = "ruleset 7 of acme/platform"
CLEAN = PullRequest(
    number=12, title="t", body="", head="envbot/x/infrastructure", base="main", head_sha="abc", state="open",
    mergeable=True, mergeable_state="clean", url="https://github.com/acme/platform/pull/12", node_id="PR_12",
)  # fmt: skip
POLICY = MergePolicy()


def run(name: str, status: str = "completed", conclusion: str | None = "success", run_id: int = 1) -> CheckRun:
    url = f"https://github.com/acme/platform/runs/{run_id}"
    return CheckRun(name, status, conclusion, url=url, run_id=run_id, app_id=15368, app="github-actions")


def status(context: str, state: str, description: str = "") -> CommitStatus:
    return CommitStatus(context, state, description, f"https://ci.example/{context}")  # type: ignore[arg-type]


def facts(
    *,
    runs: tuple[CheckRun, ...] = (),
    statuses: tuple[CommitStatus, ...] = (),
    required: tuple[str, ...] = (),
    strict: bool = False,
    reviews: int = 0,
    committed: dt.datetime = LONG_AGO,
    supported: bool = True,
    **pull: object,
) -> MergeFacts:
    rules = BranchRules(tuple(RequiredCheck(name, RULESET) for name in required), strict, reviews)
    return MergeFacts(
        pull_request=dataclasses.replace(CLEAN, **pull),  # type: ignore[arg-type]
        statuses=statuses,
        check_runs=runs,
        rules=rules,
        head_committed_at=committed,
        checks_supported=supported,
    )


CASES: list[tuple[str, MergeFacts, MergePolicy, Verdict, list[str]]] = [
    ("statuses only, passed", facts(statuses=(status("ci/test", "success"),)), POLICY, Verdict.MERGE, []),
    (
        "statuses only, one pending",
        facts(statuses=(status("ci/test", "success"), status("ci/lint", "pending", "running"))),
        POLICY, Verdict.WAIT, ['waiting on status "ci/lint": running'],
    ),
    ("checks only, passed", facts(runs=(run("build"), run("test", run_id=2))), POLICY, Verdict.MERGE, []),
    (
        "checks only, one in progress",
        facts(runs=(run("build"), run("test", "in_progress", None, 2))),
        POLICY, Verdict.WAIT, ['waiting on check "test" (in progress)'],
    ),
    (
        "both, the check run failed",
        facts(runs=(run("test", conclusion="failure", run_id=3),), statuses=(status("ci/lint", "success"),)),
        POLICY, Verdict.FAILED, ['check "test" failed (https://github.com/acme/platform/runs/3)'],
    ),
    (
        "both, the status errored",
        facts(runs=(run("test"),), statuses=(status("ci/lint", "error", "crashed"),)),
        POLICY, Verdict.FAILED, ['status "ci/lint" errored: crashed (https://ci.example/ci/lint)'],
    ),
    ("neutral and skipped pass", facts(runs=(run("a", conclusion="neutral"), run("b", conclusion="skipped", run_id=2))),
     POLICY, Verdict.MERGE, []),
    (
        "timed out, cancelled and action required each block",
        facts(runs=(
            run("a", conclusion="timed_out"), run("b", conclusion="cancelled", run_id=2),
            run("c", conclusion="action_required", run_id=3),
        )),
        POLICY, Verdict.FAILED, ['check "a" timed out', 'check "b" was cancelled', 'check "c" needs action'],
    ),
    (
        "a conclusion GitHub adds later blocks",
        facts(runs=(run("a", conclusion="vaporised"),)), POLICY, Verdict.FAILED, ['check "a" ended vaporised'],
    ),
    (
        "none yet, just pushed: settle",
        facts(committed=JUST_PUSHED), POLICY, Verdict.WAIT,
        ["no check has reported on #12 yet; waiting until 12:01:55 UTC (2m after its head commit)"],
    ),
    ("none, settle time over: no checks", facts(committed=NOW - dt.timedelta(minutes=2)), POLICY, Verdict.MERGE, []),
    (
        "none yet, but envbot's own gate status does not count as CI",
        facts(committed=JUST_PUSHED, statuses=(status("envbot/infrastructure", "success"),)),
        POLICY, Verdict.WAIT, ["no check has reported on #12 yet"],
    ),
    (
        "then some: a check registered within the settle time",
        facts(committed=JUST_PUSHED, runs=(run("test", "queued", None),)),
        POLICY, Verdict.WAIT, ['waiting on check "test" (queued)'],
    ),
    (
        "then some: it passed within the settle time",
        facts(committed=JUST_PUSHED, runs=(run("test"),)), POLICY, Verdict.MERGE, [],
    ),
    ("settle 0s", facts(committed=NOW), dataclasses.replace(POLICY, settle=dt.timedelta(0)), Verdict.MERGE, []),
    ("git on disk has no CI: nothing to settle", facts(committed=NOW, supported=False), POLICY, Verdict.MERGE, []),
    (
        "a required check missing",
        facts(required=("ci/deploy-plan",), runs=(run("test"),)), POLICY, Verdict.WAIT,
        [f'required check "ci/deploy-plan" has not reported yet (required by {RULESET})'],
    ),
    (
        "a check only envbot.yaml requires is missing",
        facts(committed=LONG_AGO), dataclasses.replace(POLICY, required_checks=("plan",)), Verdict.WAIT,
        ['required check "plan" has not reported yet (required by envbot.yaml merge.requiredChecks)'],
    ),
    (
        "a failing check that is not required still blocks",
        facts(required=("test",), runs=(run("test"), run("lint", conclusion="failure", run_id=2))),
        POLICY, Verdict.FAILED, ['check "lint" failed'],
    ),
    (
        "a pending check that is not required is waited for",
        facts(required=("test",), runs=(run("test"), run("docs", "in_progress", None, 2))),
        POLICY, Verdict.WAIT, ['waiting on check "docs" (in progress)'],
    ),
    (
        "a re-run that turns green supersedes the failure",
        facts(runs=(run("test", conclusion="failure", run_id=4), run("test", run_id=9))), POLICY, Verdict.MERGE, [],
    ),
    (
        "a re-run in progress supersedes the failure and is waited for",
        facts(runs=(run("test", conclusion="failure", run_id=4), run("test", "in_progress", None, 9))),
        POLICY, Verdict.WAIT, ['waiting on check "test" (in progress)'],
    ),
    (
        "mergeable null: GitHub is still computing",
        facts(runs=(run("test"),), mergeable=None, mergeable_state="unknown"), POLICY, Verdict.WAIT,
        ["GitHub is still working out whether #12 can be merged"],
    ),
    (
        "blocked by a required review",
        facts(runs=(run("test"),), reviews=1, mergeable_state="blocked"), POLICY, Verdict.WAIT,
        ["#12 needs 1 approving review (a branch rule asks for it)"],
    ),
    (
        "blocked for a rule envbot cannot read",
        facts(runs=(run("test"),), mergeable_state="blocked"), POLICY, Verdict.WAIT,
        ["GitHub blocks merging #12 for a rule envbot cannot see"],
    ),
    (
        "behind a base that requires up-to-date branches",
        facts(runs=(run("test", "in_progress", None),), required=("test",), strict=True, mergeable_state="behind"),
        POLICY, Verdict.BEHIND, ["#12 is behind its base, which requires an up-to-date branch"],
    ),
    (
        "dirty: a conflict, named before a failing check",
        facts(runs=(run("test", conclusion="failure"),), mergeable=False, mergeable_state="dirty"),
        POLICY, Verdict.CONFLICT, ["#12 has conflicts with its base", 'check "test" failed'],
    ),
    ("a draft waits", facts(runs=(run("test"),), draft=True, mergeable_state="draft"), POLICY, Verdict.WAIT,
     ["#12 is a draft; mark it ready"]),
    ("unstable but every check passed: merge", facts(runs=(run("test"),), mergeable_state="unstable"), POLICY,
     Verdict.MERGE, []),
    ("merged already", facts(state="merged", mergeable=None), POLICY, Verdict.MERGED, []),
    ("closed by someone", facts(state="closed", mergeable=None), POLICY, Verdict.CLOSED,
     ["#12 was closed by someone; reopen it or re-run"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "policy", "verdict", "texts"), CASES, ids=[c[0] for c in CASES])
def test_the_gate(case: str, given: MergeFacts, policy: MergePolicy, verdict: Verdict, texts: list[str]) -> None:
    result = weigh(given, policy, NOW)
    assert result.verdict is verdict, result
    lines = [blocker.line() for blocker in result.blockers]
    assert len(lines) == len(texts), lines
    for line, text in zip(lines, texts, strict=True):
        assert line.startswith(text), (line, text)
    assert result.summary() == "; ".join(lines)


def test_a_required_check_of_another_app_does_not_count() -> None:
    given = facts(runs=(run("test"),))
    rules = BranchRules((RequiredCheck("test", RULESET, app_id=999),))
    result = weigh(dataclasses.replace(given, rules=rules), POLICY, NOW)
    assert result.verdict is Verdict.WAIT
    assert [b.kind for b in result.blockers] == [BlockerKind.MISSING]


def test_a_required_status_of_that_name_counts_whoever_set_it() -> None:
    given = facts(statuses=(status("test", "success"),))
    rules = BranchRules((RequiredCheck("test", RULESET, app_id=999),))
    assert weigh(dataclasses.replace(given, rules=rules), POLICY, NOW).verdict is Verdict.MERGE


def test_the_latest_run_of_each_check_and_app_counts() -> None:
    other_app = dataclasses.replace(run("test", conclusion="failure", run_id=2), app_id=1, app="circleci")
    latest = latest_check_runs([run("test", conclusion="failure", run_id=1), run("test", run_id=5), other_app])
    assert [(r.run_id, r.app_id) for r in latest] == [(2, 1), (5, 15368)]


# -- native auto-merge ---------------------------------------------------------------------------------------

WAITING_ON_REQUIRED = facts(required=("test",), runs=(run("test", "in_progress", None),), mergeable_state="blocked")
ALLOWED = RepositorySettings(allow_auto_merge=True)


@pytest.mark.parametrize(
    ("case", "given", "native", "settings", "expected"),
    [
        ("auto, allowed, a required check pending", WAITING_ON_REQUIRED, NativeMerge.AUTO, ALLOWED, True),
        ("auto, repository does not allow it", WAITING_ON_REQUIRED, NativeMerge.AUTO, RepositorySettings(), False),
        ("auto, settings not read", WAITING_ON_REQUIRED, NativeMerge.AUTO, None, False),
        ("always, whatever the settings say", WAITING_ON_REQUIRED, NativeMerge.ALWAYS, None, True),
        ("never", WAITING_ON_REQUIRED, NativeMerge.NEVER, ALLOWED, False),
        (
            "auto, a pending check GitHub does not require: envbot waits for it itself",
            facts(required=("test",), runs=(run("test", "in_progress", None), run("docs", "queued", None, 2))),
            NativeMerge.AUTO, ALLOWED, False,
        ),
        ("auto, nothing required: GitHub would have nothing to wait for", facts(committed=JUST_PUSHED),
         NativeMerge.AUTO, ALLOWED, False),
        (
            "auto, only a required review is left",
            facts(runs=(run("test"),), reviews=2, mergeable_state="blocked"), NativeMerge.AUTO, ALLOWED, True,
        ),
        ("auto, a failing required check", facts(required=("test",), runs=(run("test", conclusion="failure"),)),
         NativeMerge.AUTO, ALLOWED, False),
    ],
)  # fmt: skip
def test_when_github_auto_merge_takes_over(
    case: str, given: MergeFacts, native: NativeMerge, settings: RepositorySettings | None, expected: bool
) -> None:
    policy = dataclasses.replace(POLICY, native=native)
    result = weigh(given, policy, NOW)
    assert use_native(result, given, policy, settings) is expected, result


def test_a_check_only_envbot_requires_is_not_left_to_github() -> None:
    given = facts(required=("test",), runs=(run("test", "in_progress", None),))
    policy = dataclasses.replace(POLICY, required_checks=("plan",))
    result: GateResult = weigh(given, policy, NOW)
    assert [b.github_enforced for b in result.blockers] == [False, True]
    assert not use_native(result, given, policy, ALLOWED)
