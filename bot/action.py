"""``envbot handle-event``: one GitHub event → an intent → reconciled environments → comment, status, summary."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot import yamldoc
from bot.clock import PassingTime, readable_time
from bot.cluster.errors import ClusterForbiddenError, ClusterUnavailableError
from bot.cluster.snapshot import ObservedSnapshot
from bot.config import Config
from bot.connect import check_before_writing, open_source_forge
from bot.environment.model import Environment, Origin
from bot.errors import EnvironmentSpecError, UserError
from bot.events.comments import Ignore, Reply, reply
from bot.events.intents import Destroy, Intent, Provision, Reconcile, Request, Retry, RunCommand, SweepOrphans
from bot.events.payloads import MAX_PAYLOAD_BYTES, Event, PayloadError, event_from_json
from bot.events.provision import build_environment
from bot.events.routing import authorize, needs_permission, public_read_problem, resolve_command, to_intent
from bot.events.sweep import listings_needed, plan_sweep
from bot.events.text import quote
from bot.forge.model import Permission, marker_line
from bot.forge.protocol import Forge
from bot.reconcile.model import Decision, Phase
from bot.reconcile.preflight import provision_refusal
from bot.reconcile.runner import Pass, Reconciler, RepoView
from bot.report.github_actions import data_log, error_annotation, log_text, outputs_for, write_outputs, write_summary
from bot.report.origin import report_on_origin
from bot.report.status import StatusRow, status_row, summary_markdown

Log = Callable[[str], None]
SETTLED_REPORT_WINDOW = dt.timedelta(hours=2)
"""A sweep reports an environment that settled this recently (an hourly schedule sees each change once or twice)."""
REFUSAL_INTERVAL = dt.timedelta(hours=1)
"""At most one refusal reply per person and pull request this often; the refusals in between only log a line."""


@dataclass(frozen=True)
class Refusal:
    """The reply to someone whose permission does not suffice for what they asked."""

    user: str
    reply: Reply


def _asked(intent: Request, otherwise: str = "This request") -> str:
    """What was asked, for a reply: the trigger quoted, else ``otherwise``."""
    return quote(intent.trigger) if intent.trigger else otherwise


def refusal_marker(user: str) -> str:
    """The hidden marker of envbot's refusals to ``user`` (a login, case-insensitive; any other name is hashed)."""
    key = f"envbot:reply:refusal:{user.lower()}"
    try:
        marker_line(key)
    except ValueError:
        key = "envbot:reply:refusal:sha256/" + hashlib.sha256(user.lower().encode()).hexdigest()[:16]
    return key


@dataclass
class EventHandler:
    """Everything one event needs: the config, the source repository's forge, the reconciler, and where to log."""

    config: Config
    source: Forge
    reconciler: Reconciler
    log: Log
    dry_run: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    rows: list[StatusRow] = field(default_factory=list)
    _annotate: Log = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Log lines carry data (branch names, command lines, controller messages): none may act as a workflow
        # command. Only envbot's own annotations, built by error_annotation, go out as they are.
        self._annotate, self.log = self.log, data_log(self.log)

    # -- the whole flow ----------------------------------------------------------------------------------------

    def handle(self, event: Event, intent: Intent | None = None) -> int:
        """Carry out what ``event`` asks (``intent``: what ``to_intent`` made of it already, when known)."""
        intent = intent if intent is not None else to_intent(event, self.config.events)
        if isinstance(intent, Ignore):
            self.log(f"envbot: nothing to do for {type(event).__name__}: {intent.reason}")
            return 0
        problem = public_read_problem(event, intent, self.config.events)
        if problem is not None:  # a permission check that anyone passes: refuse before asking
            raise UserError(problem)
        checked = self._authorize(intent)
        if isinstance(checked, Refusal):
            self._refuse(intent, checked)
            return 0
        if isinstance(checked, RunCommand):
            checked = self._resolve(checked, event.repository)
        if isinstance(checked, Reply):
            self._reply(intent, checked)
            return 0
        if isinstance(checked, Ignore):
            self.log(f"envbot: nothing to do: {checked.reason}")
            return 0
        try:
            self._execute(checked)
        except (ClusterUnavailableError, ClusterForbiddenError) as exc:
            # A runner that cannot reach the API server: say so where the request was made, then fail the run.
            self._reply(checked, reply("cluster-unreachable", what=_asked(checked), problem=quote(str(exc), 300)))
            raise
        return self._finish()

    def _authorize(self, intent: Intent) -> Intent | Reply | Refusal:
        check = needs_permission(intent)
        if check is None:
            return intent
        user, required = check
        permission = self.source.permission(user) if user else Permission.NONE
        checked = authorize(intent, permission)
        return Refusal(user, checked) if permission < required and isinstance(checked, Reply) else checked

    def _resolve(self, run: RunCommand, repository: str | None) -> Intent | Reply:
        assert run.pr_number is not None  # a command is a comment on a pull request
        pull_request = self.source.get_pull_request(run.pr_number)
        events = self.config.events
        if events.repository is None and repository:  # as for pull_request events: a fork's branch is its own
            events = dataclasses.replace(events, repository=repository)
        return resolve_command(
            run,
            pull_request.head,
            events,
            head_repository=pull_request.head_repository,
            head_label=pull_request.head_label,
            head_repository_deleted=pull_request.head_repository_deleted,
            pull_request_state=pull_request.state,
        )

    # -- intents -----------------------------------------------------------------------------------------------

    def _execute(self, intent: Intent) -> None:
        # every problem that would stop the run part-way, before a write
        check_before_writing(self.reconciler, self.config)
        match intent:
            case Provision():
                self._provision(intent)
            case Destroy():
                self.log(f"envbot: {self._doing('destroy')} {intent.environment_name}: {intent.reason}")
                self.reconciler.request_deletion(intent.environment_name, intent.requested_by or "envbot")
                self._run(intent.environment_name, None, intent.pr_number)
            case Retry():
                self._retry(intent)
            case Reconcile() if intent.names:
                for name in intent.names:
                    self._run(name, None, intent.pr_number)
            case Reconcile():
                self._reconcile_all()
            case SweepOrphans():
                self._sweep()
            case _:
                raise AssertionError(f"unhandled intent {intent!r}")

    def _provision(self, intent: Provision) -> None:
        path = self.config.resolve(intent.template_path)
        try:
            template = yamldoc.load_one(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{path}: environment template not found (events.branches / defaultTemplate)") from None
        except yamldoc.YamlError as exc:
            raise EnvironmentSpecError(f"{path}: {exc}") from None
        environment = build_environment(template, intent, self.reconciler.catalogs, path.as_posix())
        if isinstance(environment, Reply):
            self._reply(intent, environment)
            return
        refusal = provision_refusal(self.reconciler.observe(environment.name), quote)
        if refusal is not None:
            what = _asked(intent, "Provisioning")
            self._reply(intent, reply("provision-refused", what=what, refusal=refusal))
            return
        self.log(f"envbot: provisioning {environment.name} ({intent.trigger or 'event'})")
        self._run(environment.name, environment, intent.pr_number)

    def _retry(self, intent: Retry) -> None:
        """Retry a Failed environment; any other phase gets one polite reply instead of an error."""
        name = intent.environment_name
        (current,) = self.reconciler.decisions([name])
        if current.phase is not Phase.FAILED:
            what = _asked(intent, "A retry")
            self._reply(intent, reply("retry-not-failed", quoted=what, name=quote(name), phase=current.phase.value))
            return
        self.log(f"envbot: {self._doing('retry')} {name}")
        self.reconciler.request_retry(name, intent.requested_by or "envbot")
        self._run(name, None, intent.pr_number)

    def _sweep(self) -> None:
        """Destroy environments whose branch or pull request is gone (``bot.events.sweep``), then reconcile every
        environment.

        The origins are checked with one listing of the source's branches and one of its pull requests (paged),
        never one request per environment.
        """
        snapshot = self.reconciler.snapshot()
        view = self.reconciler.view()
        origins = {}
        for name in self.reconciler.environments(snapshot, view):
            observation = self.reconciler.observe(name, snapshot=snapshot, view=view)
            if observation.record is not None and not observation.deleting:
                origins[name] = observation.record.environment.origin
        list_branches, list_pull_requests = listings_needed(origins)
        orphans = plan_sweep(
            origins,
            self.config.events,
            branches=self.source.branch_names() if list_branches else None,
            pull_requests=self.source.pull_request_states() if list_pull_requests else None,
        )
        for orphan in orphans:
            self.log(f"envbot: {orphan.name} is an orphan ({orphan.reason}); {self._doing('destroy')} it")
            self.reconciler.request_deletion(orphan.name, orphan.requested_by)
        # Nothing written (no orphan): the reads above still hold, so the sweep reuses them.
        self._reconcile_all(None if orphans else (snapshot, view))

    def _reconcile_all(self, reads: tuple[ObservedSnapshot, RepoView] | None = None) -> None:
        snapshot, view = reads if reads is not None else (None, None)
        for final in self.reconciler.sweep(snapshot=snapshot, view=view):
            row = status_row(final.decision, final.history)
            self.rows.append(row)
            if final.history or self._settled_lately(final.decision):
                # Report where something happened: an unchanged sweep costs no request per environment.
                self._report_on_origin(final.decision, row, None, final.origin)

    def _settled_lately(self, decision: Decision) -> bool:
        """Ready, Failed or Deleted since shortly before the previous scheduled sweep: that change is reported."""
        since = decision.since
        return decision.phase.settled and since is not None and self.reconciler.clock() - since <= SETTLED_REPORT_WINDOW

    # -- running and reporting ---------------------------------------------------------------------------------

    def _doing(self, verb: str) -> str:
        return f"dry run: would {verb}" if self.dry_run else f"{verb}ing"

    def _run(self, name: str, request: Environment | None, pr_number: int | None) -> None:
        """Reconcile one environment and report on its origin."""
        final: Pass = self.reconciler.run(name, request)
        row = status_row(final.decision, final.history)
        self.rows.append(row)
        self._report_on_origin(final.decision, row, pr_number, final.origin)

    def _report_on_origin(
        self, decision: Decision, row: StatusRow, pr_number: int | None, origin: Origin | None
    ) -> None:
        report_on_origin(self.source, decision, row, self.reconciler.clock(), origin=origin, pr_number=pr_number)

    def _reply(self, intent: Request, reply: Reply) -> None:
        number = intent.pr_number
        if number is None:
            self.log(f"envbot: {reply.text}")
            return
        key = hashlib.sha256(f"{type(intent).__name__}\0{intent.trigger}".encode()).hexdigest()[:12]
        self.source.upsert_comment(number, f"envbot:reply:{key}", reply.text)
        if not self.dry_run:
            self.log("envbot: replied on the pull request")

    def _refuse(self, intent: Request, refusal: Refusal) -> None:
        """Reply to a refusal unless envbot refused the same person on the same pull request within the hour.

        The hour counts from GitHub's creation time of envbot's own latest refusal (no edit moves it, and a
        person's look-alike comment does not count), against the reconciler's clock.
        """
        number = intent.pr_number
        if number is None:
            self.log(f"envbot: {refusal.reply.text}")
            return
        since = self.reconciler.clock() - REFUSAL_INTERVAL
        marker = refusal_marker(refusal.user)
        if self.source.upsert_comment(number, marker, refusal.reply.text, unless_posted_since=since).changed:
            if not self.dry_run:
                self.log("envbot: replied on the pull request")
        else:
            who = quote(refusal.user or "the requester")
            self.log(
                f"envbot: not replying to {who} on #{number} again: a refusal was posted there less than an hour ago"
            )

    def _finish(self) -> int:
        now = self.reconciler.clock()
        write_outputs(outputs_for(self.rows), self.environ)
        headline = "Dry run: nothing was written." if self.dry_run else f"Handled at {readable_time(now)}."
        write_summary(summary_markdown(self.rows, now, headline), self.environ)
        failed = [row for row in self.rows if row.failure]
        for row in self.rows:
            self.log(f"envbot: {row.environment}: {row.phase.value}: {row.waiting_on}")
        for row in failed:
            self._annotate(error_annotation(f"envbot: {row.environment} failed", row.failure or row.waiting_on))
        return 1 if failed else 0


def load_event(event_name: str, path: Path) -> Event:
    """Read a payload file (``GITHUB_EVENT_PATH``) and parse it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PAYLOAD_BYTES + 1)
    except FileNotFoundError:
        raise PayloadError(f"event payload {path}: file not found") from None
    except OSError as exc:
        raise PayloadError(f"event payload {path}: cannot be read ({exc.strerror or exc})") from None
    return event_from_json(event_name, data, str(path))


def dry_run_of(source: Forge, reconciler: Reconciler, log: Log) -> tuple[Forge, Reconciler]:
    """The source forge and the reconciler of a dry run: the same run over forges that tell each write they would
    make instead of making it (``DryRunForge``), in time that every wait passes at once."""
    from bot.forge.dry_run import DryRunForge

    def teller(role: str) -> Callable[[str], None]:
        return lambda write: log(f"envbot: dry run: {role}: would {write}")

    def rehearsal(forge: Forge, role: str) -> DryRunForge:
        return DryRunForge(forge, teller(role), checks_supported=forge.checks_supported)

    time = PassingTime(reconciler.clock())
    return rehearsal(source, "source"), dataclasses.replace(
        reconciler,
        platform=rehearsal(reconciler.platform, "platform"),
        apps=rehearsal(reconciler.apps, "apps"),
        clock=time.clock,
        sleep=time.sleep,
    )


def handle_event_files(
    event_name: str,
    event_path: Path,
    config: Config,
    *,
    source: Forge | None,
    reconciler: Reconciler | Callable[[], Reconciler],
    log: Log,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Load the payload, then handle it; ``source`` is opened from the payload's repository when not given.

    An event that concerns no environment is answered before anything is connected: no forge, no cluster.
    """
    event = load_event(event_name, event_path)
    intent = to_intent(event, config.events)
    if isinstance(intent, Ignore):
        log(log_text(f"envbot: nothing to do for {type(event).__name__}: {intent.reason}"))
        return 0
    if not isinstance(reconciler, Reconciler):
        reconciler = reconciler()
    if source is None:
        repository = config.events.repository or event.repository
        if not repository:
            raise UserError(f"{event_path}: the payload names no repository and events.repository is not set")
        source = open_source_forge(config, repository)
    if dry_run:
        source, reconciler = dry_run_of(source, reconciler, data_log(log))
    handler = EventHandler(
        config, source, reconciler, log, dry_run=dry_run, environ=dict(os.environ if environ is None else environ)
    )
    return handler.handle(event, intent)
