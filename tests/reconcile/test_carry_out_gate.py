"""``carry_out`` with the merge gate in it: what each verdict makes envbot do on a forge that models GitHub's checks,
rules and auto-merge (MemoryForge)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from manual_clock import ManualClock

from bot.forge.model import FileChange
from bot.reconcile.act import Progress, carry_out
from bot.reconcile.gate import BlockerKind, MergePolicy, NativeMerge
from bot.reconcile.model import Proposal, Purpose, Step
from bot.render.renderer import Repo
from bot.report.pull_requests import WORDING
from tests.fakes.memory_forge import MemoryForge

BRANCH = "envbot/dev/infrastructure"
PROPOSAL = Proposal(
    repo=Repo.PLATFORM, step=Step.INFRASTRUCTURE, branch=BRANCH,
    writes=(("registry/environments/dev/infrastructure/db.yaml", "kind: Workspace\n"),), deletes=(),
    purpose=Purpose("dev", Step.INFRASTRUCTURE, True, ("registry/environments/dev/infrastructure/db.yaml",), ()),
    merge=True,
)  # fmt: skip
NEVER = MergePolicy(native=NativeMerge.NEVER)


def forge_with_ci(clock: ManualClock, **options: object) -> MemoryForge:
    return MemoryForge.initialize({"README.md": "platform\n"}, clock=clock, checks_supported=True, **options)  # type: ignore[arg-type]


def attempt(forge: MemoryForge, clock: ManualClock, policy: MergePolicy = NEVER, proposal: Proposal = PROPOSAL):
    return carry_out(proposal, forge, "main", policy=policy, now=clock(), wording=WORDING)


def test_the_settle_time_holds_a_fresh_head_and_then_it_merges() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock)
    first = attempt(forge, clock)
    assert first.progress is Progress.CHECKS_PENDING
    assert [b.kind for b in first.blockers] == [BlockerKind.SETTLING]
    assert first.settled_at == clock() + dt.timedelta(minutes=2)
    clock.advance(dt.timedelta(minutes=2))
    assert attempt(forge, clock).progress is Progress.MERGED
    assert forge.branch_sha(BRANCH) is None  # the merged branch is gone


def test_a_failing_check_holds_it_and_turns_github_auto_merge_off() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock, allow_auto_merge=True)
    forge.require("plan")
    auto = MergePolicy(native=NativeMerge.AUTO)
    first = attempt(forge, clock, auto)
    assert first.progress is Progress.AUTO_MERGE and first.pull_request is not None
    number = first.pull_request.number
    assert forge.get_pull_request(number).auto_merge
    forge.add_check_run(BRANCH, "lint", conclusion="failure")  # not required: GitHub alone would merge past it
    failed = attempt(forge, clock, auto)
    assert failed.progress is Progress.CHECKS_FAILED
    assert (
        failed.detail
        == f'#{number}: check "lint" failed (https://ci.example/check-runs/1); required check "plan" has not reported yet (required by ruleset \'main\')'
    )
    assert not forge.get_pull_request(number).auto_merge
    forge.add_check_run(BRANCH, "plan", conclusion="success")
    assert forge.get_pull_request(number).state == "open"  # nobody merged it past the failure


def test_a_pull_request_the_decision_no_longer_merges_loses_its_auto_merge() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock, allow_auto_merge=True)
    forge.require("plan")
    auto = MergePolicy(native=NativeMerge.AUTO)
    assert attempt(forge, clock, auto).progress is Progress.AUTO_MERGE
    held = attempt(forge, clock, auto, dataclasses.replace(PROPOSAL, merge=False))
    assert held.progress is Progress.OPEN and held.pull_request is not None
    assert not forge.get_pull_request(held.pull_request.number).auto_merge
    forge.add_check_run(BRANCH, "plan", conclusion="success")
    assert forge.get_pull_request(held.pull_request.number).state == "open"


def test_behind_a_strict_base_the_branch_is_rebuilt_on_it() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock)
    forge.require("plan", strict=True)
    first = attempt(forge, clock)
    assert first.pull_request is not None
    old_head = first.pull_request.head_sha
    forge.add_check_run(old_head, "plan", conclusion="success")
    forge.push_commit("main", "main", [FileChange.write("docs/other.md", "someone else\n")], "docs")
    behind = attempt(forge, clock)
    # carry_out pushes onto the current base first, so it is only behind when the base moves in between; here the
    # push at the start already rebuilt it: a new head, whose check has not run yet
    assert behind.progress is Progress.CHECKS_PENDING
    assert forge.get_pull_request(first.pull_request.number).head_sha != old_head


class BaseMovesBeforeTheGate(MemoryForge):
    """Someone pushes to the base between envbot's push and its reading of the pull request, once."""

    moved = False

    def merge_facts(self, number: int):  # type: ignore[no-untyped-def]
        if not self.moved:
            self.moved = True
            self.push_commit("main", "main", [FileChange.write("docs/race.md", "meanwhile\n")], "docs")
        return super().merge_facts(number)


def test_behind_when_the_base_moved_in_between_the_branch_is_rebuilt_at_once() -> None:
    clock = ManualClock()
    forge = BaseMovesBeforeTheGate.initialize({"README.md": "platform\n"}, clock=clock, checks_supported=True)
    forge.require("plan", strict=True)
    outcome = attempt(forge, clock)
    assert outcome.progress is Progress.CHECKS_PENDING and outcome.pull_request is not None
    assert outcome.detail.startswith(f"#{outcome.pull_request.number}: rebuilt on the current base; #")
    assert [b.kind for b in outcome.blockers] == [BlockerKind.BEHIND]
    rebuilt = forge.get_pull_request(outcome.pull_request.number)
    assert rebuilt.head_sha != outcome.pull_request.head_sha
    assert forge.commit(rebuilt.head_sha).parents == (forge.branch_sha("main"),)


def test_always_reports_a_repository_that_does_not_allow_auto_merge() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock)
    forge.require("plan")
    outcome = attempt(forge, clock, MergePolicy(native=NativeMerge.ALWAYS))
    assert outcome.progress is Progress.CHECKS_PENDING
    assert outcome.blockers[0].kind is BlockerKind.REFUSED
    assert outcome.blockers[0].text.endswith("Auto merge is not allowed for this repository (merge.native is always)")


def test_auto_merge_is_not_turned_on_when_the_decision_was_overtaken() -> None:
    clock = ManualClock()
    forge = forge_with_ci(clock, allow_auto_merge=True)
    forge.require("plan")
    proposal = dataclasses.replace(PROPOSAL, basis="what the decision saw")
    outcome = carry_out(
        proposal,
        forge,
        "main",
        basis_now=lambda: "what is there now",
        policy=MergePolicy(),
        now=clock(),
        wording=WORDING,
    )
    assert outcome.progress is Progress.SUPERSEDED
    assert outcome.pull_request is not None and not forge.get_pull_request(outcome.pull_request.number).auto_merge
