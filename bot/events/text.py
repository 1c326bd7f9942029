"""User-facing replies and the command help, rendered from the templates in bot/events/templates/."""

from __future__ import annotations

import unicodedata
from typing import Any

from bot.report.text import render_package_text

MAX_QUOTED = 80
"""Longest piece of a user's comment a reply repeats; longer ones are cut with an ellipsis."""


def render(template: str, **context: Any) -> str:
    """Render one of envbot's own event templates (never user text as a template); surrounding blanks dropped."""
    return render_package_text("bot.events", template, **context).strip()


def quote(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` as one markdown code span: it cannot mention anyone, link, or break out of the line.

    Control and invisible characters become ``�``; text longer than ``limit`` is cut with ``…``.
    """
    cleaned = "".join("\N{REPLACEMENT CHARACTER}" if hidden(c) else c for c in text[: limit + 1])
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    longest = 0
    run = 0
    for char in cleaned:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if cleaned.startswith("`") or cleaned.endswith("`") or not cleaned.strip(" ") else ""
    return f"{fence}{pad}{cleaned}{pad}{fence}"


def hidden(char: str) -> bool:
    """True for control, format (zero-width, bidi), private-use, unassigned and line-separator characters."""
    return char != " " and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
