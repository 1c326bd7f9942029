"""Checks before a run's first write: repositories and base branches, catalogs, the environment it names."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import readable_time
from bot.errors import PermanentError, UserError
from bot.forge.protocol import Forge
from bot.names import did_you_mean
from bot.reconcile.model import Observation
from bot.reconcile.runner import Reconciler


def repository_problems(role: str, name: str, forge: Forge, base: str) -> list[str]:
    """Why a run could not write to this repository: unreachable, or no base branch; ``[]`` when it can.

    A transient fault is raised as it is: it says nothing about the configuration.
    """
    try:
        head = forge.branch_sha(base)
    except PermanentError as exc:
        return [f"{role} repository {name}: {exc}"]
    return [] if head is not None else [f"{role} repository {name}: base branch {base} not found"]


def preflight(reconciler: Reconciler, *, platform: str, apps: str, catalogs: str) -> None:
    """Raise one ``UserError`` naming every problem that would stop a run part-way, before it writes anything.

    ``platform``, ``apps`` and ``catalogs`` name the two repositories and the catalogs folder as the configuration
    gives them. Without it, a missing apps base branch was found only after the platform pull request had merged
    (and real infrastructure was being created).
    """
    problems = [
        *repository_problems("platform", platform, reconciler.platform, reconciler.platform_base),
        *repository_problems("apps", apps, reconciler.apps, reconciler.apps_base),
    ]
    if not reconciler.catalogs.catalogs:
        problems.append(f"catalogs {catalogs}: the folder holds no catalog")
    if problems:
        raise UserError(problems)


def exists(observation: Observation) -> bool:
    """Anything of the environment is there: a record, a first request, a file, or an object in the cluster."""
    return bool(
        observation.record is not None
        or observation.bound is not None
        or observation.problems
        or observation.platform_files
        or observation.app_files
        or observation.workspaces
        or observation.applications
    )


def existing(reconciler: Reconciler, name: str) -> Observation:
    """The environment ``name`` as observed now; ``UserError`` ``no environment NAME`` (did you mean ...?) if none."""
    observation = reconciler.observe(name)
    if exists(observation):
        return observation
    known = reconciler.environments(reconciler.snapshot())
    raise UserError(f"no environment {name}{did_you_mean(name, known)}")


def provision_refusal(observation: Observation, show: Callable[[str], str] = str) -> str | None:
    """Why the environment may not be provisioned now (its record asks for its deletion), or None.

    ``show`` formats the names and people it quotes (the Action's replies quote them as code).
    """
    deletion = observation.record.deletion if observation.record is not None else None
    if deletion is None:
        return None
    when = readable_time(deletion.requested_at)
    return (
        f"environment {show(observation.name)} is being deleted ({show(deletion.requested_by)} asked for it at "
        f"{when}); wait until it is Deleted, then provision again"
    )
