"""A world for fault tests: the source repository and both GitOps repositories on fake GitHub (a real socket, two
GitOps fakes on different base URLs), the simulated Crossplane and Argo CD reading what is merged, a fake clock,
and workflow runs driven by our ``issue_comment`` payload of a pull request (tests/fixtures/webhooks).

Each ``run`` is one workflow run: fresh clients (no cache survives), ``EventHandler.handle`` on one event, and the
outcome as the Action's exit code (1 with ``error: ... (a temporary fault; try again later)`` for a transient
fault). ``drive`` keeps sending events as people and schedules would (the failed run re-run, then ``/status``)
until the environment is where it should be; ``end_state`` is what must come out the same whatever failed.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import itertools
import json
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES, OWN_FIXTURES

from bot.action import EventHandler, load_event
from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.cluster.protocol import Cluster
from bot.config import Config, load_config
from bot.errors import EnvbotError, TransientError
from bot.forge.github import GitHubForge
from bot.forge.retry import RetryPolicy
from bot.reconcile.model import Phase
from bot.reconcile.runner import Reconciler
from bot.report.pull_requests import WORDING
from bot.report.status import StatusRow
from bot.simulation import SimulatedCluster
from tests.faults import ledger
from tests.faults.github import FakeReader, FaultyGitHub, GitHubServer

COMMENT = OWN_FIXTURES / "webhooks" / "issue_comment" / "created-on-pull-request.json"
"""nadia's comment on pull request #42 of acme/shop; only its body is changed."""
REPO = "acme/shop"
USER = "nadia"
PR = 42
BRANCH = "feature-login"
ENV = "feature-login"
PLATFORM = "acme/gitops-platform"
APPS = "acme/gitops-apps"
TOKEN = "ghs_fault-injection-token-0123456789"
MARKER = f"<!-- envbot:status:{ENV} -->"
STEP = dt.timedelta(seconds=30)
"""How much later each following event comes (Workspaces take 2 s of the simulation's time to become Available)."""


class Simulation(SimulatedCluster):
    """The simulated Crossplane and Argo CD, parsing each merged commit's manifests once (the suite runs hundreds
    of reconciles; the simulation's YAML parsing would otherwise dominate its time)."""

    _parsed: dict[tuple[str, str], list[dict[str, Any]]]

    def _documents(self, forge: Any, base: str) -> Iterator[dict[str, Any]]:
        fake: FaultyGitHub = forge.fake
        with fake.lock:
            key = (fake.repository, fake.refs[f"refs/heads/{base}"])
        cache = self.__dict__.setdefault("_parsed", {})
        if key not in cache:
            cache[key] = list(super()._documents(forge, base))
        return iter(cache[key])


class Sleeps:
    """The RetryPolicy's sleep: records every wait and really sleeps 1/100 of it, so a test that is told to wait
    20 s waits 0.2 s while the budget arithmetic stays the production one."""

    SCALE = 0.01

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
        time.sleep(seconds * self.SCALE)

    @property
    def total(self) -> float:
        return sum(self.waits)


class Crash(BaseException):
    """The process died right after a request (a BaseException, so that nothing in envbot may catch it)."""


@dataclass
class Budget:
    """How many write requests may complete before the simulated crash; None: no crash."""

    left: int | None = None
    spent: int = 0
    after_each: Callable[[int], None] | None = None
    """Called with the write count after every write (the crash test checkpoints the world there)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def spend(self, what: str) -> None:
        with self.lock:
            self.spent += 1
            if self.after_each is not None:
                self.after_each(self.spent)
            if self.left is None:
                return
            self.left -= 1
            if self.left > 0:
                return
            self.left = None
        ledger.record("crash after a write request")
        raise Crash(f"killed after write request {self.spent}: {what}")


class CrashingGitHubForge(GitHubForge):
    """A GitHubForge that dies right after a write request completes, when its budget runs out."""

    budget: Budget | None = None

    def _call(self, verb: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        result = super()._call(verb, path, **kwargs)
        if verb != "GET" and self.budget is not None:
            self.budget.spend(f"{verb} {self.repository}{path}")
        return result


@dataclass
class Run:
    """One workflow run: the Action's exit code, the error it would print, and the status rows it reported."""

    code: int
    error: EnvbotError | None = None
    rows: tuple[StatusRow, ...] = ()
    seconds: float = 0.0
    """Wall-clock time the run took."""

    @property
    def phase(self) -> Phase | None:
        return self.rows[-1].phase if self.rows else None

    @property
    def message(self) -> str:
        """What ``envbot handle-event`` prints on stderr for the error (``bot.cli.main``)."""
        if self.error is None:
            return ""
        if isinstance(self.error, TransientError):
            return f"error: {self.error} (a temporary fault; try again later)"
        return f"error: {self.error}"


_STATE = ("blobs", "trees", "commits", "refs", "pulls", "comments", "statuses", "roles", "mergeable_unknown")
_COUNTERS = ("_ids", "_stamp")


def _fake_state(fake: FaultyGitHub) -> dict[str, Any]:
    state = {name: copy.deepcopy(getattr(fake, name)) for name in _STATE}
    for name in _COUNTERS:
        value = next(getattr(fake, name))  # read the counter, then put it back where it was
        setattr(fake, name, itertools.count(value))
        state[name] = value
    return state


@dataclass(frozen=True)
class Checkpoint:
    """A copy of a world's state between two runs (``World.save`` / ``World.load``)."""

    fakes: tuple[dict[str, Any], ...]
    tracked: Any
    now: dt.datetime


@dataclass(frozen=True)
class CrashPoint:
    """Where a kill right after one write request leaves a drive (``World.resume`` carries on from it)."""

    checkpoint: Checkpoint
    first: str
    until: Phase
    sending: str
    """The comment body of the run that was killed."""


@dataclass(frozen=True)
class EndState:
    """What must come out the same whatever failed on the way."""

    pulls: dict[str, list[tuple[str, str, str]]]
    """Per GitOps repository: every pull request as (head branch, title, state), by number."""
    files: dict[str, dict[str, str]]
    """Per GitOps repository: every file on the base branch."""
    history: dict[str, list[str]]
    """Per GitOps repository: the base branch's first-parent commit messages (one merge commit per pull request)."""
    sticky_comments: int
    phase_in_comment: str


def environment_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((EXAMPLES / "dev-feature-auth.yaml").read_text(encoding="utf-8"))
    return document


def comment_payload(body: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(COMMENT.read_text(encoding="utf-8"))
    document["comment"]["body"] = body
    return document


def write_config(root: Path, api_url: str | None = None, **extra: Any) -> Path:
    """envbot.yaml with both GitOps repositories on GitHub and the example as every feature branch's template."""
    (root / "envs").mkdir(parents=True, exist_ok=True)
    (root / "envs" / "feature.yaml").write_text(yaml.safe_dump(environment_document()), encoding="utf-8")
    document: dict[str, Any] = {
        "platform": {"repository": PLATFORM},
        "apps": {"repository": APPS},
        "catalogs": str(CATALOGS),
        "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
        "events": {
            "repository": REPO,
            "branches": [{"pattern": "feature*", "template": "envs/feature.yaml"}],
            "defaultTemplate": "envs/feature.yaml",
        },
        **extra,
    }
    if api_url is not None:
        document["github"] = {"apiUrl": api_url}
    path = root / "envbot.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@functools.cache
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


class World:
    """Three fake GitHub repositories on one server, the simulated cluster, and workflow runs against them.

    ``shared_base_url``: every repository below one API base URL (as on github.com; the CLI needs it, since
    envbot.yaml names one ``github.apiUrl``); otherwise each fake has its own base URL.
    """

    def __init__(
        self,
        root: Path,
        *,
        shared_base_url: bool = False,
        timeout: float = 10.0,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.server = GitHubServer()
        prefixes = ("/api/v3",) * 3 if shared_base_url else ("/source/api/v3", "/platform/api/v3", "/apps/api/v3")
        self.source = self.server.add(REPO, prefixes[0])
        self.platform = self.server.add(PLATFORM, prefixes[1])
        self.apps = self.server.add(APPS, prefixes[2])
        self.source.seed({"README.md": "knative route demo\n"})
        self.source.seed({"README.md": "knative route demo\n", "login.go": "package login\n"}, branch=BRANCH)
        self.source.pulls[PR] = {
            "number": PR,
            "title": "Add the login page",
            "body": "",
            "head": BRANCH,
            "base": "main",
            "head_sha": self.source.refs[f"refs/heads/{BRANCH}"],
            "state": "open",
            "labels": set(),
            "merged": False,
            "merge_sha": None,
        }
        self.source.grant(USER, "write")
        self.platform.seed({"README.md": "platform\n"})
        self.apps.seed({"README.md": "apps\n"})
        self.clock = ManualClock()
        self.sleeps = Sleeps()
        self.timeout = timeout
        self.policy = policy or RetryPolicy(sleep=self.sleeps)
        self.cluster = Simulation(FakeReader(self.platform), FakeReader(self.apps), catalogs(), clock=self.clock)  # type: ignore[arg-type]
        self.config_path = write_config(root)
        self.config: Config = load_config(self.config_path)
        self.logs: list[str] = []
        self.runs: list[Run] = []
        self._events = itertools.count(1)
        self.budget: Budget | None = None
        self.sending = ""
        """The comment body of the run in progress (what a killed run is re-run with)."""
        self.cluster_for: Callable[[], Cluster] | None = None
        """Another cluster for the next runs (the Kubernetes fault tests); None: the simulation."""

    @property
    def fakes(self) -> tuple[FaultyGitHub, ...]:
        return (self.source, self.platform, self.apps)

    def close(self) -> None:
        self.server.close()

    # -- clients, as one workflow run builds them ----------------------------------------------------------------

    def forge(self, fake: FaultyGitHub) -> GitHubForge:
        forge = CrashingGitHubForge(
            fake.repository, TOKEN, base_url=fake.base_url, retry=self.policy, seconds_between_writes=None
        )
        # PyGithub insists on whole seconds; requests takes fractions, and the timeout tests need them.
        forge._gh.requester._Requester__timeout = self.timeout
        forge.budget = self.budget
        return forge

    def reconciler(self) -> Reconciler:
        cluster = self.cluster_for() if self.cluster_for is not None else self.cluster
        return Reconciler(
            platform=self.forge(self.platform),
            apps=self.forge(self.apps),
            cluster=cluster,
            catalogs=catalogs(),
            wording=WORDING,
            merge_policy=self.config.merge_policy,
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def configure(self, **extra: Any) -> None:
        """Rewrite envbot.yaml with ``extra`` top-level keys (``merge={...}``) for the following runs."""
        self.config_path = write_config(self.root, **extra)
        self.config = load_config(self.config_path)

    def handler(self) -> EventHandler:
        return EventHandler(self.config, self.forge(self.source), self.reconciler(), self.logs.append, environ={})

    # -- workflow runs -------------------------------------------------------------------------------------------

    def run(self, body: str) -> Run:
        """One workflow run for a comment ``body`` on the pull request; a ``Crash`` propagates like a kill."""
        path = self.root / f"event-{next(self._events)}.json"
        path.write_text(json.dumps(comment_payload(body)), encoding="utf-8")
        event = load_event("issue_comment", path)
        self.sending = body
        handler = self.handler()
        started = time.monotonic()
        try:
            run = Run(handler.handle(event), rows=tuple(handler.rows))
        except EnvbotError as exc:
            run = Run(1, exc, tuple(handler.rows))
        run.seconds = time.monotonic() - started
        self.runs.append(run)
        return run

    def drive(
        self,
        first: str = "/provision",
        until: Phase = Phase.READY,
        *,
        max_runs: int = 12,
        between: Callable[[World, Run], None] | None = None,
        resend: str | None = None,
    ) -> list[Run]:
        """Send ``first``, then ``/status`` 30 s apart, until a run reports ``until``; a failed (or killed) run is
        re-run as it is, as a person re-runs a failed job. ``between`` acts after each run (faults, people).
        ``resend``: carry on a drive of ``first`` whose run of that body was killed (``resume``).

        Until the request's first pull request has merged (the record on the base branch, or its deletion mark),
        the request itself is sent again: envbot knows an environment by its record, so a ``/status`` before then
        finds nothing to move."""
        body = resend or first
        runs: list[Run] = []
        for _ in range(max_runs):
            try:
                run = self.run(body)
            except Crash:
                run = Run(137)
            runs.append(run)
            if between is not None:
                between(self, run)
            self.clock.advance(STEP)
            if run.code == 137 or run.error is not None:
                continue  # the job is re-run
            if run.phase is until:
                return runs
            recorded = (
                run.phase in (Phase.DELETING, Phase.DELETED) if first == "/destroy" else run.phase is not Phase.CREATING
            )
            body = "/status" if recorded else first
        raise AssertionError(f"not {until.value} after {max_runs} runs: {[(r.code, r.phase, r.message) for r in runs]}")

    def lifecycle(self, **options: Any) -> list[Run]:
        """Provision to Ready, then destroy to Deleted."""
        return [*self.drive("/provision", Phase.READY, **options), *self.drive("/destroy", Phase.DELETED, **options)]

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def save(self) -> Checkpoint:
        """Everything the runs change: the three repositories, the simulated controllers and the clock."""
        with self.source.lock, self.platform.lock, self.apps.lock:
            return Checkpoint(
                fakes=tuple(_fake_state(fake) for fake in self.fakes),
                tracked=copy.deepcopy(self.cluster._tracked),
                now=self.clock.now,
            )

    def resume(self, crashed: CrashPoint) -> list[Run]:
        """Carry on from a crash point as ``drive`` does after a killed run: the world as the kill left it, the
        job re-run 30 s later with the same comment, then ``/status`` until the drive's phase."""
        ledger.record("crash after a write request")
        self.load(crashed.checkpoint)
        self.clock.advance(STEP)
        return self.drive(crashed.first, crashed.until, resend=crashed.sending)

    def load(self, checkpoint: Checkpoint) -> None:
        with self.source.lock, self.platform.lock, self.apps.lock:
            for fake, state in zip(self.fakes, checkpoint.fakes, strict=True):
                for name, value in state.items():
                    setattr(fake, name, itertools.count(value) if name in _COUNTERS else copy.deepcopy(value))
            self.cluster._tracked = copy.deepcopy(checkpoint.tracked)
            self.clock.now = checkpoint.now

    # -- what came out -------------------------------------------------------------------------------------------

    def sticky_comments(self) -> list[str]:
        with self.source.lock:
            return [c["body"] for c in self.source.comments.values() if c["issue"] == PR and MARKER in c["body"]]

    def end_state(self) -> EndState:
        stickies = self.sticky_comments()
        phase = next((p.value for p in Phase if stickies and f"· {p.value}" in stickies[-1]), "")
        return EndState(
            pulls={"platform": self.platform.pull_summary(), "apps": self.apps.pull_summary()},
            files={"platform": self.platform.main_files(), "apps": self.apps.main_files()},
            history={"platform": self.platform.first_parent_messages(), "apps": self.apps.first_parent_messages()},
            sticky_comments=len(stickies),
            phase_in_comment=phase,
        )

    def violations(self) -> list[str]:
        return [v for fake in self.fakes for v in fake.violations]


def assert_no_duplicates(state: EndState) -> None:
    """One pull request per phase (besides ones someone else closed), one merge commit per pull request, one
    sticky comment."""
    for which in ("platform", "apps"):
        heads = [head for head, _, pr_state in state.pulls[which] if pr_state != "closed"]
        assert len(heads) == len(set(heads)), f"{which}: more than one pull request for a phase: {state.pulls[which]}"
        merges = [m.split(" from ")[-1] for m in state.history[which] if m.startswith("Merge pull request")]
        assert len(merges) == len(set(merges)), f"{which}: a branch merged twice: {state.history[which]}"
    assert state.sticky_comments == 1, f"{state.sticky_comments} sticky comments"


def assert_converged(state: EndState, expected: EndState) -> None:
    """Nothing lost or duplicated, and exactly where the same runs without the fault end: the same pull requests,
    the same files on both base branches, the same merge commits."""
    assert_no_duplicates(state)
    differences = {
        field.name: (getattr(state, field.name), getattr(expected, field.name))
        for field in dataclasses.fields(EndState)
        if getattr(state, field.name) != getattr(expected, field.name)
    }
    assert not differences, f"not where the same runs without the fault end (got, expected): {differences}"


_PR_NUMBER = re.compile(r"#\d+ ")


def assert_converged_despite_a_twin(state: EndState, expected: EndState) -> None:
    """``assert_converged`` for two runs of the same event at once, where GitHub offers no create-if-absent: a run
    may open a pull request for a step the other run has just merged; its merge is refused (the decision was
    overtaken) and the next round closes it. Such a withdrawn twin is the only difference allowed: the same open and
    merged pull requests, the same files and merge commits (the twin takes a number, so merges are compared by
    branch), one sticky comment."""
    assert_no_duplicates(state)
    for which in ("platform", "apps"):
        kept = [pr for pr in state.pulls[which] if pr[2] != "closed"]
        assert kept == [pr for pr in expected.pulls[which] if pr[2] != "closed"], (which, state.pulls[which])
        twins = [pr for pr in state.pulls[which] if pr[2] == "closed" and pr not in expected.pulls[which]]
        merged = {head for head, _, pr_state in state.pulls[which] if pr_state == "merged"}
        assert all(head in merged for head, _, _ in twins), f"{which}: a closed pull request of no merged step: {twins}"
        messages = [_PR_NUMBER.sub("#N ", message) for message in state.history[which]]
        assert messages == [_PR_NUMBER.sub("#N ", message) for message in expected.history[which]], (which, messages)
    assert (state.files, state.sticky_comments, state.phase_in_comment) == (
        expected.files, expected.sticky_comments, expected.phase_in_comment,
    )  # fmt: skip


@functools.cache
def _references() -> dict[str, EndState]:
    with tempfile.TemporaryDirectory(prefix="envbot-faults-reference-") as folder:
        world = World(Path(folder))
        try:
            world.drive()
            ready = world.end_state()
            world.drive("/destroy", Phase.DELETED)
            assert not world.violations() and all(r.error is None for r in world.runs)
            return {"ready": ready, "deleted": world.end_state()}
        finally:
            world.close()


def reference(kind: str = "ready") -> EndState:
    """The end state of the same runs without any fault: ``ready`` (provisioned) or ``deleted`` (and destroyed)."""
    return copy.deepcopy(_references()[kind])
