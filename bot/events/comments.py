"""Slash commands in pull request comments: a markdown-aware parser that never raises, replies, and typed values."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Protocol

from bot.catalog.model import Parameter, ParameterType
from bot.catalog.values import problem_with_value
from bot.events.text import hidden, quote, render
from bot.names import is_dns1123_label

MAX_BODY: Final = 65_536
"""GitHub's own limit on a comment; only this much of a body is ever read."""
MAX_LINE: Final = 1_000
MAX_ARGUMENTS: Final = 32
MAX_NAME: Final = 32

_COMMAND_LINE = re.compile(rf"/(?P<name>[A-Za-z][A-Za-z0-9_-]{{0,{MAX_NAME - 1}}})(?P<rest>[ \t].*)?", re.ASCII)
_FENCE = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)", re.ASCII)
_CONTAINER = re.compile(r" *(?:>|[-+*](?=[ \t]|$)|[0-9]{1,9}[.)](?=[ \t]|$))[ \t]?", re.ASCII)
_TOKEN = re.compile(r"""(?:[^\s"']|"[^"]*"|'[^']*')+""")
_KEY = re.compile(r"(?:(?P<catalog>[a-z0-9][-a-z0-9]{0,62})\.)?(?P<name>[A-Za-z_][A-Za-z0-9_]{0,63})", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?", re.ASCII)


# -- results ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """``catalog.name=value`` or ``name=value`` as written; ``value`` is text until bound to a parameter."""

    catalog: str | None
    name: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.catalog}.{self.name}" if self.catalog else self.name

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class Command:
    """A well-formed command: its name, its raw arguments, and the line it came from."""

    name: str
    args: tuple[str, ...]
    line: str
    catalogs: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()


@dataclass(frozen=True)
class Reply:
    """Text to post back instead of acting: a malformed or refused command, or ``/help``.

    ``line`` is the comment line it answers, when there is one.
    """

    text: str
    line: str = ""


@dataclass(frozen=True)
class Ignore:
    """Nothing to do, and why (for the one log line)."""

    reason: str


def reply(kind: str, **context: object) -> Reply:
    """The reply ``templates/replies/<kind>.md.j2`` says; every piece of a person's text in ``context`` is quoted."""
    text = render(f"replies/{kind}.md.j2", **context)
    assert text, f"no reply text for {kind!r}"
    return Reply(text)


# -- finding the command line ----------------------------------------------------------------------------------


def _strip_containers(line: str) -> str:
    """The line without leading blockquote and list markers (``> - 1. ``)."""
    while True:
        match = _CONTAINER.match(line)
        if match is None or not match.group(0):
            return line.lstrip(" ")
        line = line[match.end() :]


def _fence_opening(line: str) -> tuple[str, int] | None:
    match = _FENCE.match(_strip_containers(line))
    if match is None:
        return None
    fence = match["fence"]
    if fence[0] == "`" and "`" in match["info"]:
        return None
    return fence[0], len(fence)


def _closes(line: str, opening: tuple[str, int]) -> bool:
    content = _strip_containers(line).rstrip(" \t")
    char, length = opening
    return len(content) >= length and content == char * len(content)


def command_lines(body: str) -> list[str]:
    """The lines of a comment that may hold a command: outside code blocks and HTML comments, not quoted, not
    indented four spaces or more, and starting with ``/`` (ASCII). Only ``\\n``, ``\\r\\n`` and ``\\r`` end a line.
    """
    text = body[:MAX_BODY].replace("\r\n", "\n").replace("\r", "\n")
    found: list[str] = []
    fence: tuple[str, int] | None = None
    in_html_comment = False
    for line in text.split("\n"):
        if fence is not None:
            if _closes(line, fence):
                fence = None
            continue
        if in_html_comment:
            in_html_comment = "-->" not in line
            continue
        opening = _fence_opening(line)
        if opening is not None:
            fence = opening
            continue
        content = line.lstrip(" ")
        if len(line) - len(content) <= 3 and content.startswith("/"):
            found.append(content)
        opened = line.rfind("<!--")
        in_html_comment = opened >= 0 and "-->" not in line[opened + 4 :]
    return found


class Syntax(Protocol):
    """What the parser needs to know of a command."""

    @property
    def name(self) -> str: ...
    @property
    def usage(self) -> str: ...
    @property
    def takes_arguments(self) -> bool: ...


class Grammar(Protocol):
    """The commands the parser knows (``bot.events.commands.REGISTRY``)."""

    def get(self, name: str) -> Syntax | None: ...
    def names(self) -> tuple[str, ...]: ...


def parse_comment(body: str, registry: Grammar, *, foreign: Collection[str] = ()) -> Command | Reply | Ignore:
    """The command of a comment: the first line that starts with ``/name`` wins.

    ``foreign`` names other bots' commands (``lgtm``, ``retest``): those lines are skipped silently. An unknown
    command or malformed arguments give a ``Reply`` that quotes them; a comment without a command is ``Ignore``.
    Never raises on any text.
    """
    if not isinstance(body, str) or not body:
        return Ignore("the comment is empty")
    skipped = {name.lower() for name in foreign}
    for line in command_lines(body):
        match = _COMMAND_LINE.fullmatch(line.rstrip(" \t"))
        if match is None:
            continue
        name = match["name"].lower()
        if name in skipped:
            continue
        found = _parse_line(name, (match["rest"] or "").strip(" \t"), line.rstrip(" \t"), registry)
        return Reply(found.text, line.rstrip(" \t")) if isinstance(found, Reply) else found
    return Ignore("the comment holds no command")


def _parse_line(name: str, rest: str, line: str, registry: Grammar) -> Command | Reply:
    if len(line) > MAX_LINE:
        return reply("too-long", length=len(line), limit=MAX_LINE, quoted=quote(line))
    spec = registry.get(name)
    if spec is None:
        known = ", ".join(f"`/{n}`" for n in registry.names())
        return reply("unknown", quoted=quote(f"/{name}"), known=known)
    if any(hidden(char) for char in rest.replace("\t", " ")):
        return reply("hidden", quoted=quote(line))
    if not spec.takes_arguments:
        if rest:
            return reply("no-arguments", quoted=quote(line), usage=spec.usage)
        return Command(spec.name, (), line)
    return _parse_arguments(spec, rest, line)


def _unquote(raw: str) -> str | None:
    """The value of ``raw``: a bare word without quotes or ``=``, or one whole quoted string; else None."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'" and raw[0] not in raw[1:-1]:
        return raw[1:-1]
    if raw and not any(c in raw for c in "\"'="):
        return raw
    return None


def _parse_arguments(spec: Syntax, rest: str, line: str) -> Command | Reply:
    tokens: list[str] = []
    end = 0
    for found in _TOKEN.finditer(rest):
        if rest[end : found.start()].strip():
            return reply("unclosed-quote", quoted=quote(line))
        tokens.append(found.group(0))
        end = found.end()
    if rest[end:].strip():
        return reply("unclosed-quote", quoted=quote(line))
    if len(tokens) > MAX_ARGUMENTS:
        return reply("too-many", quoted=quote(f"/{spec.name}"), count=len(tokens), limit=MAX_ARGUMENTS)
    catalogs: list[str] = []
    settings: list[Setting] = []
    for token in tokens:
        key, equals, raw = token.partition("=")
        if not equals:
            if not is_dns1123_label(token):
                return reply("bad-word", token=quote(token), usage=spec.usage)
            if token in catalogs:
                return reply("duplicate", token=quote(token), quoted=quote(line))
            catalogs.append(token)
            continue
        match = _KEY.fullmatch(key)
        if match is None or (match["catalog"] is not None and not is_dns1123_label(match["catalog"])):
            why = "the key must be `param` or `catalog.param`"
            return reply("bad-setting", token=quote(token), why=why, usage=spec.usage)
        value = _unquote(raw)
        if value is None:
            why = (
                'the value is empty; write `key=""` for an empty string'
                if not raw
                else 'a value with `=`, spaces or quotes must be one quoted string, such as `key="a=b"`'
            )
            return reply("bad-setting", token=quote(token), why=why, usage=spec.usage)
        setting = Setting(match["catalog"], match["name"], value)
        if any(s.key == setting.key for s in settings):
            return reply("duplicate", token=quote(setting.key), quoted=quote(line))
        settings.append(setting)
    return Command(spec.name, tuple(tokens), line, tuple(catalogs), tuple(settings))


# -- values ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueProblem:
    """Why a text cannot be a parameter's value."""

    message: str


Value = str | int | float | bool


def coerce_value(parameter: Parameter, text: str) -> Value | ValueProblem:
    """``text`` from a comment as a value of ``parameter``'s type, checked against its constraints.

    Integers and numbers are decimal, booleans ``true``/``false``, enums one of the options as written; a secret
    is refused: a comment is public, so secrets come only as references in the environment template.
    """
    kind = parameter.type
    value: Value
    if kind is ParameterType.SECRET:
        return ValueProblem(
            "is a secret; a comment cannot carry it, give a fromSecret reference in the environment template"
        )
    if kind is ParameterType.INTEGER:
        if not _INTEGER.fullmatch(text):
            return ValueProblem(f"must be an integer, got {quote(text)}")
        value = int(text)
    elif kind is ParameterType.NUMBER:
        if not _NUMBER.fullmatch(text):
            return ValueProblem(f"must be a number, got {quote(text)}")
        value = int(text) if _INTEGER.fullmatch(text) else float(text)
        if isinstance(value, float) and not math.isfinite(value):
            return ValueProblem(f"must be a finite number, got {quote(text)}")
    elif kind is ParameterType.BOOLEAN:
        if text.lower() not in ("true", "false"):
            return ValueProblem(f"must be true or false, got {quote(text)}")
        value = text.lower() == "true"
    elif kind is ParameterType.ENUM:
        chosen = [option for option in parameter.options if _written(option) == text]
        if not chosen:
            allowed = ", ".join(_written(o) for o in parameter.options)
            return ValueProblem(f"must be one of {allowed}; got {quote(text)}")
        value = chosen[0]
    else:
        if parameter.pattern is not None and re.fullmatch(parameter.pattern, text) is None:
            return ValueProblem(f"{quote(text)} does not match the pattern {quote(parameter.pattern)}")
        value = text
    problem = problem_with_value(parameter, value)
    return ValueProblem(problem) if problem is not None else value


def _written(option: object) -> str:
    if isinstance(option, bool):
        return "true" if option else "false"
    return str(option)
