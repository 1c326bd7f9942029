"""User-facing text of the reports (pull request titles and bodies, comments, summaries), from bot/report/templates."""

from __future__ import annotations

from typing import Any

from bot.text.templates import render_package_text


def render_text(template: str, **context: Any) -> str:
    """Render one of envbot's own text templates in bot/report/templates (never user-supplied templates)."""
    return render_package_text("bot.report", template, **context)
