"""The process killed right after each write request of a whole lifecycle on GitHub (the GitOps repositories and
the pull request's sticky comment and status), the job re-run: every crash point ends where the run without a
crash ends, with one pull request per phase, one merge commit each and one sticky comment.

Each crash point starts from a checkpoint of one reference lifecycle taken right after that write request (the
fakes, the simulated controllers, the clock: what the kill leaves behind), so only what follows the crash runs again.
(``tests/reconcile/test_lifecycle.py`` does the same per Forge call on local git; here the crash comes after each
REST request, so a crash can also fall between the tree, the commit and the ref of one push.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from bot.reconcile.model import Phase
from tests.faults.world import Budget, CrashPoint, EndState, World, assert_converged, reference

CRASH_SHARDS = 6
"""The crash points are dealt round-robin over this many tests, so parallel workers share them."""


@dataclass(frozen=True)
class ReferenceLifecycle:
    """A provision and destroy with no crash: where each crash point stands right after its write request, the end
    state that write leaves on the fakes, how many writes the provision made and where each drive ends."""

    after_write: dict[int, CrashPoint]
    state_after_write: dict[int, EndState]
    provision_writes: int
    ready: EndState
    deleted: EndState


@pytest.fixture(scope="module")
def reference_lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceLifecycle]:
    world = World(tmp_path_factory.mktemp("crash-reference"))
    drive = ("/provision", Phase.READY)
    after_write: dict[int, CrashPoint] = {}
    state_after_write: dict[int, EndState] = {}

    def checkpoint(spent: int) -> None:
        after_write[spent] = CrashPoint(world.save(), *drive, sending=world.sending)
        state_after_write[spent] = world.end_state()

    try:
        world.budget = Budget(after_each=checkpoint)
        world.drive()
        provision_writes, ready = world.budget.spent, world.end_state()
        drive = ("/destroy", Phase.DELETED)
        world.drive("/destroy", Phase.DELETED)
        deleted = world.end_state()
        assert world.violations() == [] and all(run.error is None for run in world.runs)
        yield ReferenceLifecycle(after_write, state_after_write, provision_writes, ready, deleted)
    finally:
        world.close()


def test_the_reference_lifecycle_writes_enough_and_ends_as_the_plain_runs_do(
    reference_lifecycle: ReferenceLifecycle,
) -> None:
    """Checkpointing after every write changes nothing the runs do: the same end states as runs without it."""
    assert reference_lifecycle.ready == reference("ready") and reference_lifecycle.deleted == reference("deleted")
    total = max(reference_lifecycle.after_write)
    assert sorted(reference_lifecycle.after_write) == list(range(1, total + 1))
    assert reference_lifecycle.provision_writes >= 20 and total - reference_lifecycle.provision_writes >= 20


@pytest.mark.parametrize("shard", range(CRASH_SHARDS))
def test_a_crash_after_any_write_request_converges_without_duplicates(
    world: World, reference_lifecycle: ReferenceLifecycle, shard: int
) -> None:
    """Killed right after write request N and re-run with the same comment, then ``/status``: from the world as
    that write left it, every N ends in the reference's pull requests, files, history and one sticky comment."""
    crash_points = sorted(reference_lifecycle.after_write)[shard::CRASH_SHARDS]
    assert crash_points, "more shards than writes: lower CRASH_SHARDS"
    for crash_after in crash_points:
        world.resume(reference_lifecycle.after_write[crash_after])
        destroying = crash_after > reference_lifecycle.provision_writes
        expected = reference_lifecycle.deleted if destroying else reference_lifecycle.ready
        assert_converged(world.end_state(), expected)
    assert world.violations() == []


def test_a_restored_checkpoint_is_the_world_it_was_taken_from(
    make_world: Callable[..., World], reference_lifecycle: ReferenceLifecycle
) -> None:
    """Loaded into a fresh world (in any order), each checkpoint is the world as it stood after its write: the same
    fakes down to their counters, controllers and clock, and what the fakes show; the runs carry on from it."""
    world = make_world()
    crash_points = sorted(reference_lifecycle.after_write)
    for crash_after in [*crash_points[::-1], *crash_points[::3]]:
        crashed = reference_lifecycle.after_write[crash_after]
        world.load(crashed.checkpoint)
        assert world.save() == crashed.checkpoint, f"checkpoint after write {crash_after}"
        assert world.end_state() == reference_lifecycle.state_after_write[crash_after]
    first = reference_lifecycle.after_write[1]
    world.load(first.checkpoint)
    assert world.clock.now == first.checkpoint.now
    assert world.cluster._tracked == first.checkpoint.tracked
    assert (first.first, first.until, first.sending) == ("/provision", Phase.READY, "/provision")
    world.resume(first)
    assert world.end_state() == reference_lifecycle.ready
