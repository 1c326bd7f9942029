"""The process killed right after each write request of a whole lifecycle on GitHub (the GitOps repositories and
the pull request's sticky comment and status), the job re-run: every crash point ends where the run without a
crash ends, with one pull request per phase, one merge commit each and one sticky comment.

(``tests/reconcile/test_lifecycle.py`` does the same per Forge call on local git; here the crash comes after each
REST request, so a crash can also fall between the tree, the commit and the ref of one push.)"""

from __future__ import annotations

import pytest

from bot.reconcile.model import Phase
from tests.faults.world import Budget, World, assert_converged, reference

CRASH_SHARDS = 3
"""The crash points are dealt round-robin over this many tests, so parallel workers share them."""


@pytest.mark.parametrize("shard", range(CRASH_SHARDS))
def test_a_crash_after_any_write_request_converges_without_duplicates(world: World, shard: int) -> None:
    counter = Budget()
    world.budget = counter
    start = world.save()
    world.drive()
    ready = world.save()
    provision_writes = counter.spent
    ready_state = world.end_state()
    world.drive("/destroy", Phase.DELETED)
    total = counter.spent
    deleted_state = world.end_state()
    assert ready_state == reference("ready") and deleted_state == reference("deleted")
    assert provision_writes >= 20 and total - provision_writes >= 20

    for crash_after in range(1 + shard, total + 1, CRASH_SHARDS):
        destroying = crash_after > provision_writes
        world.load(ready if destroying else start)
        budget = Budget(left=crash_after - provision_writes if destroying else crash_after)
        world.budget = budget
        if destroying:
            world.drive("/destroy", Phase.DELETED)
        else:
            world.drive()
        assert budget.left is None, f"no crash after write request {crash_after}"
        expected = deleted_state if destroying else ready_state
        assert_converged(world.end_state(), expected)
    assert world.violations() == []
