"""Text that is not envbot's own, made data for each output: a markdown code span, a plain line, a template slot."""

from __future__ import annotations

import re
import unicodedata

REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
JOINER = "\N{WORD JOINER}"
"""Invisible and without meaning of its own: put after ``@`` it stops a mention, after ``<`` a tag."""
MAX_MARKDOWN_DATA = 2000
"""Longest piece of data a comment or summary repeats (the whole text is in the job log and its annotation)."""


WEB_ADDRESS = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+=&?#:-]*)?")
"""A web address safe to put in a markdown link as it is: https, a host name, and a path of plain characters."""


class Markdown(str):
    """Markdown that envbot wrote, or built from data with this module: a markdown template slot writes it as is.

    Any other value in a slot is data and becomes a code span. Joining or formatting gives a plain ``str`` again,
    so text can only be trusted by saying so.
    """


def hidden(char: str) -> bool:
    """True for control, format (zero-width, bidi), private-use, unassigned and line-separator characters."""
    return char != " " and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def visible(text: str) -> str:
    """``text`` with every hidden character (see ``hidden``) replaced by ``�``."""
    return "".join(REPLACEMENT if hidden(char) else char for char in text)


def one_line(text: str) -> str:
    """``text`` on one line: each run of blanks and line breaks becomes one space; hidden characters ``�``."""
    return visible(" ".join(text.split()))


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and ``…``."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code_span(content: str) -> Markdown:
    """``content`` as one markdown code span, fenced by one more backtick than its longest run of them.

    Inside a code span GitHub makes nothing of markdown, HTML, mentions, issue references or addresses.
    """
    longest = run = 0
    for char in content:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") or not content.strip(" ") else ""
    return Markdown(f"{fence}{pad}{content}{pad}{fence}")


def quoted(text: str, limit: int) -> Markdown:
    """A person's text, as typed, in a code span: hidden characters ``�``, cut to ``limit`` characters."""
    return code_span(cut(visible(text[: limit + 1]), limit))


def markdown_data(text: str, limit: int = MAX_MARKDOWN_DATA) -> Markdown:
    """Data for a comment, summary or pull request body: one code span on one line, safe in a table cell.

    Beyond the code span, in case it is ever shown as plain text: ``@`` and ``<`` get an invisible joiner after
    them and ``](`` one between, so no mention, tag or link can be read out of it; ``|`` is ``\\|`` so it cannot
    end a table cell (outside a table GitHub shows that backslash). Empty data is nothing.
    """
    content = cut(one_line(text), limit)
    if not content:
        return Markdown("")
    content = content.replace("@", "@" + JOINER).replace("<", "<" + JOINER).replace("](", "]" + JOINER + "(")
    return code_span(content.replace("|", "\\|"))


def markdown_link(label: str, url: str, *, lead: str = "") -> Markdown:
    """``[label](url)`` after ``lead`` when ``url`` is a plain https address (``WEB_ADDRESS``), else nothing: an
    address given by others (a check's link) becomes a link only when it can hold no markdown of its own."""
    if not WEB_ADDRESS.fullmatch(url) or not label.isalnum():
        return Markdown("")
    return Markdown(f"{lead}[{label}]({url})")


def plain_data(text: str, limit: int) -> str:
    """Data for a plain-text field (a commit status description): one line, no mention, at most ``limit``."""
    return cut(one_line(text).replace("@", "@" + JOINER), limit)


def markdown_slot(value: object) -> str:
    """What a ``{{ }}`` of a markdown template writes: ``Markdown`` and numbers as they are, anything else as data."""
    if isinstance(value, Markdown):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return markdown_data(str(value))


def text_slot(value: object) -> str:
    """What a ``{{ }}`` of a plain-text template (a title, a line of the CLI) writes: the value on one line."""
    return one_line(str(value))


def reply_slot(value: object) -> str:
    """A ``{{ }}`` of a reply template, whose caller quotes every piece of a person's text (``bot/events/text.py``):
    the value as given, on one line, so no value can start a block of its own."""
    return value if isinstance(value, Markdown) else " ".join(str(value).splitlines())
