"""Live progress of a reconcile that waits: each phase change and pull request step once, and what it waits on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Timebase
from bot.reconcile.act import Outcome, Progress
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass
from bot.report.status import PHASE_STYLES


@dataclass
class Timeline:
    """``Reconciler.run``'s ``on_pass``: prints each phase change and each pull request step once, with the time
    since the start; what it waits on goes to ``status`` (a rich spinner), or with ``print_waits`` one line each
    time it changes (for a log, where a spinner does not show)."""

    console: Any
    timebase: Timebase
    started: dt.datetime
    print_waits: bool = False
    phases: list[Phase] = field(default_factory=list)
    shown: set[tuple[str, int, str]] = field(default_factory=set)
    last_wait: str = ""
    status: Any = None

    def stamp(self) -> str:
        elapsed = (self.timebase.clock() - self.started).total_seconds()
        return f"[dim]{elapsed:6.1f}s[/dim]"

    def __call__(self, current: Pass) -> None:
        from rich.markup import escape

        from bot.report.github_actions import log_text

        decision = current.decision
        if not self.phases or self.phases[-1] is not decision.phase:
            self.phases.append(decision.phase)
            style = PHASE_STYLES.get(decision.phase, "cyan")
            self.console.print(f"{self.stamp()}  [{style}]{decision.phase.value}[/{style}]")
        for outcome in current.outcomes:
            self.outcome(outcome)
        if current.moved_on:
            return  # what the round waited on before it acted is no longer true; the next round says what is
        if decision.waiting_on != self.last_wait:
            self.last_wait = decision.waiting_on
            lead = "" if decision.phase.settled else "waiting on "
            if self.status is not None:
                self.status.update(f"{lead}{escape(decision.waiting_on)}")
            if self.print_waits:
                self.console.print(f"{self.stamp()}    {lead}{escape(log_text(decision.waiting_on))}", soft_wrap=True)

    def outcome(self, outcome: Outcome | None) -> None:
        from rich.markup import escape

        if outcome is None or outcome.pull_request is None:
            return
        if outcome.progress not in (Progress.MERGED, Progress.OPEN):
            return
        key = (outcome.proposal.branch, outcome.pull_request.number, outcome.progress.value)
        if key in self.shown:
            return
        self.shown.add(key)
        verb = "merged" if outcome.progress is Progress.MERGED else "opened"
        self.console.print(
            f"{self.stamp()}    {outcome.proposal.repo.value} pull request #{outcome.pull_request.number} "
            f"{verb}: {escape(outcome.pull_request.title)}"
        )
