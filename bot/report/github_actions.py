"""What envbot tells GitHub Actions: step outputs, the job summary and error annotations (files named by env vars)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.report.status import StatusRow


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
    """A workflow command line that shows ``message`` as an error annotation on the run."""
    return f"::error title={_escape_property(title)}::{_escape_data(message)}"


def outputs_for(rows: Sequence[StatusRow]) -> dict[str, str]:
    """The action's outputs: the (first) environment, its phase, and the pull request links."""
    if not rows:
        return {"environment": "", "phase": "", "pull-requests": ""}
    row = rows[0]
    return {
        "environment": row.environment,
        "phase": row.phase.value,
        "pull-requests": "\n".join(row.pull_requests),
    }
