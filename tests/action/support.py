"""A world for the Action tests: the source repository on the GitHub fake, local GitOps repositories, real payloads."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import responses
import yaml
from project_paths import CATALOGS, EXAMPLES, FIXTURES

from bot.action import handle_event_files
from bot.config import Config, load_config
from bot.connect import build_reconciler
from bot.forge.github import GitHubForge
from bot.forge.local import LocalForge
from tests.fakes.github_api import FakeGitHub

WEBHOOKS = FIXTURES / "github-webhooks"
TOKEN = "ghs_test-source-token-0123456789"


def payload(relative: str, **changes: Any) -> dict[str, Any]:
    """A real webhook payload from the fixtures, with top-level (dotted) fields changed for the scenario."""
    document = json.loads((WEBHOOKS / relative).read_text(encoding="utf-8"))
    document = copy.deepcopy(document)
    for dotted, value in changes.items():
        target = document
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return document


@dataclass
class ActionWorld:
    root: Path
    fake: FakeGitHub
    config_path: Path
    logs: list[str] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def source(self) -> GitHubForge:
        return GitHubForge(self.fake.repository, TOKEN, base_url=self.fake.base_url, seconds_between_writes=None)

    def handle(self, event_name: str, document: dict[str, Any], *, dry_run: bool = False) -> int:
        path = self.root / f"event-{len(self.logs)}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        config = self.config
        environ = {"GITHUB_OUTPUT": str(self.root / "output"), "GITHUB_STEP_SUMMARY": str(self.root / "summary.md")}
        return handle_event_files(
            event_name,
            path,
            config,
            source=self.source(),
            reconciler=build_reconciler(config),
            log=self.logs.append,
            dry_run=dry_run,
            environ=environ,
        )

    def add_pull_request(self, number: int, head: str, base: str = "main") -> None:
        if f"refs/heads/{head}" not in self.fake.refs:
            self.fake.seed({"README.md": f"{head}\n"}, branch=head)
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

    def comments(self, number: int) -> list[str]:
        return [c["body"] for c in self.fake.comments.values() if c.get("issue") == number]

    def gitops_files(self, which: str) -> dict[str, str]:
        forge = LocalForge(self.root / f"{which}.git")
        return {p: forge.read_file(p, "main") or "" for p in forge.list_tree("registry", "main")}


def make_world(root: Path, repository: str, events: dict[str, Any] | None = None) -> Iterator[ActionWorld]:
    """Yield a world whose fake GitHub answers for ``repository``; checks the fake saw no spec violation."""
    LocalForge.initialize(root / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(root / "apps.git", {"README.md": "apps\n"})
    (root / "envs").mkdir()
    shutil.copy(EXAMPLES / "dev-feature-auth.yaml", root / "envs" / "feature.yaml")
    config = {
        "platform": {"repository": "./platform.git"},
        "apps": {"repository": "./apps.git"},
        "catalogs": str(CATALOGS),
        "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
        "events": events
        or {
            "repository": repository,
            "branches": [{"pattern": "feature*", "template": "envs/feature.yaml"}],
            "defaultTemplate": "envs/feature.yaml",
        },
    }
    config_path = root / "envbot.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(repository=repository).install(mock)
        fake.seed({"README.md": "app\n"})
        yield ActionWorld(root, fake, config_path)
        assert fake.violations == []
