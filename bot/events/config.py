"""The ``events`` section of ``envbot.yaml``: which events become which intents, read with every problem at once."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.errors import UserError
from bot.events.naming import prefix_problem
from bot.forge.model import Permission
from bot.names import is_repository

DEFAULT_PROVISION_LABEL: Final = "envbot:provision"
MAX_LABEL_LENGTH: Final = 50
_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}", re.ASCII)


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
