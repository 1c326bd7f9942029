"""Events → intents (provision, destroy, reconcile, sweep, run a command, ignore), the events config, authorization."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.environment.model import Origin, OriginKind
from bot.errors import UserError
from bot.events.commands import REGISTRY, Command, Ignore, Registry, Reply, Setting, help_text, parse_comment, reply
from bot.events.naming import environment_name, prefix_problem, source_branch
from bot.events.payloads import (
    Actor,
    BranchCreated,
    BranchDeleted,
    Event,
    IssueComment,
    PullRequestClosed,
    PullRequestInfo,
    PullRequestLabeled,
    Schedule,
    TagCreated,
    TagDeleted,
    Unsupported,
    WorkflowDispatch,
)
from bot.events.text import quote
from bot.forge.model import Permission, PullRequestState
from bot.names import is_dns1123_label, is_repository

DEFAULT_PROVISION_LABEL: Final = "envbot:provision"
MAX_LABEL_LENGTH: Final = 50
_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}", re.ASCII)
DISPATCH_ACTIONS: Final = ("provision", "destroy", "reconcile", "sweep")


class InputError(UserError):
    """A ``workflow_dispatch`` input that envbot cannot act on; one line names the input."""


# -- configuration ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchRule:
    """Branches matching ``pattern`` (an fnmatch glob, case-sensitive; ``*`` also matches ``/``) get ``template``."""

    pattern: str
    template: str


@dataclass(frozen=True)
class EventsConfig:
    """How events become intents."""

    repository: str | None = None
    """The source repository ``owner/name``; events of any other repository are ignored. None: any."""
    branches: tuple[BranchRule, ...] = ()
    """Branch patterns → environment template file; the first match wins."""
    default_template: str | None = None
    """The template for a labelled or ``/provision``-ed pull request whose branch matches no pattern."""
    provision_label: str = DEFAULT_PROVISION_LABEL
    destroy_on_close_unmerged: bool = False
    permission: Permission = Permission.WRITE
    """The least permission for any request; a command whose own floor is higher keeps its floor."""
    name_prefix: str = ""
    foreign_commands: frozenset[str] = frozenset()
    """Other bots' slash commands (``lgtm``, ``retest``) that envbot passes over silently."""

    def template_for(self, branch: str) -> str | None:
        """The template of the first pattern ``branch`` matches, else None."""
        return next((r.template for r in self.branches if fnmatch.fnmatchcase(branch, r.pattern)), None)

    def templates(self) -> tuple[str, ...]:
        """Every configured template, each once."""
        found = [r.template for r in self.branches]
        if self.default_template is not None:
            found.append(self.default_template)
        return tuple(dict.fromkeys(found))


_CONFIG_KEYS: Final = frozenset(
    {
        "repository",
        "branches",
        "defaultTemplate",
        "provisionLabel",
        "destroyOnCloseUnmerged",
        "permission",
        "namePrefix",
        "foreignCommands",
    }
)


def _template_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a file path"
    if "\x00" in value or "\n" in value:
        return "must be a one-line file path"
    return None


def parse_events_config(document: Any, source: str, where: str = "events") -> EventsConfig:
    """The ``events`` section of ``envbot.yaml``; every problem raised at once as ``UserError`` lines."""
    if document is None:
        return EventsConfig()
    problems: list[str] = []

    def add(key: str, message: str) -> None:
        problems.append(f"{source}: {where}.{key}: {message}")

    if not isinstance(document, Mapping):
        raise UserError(f"{source}: {where}: must be a mapping")
    for key in document:
        if key not in _CONFIG_KEYS:
            add(str(key), f"unknown key (known: {', '.join(sorted(_CONFIG_KEYS))})")
    repository = document.get("repository")
    if repository is not None and not is_repository(repository):
        add("repository", "must be a GitHub owner/name")
        repository = None
    rules: list[BranchRule] = []
    branches = document.get("branches", [])
    if not isinstance(branches, list):
        add("branches", "must be a list of {pattern, template}")
        branches = []
    for index, entry in enumerate(branches):
        at = f"branches[{index}]"
        if not isinstance(entry, Mapping) or set(entry) != {"pattern", "template"}:
            add(at, "must be a mapping with exactly pattern and template")
            continue
        pattern, template = entry["pattern"], entry["template"]
        if not isinstance(pattern, str) or not pattern.strip():
            add(f"{at}.pattern", "must be a branch glob such as feature/*")
            continue
        problem = _template_problem(template)
        if problem is not None:
            add(f"{at}.template", problem)
            continue
        rules.append(BranchRule(pattern, template))
    default_template = document.get("defaultTemplate")
    if default_template is not None and (problem := _template_problem(default_template)) is not None:
        add("defaultTemplate", problem)
        default_template = None
    label = document.get("provisionLabel", DEFAULT_PROVISION_LABEL)
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_LENGTH:
        add("provisionLabel", f"must be a label name of 1 to {MAX_LABEL_LENGTH} characters")
        label = DEFAULT_PROVISION_LABEL
    destroy = document.get("destroyOnCloseUnmerged", False)
    if not isinstance(destroy, bool):
        add("destroyOnCloseUnmerged", "must be true or false")
        destroy = False
    permission = Permission.WRITE
    try:
        permission = Permission.parse(str(document.get("permission", "write")))
    except ValueError:
        add("permission", "must be one of read, triage, write, maintain, admin")
    if permission is Permission.NONE:
        add("permission", "none would let anyone run commands; use read or more")
    prefix = document.get("namePrefix", "")
    if not isinstance(prefix, str) or (problem := prefix_problem(prefix)) is not None:
        add("namePrefix", problem if isinstance(prefix, str) and problem else "must be a string")
        prefix = ""
    foreign = document.get("foreignCommands", [])
    if not isinstance(foreign, list) or not all(isinstance(f, str) and _COMMAND_NAME.fullmatch(f) for f in foreign):
        add("foreignCommands", "must be a list of command names without the slash, such as lgtm")
        foreign = []
    if problems:
        raise UserError(problems)
    return EventsConfig(
        repository=repository,
        branches=tuple(rules),
        default_template=default_template,
        provision_label=label,
        destroy_on_close_unmerged=destroy,
        permission=permission,
        name_prefix=prefix,
        foreign_commands=frozenset(f.lower() for f in foreign),
    )


# -- intents ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provision:
    """Create or update ``environment_name`` from the template file, for ``origin``.

    ``catalogs`` and ``settings`` come from a ``/provision`` command (see ``bot.events.provision``).
    ``required`` set: check ``requested_by``'s permission with ``authorize`` first. ``trigger`` says what asked
    (``branch x created``, or the command line) for replies and the log line; it may hold user text.
    """

    environment_name: str
    template_path: str
    origin: Origin
    requested_by: str | None = None
    required: Permission | None = None
    pr_number: int | None = None
    catalogs: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    trigger: str = ""


@dataclass(frozen=True)
class Destroy:
    """Remove ``environment_name`` (``Reconciler.request_deletion``, then reconcile); harmless when it is gone."""

    environment_name: str
    reason: str
    requested_by: str | None = None
    required: Permission | None = None
    pr_number: int | None = None
    trigger: str = ""


@dataclass(frozen=True)
class Reconcile:
    """Reconcile the named environments; ``names`` None means every environment."""

    names: tuple[str, ...] | None = None
    requested_by: str | None = None
    required: Permission | None = None
    pr_number: int | None = None
    trigger: str = ""


@dataclass(frozen=True)
class Retry:
    """Retry a Failed environment (``Reconciler.request_retry``), then reconcile it."""

    environment_name: str
    requested_by: str | None = None
    required: Permission | None = None
    pr_number: int | None = None
    trigger: str = ""


@dataclass(frozen=True)
class SweepOrphans:
    """Destroy every environment whose origin branch or pull request is gone (``orphan_reason``), then
    reconcile every environment."""

    trigger: str = "schedule"


@dataclass(frozen=True)
class Decline:
    """A request envbot will not carry out (the provision label on a closed pull request, or on one whose deleted
    fork names no owner), answered with ``answer`` once ``requested_by``'s permission is checked, so that someone
    without permission gets the permission refusal, as for any other request."""

    answer: Reply
    requested_by: str
    required: Permission
    pr_number: int
    trigger: str = ""


@dataclass(frozen=True)
class RunCommand:
    """A comment command (or a malformed one, as its ``Reply``) waiting for the commenter's permission check.

    After ``authorize``, ``resolve_command`` turns it into the intent it asks for; that needs the pull request's
    head branch, which an ``issue_comment`` payload does not carry.
    """

    command: Command | Reply
    pr_number: int
    commenter: str
    required: Permission
    line: str = ""


Intent = Provision | Destroy | Reconcile | Retry | SweepOrphans | RunCommand | Decline | Ignore
"""Every intent ``to_intent`` returns."""


# -- events → intents ------------------------------------------------------------------------------------------


def _pull_request_branch(pr: PullRequestInfo, repository: str | None) -> str | None:
    """``source_branch`` of the pull request; None when it comes from a deleted fork whose owner is unknown."""
    return source_branch(
        pr.head_ref,
        pr.head_repository,
        repository,
        head_label=pr.head_label,
        head_repository_deleted=pr.head_repository_deleted,
    )


def _unknown_fork(number: int, what: str) -> Ignore:
    """A merge or close of a pull request whose deleted fork names no owner: destroy nothing rather than guess."""
    return Ignore(
        f"pull request #{number} was {what}, but it comes from a deleted fork whose owner GitHub no longer names, so"
        " envbot cannot tell which environment is its and destroys nothing; the scheduled sweep finds that"
        " environment by its pull request and removes it"
    )


_NOT_OPEN: Final = ("closed", "merged")


def _who(sender: Actor | None) -> str:
    return sender.login if sender is not None else "someone"


def to_intent(event: Event, config: EventsConfig, registry: Registry = REGISTRY) -> Intent:
    """What an event asks envbot to do. Pure; ``InputError`` only for unusable ``workflow_dispatch`` inputs.

    Bots are ignored for requests (branch, label, comment, dispatch), never for clean-up facts (a merged or
    closed pull request, a deleted branch), so a merge queue or auto-merge still removes the environment.
    """
    if isinstance(event, Unsupported):
        return Ignore(event.reason)
    repository = config.repository or event.repository
    if config.repository and event.repository and event.repository.casefold() != config.repository.casefold():
        return Ignore(f"event from {event.repository}, not the configured repository {config.repository}")
    sender = event.sender
    bot = sender is not None and sender.is_bot
    match event:
        case TagCreated() | TagDeleted():
            return Ignore(
                f"tag {event.ref} {'created' if isinstance(event, TagCreated) else 'deleted'}: tags are ignored"
            )
        case BranchCreated():
            if bot:
                return Ignore(f"branch {event.ref} was created by the bot {_who(sender)}")
            template = config.template_for(event.ref)
            if template is None:
                return Ignore(f"branch {event.ref} matches no configured branch pattern")
            return Provision(
                environment_name(event.ref, config.name_prefix),
                template,
                Origin(OriginKind.BRANCH, repository=repository, branch=event.ref),
                requested_by=_who(sender),
                required=config.permission,
                trigger=f"branch {event.ref} created",
            )
        case BranchDeleted():
            return Destroy(
                environment_name(event.ref, config.name_prefix),
                f"branch {event.ref} was deleted",
                requested_by=_who(sender),
                trigger=f"branch {event.ref} deleted",
            )
        case PullRequestClosed():
            pr = event.pull_request
            if not event.merged and not config.destroy_on_close_unmerged:
                return Ignore(f"pull request #{pr.number} was closed without merging; destroyOnCloseUnmerged is off")
            branch = _pull_request_branch(pr, repository)
            if branch is None:
                return _unknown_fork(pr.number, "merged" if event.merged else "closed")
            name = environment_name(branch, config.name_prefix)
            if event.merged:
                merger = event.merged_by or sender
                return Destroy(
                    name,
                    f"pull request #{pr.number} was merged",
                    requested_by=_who(merger),
                    pr_number=pr.number,
                    trigger=f"pull request #{pr.number} merged",
                )
            return Destroy(
                name,
                f"pull request #{pr.number} was closed without merging",
                requested_by=_who(sender),
                pr_number=pr.number,
                trigger=f"pull request #{pr.number} closed",
            )
        case PullRequestLabeled():
            pr = event.pull_request
            if event.label != config.provision_label:
                return Ignore(f"label {event.label!r} on #{pr.number} is not {config.provision_label!r}")
            if bot:
                return Ignore(f"label {event.label!r} on #{pr.number} was added by the bot {_who(sender)}")
            trigger = f"label {config.provision_label} on pull request #{pr.number}"
            branch = _pull_request_branch(pr, repository)
            answer = _cannot_act(quote(trigger), pr.number, pr.state, branch)
            if answer is not None:
                return Decline(answer, _who(sender), config.permission, pr.number, trigger=trigger)
            template = config.template_for(pr.head_ref) or config.default_template
            if template is None:
                return Ignore(f"pull request #{pr.number}: branch {pr.head_ref} has no environment template")
            assert branch is not None  # an unknown fork was answered above
            return Provision(
                environment_name(branch, config.name_prefix),
                template,
                Origin(OriginKind.PULL_REQUEST, repository=repository, branch=pr.head_ref, pull_request=pr.number),
                requested_by=_who(sender),
                required=config.permission,
                pr_number=pr.number,
                trigger=trigger,
            )
        case IssueComment():
            return _comment_intent(event, config, registry)
        case Schedule():
            return SweepOrphans(trigger=f"schedule {event.cron}" if event.cron else "schedule")
        case WorkflowDispatch():
            if bot:
                return Ignore(f"workflow_dispatch by the bot {_who(sender)}")
            return _dispatch_intent(event, config, repository)


def _cannot_act(
    what: str, number: int, state: PullRequestState | None, branch: str | None, *, provisioning: bool = True
) -> Reply | None:
    """The reply when ``what`` cannot be carried out on pull request ``number``: a provision for a closed or merged
    one, or anything for one whose deleted fork names no owner (``branch`` None); None when it can."""
    if provisioning and state in _NOT_OPEN:
        return reply("closed-pull-request", what=what, number=number, state=state)
    if branch is None:
        return reply("unknown-fork", what=what, number=number)
    return None


def _comment_intent(event: IssueComment, config: EventsConfig, registry: Registry) -> Intent:
    where = f"comment on #{event.issue_number}"
    if event.action != "created":
        return Ignore(f"{where} was {event.action}; only new comments are read")
    if not event.on_pull_request:
        return Ignore(f"{where}: #{event.issue_number} is an issue, not a pull request")
    author = event.author
    if author is None:
        return Ignore(f"{where} has no author")
    if author.is_bot or (event.sender is not None and event.sender.is_bot):
        return Ignore(f"{where} was written by the bot {author.login}")
    parsed = parse_comment(event.body, registry, foreign=config.foreign_commands)
    if isinstance(parsed, Ignore):
        return Ignore(f"{where}: {parsed.reason}")
    if isinstance(parsed, Reply):
        return RunCommand(parsed, event.issue_number, author.login, config.permission, line=parsed.line)
    return RunCommand(
        parsed,
        event.issue_number,
        author.login,
        registry.required(parsed.name, config.permission),
        line=parsed.line,
    )


def _dispatch_intent(event: WorkflowDispatch, config: EventsConfig, repository: str | None) -> Intent:
    inputs = {key: value.strip() for key, value in event.inputs.items()}
    action = inputs.get("action") or "reconcile"
    if action not in DISPATCH_ACTIONS:
        raise InputError(
            f"workflow_dispatch input action: must be one of {', '.join(DISPATCH_ACTIONS)}, got {action[:40]!r}"
        )
    who = _who(event.sender)
    trigger = f"workflow_dispatch {action}"
    name = inputs.get("environment") or None
    if name is not None and not is_dns1123_label(name):
        raise InputError(
            f"workflow_dispatch input environment: {name[:70]!r} is not a DNS-1123 label of at most 63 characters"
        )
    branch = inputs.get("branch") or None
    if branch is not None and (len(branch) > 255 or any(c in branch for c in "\x00\n\r")):
        raise InputError("workflow_dispatch input branch: not a branch name")
    if action == "sweep":
        return SweepOrphans(trigger=trigger)
    if action == "reconcile":
        names = (name,) if name else None
        return Reconcile(names, requested_by=who, required=config.permission, trigger=trigger)
    if action == "destroy":
        if name is None and branch is None:
            raise InputError("workflow_dispatch destroy: give the environment input (or the branch input)")
        target = name or environment_name(str(branch), config.name_prefix)
        return Destroy(
            target, f"workflow_dispatch by {who}", requested_by=who, required=config.permission, trigger=trigger
        )
    branch = branch or event.branch
    template = inputs.get("template") or None
    if template is not None and template not in config.templates():
        known = ", ".join(config.templates()) or "none configured"
        raise InputError(f"workflow_dispatch input template: {template[:70]!r} is not a configured template ({known})")
    template = template or (config.template_for(branch) if branch else None) or config.default_template
    if template is None:
        raise InputError("workflow_dispatch provision: give the template input (no branch pattern or default applies)")
    if name is None and branch is None:
        raise InputError("workflow_dispatch provision: give the environment or branch input")
    target = name or environment_name(str(branch), config.name_prefix)
    origin = Origin(OriginKind.BRANCH, repository=repository, branch=branch) if branch else Origin()
    return Provision(target, template, origin, requested_by=who, required=config.permission, trigger=trigger)


# -- permission and commands -----------------------------------------------------------------------------------


def needs_permission(intent: Intent) -> tuple[str, Permission] | None:
    """Whose permission to look up (``Forge.permission``) and the least it must be, or None when none matters."""
    match intent:
        case RunCommand():
            return intent.commenter, intent.required
        case Decline():
            return intent.requested_by, intent.required
        case Provision() | Destroy() | Reconcile() | Retry() if intent.required is not None:
            return intent.requested_by or "", intent.required
        case _:
            return None


def _what(intent: Intent) -> str:
    match intent:
        case RunCommand():
            return quote(intent.line) if intent.line else "that command"
        case Provision() | Destroy() | Reconcile() | Retry() | Decline():
            return quote(intent.trigger) if intent.trigger else "this request"
        case _:
            return "this request"


def authorize(intent: Intent, permission: Permission) -> Intent | Reply:
    """``intent`` when ``permission`` suffices, else one polite line that quotes the request.

    A malformed command from someone allowed to command gets its own ``Reply``; from anyone else, the refusal,
    so strangers cannot make envbot echo their text.
    """
    check = needs_permission(intent)
    if check is None:
        return intent
    user, required = check
    if permission < required:
        has = "no access" if permission is Permission.NONE else f"{permission.label} permission"
        return reply(
            "refused", what=_what(intent), required=required.label, who=quote(user or "the requester"), has=has
        )
    if isinstance(intent, RunCommand) and isinstance(intent.command, Reply):
        return intent.command
    if isinstance(intent, Decline):
        return intent.answer
    return intent


def public_read_problem(event: Event, intent: Intent, config: EventsConfig) -> str | None:
    """Why ``events.permission`` cannot guard ``intent``, or None when its check means something (or none is made).

    On a public repository GitHub's collaborator-permission endpoint answers ``read`` for every account, so a
    floor of ``read`` lets anyone through. The payload's ``repository.visibility`` / ``repository.private`` tells;
    a payload that shows neither is treated as public.
    """
    if needs_permission(intent) is None or config.permission > Permission.READ:
        return None
    visibility = event.repository_visibility
    if visibility in ("private", "internal"):
        return None
    where = config.repository or event.repository or "the repository"
    fix = "set events.permission to triage or higher"
    if visibility == "public":
        return (
            f"events.permission: read would let anyone run envbot: {where} is public, and on a public repository"
            f" GitHub reports read permission for every account; {fix}"
        )
    return (
        f"events.permission: read cannot be trusted: the payload does not say whether {where} is public"
        f" (repository.visibility, repository.private), and on a public repository GitHub reports read permission"
        f" for every account; {fix}"
    )


def resolve_command(
    run: RunCommand,
    head_ref: str,
    config: EventsConfig,
    *,
    head_repository: str | None = None,
    head_label: str | None = None,
    head_repository_deleted: bool = False,
    pull_request_state: PullRequestState | None = None,
    registry: Registry = REGISTRY,
) -> Intent | Reply:
    """The intent of an authorized command, given the pull request as the API reports it: its head branch, head
    repository (for forks), head label (for deleted forks, see ``source_branch``) and state.

    Call after ``authorize``: the result carries no permission requirement. ``/provision`` on a closed or merged
    pull request, and any command but ``/help`` on one whose deleted fork names no owner, get a reply instead.
    """
    command = run.command
    if isinstance(command, Reply):
        return command
    if command.name == "help":
        return Reply(help_text(registry, config.permission))
    repository = config.repository
    branch = source_branch(
        head_ref,
        head_repository,
        repository,
        head_label=head_label,
        head_repository_deleted=head_repository_deleted,
    )
    answer = _cannot_act(
        quote(command.line), run.pr_number, pull_request_state, branch, provisioning=command.name == "provision"
    )
    if answer is not None:
        return answer
    assert branch is not None  # an unknown fork was answered above
    name = environment_name(branch, config.name_prefix)
    who = run.commenter
    trigger = command.line
    match command.name:
        case "provision":
            template = config.template_for(head_ref) or config.default_template
            if template is None:
                return reply("no-template", quoted=quote(command.line), branch=quote(head_ref))
            return Provision(
                name,
                template,
                Origin(OriginKind.PULL_REQUEST, repository=repository, branch=head_ref, pull_request=run.pr_number),
                requested_by=who,
                pr_number=run.pr_number,
                catalogs=command.catalogs,
                settings=command.settings,
                trigger=trigger,
            )
        case "destroy":
            return Destroy(name, f"/destroy by {who}", requested_by=who, pr_number=run.pr_number, trigger=trigger)
        case "status":
            return Reconcile((name,), requested_by=who, pr_number=run.pr_number, trigger=trigger)
        case "retry":
            return Retry(name, requested_by=who, pr_number=run.pr_number, trigger=trigger)
        case _:
            return Ignore(f"command /{command.name} has no intent")


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
