"""Error types: user mistakes, transient faults and permanent faults are told apart by type, never by text."""

from __future__ import annotations

from collections.abc import Iterable


class EnvbotError(Exception):
    """Base of every error envbot raises on purpose; anything else is a bug and shows a traceback."""


class UserError(EnvbotError):
    """Bad input from a person: shown as one or more ``error: ...`` lines and nothing is written."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: tuple[str, ...] = (problems,) if isinstance(problems, str) else tuple(problems)
        super().__init__("\n".join(self.problems))


class CatalogError(UserError):
    """A catalog folder is malformed; every line names the file, the field and what is wrong."""


class EnvironmentSpecError(UserError):
    """An environment file is malformed or does not fit the catalogs it asks for."""


class TemplateRenderError(CatalogError):
    """A catalog template failed to render (undefined name, sandbox violation, output that is not YAML)."""


class TransientError(EnvbotError):
    """A fault outside envbot that may go away on retry (5xx, timeouts, rate limits)."""


class PermanentError(EnvbotError):
    """A fault outside envbot that retrying will not fix (403, 404 on a configured repository)."""
