"""The agent's loop: cluster changes and resyncs in, one reconcile at a time out, until it is told to stop."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.agent.metrics import Metrics
from bot.agent.server import Health
from bot.errors import EnvbotError, TransientError
from bot.forge.errors import ForgeUnavailableError
from bot.reconcile.act import Progress
from bot.reconcile.model import Phase, Step
from bot.reconcile.runner import Pass, Reconciler
from bot.reconcile.schedule import Schedule, Timing

LogLine = Callable[..., None]
"""``log(event, **fields)``: one structured line per action (``bot.agent.logs``)."""
Report = Callable[[Pass], None]
"""Reports one reconcile on the environment's origin (sticky comment, status); may raise ``EnvbotError``."""

AFTER_FAILURE = dt.timedelta(seconds=30)
"""A reconcile that failed on a transient fault is tried again this long after (the resync also comes)."""
_STOP = ""
"""Put in the change queue to wake the loop at once when it is told to stop."""


@dataclass(frozen=True)
class Stepped:
    """What one ``step`` did, and when the next one is due unless a change comes first."""

    wake: dt.datetime
    reconciled: tuple[str, ...] = ()
    resynced: bool = False
    failed: tuple[str, ...] = ()


@runtime_checkable
class MeteredForge(Protocol):
    """A forge that counts its requests and knows GitHub's rate limit (``GitHubForge``)."""

    @property
    def request_count(self) -> int: ...

    @property
    def rate_limit_remaining(self) -> int | None: ...


class Agent:
    """Reconciles environments as soon as their objects change (debounced) and resyncs everything on an interval.

    Watch threads call ``changed`` (thread-safe); ``run`` is the loop, ``step`` one pass of it (what is due now).
    One environment is reconciled at a time and every reconcile finishes before the loop looks at ``stop``, so a
    SIGTERM never leaves a reconcile half-done; whatever it did not reach, the next start's first resync does.
    """

    def __init__(
        self,
        reconciler: Reconciler,
        timing: Timing,
        *,
        report: Report,
        log: LogLine,
        metrics: Metrics,
        health: Health,
        metered: Iterable[MeteredForge] = (),
    ) -> None:
        self.reconciler = reconciler
        self.timing = timing
        self.report = report
        self.log = log
        self.metrics = metrics
        self.health = health
        self.metered = tuple(metered)
        """The forges whose requests and rate limit ``/metrics`` shows."""
        self.schedule = Schedule.starting(reconciler.clock())
        self.known: set[str] = set()
        self.phases: dict[str, Phase] = {}
        self._changes: queue.Queue[tuple[str, dt.datetime]] = queue.Queue()
        self._stop = threading.Event()
        self.started = threading.Event()
        """Set once ``run`` finished its first step (the first resync): the agent has done what a start does."""
        self._reported: dict[str, tuple[Phase, str]] = {}
        self._requests_seen = 0

    # -- inputs, from any thread ---------------------------------------------------------------------------------

    def changed(self, environment: str) -> None:
        """One of ``environment``'s objects changed in the cluster (called by the watch threads)."""
        if environment:
            self._changes.put((environment, self.reconciler.clock()))

    def stop(self) -> None:
        """Finish the reconcile in flight, then leave ``run`` (SIGTERM)."""
        self._stop.set()
        self._changes.put((_STOP, self.reconciler.clock()))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> None:
        """Step, then wait for a change or the next wake, until ``stop``."""
        self.log("agent started", debounce=self.timing.debounce, resync=self.timing.resync)
        while not self.stopping:
            wake = self.step().wake
            self.started.set()
            seconds = max(0.0, (wake - self.reconciler.clock()).total_seconds())
            try:
                first = self._changes.get(timeout=seconds)
            except queue.Empty:
                continue
            self._take(first)
        self.health.alive = False
        self.log("agent stopped")

    def step(self) -> Stepped:
        """Everything due now: the changes that came in, their debounced reconciles, the resync when it is time."""
        now = self.reconciler.clock()
        self._drain()
        due = self.schedule.due(now, self.known, self.timing)
        reconciled: list[str] = []
        failed: list[str] = []
        if due.resync and not self.stopping:
            if self._resync(now):
                reconciled.extend(sorted(self.known))
            else:
                failed.append("(resync)")
        for name in due.environments:
            if self.stopping:
                break
            if name in reconciled:
                continue
            trigger = "change" if name in self.schedule.waiting else "full-resync"
            (reconciled if self._reconcile(name, trigger) else failed).append(name)
        self._count_requests()
        wake = self.schedule.next_wake(self.known, self.timing)
        return Stepped(wake, tuple(reconciled), due.resync, tuple(failed))

    # -- what a step does --------------------------------------------------------------------------------------

    def _take(self, change: tuple[str, dt.datetime]) -> None:
        environment, when = change
        if environment != _STOP:
            self.schedule = self.schedule.changed(environment, when, self.timing)

    def _drain(self) -> None:
        while True:
            try:
                self._take(self._changes.get_nowait())
            except queue.Empty:
                return

    def _resync(self, now: dt.datetime) -> bool:
        """Every environment decided from one snapshot and one listing of each repository; those with something
        to do are run. False when it failed (the next resync comes one interval later)."""
        try:
            passes = self.reconciler.sweep(wait_out_settle=False)
        except Exception as exc:
            self._failed("resync", "(every environment)", exc)
            self.schedule = self.schedule.resynced((), now, self.timing)
            return False
        self.health.github(None)
        self.known = {p.decision.name for p in passes}
        self.schedule = self.schedule.resynced(self.known, now, self.timing)
        for current in passes:
            self._after(current, "resync")
        self._forget_deleted()
        self.metrics.phases(_count(self.phases))
        return True

    def _reconcile(self, name: str, trigger: str) -> bool:
        noticed = self.schedule.first_change.get(name)
        try:
            current = self.reconciler.run(name, wait_out_settle=False)
        except Exception as exc:
            self._failed(trigger, name, exc)
            self.schedule = self.schedule.done([name], self.reconciler.clock()).come_back(
                name, self.reconciler.clock() + AFTER_FAILURE
            )
            return False
        self.health.github(None)
        self.known.add(name)
        self.schedule = self.schedule.done([name], self.reconciler.clock())
        self._after(current, trigger, noticed)
        self._forget_deleted()
        self.metrics.phases(_count(self.phases))
        return True

    def _after(self, current: Pass, trigger: str, noticed: dt.datetime | None = None) -> None:
        """Log, measure and report one environment's reconcile; schedule its settle time. ``noticed``: when the
        cluster change that led to it was seen."""
        decision = current.decision
        name = decision.name
        now = self.reconciler.clock()
        self.phases[name] = decision.phase
        if current.settles_at is not None:
            self.schedule = self.schedule.come_back(name, current.settles_at)
        self.metrics.reconciles.labels(trigger=trigger, result="ok").inc()
        self._measure(current, noticed, now)
        moved = [o for o in current.history or current.outcomes if o.progress.moved_on]
        if moved or trigger != "resync":
            self.log(
                "reconciled",
                environment=name,
                trigger=trigger,
                phase=decision.phase.value,
                waiting_on=decision.waiting_on,
                actions=[f"{o.proposal.repo.value} {o.proposal.step.value}: {o.progress.value}" for o in moved],
            )
        said = (decision.phase, decision.waiting_on)
        if self._reported.get(name) != said:
            try:
                self.report(current)
            except EnvbotError as exc:
                self._failed("report", name, exc)
                return
            self._reported[name] = said

    def _measure(self, current: Pass, noticed: dt.datetime | None, now: dt.datetime) -> None:
        """From the cluster change that made the infrastructure Available (as the watch saw it) to the app pull
        request merged by the reconcile it led to."""
        merged_apps = any(
            o.proposal.step is Step.APPLICATIONS and o.progress is Progress.MERGED
            for o in current.history or current.outcomes
        )
        if merged_apps and noticed is not None:
            self.metrics.available_to_merged.observe((now - noticed).total_seconds())

    def _failed(self, trigger: str, name: str, exc: Exception) -> None:
        """One line for a failure: a typed one with its message, a bug with its traceback."""
        if not isinstance(exc, EnvbotError):
            self.metrics.reconciles.labels(trigger=trigger, result="bug").inc()
            self.log(
                "reconcile failed: a bug in envbot", environment=name, trigger=trigger, traceback=describe_bug(exc)
            )
            return
        kind = "transient" if isinstance(exc, TransientError) else type(exc).__name__
        self.metrics.reconciles.labels(trigger=trigger, result="error").inc()
        if isinstance(exc, ForgeUnavailableError):
            self.health.github(f"GitHub: {exc}")
        self.log("reconcile failed", environment=name, trigger=trigger, error=kind, message=str(exc))

    def _forget_deleted(self) -> None:
        gone = [name for name, phase in self.phases.items() if phase is Phase.DELETED]
        if gone:
            self.schedule = self.schedule.forget(gone)
            self.known.difference_update(gone)
            for name in gone:
                del self.phases[name]
                self._reported.pop(name, None)

    def _count_requests(self) -> None:
        total = sum(forge.request_count for forge in self.metered)
        if total > self._requests_seen:
            self.metrics.github_requests.inc(total - self._requests_seen)
            self._requests_seen = total
        remaining = [r for forge in self.metered if (r := forge.rate_limit_remaining) is not None]
        if remaining:
            self.metrics.rate_limit_remaining.set(min(remaining))


def _count(phases: Mapping[str, Phase]) -> dict[Phase, int]:
    counts: dict[Phase, int] = {}
    for phase in phases.values():
        counts[phase] = counts.get(phase, 0) + 1
    return counts


def describe_bug(exc: BaseException) -> str:
    """A bug's traceback as one string, for the one log line a bug gets (the loop goes on with the next)."""
    return "".join(traceback.format_exception(exc)).strip()
