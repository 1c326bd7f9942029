"""The comment commands, one module each; ``REGISTRY`` lists them in ``/help`` order (add a new one here)."""

from __future__ import annotations

from typing import Final

from bot.events.commands import destroy, help, provision, retry, status
from bot.events.commands.spec import Registry

REGISTRY: Final = Registry((provision.COMMAND, destroy.COMMAND, status.COMMAND, retry.COMMAND, help.COMMAND))
