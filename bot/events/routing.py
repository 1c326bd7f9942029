"""Events → intents: what each webhook event asks, who must be allowed to ask it, and what a command resolves to."""

from __future__ import annotations

from typing import Final

from bot.environment.model import Origin, OriginKind
from bot.errors import UserError
from bot.events.commands import REGISTRY
from bot.events.commands.spec import Registry, Target
from bot.events.comments import Ignore, Reply, parse_comment, reply
from bot.events.config import EventsConfig
from bot.events.intents import Decline, Destroy, Intent, Provision, Reconcile, Request, RunCommand, SweepOrphans
from bot.events.naming import environment_name, source_branch
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
from bot.names import label_problem

DISPATCH_ACTIONS: Final = ("provision", "destroy", "reconcile", "sweep")


class InputError(UserError):
    """A ``workflow_dispatch`` input that envbot cannot act on; one line names the input."""


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
                return Decline(
                    answer=answer,
                    requested_by=_who(sender),
                    required=config.permission,
                    pr_number=pr.number,
                    trigger=trigger,
                )
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
    required = config.permission if isinstance(parsed, Reply) else registry.required(parsed.name, config.permission)
    return RunCommand(
        command=parsed,
        requested_by=author.login,
        required=required,
        pr_number=event.issue_number,
        trigger=parsed.line,
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
    if name is not None and (problem := label_problem(name)) is not None:
        raise InputError(f"workflow_dispatch input environment: {problem}")
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
    if isinstance(intent, Request) and intent.required is not None:
        return intent.requested_by or "", intent.required
    return None


def _what(intent: Intent) -> str:
    if isinstance(intent, Request) and intent.trigger:
        return quote(intent.trigger)
    return "that command" if isinstance(intent, RunCommand) else "this request"


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

    Call after ``authorize``: the result carries no permission requirement. The command's own module says what it
    asks for (``bot/events/commands/``); a command for open pull requests only gets a reply on a closed or merged
    one, and any command that needs an environment gets one on a pull request whose deleted fork names no owner.
    """
    command = run.command
    if isinstance(command, Reply):
        return command
    spec = registry.get(command.name)
    if spec is None:
        return Ignore(f"command /{command.name} is not registered")
    assert run.pr_number is not None  # a comment is on a pull request
    name: str | None = None
    if spec.needs_environment:
        branch = source_branch(
            head_ref,
            head_repository,
            config.repository,
            head_label=head_label,
            head_repository_deleted=head_repository_deleted,
        )
        answer = _cannot_act(
            quote(command.line),
            run.pr_number,
            pull_request_state,
            branch,
            provisioning=spec.open_pull_requests_only,
        )
        if answer is not None:
            return answer
        assert branch is not None  # an unknown fork was answered above
        name = environment_name(branch, config.name_prefix)
    target = Target(
        command=command,
        pr_number=run.pr_number,
        commenter=run.requested_by or "someone",
        head_ref=head_ref,
        environment_name=name,
        pull_request_state=pull_request_state,
        config=config,
        registry=registry,
    )
    return spec.intent(target)
