"""The forge seam for record, observe, act and report: the ``Forge`` protocol, GitHub, git on disk, dry run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.forge.errors import BaseMovedError, ForgeNotFoundError, ForgeRejectedError, ForgeUnavailableError
from bot.forge.model import (
    BOT_BRANCH_PREFIX,
    CLOSED_MARKER,
    CombinedStatus,
    Comment,
    CommitResult,
    CommitStatus,
    FileChange,
    MergeMethod,
    MergeOutcome,
    MergeResult,
    Permission,
    PullRequest,
    PullRequestState,
    StatusState,
)
from bot.forge.protocol import Forge

if TYPE_CHECKING:
    from bot.forge.github import GitHubForge
    from bot.forge.local import LocalForge

__all__ = [
    "BOT_BRANCH_PREFIX",
    "CLOSED_MARKER",
    "BaseMovedError",
    "CombinedStatus",
    "Comment",
    "CommitResult",
    "CommitStatus",
    "FileChange",
    "Forge",
    "ForgeNotFoundError",
    "ForgeRejectedError",
    "ForgeUnavailableError",
    "GitHubForge",
    "LocalForge",
    "MergeMethod",
    "MergeOutcome",
    "MergeResult",
    "Permission",
    "PullRequest",
    "PullRequestState",
    "StatusState",
]


def __getattr__(name: str) -> Any:
    # The implementations import PyGithub / GitPython; load them only when asked for, so the pure core and the
    # CLI's fast paths do not pay for both.
    if name == "GitHubForge":
        from bot.forge.github import GitHubForge

        return GitHubForge
    if name == "LocalForge":
        from bot.forge.local import LocalForge

        return LocalForge
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
