"""Argo CD's ApplicationSets in a reconcile world: `envbot bootstrap`'s output committed, changes to either main."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.forge.local import LocalForge
from bot.forge.model import FileChange
from bot.render.bootstrap import BootstrapRepos, render_bootstrap
from bot.render.renderer import Repo
from tests.reconcile.harness import World


def forge_of(world: World, which: str) -> LocalForge:
    platform, apps = world.forges()
    return platform if which == Repo.PLATFORM.value else apps


def commit(world: World, which: str, files: Mapping[str, str | None], message: str = "by hand") -> None:
    """One commit straight to the main branch of ``which`` ("platform" or "apps"); ``None`` deletes a file."""
    forge_of(world, which).push_commit("main", "main", [FileChange(p, c) for p, c in files.items()], message)


def install_bootstrap(world: World, edit: Callable[[str], str] | None = None) -> dict[str, str]:
    """Commit what `envbot bootstrap` writes (each file changed by ``edit`` first) to both main branches, where
    Argo CD reads them; returns each file's path → its repository."""
    repos = BootstrapRepos(world.platform_path.as_uri(), world.apps_path.as_uri())
    where: dict[str, str] = {}
    for rendered in render_bootstrap(repos):
        content = edit(rendered.content) if edit is not None else rendered.content
        commit(world, rendered.repo.value, {rendered.path: content}, "envbot bootstrap")
        where[rendered.path] = rendered.repo.value
    return where
