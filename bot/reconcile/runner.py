"""The reconcile loop: observe through the forges and the cluster, decide, act, and do it again until settled."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.catalog.model import CatalogSet
from bot.clock import Clock, Sleep, utc_now
from bot.cluster.protocol import Cluster
from bot.cluster.snapshot import ObservedSnapshot, observe
from bot.cluster.verdicts import VerdictPolicy
from bot.environment.bind import check_environment
from bot.environment.model import Environment, Origin
from bot.environment.record import Intent, Record, parse_record
from bot.errors import EnvironmentSpecError, UserError
from bot.forge.model import MergeMethod
from bot.forge.protocol import Forge, RepositoryListing
from bot.reconcile.act import Outcome, carry_out
from bot.reconcile.decide import decide, deletion_proposal, retry_proposal
from bot.reconcile.model import Decision, Observation, Phase, Proposal, Step, branch_name
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
    """The file paths under the environments folder of both base branches, read once and shared.

    The open pull requests' heads are read only when first needed, and then once for the whole view.
    """

    platform_paths: tuple[str, ...]
    app_paths: tuple[str, ...]
    open_heads: frozenset[str] | None = None

    def heads(self, platform: Forge) -> frozenset[str]:
        if self.open_heads is None:
            self.open_heads = (
                platform.open_pull_request_heads() if isinstance(platform, RepositoryListing) else frozenset()
            )
        return self.open_heads


@dataclass(frozen=True)
class Pass:
    """One observe → decide → act round for one environment."""

    decision: Decision
    outcomes: tuple[Outcome, ...] = ()
    history: tuple[Outcome, ...] = ()
    """Every proposal's latest outcome over a whole ``run``, in the order the proposals first appeared."""
    origin: Origin | None = None
    """Where the environment came from (its request, or its record), for reporting back there."""

    @property
    def moved_on(self) -> bool:
        return any(o.progress.moved_on for o in self.outcomes)


@dataclass
class Reconciler:
    """Drives environments through their phases; all state is read back from git, the forges and the cluster."""

    platform: Forge
    apps: Forge
    cluster: Cluster
    catalogs: CatalogSet
    settings: RenderSettings = field(default_factory=RenderSettings)
    policy: VerdictPolicy = field(default_factory=VerdictPolicy)
    platform_base: str = "main"
    apps_base: str = "main"
    merge_method: MergeMethod = "merge"
    application_namespace: str | None = None
    clock: Clock = utc_now
    sleep: Sleep = time.sleep

    # -- observe ---------------------------------------------------------------------------------------------

    def snapshot(self) -> ObservedSnapshot:
        """Every environment's Workspaces and Applications: one list call per kind."""
        return observe(self.cluster, application_namespace=self.application_namespace)

    def view(self) -> RepoView:
        """Every file path under the environments folder of both base branches: one listing per repository."""
        root = self.settings.layout.environments_dir
        return RepoView(self.platform.list_tree(root, self.platform_base), self.apps.list_tree(root, self.apps_base))

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
        """Read what one environment looks like now (``snapshot`` and ``view`` share reads across environments)."""
        snapshot = snapshot if snapshot is not None else self.snapshot()
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
        return Observation(
            name=name,
            bound=bound if not problems else None,
            record=record,
            platform_files=platform_files,
            app_files=app_files,
            workspaces=snapshot.workspaces_of(name),
            applications=snapshot.applications_of(name),
            now=self.clock(),
            problems=tuple(problems),
        )

    def _open_infrastructure_requests(self, view: RepoView) -> frozenset[str]:
        """Environments whose first infrastructure pull request is open (not merged yet)."""
        suffix = f"/{Step.INFRASTRUCTURE.value}"
        return frozenset(
            head.removeprefix("envbot/").removesuffix(suffix)
            for head in view.heads(self.platform)
            if head.startswith("envbot/") and head.endswith(suffix) and head.count("/") == 2
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

    def _carry_out(self, proposal: Proposal) -> Outcome:
        if proposal.repo is Repo.PLATFORM:
            return carry_out(proposal, self.platform, self.platform_base, self.merge_method)
        return carry_out(proposal, self.apps, self.apps_base, self.merge_method)

    def step(self, name: str, request: Environment | None = None) -> Pass:
        """One observe → decide → act round."""
        observation = self.observe(name, request)
        decision = decide(observation, self.settings, self.policy)
        outcomes = tuple(self._carry_out(p) for p in decision.proposals)
        return Pass(decision, outcomes, origin=_origin(observation, request))

    def sweep(
        self,
        names: Iterable[str] | None = None,
        *,
        snapshot: ObservedSnapshot | None = None,
        view: RepoView | None = None,
    ) -> list[Pass]:
        """Reconcile many environments from ONE cluster snapshot and ONE listing of each repository.

        Environments with nothing to propose cost no further request; only those that move are run on their own.
        Pass ``snapshot`` and ``view`` when they were just read and nothing has been written since.
        """
        snapshot = snapshot if snapshot is not None else self.snapshot()
        view = view if view is not None else self.view()
        chosen = list(names) if names is not None else list(self.environments(snapshot, view))
        passes: list[Pass] = []
        for name in chosen:
            observation = self.observe(name, snapshot=snapshot, view=view)
            decision = decide(observation, self.settings, self.policy)
            if decision.proposals:
                passes.append(self.run(name))
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
    ) -> Pass:
        """Reconcile until nothing moves any more; with ``wait``, until Ready, Failed or Deleted (or timeout)."""
        deadline = self.clock() + timeout if timeout is not None else None
        actions = 0
        latest: dict[tuple[str, str], Outcome] = {}
        while True:
            current = self.step(name, request)
            latest.update(((o.proposal.repo.value, o.proposal.branch), o) for o in current.outcomes)
            current = Pass(current.decision, current.outcomes, tuple(latest.values()), current.origin)
            if on_pass is not None:
                on_pass(current)
            actions += sum(1 for outcome in current.outcomes if outcome.progress.moved_on)
            if actions > MAX_ACTIONS_PER_RUN:
                raise UserError(f"environment {name}: more than {MAX_ACTIONS_PER_RUN} merges in one run; stopping")
            if current.moved_on:
                continue
            if not wait or current.decision.phase.settled:
                return current
            if deadline is not None and self.clock() >= deadline:
                return current
            self.sleep(poll_interval)

    # -- intents ---------------------------------------------------------------------------------------------

    def request_deletion(self, name: str, requested_by: str) -> Outcome | None:
        """Record a destroy request (a merged pull request); None when it is recorded already or nothing is left.

        Without a record there is nothing to mark: the following reconcile cleans up whatever is still labelled
        for the environment, or reports it Deleted, so re-running a destroy that finished is harmless.
        """
        observation = self.observe(name)
        if observation.record is None:
            if observation.bound is not None:  # only an unmerged first pull request: withdraw it by emptying it
                self.platform.push_commit(
                    branch_name(name, Step.INFRASTRUCTURE), self.platform_base, [], f"envbot: withdraw {name}"
                )
            return None
        intent = Intent(requested_at=self.clock(), requested_by=requested_by)
        proposal = deletion_proposal(observation, self.settings.layout.record_path(name), intent)
        return self._carry_out(proposal) if proposal is not None else None

    def request_retry(self, name: str, requested_by: str) -> Outcome | None:
        """Bump the retry count of a Failed environment so every controller tries again."""
        observation = self.observe(name)
        decision = decide(observation, self.settings, self.policy)
        if decision.phase is not Phase.FAILED:
            raise UserError(f"environment {name} is {decision.phase.value}, not Failed; there is nothing to retry")
        proposal = retry_proposal(observation, self.settings, self.policy, requested_by)
        return self._carry_out(proposal) if proposal is not None else None

    def decisions(self, names: Iterable[str] | None = None) -> list[Decision]:
        """The current decision of each environment, without acting (for status): one read of each source."""
        snapshot = self.snapshot()
        view = self.view()
        chosen = list(names) if names is not None else list(self.environments(snapshot, view))
        return [decide(self.observe(n, snapshot=snapshot, view=view), self.settings, self.policy) for n in chosen]
