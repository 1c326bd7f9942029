"""``/provision [catalog ...] [key=value ...]``: create or update the pull request's environment."""

from __future__ import annotations

from bot.environment.model import Origin, OriginKind
from bot.events.commands.spec import CommandSpec, Target
from bot.events.comments import Reply, reply
from bot.events.intents import Provision
from bot.events.text import quote
from bot.forge.model import Permission


def provision(target: Target) -> Provision | Reply:
    """The environment's template comes from the head branch (``events.branches``), else ``defaultTemplate``."""
    command, config = target.command, target.config
    template = config.template_for(target.head_ref) or config.default_template
    if template is None:
        return reply("provision-no-template", quoted=quote(command.line), branch=quote(target.head_ref))
    assert target.environment_name is not None
    return Provision(
        target.environment_name,
        template,
        Origin(
            OriginKind.PULL_REQUEST, repository=config.repository, branch=target.head_ref, pull_request=target.pr_number
        ),
        requested_by=target.commenter,
        pr_number=target.pr_number,
        catalogs=command.catalogs,
        settings=command.settings,
        trigger=command.line,
    )


COMMAND = CommandSpec(
    "provision",
    "/provision [catalog ...] [key=value ...]",
    "Create or update this pull request's environment; name catalogs to deploy only those, and set"
    " parameters as `catalog.param=value` or `param=value`.",
    provision,
    Permission.WRITE,
    takes_arguments=True,
    open_pull_requests_only=True,
)
