"""What the reconciler observes, decides and proposes: phases, observations, proposals and decisions."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from bot.cluster.model import ObservedObject
from bot.environment.model import BoundEnvironment
from bot.environment.record import Record
from bot.forge.model import StatusState
from bot.render.renderer import Pending, Repo


class Phase(enum.StrEnum):
    """The phases people see, in the order an environment goes through them."""

    CREATING = "Creating"
    PROVISIONING_INFRASTRUCTURE = "Provisioning Infrastructure"
    INFRASTRUCTURE_READY = "Infrastructure Ready"
    DEPLOYING_APPLICATIONS = "Deploying Applications"
    READY = "Ready"
    FAILED = "Failed"
    DELETING = "Deleting"
    DELETED = "Deleted"

    @property
    def settled(self) -> bool:
        """Nothing more will happen without a change or a person: Ready, Failed or Deleted."""
        return self in (Phase.READY, Phase.FAILED, Phase.DELETED)


class Step(enum.StrEnum):
    """One pull request envbot opens for an environment; the value is the last part of its branch name."""

    INFRASTRUCTURE = "infrastructure"
    APPLICATIONS = "applications"
    DESTROY = "destroy"
    RETRY = "retry"
    CLEANUP_APPLICATIONS = "cleanup-applications"
    CLEANUP_INFRASTRUCTURE = "cleanup-infrastructure"
    REMOVE_FOLDERS = "remove-folders"
    REMOVE_RECORD = "remove-record"

    @property
    def records_intent(self) -> bool:
        """A person's request (destroy, retry) that only the command that made it carries on; decide never does."""
        return self in (Step.DESTROY, Step.RETRY)


def branch_name(environment: str, step: Step) -> str:
    """Deterministic branch of one step: ``envbot/<env>/<step>``."""
    return f"envbot/{environment}/{step.value}"


def step_of_branch(branch: str) -> tuple[str, Step] | None:
    """The environment and step of one of envbot's branches; ``None`` for any other branch."""
    parts = branch.split("/")
    if len(parts) != 3 or parts[0] != "envbot" or not parts[1]:
        return None
    try:
        return parts[1], Step(parts[2])
    except ValueError:
        return None


INFRASTRUCTURE_GATE = "envbot/infrastructure"


@dataclass(frozen=True)
class Gate:
    """A commit status envbot sets on a proposal's head (``envbot/infrastructure`` on app PRs)."""

    context: str
    state: StatusState
    description: str


@dataclass(frozen=True)
class Purpose:
    """What a pull request is for, in facts; ``Wording`` (``bot.report.pull_requests``) turns it into its text.

    ``first``: the environment's folder of that repository is new. ``writes`` and ``deletes`` are the paths the
    pull request changes, ``pending`` the values still waiting on an output, ``catalogs`` (name, version) pairs.
    """

    environment: str
    step: Step
    first: bool
    writes: tuple[str, ...]
    deletes: tuple[str, ...]
    pending: tuple[str, ...] = ()
    catalogs: tuple[tuple[str, str], ...] = ()


class Wording(Protocol):
    """How envbot's pull requests and withdrawals read (the reconciler decides what they are for, not their text)."""

    def title(self, purpose: Purpose) -> str:
        """One line: the pull request's title and its commit message."""
        ...

    def body(self, purpose: Purpose) -> str:
        """The pull request's description (markdown)."""
        ...

    def withdrawn(self, reason: str) -> str:
        """The comment left on a pull request envbot closes because no intent asks for it any more."""
        ...


@dataclass(frozen=True)
class Proposal:
    """Make the environment's folder of one repository's base branch look like this, through one pull request."""

    repo: Repo
    step: Step
    branch: str
    writes: tuple[tuple[str, str], ...]
    deletes: tuple[str, ...]
    purpose: Purpose
    merge: bool
    gate: Gate | None = None
    basis: str | None = None
    """The digest of the environment's folders on both base branches the decision was made from: the proposal is
    merged only while both still hold exactly that (see ``folders_digest``)."""


@dataclass(frozen=True)
class OpenRequest:
    """One of envbot's pull requests for an environment that is open now."""

    repo: Repo
    step: Step
    number: int
    branch: str


@dataclass(frozen=True)
class Withdrawal:
    """An open pull request of envbot's that no current intent asks for: closed with a comment, its branch deleted."""

    request: OpenRequest
    reason: str


@dataclass(frozen=True)
class Observation:
    """Everything one reconcile of one environment read; the decision is a pure function of it."""

    name: str
    bound: BoundEnvironment | None
    record: Record | None
    platform_files: Mapping[str, str]
    app_files: Mapping[str, str]
    workspaces: tuple[ObservedObject, ...] = ()
    applications: tuple[ObservedObject, ...] = ()
    generated: tuple[ObservedObject, ...] = ()
    """The bootstrap's generated apps of the environment's folders (see ``ObservedSnapshot.generated``)."""
    open_requests: tuple[OpenRequest, ...] = ()
    requested: bool = False
    """A person's provision request came with this observation (the newest intent: a pending destroy yields)."""
    now: dt.datetime = field(kw_only=True)
    """When it was read (the reconciler's clock): ages and grace periods count to this instant."""
    problems: tuple[str, ...] = ()
    """Why the request or the record could not be bound to the catalogs (the environment is then Failed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "platform_files", MappingProxyType(dict(self.platform_files)))
        object.__setattr__(self, "app_files", MappingProxyType(dict(self.app_files)))

    @property
    def deleting(self) -> bool:
        return self.record is not None and self.record.deletion is not None

    def open_request(self, repo: Repo, step: Step) -> OpenRequest | None:
        return next((r for r in self.open_requests if r.repo is repo and r.step is step), None)


@dataclass(frozen=True)
class Decision:
    """The phase, what it waits on, and the proposals that move it forward (at most one per repository)."""

    name: str
    phase: Phase
    waiting_on: str
    proposals: tuple[Proposal, ...] = ()
    since: dt.datetime | None = None
    pending: tuple[Pending, ...] = ()
    failure: str | None = None
    withdrawals: tuple[Withdrawal, ...] = ()
    open_requests: tuple[OpenRequest, ...] = ()
    """The environment's open pull requests as observed (for status: a proposal with one shows its number)."""


def folders_digest(platform_files: Mapping[str, str], app_files: Mapping[str, str]) -> str:
    """A digest of an environment's folders on both base branches, for the compare-and-swap before each merge."""
    digest = hashlib.sha256()
    for repo, files in (("platform", platform_files), ("apps", app_files)):
        for path in sorted(files):
            digest.update(f"{repo}\0{path}\0{len(files[path])}\0".encode())
            digest.update(files[path].encode())
    return digest.hexdigest()[:16]
