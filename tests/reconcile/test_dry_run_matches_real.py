"""A dry run is the real run over forges that only tell their writes: at every step of a lifecycle it reaches the
decision the real run reaches from the same world, tells exactly the pull requests the real run opens, and changes
nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from bot.action import dry_run_of
from bot.reconcile.model import Decision, Phase
from bot.reconcile.runner import Reconciler
from tests.fakes.memory_forge import MemoryForge
from tests.reconcile.harness import World, make_world, seed_environment

Step = Callable[[Reconciler, str], Decision]


def provision(reconciler: Reconciler, name: str) -> Decision:
    return reconciler.run(name, seed_environment()).decision


def reconcile(reconciler: Reconciler, name: str) -> Decision:
    return reconciler.run(name).decision


def destroy(reconciler: Reconciler, name: str) -> Decision:
    reconciler.request_deletion(name, "nadia")
    return reconciler.run(name).decision


def state(world: World) -> tuple[object, ...]:
    return tuple((world.history(which), world.pull_requests(which)) for which in ("platform", "apps"))


def merges(world: World) -> int:
    return sum(pull.state == "merged" for which in ("platform", "apps") for pull in world.pull_requests(which))


def titles_opened(world: World, before: tuple[int, int]) -> list[str]:
    opened = world.pull_requests("platform")[before[0] :] + world.pull_requests("apps")[before[1] :]
    return sorted(pull.title for pull in opened)


def test_every_step_of_a_lifecycle_decides_as_the_real_run_and_writes_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path / "world-0")
    name = seed_environment().name
    steps: list[tuple[Step, dt.timedelta]] = [
        (provision, dt.timedelta(minutes=10)),  # the controllers make everything Available meanwhile
        (reconcile, dt.timedelta(minutes=10)),
        (reconcile, dt.timedelta(minutes=10)),
        (destroy, dt.timedelta(minutes=10)),
        (reconcile, dt.timedelta(minutes=10)),
        (reconcile, dt.timedelta(minutes=10)),
        (reconcile, dt.timedelta(0)),
    ]
    phases = []
    for index, (step, then) in enumerate(steps, start=1):
        told: list[str] = []
        before = state(world)
        counts = (len(world.pull_requests("platform")), len(world.pull_requests("apps")))
        checkpoint = world.checkpoint(tmp_path / f"checkpoint-{index}")
        _, rehearsal = dry_run_of(MemoryForge(), world.reconciler(), told.append)
        dry = step(rehearsal, name)
        assert state(world) == before, f"step {index}: the dry run wrote"

        real_world = checkpoint.restore(tmp_path / f"world-{index}", world.catalogs)
        real = step(real_world.reconciler(), name)

        assert dry.phase is real.phase, f"step {index}"
        would_open = sorted(line.split("): ", 1)[1] for line in told if " would open pull request #" in line)
        assert would_open == titles_opened(real_world, counts), f"step {index}: {told}"
        would_merge = sum(" would merge #" in line for line in told)
        assert would_merge == merges(real_world) - merges(world), f"step {index}: {told}"
        if not would_merge:  # else the real cluster saw the merge and the dry run's, rightly, did not
            assert dry.waiting_on == real.waiting_on, f"step {index}"
        phases.append(real.phase)
        world = real_world
        world.clock.advance(then)
    assert phases[0] is not Phase.READY and Phase.READY in phases and phases[-1] is Phase.DELETED
