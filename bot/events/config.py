"""The ``events`` section of ``envbot.yaml``: which events become which intents, read with every problem at once."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Final

from bot.documents import Node, show
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


_CONFIG_KEYS: Final = (
    "repository",
    "branches",
    "defaultTemplate",
    "provisionLabel",
    "destroyOnCloseUnmerged",
    "permission",
    "namePrefix",
    "foreignCommands",
)
_PERMISSIONS: Final = "read, triage, write, maintain or admin"


def _template(node: Node, *, required: bool = False) -> str | None:
    return node.string(required=required, non_empty=True, one_line=True, what="a one-line file path")


def _branch_rules(node: Node) -> tuple[BranchRule, ...]:
    rules: list[BranchRule] = []
    for entry in node.items(what="a list of {pattern, template}"):
        rule = entry.mapping(("pattern", "template"), what="a mapping with pattern and template")
        pattern = rule["pattern"].string(required=True, non_empty=True, what="a branch glob such as feature/*")
        template = _template(rule["template"], required=True)
        if pattern is not None and template is not None:
            rules.append(BranchRule(pattern, template))
    return tuple(rules)


def _permission(node: Node) -> Permission:
    permission = node.parsed(Permission.parse, Permission.WRITE, f"must be {_PERMISSIONS}, got {show(node.value)}")
    if permission is Permission.NONE:
        node.problem("none would let anyone run commands; use read or more")
    return permission


def _name_prefix(node: Node) -> str:
    prefix = node.string("")
    problem = prefix_problem(prefix)
    if problem is not None:
        node.problem(problem)
        return ""
    return prefix


def read_events_config(node: Node) -> EventsConfig:
    """The ``events`` section read at ``node`` (absent: the defaults); its problems are noted there."""
    events = node.mapping(_CONFIG_KEYS)
    return EventsConfig(
        repository=events["repository"].string(valid=is_repository, what="a GitHub owner/name"),
        branches=_branch_rules(events["branches"]),
        default_template=_template(events["defaultTemplate"]),
        provision_label=events["provisionLabel"].string(
            DEFAULT_PROVISION_LABEL,
            non_empty=True,
            max_length=MAX_LABEL_LENGTH,
            what=f"a label name of 1 to {MAX_LABEL_LENGTH} characters",
        ),
        destroy_on_close_unmerged=events["destroyOnCloseUnmerged"].boolean(False),
        permission=_permission(events["permission"]),
        name_prefix=_name_prefix(events["namePrefix"]),
        foreign_commands=frozenset(
            name.lower()
            for name in events["foreignCommands"].strings(
                what="a list of command names without the slash, such as lgtm", valid=_COMMAND_NAME.fullmatch
            )
        ),
    )


def parse_events_config(document: Any, source: str, where: str = "events") -> EventsConfig:
    """The ``events`` section of ``envbot.yaml``; every problem raised at once as ``UserError`` lines."""
    node = Node(document, source, where)
    config = read_events_config(node)
    node.problems.raise_if_any()
    return config
