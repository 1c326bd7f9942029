"""Three-way merges of file trees and of text, line by line, as git merges them (for the fakes' merges)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from difflib import SequenceMatcher
from typing import TypeVar

T = TypeVar("T")

_Hunk = tuple[int, int, list[str], int]
"""A change of one side: the origin's lines [start, end) become the lines given; the side (0 ours, 1 theirs)."""


def _identity(value: T) -> T:
    return value


def merge_trees(
    origin: Mapping[str, T],
    ours: Mapping[str, T],
    theirs: Mapping[str, T],
    *,
    read: Callable[[T], str] = _identity,  # type: ignore[assignment]
    store: Callable[[str], T] = _identity,  # type: ignore[assignment]
) -> dict[str, T] | None:
    """Merge two trees (path → content, or path → blob id with ``read`` and ``store``) that forked at ``origin``.

    A file changed on one side only takes that side; a file changed on both is merged line by line
    (``merge_text``). ``None`` on any conflict: both sides changed the same lines differently, one deleted a
    file the other changed, or both added a file with different contents.
    """
    merged: dict[str, T] = {}
    for path in origin.keys() | ours.keys() | theirs.keys():
        o, a, b = origin.get(path), ours.get(path), theirs.get(path)
        if a == b or o == b:
            result = a
        elif o == a:
            result = b
        elif a is None or b is None:
            return None  # deleted on one side, changed on the other
        else:
            text = merge_text("" if o is None else read(o), read(a), read(b))
            if text is None:
                return None
            result = store(text)
        if result is not None:
            merged[path] = result
    return merged


def _hunks(origin: list[str], side: list[str], which: int) -> list[_Hunk]:
    opcodes = SequenceMatcher(None, origin, side, autojunk=False).get_opcodes()
    return [(i1, i2, side[j1:j2], which) for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]


def _apply(origin: list[str], start: int, end: int, hunks: list[_Hunk]) -> list[str]:
    """The origin's lines [start, end) with ``hunks`` (of one side, in order) applied."""
    out: list[str] = []
    cursor = start
    for hunk_start, hunk_end, lines, _ in hunks:
        out += origin[cursor:hunk_start] + lines
        cursor = hunk_end
    return out + origin[cursor:end]


def merge_text(origin: str, ours: str, theirs: str) -> str | None:
    """``ours`` and ``theirs`` merged line by line from ``origin``; ``None`` when they conflict.

    Changes of the two sides that overlap or touch (no unchanged line between them) conflict unless they are
    the same change, as in git.
    """
    if ours == theirs or origin == theirs:
        return ours
    if origin == ours:
        return theirs
    base = origin.splitlines(keepends=True)
    hunks = sorted(
        _hunks(base, ours.splitlines(keepends=True), 0) + _hunks(base, theirs.splitlines(keepends=True), 1),
        key=lambda h: (h[0], h[1], h[3]),
    )
    out: list[str] = []
    position = i = 0
    while i < len(hunks):
        start, end = hunks[i][0], hunks[i][1]
        group = [hunks[i]]
        i += 1
        while i < len(hunks) and hunks[i][0] <= end:
            end = max(end, hunks[i][1])
            group.append(hunks[i])
            i += 1
        out += base[position:start]
        versions = [_apply(base, start, end, [h for h in group if h[3] == side]) for side in (0, 1)]
        sides = {h[3] for h in group}
        if len(sides) == 2 and versions[0] != versions[1]:
            return None
        out += versions[min(sides)]
        position = end
    return "".join(out + base[position:])
