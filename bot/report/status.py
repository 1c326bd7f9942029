"""Status rows for people and machines: the table ``envbot status`` prints and the JSON it writes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import utc_timestamp
from bot.durations import format_duration
from bot.reconcile.act import Outcome
from bot.reconcile.gate import Blocker
from bot.reconcile.model import Decision, Phase, Proposal
from bot.text.untrusted import Markdown, markdown_data, markdown_link

OWN_PULL_REQUEST = re.compile(
    r"(?:platform|apps) https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~-]+)+ \([a-z-]+\)"
)
"""A line of ``describe_outcome`` naming a pull request envbot opened by its web address: markdown of its own, so
GitHub links the address. Any other line is data."""

PHASE_STYLES = {
    Phase.READY: "green",
    Phase.FAILED: "bold red",
    Phase.DELETED: "dim",
    Phase.DELETING: "yellow",
}


@dataclass(frozen=True)
class PullRequestLine:
    """One pull request of an environment as people see it: ``head`` names it (``apps <address> (checks-pending)``),
    ``blockers`` say what holds its merge back."""

    head: str
    blockers: tuple[Blocker, ...] = ()

    @property
    def text(self) -> str:
        """The pull request on one line, its blockers after it (with each check's link)."""
        if not self.blockers:
            return self.head
        return f"{self.head}: {'; '.join(blocker.line() for blocker in self.blockers)}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class StatusRow:
    """One environment as ``envbot status`` shows it."""

    environment: str
    phase: Phase
    since: dt.datetime | None
    waiting_on: str
    pull_requests: tuple[PullRequestLine, ...]
    failure: str | None = None

    @property
    def pull_request_texts(self) -> tuple[str, ...]:
        """Each pull request on one line, with what blocks it."""
        return tuple(line.text for line in self.pull_requests)

    def as_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "phase": self.phase.value,
            "since": utc_timestamp(self.since) if self.since else None,
            "waitingOn": self.waiting_on,
            "pullRequests": list(self.pull_request_texts),
            "blockers": [
                {"pullRequest": line.head, "kind": blocker.kind.value, "text": blocker.text, "url": blocker.url or None}
                for line in self.pull_requests
                for blocker in line.blockers
            ],
            "failure": self.failure,
        }


def describe_outcome(outcome: Outcome) -> PullRequestLine:
    pull_request = outcome.pull_request
    where = pull_request.url or f"#{pull_request.number}" if pull_request is not None else outcome.proposal.branch
    return PullRequestLine(f"{outcome.proposal.repo.value} {where} ({outcome.progress.value})", outcome.blockers)


def _proposed(decision: Decision, proposal: Proposal) -> PullRequestLine:
    """A proposal not acted on in this run: its open pull request by number, or the branch it will open from."""
    for request in decision.open_requests:
        if (request.repo, request.branch) == (proposal.repo, proposal.branch):
            return PullRequestLine(f"{proposal.repo.value} #{request.number} (open)")
    return PullRequestLine(f"{proposal.repo.value} {proposal.branch} (to open)")


def status_row(decision: Decision, outcomes: Sequence[Outcome] = ()) -> StatusRow:
    """The row of one environment: its pull requests as ``outcomes`` left them, then any other it proposes."""
    covered = {(o.proposal.repo, o.proposal.branch) for o in outcomes}
    pull_requests = (
        *(describe_outcome(o) for o in outcomes),
        *(_proposed(decision, p) for p in decision.proposals if (p.repo, p.branch) not in covered),
    )
    return StatusRow(
        environment=decision.name,
        phase=decision.phase,
        since=decision.since,
        waiting_on=decision.waiting_on,
        pull_requests=pull_requests,
        failure=decision.failure,
    )


def pull_request_markdown(line: PullRequestLine) -> Markdown:
    """A pull request line for a comment or summary: its address linked when it has exactly envbot's shape, each
    blocker as data with its check's link (when the link is a plain web address)."""
    head = Markdown(line.head) if OWN_PULL_REQUEST.fullmatch(line.head) else markdown_data(line.head)
    if not line.blockers:
        return head
    blockers = [markdown_data(b.text) + markdown_link("details", b.url, lead=" ") for b in line.blockers]
    return Markdown(f"{head}: {'; '.join(blockers)}")


def since_text(since: dt.datetime | None, now: dt.datetime) -> str:
    return f"{format_duration(now - since)} ago" if since is not None else "-"


def status_table(rows: Iterable[StatusRow], now: dt.datetime) -> Any:
    """A rich Table: environment, phase, since when, what it waits on, the pull requests."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="envbot environments", title_justify="left")
    for column in ("environment", "phase", "since", "waiting on", "pull requests"):
        table.add_column(column, overflow="fold")
    for row in rows:
        style = PHASE_STYLES.get(row.phase, "cyan")
        table.add_row(
            escape(row.environment),
            f"[{style}]{row.phase.value}[/{style}]",
            since_text(row.since, now),
            escape(row.waiting_on),
            escape("\n".join(row.pull_request_texts)) or "-",
        )
    return table


def summary_markdown(rows: Sequence[StatusRow], now: dt.datetime, headline: str) -> str:
    """The Actions job summary: envbot's ``headline`` and the status table in Markdown, the rows' text as data."""
    from bot.report.text import render_text

    return render_text(
        "job_summary.md.j2",
        headline=Markdown(headline),
        rows=[
            {
                "environment": row.environment,
                "phase": Markdown(row.phase.value),
                "since_text": Markdown(since_text(row.since, now)),
                "waiting_on": row.waiting_on,
                "pull_requests": [pull_request_markdown(pr) for pr in row.pull_requests],
            }
            for row in rows
        ],
    )
