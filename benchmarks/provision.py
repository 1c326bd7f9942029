"""Figure 1: GitHub requests to provision the seed example end to end from a ``/provision`` comment."""

from __future__ import annotations

import collections
import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from common import CATALOGS, EXAMPLE, TOKEN, FakeClock, add_pull_request, forge_for, github_fakes

from bot.action import EventHandler, load_event
from bot.catalog.loader import TEMPLATE_SUFFIXES
from bot.catalog_files import load_catalogs
from bot.config import load_config
from bot.forge.github import GitHubForge
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass, ProgressHook, Reconciler
from bot.render.check import check_catalog_renders
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.webhooks import payload

COMMENT = "issue_comment/created-on-pull-request"  # nadia's /provision on #42 of acme/shop
FILES_PER_CATALOG = 60
POLL_SECONDS = 10.0


class WaitingReconciler(Reconciler):
    """The reconciler as ``--wait`` runs it: each run goes on (on the fake clock) until Ready, Failed or Deleted."""

    def run(
        self,
        name: str,
        request: Any = None,
        *,
        wait: bool = False,
        timeout: dt.timedelta | None = None,
        poll_interval: float = 5.0,
        on_pass: ProgressHook | None = None,
        wait_out_settle: bool = True,
    ) -> Pass:
        return super().run(
            name, request, wait=True, timeout=timeout or dt.timedelta(hours=1), poll_interval=POLL_SECONDS,
            on_pass=on_pass, wait_out_settle=wait_out_settle,
        )  # fmt: skip


class _RecordingForge(GitHubForge):
    """A GitHubForge that also notes each logical call (for the breakdown; counting stays ``request_count``)."""

    calls: list[str]

    def _call(self, verb: str, path: str, **options: Any) -> tuple[int, Any]:
        self.calls.append(f"{verb} {_shape(path)}")
        return super()._call(verb, path, **options)


def _shape(path: str) -> str:
    parts = []
    for part in path.split("/"):
        if len(part) == 40 and all(c in "0123456789abcdef" for c in part):
            part = "{sha}"
        elif part.isdigit():
            part = "{n}"
        parts.append(part)
    text = "/".join(parts)
    for marker in ("/git/refs/heads/", "/branches/"):
        if marker in text:
            text = text.split(marker)[0] + marker + "{branch}"
    return text


@dataclass
class ProvisionResult:
    requests: int
    by_forge: dict[str, int]
    breakdown: dict[str, int]
    phase: str
    events: int
    simulated_seconds: float
    comment: str
    status: str


def catalogs_with_files(target: Path, files: int = FILES_PER_CATALOG) -> Path:
    """A copy of the catalogs where every yaml/hybrid catalog has ``files`` templates and every iac catalog
    ``files`` .tf files, all valid (checked by loading and trial-rendering every catalog)."""
    destination = target / "catalogs"
    shutil.copytree(CATALOGS, destination)
    for folder in sorted(p for p in destination.iterdir() if p.is_dir()):
        body = yaml.safe_load((folder / "catalog.yaml").read_text(encoding="utf-8"))
        kind = body["type"]
        if kind in ("yaml", "hybrid"):
            templates = folder / body.get("templates", "templates")
            have = [p for p in templates.rglob("*") if p.is_file() and p.name.endswith(TEMPLATE_SUFFIXES)]
            for index in range(files - len(have)):
                (templates / f"zz-extra-{index:02d}.yaml").write_text(_extra_template(index), encoding="utf-8")
        elif kind == "iac":
            have = list(folder.glob("*.tf"))
            for index in range(files - len(have)):
                (folder / f"extra_{index:02d}.tf").write_text(_extra_terraform(index), encoding="utf-8")
    catalogs = load_catalogs(destination)
    problems = [p for name in catalogs.names() for p in check_catalog_renders(catalogs.catalogs[name])]
    if problems:
        raise RuntimeError(f"the generated catalogs do not render: {problems}")
    for name in catalogs.names():
        catalog = catalogs.catalogs[name]
        tf_files = len(catalog.terraform.inline_files) if catalog.terraform is not None else 0
        count = len(catalog.templates) if catalog.type.has_templates else tf_files
        if count != files:
            raise RuntimeError(f"generated catalog {name} has {count} files, not {files}")
    return destination


def _extra_template(index: int) -> str:
    return (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        f"  name: {{{{ environment.name }}}}-{{{{ catalog.name }}}}-extra-{index:02d}\n"
        "  labels: {{ labels }}\n"
        "data:\n"
        f'  index: "{index:02d}"\n'
        "  environment: {{ environment.name }}\n"
        "  owner: {{ environment.owner }}\n"
    )


def _extra_terraform(index: int) -> str:
    return f'locals {{\n  envbot_extra_{index:02d} = "extra file {index:02d}"\n}}\n'


NO_CI = {"settle": "0s"}
"""``merge`` of the measured runs: the fakes' GitOps repositories have no CI, so envbot is told not to wait for one."""


def provision_requests(
    catalogs_dir: Path = CATALOGS,
    *,
    later: Literal["wait", "schedule"] = "wait",
    merge: dict[str, Any] | None = NO_CI,
) -> ProvisionResult:
    """Provision the seed example from a ``/provision`` comment on pull request #42 of the payload's repository.

    The source repository and the two GitOps repositories live on three GitHub fakes with three base URLs;
    Crossplane and Argo CD are the SimulatedCluster, which reads git through forges of its own (not counted).
    Each event is handled by ``EventHandler`` in what would be a new process (new forges), on a fake clock.
    ``later="wait"``: the one event runs until Ready, as ``--wait`` does. ``later="schedule"``: the event runs as
    the Action runs it, then ``schedule`` events every 5 minutes sweep until the environment is Ready.
    """
    document = payload(COMMENT, comment__body="/provision")
    source_repository = document["repository"]["full_name"]
    number = document["issue"]["number"]
    commenter = document["comment"]["user"]["login"]
    branch = "feature-login"
    with tempfile.TemporaryDirectory(prefix="envbot-bench-provision-") as tmp:
        root = Path(tmp)
        config = load_config(_write_config(root, source_repository, catalogs_dir, merge))
        comment_path = root / "comment.json"
        comment_path.write_text(json.dumps(document), encoding="utf-8")
        schedule_path = root / "schedule.json"
        schedule = {"schedule": "*/5 * * * *", "repository": document["repository"]}
        schedule_path.write_text(json.dumps(schedule), encoding="utf-8")
        clock = FakeClock()
        with github_fakes(source_repository, clock) as (platform_fake, apps_fake, source_fake):
            for fake in (platform_fake, apps_fake, source_fake):
                fake.seed({"README.md": f"{fake.repository}\n"})
            add_pull_request(source_fake, number, branch)
            source_fake.grant(commenter, "write")
            catalogs = load_catalogs(catalogs_dir)
            cluster = SimulatedCluster(forge_for(platform_fake), forge_for(apps_fake), catalogs, clock=clock.now)
            used: list[tuple[str, _RecordingForge]] = []
            logs: list[str] = []
            events = 0
            phase = "?"
            for event_name, event_path in [("issue_comment", comment_path)] + [("schedule", schedule_path)] * 10:
                if event_name == "schedule":
                    if later == "wait" or phase == Phase.READY.value:
                        break
                    clock.sleep(300)
                forges = {name: _recording(fake) for name, fake in (("platform", platform_fake), ("apps", apps_fake))}
                source = _recording(source_fake)
                used.extend([*forges.items(), ("source", source)])
                kind = WaitingReconciler if later == "wait" else Reconciler
                reconciler = kind(
                    forges["platform"], forges["apps"], cluster, catalogs, WORDING, settings=config.render,
                    merge_policy=config.merge_policy, clock=clock.now, sleep=clock.sleep,
                )  # fmt: skip
                environ = {"GITHUB_OUTPUT": str(root / "output"), "GITHUB_STEP_SUMMARY": str(root / "summary.md")}
                handler = EventHandler(config, source, reconciler, logs.append, environ=environ)
                code = handler.handle(load_event(event_name, event_path))
                events += 1
                rows = [row for row in handler.rows if row.environment == branch]
                phase = rows[-1].phase.value if rows else "?"
                if code != 0:
                    raise RuntimeError(f"{event_name} failed (exit {code}): {logs}")
            if phase != Phase.READY.value:
                raise RuntimeError(f"provisioning did not reach Ready ({phase}): {logs}")
            by_forge: collections.Counter[str] = collections.Counter()
            breakdown: collections.Counter[str] = collections.Counter()
            for name, forge in used:
                by_forge[name] += forge.request_count
                breakdown.update(f"{name} {call}" for call in forge.calls)
            comments = [c["body"] for c in source_fake.comments.values() if c["issue"] == number]
            head = source_fake.pulls[number]["head_sha"]
            statuses = {s["context"]: s["state"] for s in source_fake.statuses.get(head, [])}
            return ProvisionResult(
                requests=sum(by_forge.values()),
                by_forge=dict(by_forge),
                breakdown=dict(sorted(breakdown.items())),
                phase=phase,
                events=events,
                simulated_seconds=clock.slept,
                comment=_phase_of(comments),
                status=statuses.get(f"envbot/{branch}", "none"),
            )


def _phase_of(comments: list[str]) -> str:
    """The phase the sticky comment shows (its heading ends with it)."""
    if len(comments) != 1:
        return f"{len(comments)} comments"
    heading = comments[0].splitlines()[1]
    return heading.rsplit("·", 1)[-1].strip()


def _recording(fake: Any) -> _RecordingForge:
    forge = _RecordingForge(fake.repository, TOKEN, base_url=fake.base_url, seconds_between_writes=None)
    forge.calls = []
    return forge


def _write_config(root: Path, source_repository: str, catalogs_dir: Path, merge: dict[str, Any] | None) -> Path:
    (root / "envs").mkdir()
    shutil.copy(EXAMPLE, root / "envs" / "feature.yaml")
    config = {
        "platform": {"repository": "acme/gitops-platform"},
        "apps": {"repository": "acme/gitops-apps"},
        "catalogs": str(catalogs_dir),
        "cluster": {"type": "simulated"},
        "events": {"repository": source_repository, "defaultTemplate": "envs/feature.yaml"},
    }
    if merge is not None:
        config["merge"] = merge
    path = root / "envbot.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run() -> dict[str, ProvisionResult]:
    """The seed catalogs and the 60-file catalogs, driven to Ready by one waiting run; and by scheduled sweeps."""
    results = {"seed": provision_requests()}
    with tempfile.TemporaryDirectory(prefix="envbot-bench-catalogs-") as tmp:
        results["60 files"] = provision_requests(catalogs_with_files(Path(tmp)))
    results["seed, scheduled sweeps"] = provision_requests(later="schedule")
    results["seed, default 2m settle"] = provision_requests(merge=None)
    return results
