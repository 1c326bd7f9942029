"""How envbot's pull requests read: their titles, descriptions and the comment left when one is withdrawn."""

from __future__ import annotations

from typing import Final

from bot.reconcile.model import Purpose
from bot.report.text import render_text


class TemplateWording:
    """The ``Wording`` of ``bot/report/templates``: ``pull_request_title.txt.j2``, ``pull_request.md.j2`` and
    ``withdrawn.md.j2``."""

    def _context(self, purpose: Purpose) -> dict[str, object]:
        return {
            "environment": purpose.environment,
            "step": purpose.step.value,
            "first": purpose.first,
            "writes": list(purpose.writes),
            "deletes": list(purpose.deletes),
            "pending": list(purpose.pending),
            "catalogs": list(purpose.catalogs),
        }

    def title(self, purpose: Purpose) -> str:
        return render_text("pull_request_title.txt.j2", **self._context(purpose)).strip()

    def body(self, purpose: Purpose) -> str:
        return render_text("pull_request.md.j2", **self._context(purpose))

    def withdrawn(self, reason: str) -> str:
        return render_text("withdrawn.md.j2", reason=reason)


WORDING: Final = TemplateWording()
