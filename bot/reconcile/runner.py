"""The reconcile loop: observe through the forges and the cluster, decide, act, and do it again until settled."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.catalog.model import CatalogSet
from bot.clock import Clock, Sleep
from bot.cluster.protocol import Cluster
from bot.cluster.snapshot import ObservedSnapshot, observe
from bot.environment.bind import check_environment
from bot.environment.model import Environment, Origin
from bot.environment.record import Record, RecordedIntent, parse_record
from bot.errors import EnvironmentSpecError, UserError
from bot.forge.errors import ForgeRejectedError
from bot.forge.model import MergeMethod
from bot.forge.protocol import Forge
from bot.reconcile.act import Outcome, Progress, carry_out, review, withdraw
from bot.reconcile.decide import decide, deletion_proposal, retry_proposal
from bot.reconcile.gate import MergePolicy
from bot.reconcile.model import (
    Decision,
    Observation,
    OpenRequest,
    Phase,
    Proposal,
    Step,
    Withdrawal,
    Wording,
    branch_name,
    folders_digest,
    step_of_branch,
)
from bot.reconcile.verdicts import VerdictPolicy
from bot.render.renderer import Repo
from bot.render.settings import RenderSettings

ProgressHook = Callable[["Pass"], None]
MAX_ACTIONS_PER_RUN = 50


def _origin(observation: Observation, request: Environment | None) -> Origin | None:
    if request is not None:
        return request.origin
    return observation.record.environment.origin if observation.record is not None else None


@dataclass
class RepoView:
    """The file paths under the environments folder of both base branches, and envbot's open pull requests on both
    repositories: read once and shared by every environment of a run."""

    platform_paths: tuple[str, ...]
    app_paths: tuple[str, ...]
    open_requests: tuple[OpenRequest, ...] = ()

    def heads(self) -> frozenset[str]:
        """The branches of the platform repository's open pull requests of envbot's."""
        return frozenset(r.branch for r in self.open_requests if r.repo is Repo.PLATFORM)

    def requests_of(self, environment: str) -> tuple[OpenRequest, ...]:
        prefix = f"envbot/{environment}/"
        return tuple(r for r in self.open_requests if r.branch.startswith(prefix))


_STILL_OPEN = frozenset(
    {
        Progress.OPEN,
        Progress.CHECKS_PENDING,
        Progress.CHECKS_FAILED,
        Progress.WAITING,
        Progress.AUTO_MERGE,
        Progress.NOT_MERGEABLE,
        Progress.SUPERSEDED,
    }
)


def _open_after(
    before: tuple[OpenRequest, ...], withdrawn: tuple[Withdrawal, ...], outcomes: tuple[Outcome, ...]
) -> tuple[OpenRequest, ...]:
    """The open pull requests after a round: those before, less the ones withdrawn or merged, plus the ones opened."""
    gone = {(w.request.repo, w.request.branch) for w in withdrawn}
    opened: list[OpenRequest] = []
    for outcome in outcomes:
        proposal, pull_request = outcome.proposal, outcome.pull_request
        gone.add((proposal.repo, proposal.branch))
        if pull_request is not None and outcome.progress in _STILL_OPEN and pull_request.state == "open":
            opened.append(OpenRequest(proposal.repo, proposal.step, pull_request.number, proposal.branch))
    return (*(r for r in before if (r.repo, r.branch) not in gone), *opened)


def _settle_end(current: Pass) -> dt.datetime | None:
    """When every pull request of the round waits only on its settle time: when the first settle time ends (no
    round before it can merge anything); else None."""
    ends = [o.settled_at for o in current.outcomes]
    if not ends or any(end is None for end in ends):
        return None
    return min(end for end in ends if end is not None)


def _pause(current: Pass, poll_interval: float, now: dt.datetime, deadline: dt.datetime | None) -> float:
    """Seconds to wait before the next round: the poll interval, or until the round's settle time ends (never past
    the deadline)."""
    wake = _settle_end(current)
    if wake is None:
        return poll_interval
    if deadline is not None:
        wake = min(wake, deadline)
    return max(poll_interval, (wake - now).total_seconds())


def _open_requests(repo: Repo, forge: Forge, base: str) -> list[OpenRequest]:
    found: list[OpenRequest] = []
    for pull_request in forge.open_pull_requests():
        parsed = step_of_branch(pull_request.head)
        if parsed is not None and pull_request.base == base:
            found.append(OpenRequest(repo, parsed[1], pull_request.number, pull_request.head))
    return found


@dataclass(frozen=True)
class Pass:
    """One observe → decide → act round for one environment."""

    decision: Decision
    outcomes: tuple[Outcome, ...] = ()
    history: tuple[Outcome, ...] = ()
    """Every proposal's latest outcome over a whole ``run``, in the order the proposals first appeared."""
    origin: Origin | None = None
    """Where the environment came from (its request, or its record), for reporting back there."""
    withdrawn: tuple[Withdrawal, ...] = ()
    """The pull requests this round closed because no intent asked for them any more."""
    open_after: tuple[OpenRequest, ...] = ()
    """The environment's open pull requests once this round acted, as far as its own actions tell."""

    @property
    def moved_on(self) -> bool:
        return bool(self.withdrawn) or any(o.progress.moved_on for o in self.outcomes)

    @property
    def settles_at(self) -> dt.datetime | None:
        """When only settle times hold the round's pull requests: when the first of them ends; else None."""
        return _settle_end(self)


@dataclass
class Reconciler:
    """Drives environments through their phases; all state is read back from git, the forges and the cluster."""

    platform: Forge
    apps: Forge
    cluster: Cluster
    catalogs: CatalogSet
    wording: Wording
    """How pull requests and withdrawals read (``bot.report.pull_requests.WORDING``)."""
    clock: Clock
    sleep: Sleep
    """Where "now" comes from and how a wait is spent (``bot.clock.Timebase``: the wall clock, or a test's)."""
    settings: RenderSettings = field(default_factory=RenderSettings)
    policy: VerdictPolicy = field(default_factory=VerdictPolicy)
    platform_base: str = "main"
    apps_base: str = "main"
    merge_method: MergeMethod = "merge"
    merge_policy: MergePolicy = field(default_factory=MergePolicy)
    application_namespace: str | None = None

    # -- observe ---------------------------------------------------------------------------------------------

    def snapshot(self) -> ObservedSnapshot:
        """Every environment's Workspaces and Applications: one list call per kind."""
        return observe(self.cluster, application_namespace=self.application_namespace)

    def view(self, open_requests: tuple[OpenRequest, ...] | None = None) -> RepoView:
        """Every file path under the environments folder of both base branches and envbot's open pull requests:
        one listing of each per repository (``open_requests``: known already, from this run's own actions)."""
        root = self.settings.layout.environments_dir
        if open_requests is None:
            open_requests = (
                *_open_requests(Repo.PLATFORM, self.platform, self.platform_base),
                *_open_requests(Repo.APPS, self.apps, self.apps_base),
            )
        return RepoView(
            self.platform.list_tree(root, self.platform_base), self.apps.list_tree(root, self.apps_base), open_requests
        )

    def _files(self, forge: Forge, base: str, name: str, paths: Sequence[str]) -> dict[str, str]:
        folder = self.settings.layout.environment_dir(name) + "/"
        files: dict[str, str] = {}
        for path in paths:
            if path.startswith(folder):
                content = forge.read_file(path, base)
                if content is not None:
                    files[path] = content
        return files

    def observe(
        self,
        name: str,
        request: Environment | None = None,
        snapshot: ObservedSnapshot | None = None,
        view: RepoView | None = None,
    ) -> Observation:
        """Read what one environment looks like now (``snapshot`` and ``view`` share reads across environments).

        Git is read before the cluster, so that the cluster is never older than the files it is compared with: an
        object that holds a newer spec than the files shows as not applied yet, never as done.
        """
        view = view if view is not None else self.view()
        platform_files = self._files(self.platform, self.platform_base, name, view.platform_paths)
        app_files = self._files(self.apps, self.apps_base, name, view.app_paths)
        record_path = self.settings.layout.record_path(name)
        record: Record | None = None
        problems: list[str] = []
        if record_path in platform_files:
            try:
                record = parse_record(platform_files[record_path], record_path)
            except EnvironmentSpecError as exc:
                problems.extend(exc.problems)
        wanted = request if request is not None else (record.environment if record else None)
        if wanted is None:
            wanted = self._unmerged_request(name, problems, view)
        bound = None
        if wanted is not None:
            found, bound = check_environment(wanted, self.catalogs)
            problems.extend(str(p) for p in found)
        snapshot = snapshot if snapshot is not None else self.snapshot()
        return Observation(
            name=name,
            bound=bound if not problems else None,
            record=record,
            platform_files=platform_files,
            app_files=app_files,
            workspaces=snapshot.workspaces_of(name),
            applications=snapshot.applications_of(name),
            generated=snapshot.generated_of(name),
            open_requests=view.requests_of(name),
            requested=request is not None,
            now=self.clock(),
            problems=tuple(problems),
        )

    def _open_infrastructure_requests(self, view: RepoView) -> frozenset[str]:
        """Environments whose first infrastructure pull request is open (not merged yet)."""
        return frozenset(
            r.branch.split("/")[1]
            for r in view.open_requests
            if r.repo is Repo.PLATFORM and r.step is Step.INFRASTRUCTURE
        )

    def _unmerged_request(self, name: str, problems: list[str], view: RepoView) -> Environment | None:
        """The request in an open, unmerged infrastructure pull request: the environment is still being created.

        Without it, a first pull request that waits on checks would look like no environment at all.
        """
        if name not in self._open_infrastructure_requests(view):
            return None
        record_path = self.settings.layout.record_path(name)
        text = self.platform.read_file(record_path, branch_name(name, Step.INFRASTRUCTURE))
        if text is None:
            return None
        try:
            return parse_record(text, record_path).environment
        except EnvironmentSpecError as exc:
            problems.extend(exc.problems)
            return None

    def environments(self, snapshot: ObservedSnapshot | None = None, view: RepoView | None = None) -> tuple[str, ...]:
        """Every environment with a record on the platform base branch, an open first pull request, or objects."""
        root = self.settings.layout.environments_dir
        view = view if view is not None else self.view()
        names = {
            path[len(root) + 1 :].split("/")[0] for path in view.platform_paths if path.endswith("/environment.yaml")
        }
        names.update(self._open_infrastructure_requests(view))
        if snapshot is not None:
            names.update(snapshot.environments)
        return tuple(sorted(names))

    # -- act -------------------------------------------------------------------------------------------------

    def _forge(self, repo: Repo) -> tuple[Forge, str]:
        return (self.platform, self.platform_base) if repo is Repo.PLATFORM else (self.apps, self.apps_base)

    def _folders_now(self, name: str) -> str:
        """The environment's folders on both base branches, read afresh, as a ``folders_digest``."""
        folder = self.settings.layout.environment_dir(name)
        platform = self._files(
            self.platform, self.platform_base, name, self.platform.list_tree(folder, self.platform_base)
        )
        apps = self._files(self.apps, self.apps_base, name, self.apps.list_tree(folder, self.apps_base))
        return folders_digest(platform, apps)

    def _carry_out(self, name: str, proposal: Proposal) -> Outcome:
        forge, base = self._forge(proposal.repo)
        return carry_out(
            proposal, forge, base, self.merge_method, lambda: self._folders_now(name),
            policy=self.merge_policy, now=self.clock(), wording=self.wording,
        )  # fmt: skip

    def _withdraw(self, withdrawal: Withdrawal) -> None:
        forge, _ = self._forge(withdrawal.request.repo)
        withdraw(withdrawal, forge, self.wording.withdrawn(withdrawal.reason))

    def plan(
        self, name: str, request: Environment | None = None, open_requests: tuple[OpenRequest, ...] | None = None
    ) -> tuple[Observation, Decision]:
        """Observe and decide, writing nothing (``open_requests``: the environment's, known from this run)."""
        observation = self.observe(name, request, view=self.view(open_requests))
        return observation, decide(observation, self.settings, self.policy)

    def act(self, observation: Observation, decision: Decision, request: Environment | None = None) -> Pass:
        """Carry a decision out: withdraw what no intent asks for, then the proposals (each merge re-checks the
        record, so a decision another run has overtaken in between does not act)."""
        for withdrawal in decision.withdrawals:
            self._withdraw(withdrawal)
        outcomes = tuple(self._carry_out(decision.name, p) for p in decision.proposals)
        if decision.phase is Phase.DELETED:
            self._delete_branches(decision.name)
        return Pass(
            decision, outcomes, origin=_origin(observation, request), withdrawn=decision.withdrawals,
            open_after=_open_after(observation.open_requests, decision.withdrawals, outcomes),
        )  # fmt: skip

    def _delete_branches(self, name: str) -> None:
        """Once an environment is gone, so are envbot's branches of it (one a crash kept after its merge, say)."""
        prefix = f"envbot/{name}/"
        for forge in (self.platform, self.apps):
            for branch in sorted(forge.branch_names()):
                if branch.startswith(prefix):
                    with contextlib.suppress(ForgeRejectedError):
                        forge.delete_branch(branch)

    def step(
        self, name: str, request: Environment | None = None, open_requests: tuple[OpenRequest, ...] | None = None
    ) -> Pass:
        """One observe → decide → act round."""
        observation, decision = self.plan(name, request, open_requests)
        return self.act(observation, decision, request)

    def sweep(
        self,
        names: Iterable[str] | None = None,
        *,
        snapshot: ObservedSnapshot | None = None,
        view: RepoView | None = None,
        wait_out_settle: bool = True,
    ) -> list[Pass]:
        """Reconcile many environments from ONE cluster snapshot and ONE listing of each repository.

        Environments with nothing to propose cost no further request; only those that move are run on their own.
        Pass ``snapshot`` and ``view`` when they were just read and nothing has been written since.
        """
        view = view if view is not None else self.view()
        snapshot = snapshot if snapshot is not None else self.snapshot()
        chosen = list(names) if names is not None else list(self.environments(snapshot, view))
        passes: list[Pass] = []
        for name in chosen:
            observation = self.observe(name, snapshot=snapshot, view=view)
            decision = decide(observation, self.settings, self.policy)
            if decision.proposals:
                passes.append(self.run(name, wait_out_settle=wait_out_settle))
            else:
                passes.append(Pass(decision, origin=_origin(observation, None)))
        return passes

    def run(
        self,
        name: str,
        request: Environment | None = None,
        *,
        wait: bool = False,
        timeout: dt.timedelta | None = None,
        poll_interval: float = 5.0,
        on_pass: ProgressHook | None = None,
        wait_out_settle: bool = True,
    ) -> Pass:
        """Reconcile until nothing moves any more; with ``wait``, until Ready, Failed or Deleted (or timeout).

        ``wait_out_settle`` False: a round held only by settle times returns (``Pass.settles_at`` says when to come
        back) instead of sleeping; the agent schedules that itself.
        """
        deadline = self.clock() + timeout if timeout is not None else None
        actions = 0
        latest: dict[tuple[str, str], Outcome] = {}
        known: tuple[OpenRequest, ...] | None = None
        while True:
            # After the first round, the environment's open pull requests are known from this run's own actions: one
            # a concurrent run opens meanwhile is seen by the next run, and no merge acts on a stale decision
            # (carry_out re-reads the folders first).
            current = self.step(name, request, known)
            known = current.open_after
            latest.update(((o.proposal.repo.value, o.proposal.branch), o) for o in current.outcomes)
            current = dataclasses.replace(current, history=tuple(latest.values()))
            if on_pass is not None:
                on_pass(current)
            actions += len(current.withdrawn) + sum(1 for outcome in current.outcomes if outcome.progress.moved_on)
            if actions > MAX_ACTIONS_PER_RUN:
                raise UserError(f"environment {name}: more than {MAX_ACTIONS_PER_RUN} merges in one run; stopping")
            if current.moved_on:
                continue
            settling = current.settles_at
            if not wait and wait_out_settle and settling is not None and settling > self.clock():
                # Only a settle time (at most merge.settle) holds the round's pull requests: a run without --wait
                # waits it out rather than leave the merge to the next scheduled run, possibly an hour away.
                self.sleep((settling - self.clock()).total_seconds())
                continue
            if not wait or current.decision.phase.settled:
                return current
            if deadline is not None and self.clock() >= deadline:
                return current
            self.sleep(_pause(current, poll_interval, self.clock(), deadline))

    # -- intents ---------------------------------------------------------------------------------------------

    def request_deletion(self, name: str, requested_by: str) -> Outcome | None:
        """Record a destroy request (a merged pull request); None when it is recorded already or nothing is left.

        Without a record there is nothing to mark: the following reconcile cleans up whatever is still labelled
        for the environment, or reports it Deleted, so re-running a destroy that finished is harmless.
        """
        observation = self.observe(name)
        # Every open pull request that provisions the environment is withdrawn first: none may outlive this intent.
        for request in observation.open_requests:
            if request.step in (Step.INFRASTRUCTURE, Step.APPLICATIONS, Step.RETRY):
                self._withdraw(Withdrawal(request, f"a destroy was requested by {requested_by}"))
        if observation.record is None:
            return None
        intent = RecordedIntent(requested_at=self.clock(), requested_by=requested_by)
        proposal = deletion_proposal(observation, intent, self.settings)
        return self._carry_out(name, proposal) if proposal is not None else None

    def request_retry(self, name: str, requested_by: str) -> Outcome | None:
        """Bump the retry count of a Failed environment so every controller tries again."""
        observation = self.observe(name)
        decision = decide(observation, self.settings, self.policy)
        if decision.phase is not Phase.FAILED:
            raise UserError(f"environment {name} is {decision.phase.value}, not Failed; there is nothing to retry")
        proposal = retry_proposal(observation, self.settings, self.policy, requested_by)
        return self._carry_out(name, proposal) if proposal is not None else None

    def review_open(self, decision: Decision) -> tuple[Outcome, ...]:
        """For status: each pull request the decision would merge and that is open, weighed by the merge gate now
        (what holds it back), reading only. Proposals it would not merge yet are left out (the phase says why)."""
        found: list[Outcome] = []
        for proposal in decision.proposals:
            request = next(
                (r for r in decision.open_requests if (r.repo, r.branch) == (proposal.repo, proposal.branch)), None
            )
            if proposal.merge and request is not None:
                forge, _ = self._forge(proposal.repo)
                found.append(review(proposal, forge, request.number, policy=self.merge_policy, now=self.clock()))
        return tuple(found)

    def decisions(self, names: Iterable[str] | None = None) -> list[Decision]:
        """The current decision of each environment, without acting (for status): one read of each source."""
        view = self.view()
        snapshot = self.snapshot()
        chosen = list(names) if names is not None else list(self.environments(snapshot, view))
        return [decide(self.observe(n, snapshot=snapshot, view=view), self.settings, self.policy) for n in chosen]
