"""Other people and other runs acting between envbot's requests: a push to the pull request branch before the merge
(409 head moved), a pull request that cannot be merged (405), a pull request opened by another run between the
listing and the create (422), someone else's push to the base (a protected base refuses the stale branch; a git
push of the base is rejected), and the bot's branch deleted under it. Each converges on re-run, with nothing lost
and nothing duplicated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from manual_clock import ManualClock

from bot.catalog.model import CatalogSet
from bot.environment import parse_environment
from bot.forge.local import LocalForge
from bot.forge.model import FileChange
from bot.reconcile.model import Phase
from bot.reconcile.runner import Reconciler
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.faults import ledger
from tests.faults.github import Fault, FaultyGitHub
from tests.faults.world import (
    ENV,
    EndState,
    World,
    assert_converged,
    catalogs,
    environment_document,
    reference,
)

INFRA = f"envbot/{ENV}/infrastructure"
APPLICATIONS = f"envbot/{ENV}/applications"
WORKSPACE = f"registry/environments/{ENV}/infrastructure/rds-postgres.yaml"
DECISION = {"docs/decisions/0007-naming.md": "# Name environments after their branch\n"}
DECISION_COMMIT = "docs: record the naming decision"


def merges(fake: FaultyGitHub) -> int:
    return fake.count("pulls/merge")


def with_decision(expected: EndState, before: str) -> EndState:
    """The reference, plus someone's commit on the platform base just before the merge of ``before``."""
    history = list(expected.history["platform"])
    at = next(i for i, message in enumerate(history) if message.endswith(f"from {before}"))
    history.insert(at, DECISION_COMMIT)
    expected.history["platform"] = history
    expected.files["platform"].update(DECISION)
    return expected


# -- 409: the head moved between the read and the merge --------------------------------------------------------------


def test_a_push_to_the_branch_before_the_merge_is_overwritten_and_the_merge_retried(world: World) -> None:
    """Someone pushes to envbot's branch between its read of the pull request and its merge: GitHub answers 409,
    envbot rebuilds its branch (the bot owns it: the stray commit goes) and merges in the same run."""
    stray = {WORKSPACE: "# edited by hand\n"}
    fault = Fault(
        "race: head moved before the merge (409)",
        operation="pulls/merge",
        before=lambda fake: fake.push_as_someone(INFRA, stray, "hand edit"),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].error is None
    assert merges(world.platform) == 2  # the refused merge, then the merge of the rebuilt branch
    assert_converged(world.end_state(), reference())


# -- 405: not mergeable ----------------------------------------------------------------------------------------------


def test_a_pull_request_that_cannot_be_merged_for_a_moment_is_merged_by_the_rerun(world: World) -> None:
    fault = Fault(
        "github 405 not mergeable",
        operation="pulls/merge",
        status=405,
        body={"message": "Pull Request is not mergeable"},
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1
    assert runs[0].phase is Phase.CREATING and runs[0].error is None  # waits, reported on the pull request
    (line,) = runs[0].rows[-1].pull_request_texts
    assert line.endswith("/pull/1 (not-mergeable): GitHub refused to merge #1: Pull Request is not mergeable")
    assert_converged(world.end_state(), reference())


def test_a_conflict_with_a_change_on_the_base_is_resolved_by_the_rerun(world: World) -> None:
    """Someone commits a conflicting Workspace to the base right before the merge: 405. The rerun renders onto
    the new base, so its pull request replaces the hand-made file and merges."""
    conflict = {WORKSPACE: "# a hand-made Workspace\n"}
    fault = Fault(
        "race: conflicting push to the base (405)",
        operation="pulls/merge",
        before=lambda fake: fake.push_as_someone("main", conflict, DECISION_COMMIT),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].phase is Phase.CREATING
    expected = reference()
    expected.history["platform"].insert(1, DECISION_COMMIT)
    # The base held files of the environment already, so the pull request (the same one, rebuilt) says "update".
    expected.pulls["platform"] = [(INFRA, f"envbot: {ENV}: infrastructure update", "merged")]
    assert_converged(world.end_state(), expected)
    assert world.platform.main_files()[WORKSPACE] != conflict[WORKSPACE]


# -- 422: a pull request already exists --------------------------------------------------------------------------------


def test_a_pull_request_opened_by_another_run_meanwhile_is_used(world: World) -> None:
    """Another run opens the same pull request between envbot's listing and its create: GitHub answers 422
    "A pull request already exists", envbot finds that one and carries on with it."""
    fault = Fault(
        "race: pull request opened by another run (422)",
        operation="pulls/create",
        before=lambda fake: fake.open_pull_as_someone(INFRA, "main", f"envbot: {ENV}: infrastructure"),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].error is None
    assert world.platform.count("pulls/create") == 1  # the refused create; the other run's is not a request
    assert_converged(world.end_state(), reference())


# -- someone else pushed to the base -----------------------------------------------------------------------------------


def test_a_protected_base_that_moved_gets_the_branch_rebuilt_on_it(world: World) -> None:
    """With "require branches to be up to date" on the base, someone pushes to the base before envbot merges, GitHub refuses the
    stale branch (405), and the rerun rebuilds the branch on the new base and merges it."""
    world.platform.require_up_to_date = True
    fault = Fault(
        "race: push to a protected base (405 not up to date)",
        operation="pulls/merge",
        before=lambda fake: fake.push_as_someone("main", DECISION, DECISION_COMMIT),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].phase is Phase.CREATING
    assert_converged(world.end_state(), with_decision(reference(), INFRA))
    (pr,) = [p for p in world.platform.pulls.values() if p["head"] == INFRA]
    rebuilt = world.platform.commits[pr["head_sha"]]
    assert rebuilt.parents == (world.platform.commits[pr["merge_sha"]].parents[0],)  # on the base it merged into


def test_a_base_that_moved_before_the_merge_keeps_both_changes(world: World) -> None:
    fault = Fault(
        "race: push to the base before the merge",
        operation="pulls/merge",
        before=lambda fake: fake.push_as_someone("main", DECISION, DECISION_COMMIT),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].error is None
    assert_converged(world.end_state(), with_decision(reference(), INFRA))


def test_a_rejected_push_of_the_base_is_redone_on_the_new_base(tmp_path: Path) -> None:
    """Local git over a URL: someone pushes to the base between envbot's fetch and its push of the merge, git
    rejects envbot's push (stale lease), and envbot merges again on top of the new base."""
    expected = _local_provision(tmp_path / "reference", catalogs(), race=False)
    raced = _local_provision(tmp_path / "raced", catalogs(), race=True)
    files, history = raced
    assert files == {**expected[0], **DECISION}
    assert history == [expected[1][0], DECISION_COMMIT, *expected[1][1:]]


class _RacedForge(LocalForge):
    """A LocalForge on a URL whose first push of the base branch loses the race against someone else's push."""

    def __init__(self, url: str, bare: Path) -> None:
        super().__init__(url)
        self._bare = bare
        self.raced = 0

    def _update_refs(self, updates: list[Any]) -> None:
        if not self.raced and any(update.ref == "refs/heads/main" for update in updates):
            self.raced += 1
            ledger.record("race: git push of the base rejected (stale lease)")
            with LocalForge(self._bare) as someone:
                changes = [FileChange.write(path, text) for path, text in DECISION.items()]
                someone.push_commit("main", "main", changes, DECISION_COMMIT)
        super()._update_refs(updates)


def _local_provision(root: Path, catalog_set: CatalogSet, *, race: bool) -> tuple[dict[str, str], list[str]]:
    """One provisioning run of the example on two local repositories reached by file:// URLs; the platform's
    files and first-parent history (oldest first)."""
    bare = {which: root / f"{which}.git" for which in ("platform", "apps")}
    for which, path in bare.items():
        LocalForge.initialize(path, {"README.md": f"{which}\n"}).close()
    platform = (
        _RacedForge(bare["platform"].as_uri(), bare["platform"]) if race else LocalForge(bare["platform"].as_uri())
    )
    apps = LocalForge(bare["apps"].as_uri())
    clock = ManualClock()
    observed = (LocalForge(bare["platform"]), LocalForge(bare["apps"]))
    cluster = SimulatedCluster(*observed, catalog_set, clock=clock)
    document = {**environment_document(), "name": ENV, "namespace": ENV}
    request = parse_environment(yaml.safe_dump(document), "feature.yaml")
    reconciler = Reconciler(platform, apps, cluster, catalog_set, WORDING, clock=clock, sleep=clock.sleep)
    final = reconciler.run(ENV, request)  # one run: the infrastructure merged, the applications opened
    assert final.decision.phase is Phase.PROVISIONING_INFRASTRUCTURE
    if race:
        assert isinstance(platform, _RacedForge) and platform.raced == 1
    reader = observed[0]
    files = {path: reader.read_file(path, "main") or "" for path in reader.list_tree("", "main")}
    history = [subject for _, _, subject in reversed(reader.history("main"))]
    for forge in (platform, apps, *observed):
        forge.close()
    return files, history


# -- the bot's branch deleted under it ---------------------------------------------------------------------------------


def closed_then_merged(expected: EndState, which: str, head: str) -> EndState:
    """The reference, but the pull request of ``head`` was closed (its branch deleted) and opened again."""
    pulls = expected.pulls[which]
    at = next(i for i, (h, _, _) in enumerate(pulls) if h == head)
    head_, title, _ = pulls[at]
    expected.pulls[which] = [*pulls[:at], (head_, title, "closed"), *pulls[at:]]
    expected.history[which] = [
        m.replace(f"#{at + 1} from {head}", f"#{at + 2} from {head}") for m in expected.history[which]
    ]
    return expected


def test_a_branch_deleted_between_runs_gets_a_new_pull_request(world: World) -> None:
    """Someone deletes envbot's open applications branch (GitHub closes its pull request with it): the next run
    pushes the branch again and opens a new pull request, which merges."""

    def delete_once(current: World, run: object) -> None:
        if len(current.runs) == 1:
            ledger.record("race: bot branch deleted between runs")
            current.apps.delete_branch(APPLICATIONS)

    world.drive(between=delete_once)
    expected = closed_then_merged(reference(), "apps", APPLICATIONS)
    assert_converged(world.end_state(), expected)


def test_a_branch_deleted_right_before_the_merge_gets_a_new_pull_request_on_rerun(world: World) -> None:
    fault = Fault(
        "race: bot branch deleted before the merge",
        operation="pulls/merge",
        before=lambda fake: fake.delete_branch(INFRA),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1 and runs[0].phase is Phase.CREATING and runs[0].error is None
    assert_converged(world.end_state(), closed_then_merged(reference(), "platform", INFRA))


def test_a_branch_deleted_between_the_push_and_the_pull_request_is_pushed_again_in_the_same_run(
    world: World,
) -> None:
    fault = Fault(
        "race: bot branch deleted before the pull request",
        operation="pulls/create",
        before=lambda fake: fake.delete_branch(INFRA),
    )
    world.platform.inject(fault)
    runs = world.drive()
    assert fault.fired == 1
    assert runs[0].error is None, runs[0].message
    assert_converged(world.end_state(), reference())


def test_head_branches_deleted_after_every_merge_change_nothing(world: World) -> None:
    """GitHub's "Automatically delete head branches" on both GitOps repositories, through the whole lifecycle."""
    world.platform.delete_head_branches = world.apps.delete_head_branches = True
    world.lifecycle()
    assert_converged(world.end_state(), reference("deleted"))
    assert not [
        ref for fake in (world.platform, world.apps) for ref in fake.refs if ref.startswith("refs/heads/envbot")
    ]
