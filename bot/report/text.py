"""User-facing text (pull request titles and bodies, comments, summaries) rendered from the template files."""

from __future__ import annotations

import functools
from typing import Any

import jinja2


@functools.cache
def _environment(package: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_text(template: str, **context: Any) -> str:
    """Render one of envbot's own text templates in bot/report/templates (never user-supplied templates)."""
    return render_package_text("bot.report", template, **context)


def render_package_text(package: str, template: str, **context: Any) -> str:
    """Render one of envbot's own text templates from ``<package>/templates``."""
    return _environment(package).get_template(template).render(**context)
