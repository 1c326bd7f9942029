"""A small world for reconcile tests: two bare repositories, the simulated cluster, a fake clock, crashes."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.environment import parse_environment
from bot.environment.model import Environment
from bot.forge.errors import ForgeNotFoundError
from bot.forge.local import LocalForge
from bot.forge.model import PullRequest
from bot.reconcile.runner import Reconciler
from bot.reconcile.verdicts import VerdictPolicy
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster

T = TypeVar("T")


class Crash(Exception):  # noqa: N818 - the name reads as what happened
    """The process died right after an action."""


@dataclass
class Budget:
    """How many writes may happen before the simulated crash; None: no crash."""

    left: int | None = None
    spent: int = 0
    after_each: Callable[[int], None] | None = None
    """Called with the write count after every write (the crash test snapshots the world there)."""

    def spend(self) -> None:
        self.spent += 1
        if self.after_each is not None:
            self.after_each(self.spent)
        if self.left is not None:
            self.left -= 1
            if self.left <= 0:
                self.left = None
                raise Crash(f"crash after action {self.spent}")


WRITES = frozenset({"push_commit", "ensure_pull_request", "set_status", "upsert_comment", "merge"})
WITHDRAWALS = frozenset({"close_pull_request", "delete_branch"})
"""The writes that withdraw what no intent asks for any more (pass ``WRITES | WITHDRAWALS`` to crash after them too)."""


class CrashingForge:
    """A forge that performs each write and then, when the budget runs out, 'dies' before returning."""

    def __init__(self, inner: Any, budget: Budget, writes: frozenset[str] = WRITES) -> None:
        self._inner = inner
        self._budget = budget
        self._writes = writes

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in self._writes:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            self._budget.spend()
            return result

        return write


@dataclass
class World:
    root: Path
    catalogs: CatalogSet
    clock: ManualClock = field(default_factory=ManualClock)
    cluster: SimulatedCluster | None = None

    @property
    def platform_path(self) -> Path:
        return self.root / "platform.git"

    @property
    def apps_path(self) -> Path:
        return self.root / "apps.git"

    def forges(self) -> tuple[LocalForge, LocalForge]:
        return LocalForge(self.platform_path), LocalForge(self.apps_path)

    def reconciler(self, budget: Budget | None = None, policy: VerdictPolicy | None = None) -> Reconciler:
        platform, apps = self.forges()
        assert self.cluster is not None
        wrapped_platform: Any = CrashingForge(platform, budget) if budget else platform
        wrapped_apps: Any = CrashingForge(apps, budget) if budget else apps
        return Reconciler(
            platform=wrapped_platform,
            apps=wrapped_apps,
            cluster=self.cluster,
            catalogs=self.catalogs,
            wording=WORDING,
            policy=policy or VerdictPolicy(),
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def checkpoint(self, folder: Path) -> Checkpoint:
        """The world as a crash right now would leave it: both repositories, the controllers' state, the clock.

        A repository is copied without its object store, which it borrows from this world's (``_copy_refs``): git
        objects are immutable and only ever added, so every object the copied refs reach stays there."""
        assert self.cluster is not None
        for path in (self.platform_path, self.apps_path):
            _copy_refs(path, folder / path.name)
        return Checkpoint(folder, copy.deepcopy(self.cluster._tracked), self.clock.now)

    def pull_requests(self, which: str) -> list[PullRequest]:
        forge = LocalForge(self.platform_path if which == "platform" else self.apps_path)
        found = []
        number = 1
        while True:
            try:
                found.append(forge.get_pull_request(number))
            except ForgeNotFoundError:
                return found
            number += 1

    def history(self, which: str) -> list[str]:
        forge = LocalForge(self.platform_path if which == "platform" else self.apps_path)
        return [subject for _, _, subject in reversed(forge.history("main"))]

    def main_files(self, which: str) -> dict[str, str]:
        forge = LocalForge(self.platform_path if which == "platform" else self.apps_path)
        return {p: forge.read_file(p, "main") or "" for p in forge.list_tree("", "main")}


@dataclass(frozen=True)
class Checkpoint:
    """A copy of a world between two writes (``World.checkpoint``); ``restore`` starts a new world from it."""

    folder: Path
    tracked: Any
    now: dt.datetime

    def restore(self, root: Path, catalogs: CatalogSet) -> World:
        world = World(root=root, catalogs=catalogs, clock=ManualClock(self.now))
        for path in (world.platform_path, world.apps_path):
            _copy_refs(self.folder / path.name, path)
        platform, apps = world.forges()
        world.cluster = SimulatedCluster(platform, apps, catalogs, clock=world.clock)
        world.cluster._tracked = copy.deepcopy(self.tracked)
        return world


@functools.cache
def project_catalogs() -> CatalogSet:
    """The project's catalogs, loaded once per process (a CatalogSet is frozen: every world may share it)."""
    return load_catalogs(CATALOGS)


def _copy_refs(repository: Path, copy_to: Path) -> None:
    """A bare repository with ``repository``'s refs, config and HEAD whose objects are read from ``repository``'s
    own (git alternates; ``git clone --shared`` does the same): no object is copied, new ones go to the copy, and
    neither are git's sample hooks (never run)."""
    objects = repository / "objects"

    def not_copied(folder: str, names: list[str]) -> list[str]:
        if Path(folder) == objects:
            return [name for name in names if name != "info"]
        return [name for name in names if name.endswith(".sample")]

    shutil.copytree(repository, copy_to, ignore=not_copied)
    alternates = copy_to / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)
    borrowed = alternates.read_text(encoding="utf-8") if alternates.exists() else ""
    alternates.write_text(f"{objects.resolve()}\n{borrowed}", encoding="utf-8")


def make_world(root: Path, catalogs: CatalogSet | None = None) -> World:
    world = World(root=root, catalogs=catalogs or project_catalogs())
    platform = LocalForge.initialize(world.platform_path, {"README.md": "platform\n"})
    apps = LocalForge.initialize(world.apps_path, {"README.md": "apps\n"})
    world.cluster = SimulatedCluster(platform, apps, world.catalogs, clock=world.clock)
    return world


def seed_environment() -> Environment:
    path = EXAMPLES / "dev-feature-auth.yaml"
    return parse_environment(path.read_text(), path.as_posix())


def environment(document: dict[str, Any]) -> Environment:
    return parse_environment(yaml.safe_dump({"kind": "Environment", **document}), "test.yaml")
