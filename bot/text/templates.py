"""envbot's own text templates (``<package>/templates``) rendered so that every value in them is data by default."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jinja2

from bot.text.untrusted import markdown_slot, reply_slot, text_slot

SLOTS: dict[str, Callable[[object], str]] = {".md.j2": markdown_slot, ".txt.j2": text_slot}
"""How each kind of template writes a ``{{ }}``, by file suffix: in markdown anything not ``Markdown`` is data."""


@functools.cache
def _environment(package: str, slot: Callable[[object], str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=slot,
    )


def slot_for(template: str) -> Callable[[object], str]:
    """The slot writer of a template, by its suffix; a template of any other kind is refused."""
    for suffix, slot in SLOTS.items():
        if template.endswith(suffix):
            return slot
    raise ValueError(f"{template}: a template is named *.md.j2 (markdown) or *.txt.j2 (plain text)")


def render_package_text(package: str, template: str, *, replies: bool = False, **context: Any) -> str:
    """Render one of envbot's own text templates from ``<package>/templates``.

    Every ``{{ }}`` of a markdown template is data unless it is ``Markdown``. ``replies``: the caller has quoted
    every piece of a person's text already (``bot/events/text.py``), so values are written as given, on one line.
    """
    slot = reply_slot if replies else slot_for(template)
    return _environment(package, slot).get_template(template).render(**context)
