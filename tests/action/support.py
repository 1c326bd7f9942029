"""A world for the Action tests: the source repository on the GitHub fake, local GitOps repositories."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import responses
import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.action import handle_event_files
from bot.config import Config, load_config
from bot.connect import build_reconciler
from bot.forge.github import GitHubForge
from bot.forge.local import LocalForge
from bot.reconcile.runner import Reconciler
from bot.simulation import SimulatedCluster
from tests.fakes.github_api import FakeGitHub

TOKEN = "ghs_test-source-token-0123456789"
GITOPS = ("platform", "apps")


@dataclass
class ActionWorld:
    root: Path
    fake: FakeGitHub
    config_path: Path
    logs: list[str] = field(default_factory=list)
    mock: responses.RequestsMock | None = None
    cluster_delay: dt.timedelta | None = None
    """None: the SimulatedCluster's own delays (seconds on the world's clock); else every delay set to this."""
    clock: ManualClock = field(default_factory=ManualClock)
    """The time of every run in this world: it moves only when a test advances it or a run waits."""
    fail_workspaces: dict[str, str] = field(default_factory=dict)
    """Workspace name → the terraform error the simulated cluster reports for it."""
    handled: int = 0

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def source(self) -> GitHubForge:
        return GitHubForge(self.fake.repository, TOKEN, base_url=self.fake.base_url, seconds_between_writes=None)

    def reconciler(self, delay: dt.timedelta | None = None) -> Reconciler:
        """A reconciler over the world's GitOps repositories and simulated cluster (state kept in a file)."""
        reconciler = build_reconciler(self.config, self.clock.timebase)
        chosen = delay if delay is not None else self.cluster_delay
        cluster = reconciler.cluster
        if isinstance(cluster, SimulatedCluster):
            if chosen is not None:
                cluster.workspace_delay = cluster.application_delay = cluster.deletion_delay = chosen
            cluster.fail_workspaces = dict(self.fail_workspaces)
        return reconciler

    def event_file(self, document: dict[str, Any]) -> Path:
        self.handled += 1
        path = self.root / f"event-{self.handled}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        return path

    def handle(self, event_name: str, document: dict[str, Any], *, dry_run: bool = False) -> int:
        path = self.event_file(document)
        config = self.config
        environ = {"GITHUB_OUTPUT": str(self.output_path), "GITHUB_STEP_SUMMARY": str(self.summary_path)}
        return handle_event_files(
            event_name,
            path,
            config,
            source=self.source(),
            reconciler=self.reconciler(),
            log=self.logs.append,
            dry_run=dry_run,
            environ=environ,
        )

    # -- the source repository on the fake ---------------------------------------------------------------------

    def add_branch(self, name: str) -> str:
        """Create ``name`` in the source repository (as a push would); its head SHA."""
        return self.fake.seed({"README.md": f"{name}\n"}, branch=name)

    def delete_branch(self, name: str) -> None:
        del self.fake.refs[f"refs/heads/{name}"]

    def add_pull_request(self, number: int, head: str, base: str = "main") -> None:
        if f"refs/heads/{head}" not in self.fake.refs:
            self.add_branch(head)
        self.fake.pulls[number] = {
            "number": number,
            "title": f"Work on {head}",
            "body": "",
            "head": head,
            "base": base,
            "head_sha": self.fake.refs[f"refs/heads/{head}"],
            "state": "open",
            "labels": set(),
            "merged": False,
            "merge_sha": None,
        }

    def close_pull_request(self, number: int, *, merged: bool) -> None:
        pr = self.fake.pulls[number]
        pr.update(state="closed", merged=merged, merge_sha=self.fake.refs["refs/heads/main"] if merged else None)

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments.values() if c.get("issue") == number]

    def statuses(self, ref: str) -> dict[str, dict[str, Any]]:
        """The latest commit status of each context on a branch or commit of the source repository."""
        sha = self.fake.refs.get(f"refs/heads/{ref}", ref)
        return {entry["context"]: entry for entry in self.fake.statuses.get(sha, [])}

    def writes(self) -> list[str]:
        """Every mutating request the fake received (``METHOD operationId``)."""
        return [f"{c.method} {c.operation}" for c in self.fake.calls if c.method != "GET"]

    # -- the GitOps repositories and the job's files ---------------------------------------------------------

    def gitops_files(self, which: str) -> dict[str, str]:
        forge = LocalForge(self.root / f"{which}.git")
        return {p: forge.read_file(p, "main") or "" for p in forge.list_tree("registry", "main")}

    def environment_files(self, which: str, name: str) -> dict[str, str]:
        prefix = f"registry/environments/{name}/"
        return {p: c for p, c in self.gitops_files(which).items() if p.startswith(prefix)}

    def gitops_refs(self) -> dict[str, str]:
        """Every ref of both GitOps repositories (branches, and LocalForge's pull request records) → SHA."""
        refs: dict[str, str] = {}
        for which in GITOPS:
            listing = subprocess.run(
                ["git", "-C", str(self.root / f"{which}.git"), "for-each-ref", "--format=%(refname) %(objectname)"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for line in listing.splitlines():
                ref, sha = line.split(" ")
                refs[f"{which}:{ref}"] = sha
        return refs

    @property
    def summary_path(self) -> Path:
        """The job summary file of the latest ``handle`` (each run gets its own, as each job does)."""
        return self.root / f"summary-{self.handled}.md"

    @property
    def output_path(self) -> Path:
        return self.root / f"output-{self.handled}"

    def summary(self) -> str:
        return self.summary_path.read_text(encoding="utf-8") if self.summary_path.exists() else ""

    def outputs(self) -> dict[str, str]:
        """The step outputs of the latest ``handle`` (``GITHUB_OUTPUT``'s heredoc form read back)."""
        text = self.output_path.read_text(encoding="utf-8") if self.output_path.exists() else ""
        found: dict[str, str] = {}
        for match in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n?\2$", text, re.MULTILINE | re.DOTALL):
            found[match[1]] = match[3]
        return found

    def everything_said(self) -> str:
        """All text envbot produced: logs, comments, statuses, every job summary and output file."""
        statuses = [json.dumps(entry) for entries in self.fake.statuses.values() for entry in entries]
        bodies = [c["body"] for c in self.fake.comments.values()]
        files = [p.read_text(encoding="utf-8") for p in sorted(self.root.glob("summary-*.md"))]
        files += [p.read_text(encoding="utf-8") for p in sorted(self.root.glob("output-*"))]
        return "\n".join([*self.logs, *bodies, *statuses, *files])


def default_events(repository: str, **extra: Any) -> dict[str, Any]:
    """The ``events`` section the worlds use: ``feature*`` branches and labelled pull requests get the example."""
    return {
        "repository": repository,
        "branches": [{"pattern": "feature*", "template": "envs/feature.yaml"}],
        "defaultTemplate": "envs/feature.yaml",
        **extra,
    }


def world_config(
    repository: str, events: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "platform": {"repository": "./platform.git"},
        "apps": {"repository": "./apps.git"},
        "catalogs": str(CATALOGS),
        "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
        "events": events or default_events(repository),
        **(extra or {}),
    }


def make_world(
    root: Path, repository: str, events: dict[str, Any] | None = None, *, extra: dict[str, Any] | None = None
) -> Iterator[ActionWorld]:
    """Yield a world whose fake GitHub answers for ``repository``; afterwards checks that the fake saw no spec
    violation and that the source token never showed up in anything envbot wrote.

    ``events`` replaces the ``events`` section; ``extra`` adds other top-level config sections (``timeouts``).
    """
    LocalForge.initialize(root / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(root / "apps.git", {"README.md": "apps\n"})
    (root / "envs").mkdir()
    shutil.copy(EXAMPLES / "dev-feature-auth.yaml", root / "envs" / "feature.yaml")
    config_path = root / "envbot.yaml"
    config_path.write_text(yaml.safe_dump(world_config(repository, events, extra)), encoding="utf-8")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(repository=repository).install(mock)
        fake.seed({"README.md": "app\n"})
        world = ActionWorld(root, fake, config_path, mock=mock)
        fake.clock = world.clock  # GitHub stamps comments with the world's time
        yield world
        assert fake.violations == []
        assert TOKEN not in world.everything_said()
