"""What a comment command is: its usage, help and floor, and how it becomes an intent; the registry of them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.events.comments import Command, Reply
from bot.events.config import EventsConfig
from bot.events.intents import Intent
from bot.events.text import render
from bot.forge.model import Permission, PullRequestState


@dataclass(frozen=True)
class Target:
    """What a command acts on, once its commenter is authorized and the pull request is read."""

    command: Command
    pr_number: int
    commenter: str
    head_ref: str
    """The pull request's head branch as the API reports it (templates are chosen by it)."""
    environment_name: str | None
    """The pull request's environment; None for a command that needs none (``needs_environment`` False)."""
    pull_request_state: PullRequestState | None
    config: EventsConfig
    registry: Registry


@dataclass(frozen=True)
class CommandSpec:
    """One command: its name, usage line, one-line help, the least permission a commenter needs, and ``intent``,
    which turns an authorized command into what it asks for (or a reply).

    ``open_pull_requests_only``: refused with a reply on a closed or merged pull request (``/provision``).
    ``needs_environment`` False: it acts on no environment, so a pull request whose deleted fork names no owner is
    no obstacle (``/help``).
    """

    name: str
    usage: str
    help: str
    intent: Callable[[Target], Intent | Reply]
    permission: Permission = Permission.WRITE
    takes_arguments: bool = False
    open_pull_requests_only: bool = False
    needs_environment: bool = True


@dataclass(frozen=True)
class Registry:
    """The commands envbot knows, in the order ``/help`` lists them."""

    commands: tuple[CommandSpec, ...]

    def get(self, name: str) -> CommandSpec | None:
        return next((c for c in self.commands if c.name == name), None)

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.commands)

    def required(self, name: str, minimum: Permission = Permission.WRITE) -> Permission:
        """The permission a commenter needs for ``name``: the command's own floor, raised to ``minimum``."""
        spec = self.get(name)
        return max(minimum, spec.permission) if spec is not None else minimum

    def help_text(self, minimum: Permission = Permission.WRITE) -> str:
        """The ``/help`` reply (and the commands table of docs/action.md): a markdown table of every command."""
        rows = [
            {"usage": c.usage, "help": c.help, "permission": self.required(c.name, minimum).label}
            for c in self.commands
        ]
        return render("help.md.j2", rows=rows)
