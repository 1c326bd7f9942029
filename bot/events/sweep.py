"""The orphan sweep, decided: which environments lost their branch or pull request, from what one listing showed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.environment.model import Origin, OriginKind
from bot.events.config import EventsConfig
from bot.forge.model import PullRequestState


def orphan_reason(
    origin: Origin,
    config: EventsConfig,
    *,
    branch_exists: bool | None = None,
    pull_request_state: PullRequestState | None = None,
) -> str | None:
    """Why an environment is an orphan that the sweep destroys, or None to keep it.

    Pass what was observed; None means unknown, and unknown never destroys. A branch environment is an orphan
    once its branch is gone; a pull request environment once its pull request is merged, or closed while
    ``destroy_on_close_unmerged`` is on or its branch is gone. Manual environments, and those of another
    repository than the configured one, are never orphans.
    """
    if origin.kind is OriginKind.MANUAL:
        return None
    if config.repository and origin.repository and origin.repository.casefold() != config.repository.casefold():
        return None
    if origin.kind is OriginKind.BRANCH:
        return f"branch {origin.branch} no longer exists" if branch_exists is False else None
    if pull_request_state == "merged":
        return f"pull request #{origin.pull_request} is merged"
    if pull_request_state == "closed" and (config.destroy_on_close_unmerged or branch_exists is False):
        return f"pull request #{origin.pull_request} is closed"
    return None


@dataclass(frozen=True)
class Orphan:
    """An environment the sweep destroys, and why (recorded as who asked: ``envbot sweep: <reason>``)."""

    name: str
    reason: str

    @property
    def requested_by(self) -> str:
        return f"envbot sweep: {self.reason}"


def listings_needed(origins: Mapping[str, Origin]) -> tuple[bool, bool]:
    """Whether the sweep must list the source's branches, and its pull requests, to judge these origins."""
    return any(o.branch for o in origins.values()), any(o.pull_request for o in origins.values())


def plan_sweep(
    origins: Mapping[str, Origin],
    config: EventsConfig,
    *,
    branches: frozenset[str] | None,
    pull_requests: Mapping[int, PullRequestState] | None,
) -> tuple[Orphan, ...]:
    """The orphans among the live environments' ``origins``, judged from one listing of the source repository's
    branches and one of its pull requests (None: not listed, so unknown, and unknown never destroys)."""
    found: list[Orphan] = []
    for name, origin in sorted(origins.items()):
        reason = orphan_reason(
            origin,
            config,
            branch_exists=(origin.branch in branches) if origin.branch and branches is not None else None,
            pull_request_state=(
                pull_requests.get(origin.pull_request) if origin.pull_request and pull_requests is not None else None
            ),
        )
        if reason is not None:
            found.append(Orphan(name, reason))
    return tuple(found)
