"""Reporting back where an environment came from: the sticky comment on its pull request, the status on its head."""

from __future__ import annotations

import datetime as dt

from bot.environment.model import Origin, OriginKind
from bot.forge.errors import ForgeNotFoundError
from bot.forge.protocol import Forge
from bot.reconcile.model import Decision
from bot.report.comment import comment_marker, commit_description, commit_state, status_comment, status_context
from bot.report.status import StatusRow


def origin_pull_request(origin: Origin | None, pr_number: int | None = None) -> int | None:
    """The pull request to report on: the one asked from, else the origin's when it is a pull request's."""
    if pr_number:
        return pr_number
    return origin.pull_request if origin is not None and origin.kind is OriginKind.PULL_REQUEST else None


def report_on_origin(
    source: Forge,
    decision: Decision,
    row: StatusRow,
    now: dt.datetime,
    *,
    origin: Origin | None,
    pr_number: int | None = None,
) -> None:
    """The sticky comment on the origin pull request and the ``envbot/<env>`` status on its head (or on the
    origin branch's head). Both are written only when they differ from what is there."""
    number = origin_pull_request(origin, pr_number)
    sha: str | None = None
    if number:
        source.upsert_comment(number, comment_marker(decision.name), status_comment(row, now))
        sha = source.get_pull_request(number).head_sha
    elif origin is not None and origin.branch:
        try:
            sha = source.commit_status(origin.branch).sha
        except ForgeNotFoundError:  # the branch is gone
            sha = None
    if sha is not None:
        source.set_status(sha, status_context(decision.name), commit_state(decision.phase), commit_description(row))
