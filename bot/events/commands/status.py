"""``/status``: reconcile the pull request's environment and refresh its status comment."""

from __future__ import annotations

from bot.events.commands.spec import CommandSpec, Target
from bot.events.intents import Reconcile
from bot.forge.model import Permission


def status(target: Target) -> Reconcile:
    assert target.environment_name is not None
    return Reconcile(
        (target.environment_name,),
        requested_by=target.commenter,
        pr_number=target.pr_number,
        trigger=target.command.line,
    )


COMMAND = CommandSpec("status", "/status", "Refresh the environment's status comment.", status, Permission.READ)
