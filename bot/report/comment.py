"""The sticky pull request comment and commit status that tell a PR's people how its environment is doing."""

from __future__ import annotations

import datetime as dt

from bot.forge.model import MAX_STATUS_DESCRIPTION, StatusState
from bot.reconcile.model import Phase
from bot.report.status import StatusRow, pull_request_markdown, since_text
from bot.report.text import render_text
from bot.text.untrusted import Markdown, plain_data

PHASE_ICONS = {
    Phase.READY: "✅",
    Phase.FAILED: "❌",
    Phase.DELETED: "🗑️",
    Phase.DELETING: "🧹",
}


def comment_marker(environment: str) -> str:
    """The hidden marker key of an environment's sticky comment."""
    return f"envbot:status:{environment}"


def status_context(environment: str) -> str:
    """The commit status context envbot sets on the origin pull request's head."""
    return f"envbot/{environment}"


def status_comment(row: StatusRow, now: dt.datetime) -> str:
    """The sticky comment's markdown: envbot's own words around the row's data (``bot/text/untrusted.py``)."""
    return render_text(
        "status_comment.md.j2",
        row=row,
        phase=Markdown(row.phase.value),
        since=Markdown(since_text(row.since, now)) if row.since else "",
        icon=Markdown(PHASE_ICONS.get(row.phase, "⏳")),
        pull_requests=[pull_request_markdown(pr) for pr in row.pull_requests],
    )


def commit_state(phase: Phase) -> StatusState:
    if phase is Phase.FAILED:
        return "failure"
    if phase in (Phase.READY, Phase.DELETED):
        return "success"
    return "pending"


def commit_description(row: StatusRow) -> str:
    """The commit status description: plain text on one line, no mention, within GitHub's 140 characters."""
    return plain_data(f"{row.phase.value}: {row.waiting_on}", MAX_STATUS_DESCRIPTION)
