"""``/destroy``: remove the pull request's environment, applications first."""

from __future__ import annotations

from bot.events.commands.spec import CommandSpec, Target
from bot.events.intents import Destroy


def destroy(target: Target) -> Destroy:
    assert target.environment_name is not None
    who = target.commenter
    return Destroy(
        target.environment_name,
        f"/destroy by {who}",
        requested_by=who,
        pr_number=target.pr_number,
        trigger=target.command.line,
    )


COMMAND = CommandSpec(
    "destroy", "/destroy", "Remove this pull request's environment: applications first, then infrastructure.", destroy
)
