"""``/help``: the table of commands, generated from the registry, with the floors this repository sets."""

from __future__ import annotations

from bot.events.commands.spec import CommandSpec, Target
from bot.events.comments import Reply
from bot.forge.model import Permission


def help_reply(target: Target) -> Reply:
    return Reply(target.registry.help_text(target.config.permission))


COMMAND = CommandSpec("help", "/help", "Show this table.", help_reply, Permission.READ, needs_environment=False)
