"""What envbot is asked to do: one frozen dataclass per intent, with who asked, where, and what they need."""

from __future__ import annotations

from dataclasses import dataclass

from bot.environment.model import Origin
from bot.events.comments import Command, Ignore, Reply, Setting
from bot.forge.model import Permission


@dataclass(frozen=True, kw_only=True)
class Request:
    """What every intent carries besides its own fields.

    ``required`` set: check ``requested_by``'s permission first (``bot.events.routing.authorize``). ``pr_number``:
    the pull request replies and the status comment go to. ``trigger`` says what asked (``branch x created``, or the
    command line) for replies and the log line; it may hold user text.
    """

    requested_by: str | None = None
    required: Permission | None = None
    pr_number: int | None = None
    trigger: str = ""


@dataclass(frozen=True)
class Provision(Request):
    """Create or update ``environment_name`` from the template file, for ``origin``.

    ``catalogs`` and ``settings`` come from a ``/provision`` command (see ``bot.events.provision``).
    """

    environment_name: str
    template_path: str
    origin: Origin
    catalogs: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class Destroy(Request):
    """Remove ``environment_name`` (``Reconciler.request_deletion``, then reconcile); harmless when it is gone."""

    environment_name: str
    reason: str


@dataclass(frozen=True)
class Reconcile(Request):
    """Reconcile the named environments; ``names`` None means every environment."""

    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Retry(Request):
    """Retry a Failed environment (``Reconciler.request_retry``), then reconcile it."""

    environment_name: str


@dataclass(frozen=True)
class SweepOrphans(Request):
    """Destroy every environment whose origin branch or pull request is gone (``bot.events.sweep``), then
    reconcile every environment."""


@dataclass(frozen=True)
class Decline(Request):
    """A request envbot will not carry out (the provision label on a closed pull request, or on one whose deleted
    fork names no owner), answered with ``answer`` once ``requested_by``'s permission is checked, so that someone
    without permission gets the permission refusal, as for any other request."""

    answer: Reply


@dataclass(frozen=True)
class RunCommand(Request):
    """A comment command (or a malformed one, as its ``Reply``) waiting for the commenter's permission check.

    After ``authorize``, ``resolve_command`` turns it into the intent it asks for; that needs the pull request's
    head branch, which an ``issue_comment`` payload does not carry. ``trigger`` is the command line.
    """

    command: Command | Reply


Intent = Provision | Destroy | Reconcile | Retry | SweepOrphans | RunCommand | Decline | Ignore
"""Every intent ``bot.events.routing.to_intent`` returns."""
