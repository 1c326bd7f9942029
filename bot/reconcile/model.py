"""What the reconciler observes, decides and proposes: phases, observations, proposals and decisions."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

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
    CLEANUP_APPLICATIONS = "cleanup-applications"
    CLEANUP_INFRASTRUCTURE = "cleanup-infrastructure"
    REMOVE_RECORD = "remove-record"


def branch_name(environment: str, step: Step) -> str:
    """Deterministic branch of one step: ``envbot/<env>/<step>``."""
    return f"envbot/{environment}/{step.value}"


INFRASTRUCTURE_GATE = "envbot/infrastructure"


@dataclass(frozen=True)
class Gate:
    """A commit status envbot sets on a proposal's head (``envbot/infrastructure`` on app PRs)."""

    context: str
    state: StatusState
    description: str


@dataclass(frozen=True)
class Proposal:
    """Make the environment's folder of one repository's base branch look like this, through one pull request."""

    repo: Repo
    step: Step
    branch: str
    writes: tuple[tuple[str, str], ...]
    deletes: tuple[str, ...]
    title: str
    body: str
    merge: bool
    gate: Gate | None = None


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
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    problems: tuple[str, ...] = ()
    """Why the request or the record could not be bound to the catalogs (the environment is then Failed)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "platform_files", MappingProxyType(dict(self.platform_files)))
        object.__setattr__(self, "app_files", MappingProxyType(dict(self.app_files)))

    @property
    def deleting(self) -> bool:
        return self.record is not None and self.record.deletion is not None


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
