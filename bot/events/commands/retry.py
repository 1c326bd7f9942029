"""``/retry``: try a Failed environment again (any other phase gets the ``retry-not-failed`` reply)."""

from __future__ import annotations

from bot.events.commands.spec import CommandSpec, Target
from bot.events.intents import Retry


def retry(target: Target) -> Retry:
    assert target.environment_name is not None
    return Retry(
        target.environment_name,
        requested_by=target.commenter,
        pr_number=target.pr_number,
        trigger=target.command.line,
    )


COMMAND = CommandSpec("retry", "/retry", "Try a Failed environment again.", retry)
