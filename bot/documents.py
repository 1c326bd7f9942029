"""One way to read a loaded YAML document: typed reads at a path (``events.branches[0]``), every problem at once."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

from bot.durations import parse_duration
from bot.errors import UserError
from bot.names import did_you_mean, label_problem

T = TypeVar("T")
_MAX_SHOWN = 60


def show(value: Any) -> str:
    """A short, safe rendering of a user value for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...'"


def describe_type(value: Any) -> str:
    """What a value is, for ``must be a string, got the integer 5``."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def or_list(choices: Iterable[object]) -> str:
    """``a``, ``a or b``, ``a, b or c`` (an enum member as its value)."""
    words = [str(c.value) if isinstance(c, enum.Enum) else str(c) for c in choices]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class Problems:
    """The problems found so far, each one ``source: path: message`` line; ``raise_if_any`` raises them together."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, source: str, where: str, message: str) -> None:
        self.lines.append(f"{source}: {where}: {message}" if where else f"{source}: {message}")

    def raise_if_any(self, error: type[UserError] = UserError) -> None:
        if self.lines:
            raise error(self.lines)


@dataclass(frozen=True)
class Node:
    """A value of a document and where it is: ``source`` (the file) and ``where`` (the path in it).

    A read returns a usable value in every case: when the value is wrong it notes the problem and returns the
    default, so one pass finds every problem. ``null`` is no value: like an absent key it takes the default, and a
    ``required`` read notes it as ``is missing`` (followed by the hint when ``required`` is a text). Where ``null``
    means something of its own (a parameter's default), ``present`` tells it from an absent key.
    """

    value: Any
    source: str
    where: str = ""
    problems: Problems = field(default_factory=Problems, compare=False, repr=False)
    present: bool = True
    """Whether the document has this key at all (with ``null``, it does)."""
    quiet: bool = False
    """Under a value already noted as no mapping: a required value missing here is not noted again."""

    def _child(self, step: str, value: Any, *, present: bool = True) -> Node:
        where = f"{self.where}{step}" if step.startswith("[") else f"{self.where}.{step}" if self.where else step
        return Node(value, self.source, where, self.problems, present, self.quiet)

    def __getitem__(self, key: str) -> Node:
        """The node under ``key`` (absent when this mapping lacks it, or is no mapping)."""
        present = isinstance(self.value, Mapping) and key in self.value
        return self._child(key, self.value[key] if present else None, present=present)

    @property
    def given(self) -> bool:
        """Whether there is a value here: present, and not ``null``."""
        return self.value is not None

    def problem(self, message: str) -> None:
        self.problems.add(self.source, self.where, message)

    def _missing(self, required: bool | str = False) -> bool:
        """Whether there is no value here, noting it when one is required."""
        if self.given:
            return False
        if required and not self.quiet:
            self.problem(f"is missing: {required}" if isinstance(required, str) else "is missing")
        return True

    def mapping(self, known: Collection[str] | None = None, *, what: str = "a mapping") -> Node:
        """This mapping, each key not in ``known`` noted (with the known ones); empty when absent or no mapping."""
        if self._missing():
            return replace(self, value={})
        if not isinstance(self.value, Mapping):
            self.problem(f"must be {what}, got {self.kind}")
            return replace(self, value={}, quiet=True)
        for key in self.value:
            if known is not None and key not in known:
                hint = did_you_mean(str(key), known)
                self._child(str(key), None).problem(f"unknown key{hint} (known: {', '.join(sorted(known))})")
        return self

    def entries(self) -> list[tuple[str, Node]]:
        """Each key of a mapping (checked with ``mapping`` first) and the node under it."""
        items = self.value.items() if isinstance(self.value, Mapping) else ()
        return [(str(key), self._child(str(key), value)) for key, value in items]

    def items(self, *, what: str = "a list", required: bool | str = False, non_empty: bool = False) -> list[Node]:
        """The entries of a list, each at ``where[index]``; none when absent or no list."""
        if self._missing(required):
            return []
        if not isinstance(self.value, list):
            self.problem(f"must be {what}, got {self.kind}")
            return []
        if non_empty and not self.value:
            self.problem(f"must be {what}, got an empty list")
            return []
        return [self._child(f"[{index}]", item) for index, item in enumerate(self.value)]

    @overload
    def string(
        self,
        default: str,
        *,
        required: bool | str = ...,
        non_empty: bool = ...,
        one_line: bool = ...,
        max_length: int | None = ...,
        valid: Callable[[str], object] | None = ...,
        what: str | None = ...,
    ) -> str: ...
    @overload
    def string(
        self,
        default: None = None,
        *,
        required: bool | str = ...,
        non_empty: bool = ...,
        one_line: bool = ...,
        max_length: int | None = ...,
        valid: Callable[[str], object] | None = ...,
        what: str | None = ...,
    ) -> str | None: ...
    def string(
        self,
        default: str | None = None,
        *,
        required: bool | str = False,
        non_empty: bool = False,
        one_line: bool = False,
        max_length: int | None = None,
        valid: Callable[[str], object] | None = None,
        what: str | None = None,
    ) -> str | None:
        """A string: not blank, one line (no newline or NUL), at most ``max_length`` long, ``valid`` — as asked.

        A string that breaks one of these is ``'x' is not <what>`` when ``what`` says what is expected, else the
        rule it breaks.
        """
        if self._missing(required):
            return default
        text = self.value
        if not isinstance(text, str):
            self.problem(f"must be a string, got {self.kind}")
            return default
        if non_empty and not text.strip():
            rule = "must not be empty"
        elif one_line and ("\n" in text or "\x00" in text):
            rule = "must be a one-line string"
        elif max_length is not None and len(text) > max_length:
            rule = f"is {len(text)} characters long; at most {max_length} are allowed"
        elif valid is not None and not valid(text):
            rule = f"{show(text)} is not valid"
        else:
            return text
        self.problem(f"{show(text)} is not {what}" if what else rule)
        return default

    def label(self, *, required: bool | str = False) -> str | None:
        """A DNS-1123 label (``names.LABEL_RULE``), or None."""
        text = self.string(required=required)
        problem = label_problem(text) if text is not None else None
        if problem is not None:
            self.problem(problem)
            return None
        return text

    def boolean(self, default: bool) -> bool:
        if self._missing():
            return default
        if not isinstance(self.value, bool):
            self.problem(f"must be true or false, got {self.kind}")
            return default
        return self.value

    def integer(
        self,
        default: int | None = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        what: str | None = None,
    ) -> int | None:
        """An integer (a boolean is none) within the bounds; ``must be <what>, got ...`` for any other value."""
        if self._missing():
            return default
        number = self.value
        if isinstance(number, bool) or not isinstance(number, int):
            rule = f"must be an integer, got {self.kind}"
        elif minimum is not None and number < minimum:
            rule = f"must be at least {minimum}, got {number}"
        elif maximum is not None and number > maximum:
            rule = f"must be at most {maximum}, got {number}"
        else:
            return number
        self.problem(f"must be {what}, got {self.kind}" if what else rule)
        return default

    @overload
    def choice(self, choices: Iterable[T], default: T, *, required: bool = ...) -> T: ...
    @overload
    def choice(self, choices: Iterable[T], default: None = None, *, required: bool = ...) -> T | None: ...
    def choice(self, choices: Iterable[T], default: T | None = None, *, required: bool = False) -> T | None:
        """One of ``choices`` (an enum member matches its value); ``required`` says which when none is given."""
        options = list(choices)
        if self._missing(f"give {or_list(options)}" if required else False):
            return default
        for option in options:
            if self.value == (option.value if isinstance(option, enum.Enum) else option):
                return option
        self.problem(f"must be {or_list(options)}, got {show(self.value)}")
        return default

    def parsed(self, parse: Callable[[str], T | None], default: T, message: str) -> T:
        """``parse`` of a string (it returns None or raises ValueError for text it refuses), or ``default``."""
        if self._missing():
            return default
        try:
            value = parse(self.value) if isinstance(self.value, str) else None
        except ValueError:
            value = None
        if value is None:
            self.problem(message)
            return default
        return value

    def duration(self, default: dt.timedelta) -> dt.timedelta:
        """``30s``, ``10m``, ``2h`` or ``1d12h`` (``bot.durations.parse_duration``)."""
        return self.parsed(parse_duration, default, f"{show(self.value)} is not a duration such as 30s, 10m or 2h")

    def strings(self, *, what: str, valid: Callable[[str], object] = str.strip) -> tuple[str, ...]:
        """A list of strings each ``valid`` (by default: not blank); none, after ``must be <what>``, otherwise."""
        if self._missing():
            return ()
        if not isinstance(self.value, list) or not all(isinstance(s, str) and valid(s) for s in self.value):
            self.problem(f"must be {what}")
            return ()
        return tuple(self.value)

    @property
    def kind(self) -> str:
        """What the value is (``describe_type``)."""
        return describe_type(self.value)
