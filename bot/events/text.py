"""User-facing replies and the command help, rendered from the templates in bot/events/templates/."""

from __future__ import annotations

from typing import Any

from bot.text.templates import render_package_text
from bot.text.untrusted import Markdown, hidden, quoted

__all__ = ["MAX_QUOTED", "hidden", "quote", "render"]

MAX_QUOTED = 80
"""Longest piece of a user's comment a reply repeats; longer ones are cut with an ellipsis."""


def render(template: str, **context: Any) -> str:
    """Render one of envbot's own event templates (never user text as a template); surrounding blanks dropped.

    Every piece of a person's text in ``context`` must come through ``quote``; no value can break the line.
    """
    return render_package_text("bot.events", template, replies=True, **context).strip()


def quote(text: str, limit: int = MAX_QUOTED) -> Markdown:
    """``text`` as one markdown code span: it cannot mention anyone, link, or break out of the line.

    Control and invisible characters become ``�``; text longer than ``limit`` is cut with ``…``
    (``bot/text/untrusted.py``, which also makes controller messages data in comments and summaries).
    """
    return quoted(text, limit)
