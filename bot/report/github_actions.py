"""What envbot tells GitHub Actions: step outputs, the job summary, error annotations and log text that is data."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.report.status import StatusRow
from bot.text.untrusted import JOINER, REPLACEMENT, hidden

_LINE_BREAK = re.compile(r"\r\n?|\n")
"""Where the Actions runner starts a new line of the log (and so a possible workflow command)."""


def _append(variable: str, text: str, environ: Mapping[str, str]) -> bool:
    path = environ.get(variable)
    if not path:
        return False
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text)
    return True


def write_outputs(values: Mapping[str, str], environ: Mapping[str, str] | None = None) -> bool:
    """Step outputs through ``$GITHUB_OUTPUT``, each in the heredoc form so no value can forge another."""
    environ = os.environ if environ is None else environ
    lines = []
    for key, value in values.items():
        delimiter = f"envbot_{secrets.token_hex(8)}"
        lines.append(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
    return _append("GITHUB_OUTPUT", "".join(lines), environ)


def write_summary(markdown: str, environ: Mapping[str, str] | None = None) -> bool:
    """Append to the job summary (``$GITHUB_STEP_SUMMARY``)."""
    return _append("GITHUB_STEP_SUMMARY", markdown, os.environ if environ is None else environ)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotation(title: str, message: str) -> str:
    """A workflow command line that shows ``message`` as an error annotation on the run.

    Escaped as the runner unescapes it, so the whole annotation is one line whose title ends at the first ``::``;
    both go through ``log_text`` first, so not even the older ``##[command]`` form can be read inside them.
    """
    return f"::error title={_escape_property(log_text(title))}::{_escape_data(log_text(message))}"


def log_text(text: str) -> str:
    """``text`` for the job log with nothing in it the runner takes as a workflow command; it reads the same.

    The runner reads ``::command::`` at the start of a line (after blanks) and the older ``##[command]`` anywhere in
    a line. So in every line ``##[`` gets an invisible joiner inside it, a line starting with ``::`` one between the
    colons, and other control or invisible characters (which could hide or reorder text) become ``�``. Used for every
    line envbot logs; its own annotations (``error_annotation``) are written past it.
    """
    lines = []
    for line in _LINE_BREAK.split(text):
        line = "".join(REPLACEMENT if hidden(char) and char != "\t" else char for char in line)
        line = line.replace("##[", "##" + JOINER + "[")
        blanks = len(line) - len(line.lstrip())
        if line.startswith("::", blanks):
            line = line[: blanks + 1] + JOINER + line[blanks + 1 :]
        lines.append(line)
    return "\n".join(lines)


def data_log(write: Callable[[str], None]) -> Callable[[str], None]:
    """A log that writes everything through ``log_text``: what it is given may hold data."""
    return lambda text: write(log_text(text))


def outputs_for(rows: Sequence[StatusRow]) -> dict[str, str]:
    """The action's outputs: the (first) environment, its phase, and the pull request links."""
    if not rows:
        return {"environment": "", "phase": "", "pull-requests": ""}
    row = rows[0]
    return {
        "environment": row.environment,
        "phase": row.phase.value,
        "pull-requests": "\n".join(row.pull_request_texts),
    }
