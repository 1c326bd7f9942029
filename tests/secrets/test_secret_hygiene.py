"""Secret hygiene: a full lifecycle with a canary in every secret, then a scan of everything envbot wrote or said.

Canaries (unique random strings) go wherever a secret VALUE could reach envbot:

- the three tokens: ``ENVBOT_GITOPS_TOKEN``, ``ENVBOT_SOURCE_TOKEN`` and ``GITHUB_TOKEN``;
- the sensitive Terraform outputs, reported by the simulated Workspaces in ``status.atProvider.outputs`` as a
  misbehaving provider might (``master_password`` of rds-postgres, ``auth_token`` of redis-cache), and an
  undeclared output (``debug_password``) beside them;
- a literal value for a secret parameter, tried in an environment file (CLI) and in a ``/provision`` comment.

(a) runs ``envbot demo`` (local bare repositories, simulated cluster) from Creating to Ready to Deleted; (b) runs
the GitHub Action path (``handle-event``) with the source repository and BOTH GitOps repositories on GitHub fakes
at three different base URLs, from ``/provision`` to Ready, then ``/destroy`` to Deleted. Then every git object of
both repositories (all refs, ``refs/envbot/*`` included, and unreachable objects), every blob, tree and commit in
the fakes, every request body sent to them (PR titles and bodies, comments, status descriptions), the job summary
and step outputs, stdout, stderr and every Python log record at DEBUG are scanned: the canary appears nowhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS

import bot.demo
import bot.forge.github
from bot.action import handle_event_files
from bot.catalog_files import load_catalogs
from bot.cli import main
from bot.cluster.model import ObservedObject
from bot.config import load_config
from bot.connect import open_cluster, open_forge
from bot.reconcile.runner import Reconciler
from bot.render.manifests import workspace_name
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.fakes.github_api import FakeGitHub
from tests.secrets.canaries import Scan, canary, observed_statuses
from tests.webhooks import payload

ENV = "canary-env"
REPO = "acme/shop"
COMMENT = "issue_comment/created-on-pull-request"  # on #42, by nadia
WRITER = "nadia"
PR, PR_BRANCH = 42, "feature-login"
SOURCE_URL = "https://api.github.com"
PLATFORM_URL = "https://ghe-platform.example/api/v3"
APPS_URL = "https://ghe-apps.example/api/v3"


def environment_document(name: str) -> dict[str, Any]:
    """Every example catalog: two with sensitive outputs, one with a secret parameter (a reference)."""
    return {
        "apiVersion": "envbot.io/v1alpha1",
        "kind": "Environment",
        "name": name,
        "cluster": "dev-cluster",
        "owner": "alice",
        "catalogs": [
            {"name": "rds-postgres", "parameters": {"databaseName": "canary_db", "vpcId": "vpc-0a1b2c3d"}},
            {"name": "redis-cache", "parameters": {"vpcId": "vpc-0a1b2c3d"}},
            {"name": "s3-bucket", "parameters": {"bucketName": "canary-env-bucket"}},
            {
                "name": "datadog-agent",
                "parameters": {
                    "clusterName": "dev-cluster",
                    "apiKey": {"fromSecret": {"backend": "vault", "path": "secret/data/datadog", "key": "api-key"}},
                },
            },
            {
                "name": "sample-app",
                "parameters": {"replicas": 2, "databaseEndpoint": {"fromOutput": "rds-postgres.endpoint"}},
            },
        ],
    }


@pytest.fixture
def canaries(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "ENVBOT_GITOPS_TOKEN": canary("gitops-token"),
        "ENVBOT_SOURCE_TOKEN": canary("source-token"),
        "GITHUB_TOKEN": canary("github-token"),
        "master_password output": canary("master-password"),
        "auth_token output": canary("auth-token"),
        "undeclared debug_password output": canary("debug-password"),
        "literal secret parameter": canary("literal-secret"),
    }
    for variable in ("ENVBOT_GITOPS_TOKEN", "ENVBOT_SOURCE_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.setenv(variable, values[variable])
    for variable in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(variable, raising=False)
    return values


def sensitive_outputs(values: dict[str, str], name: str) -> dict[str, dict[str, Any]]:
    """What the misbehaving provider reports, beside the real (non-sensitive) outputs."""
    return {
        workspace_name(name, "rds-postgres"): {
            "endpoint": "canary-db.internal",
            "master_password": values["master_password output"],
            "debug_password": values["undeclared debug_password output"],
        },
        workspace_name(name, "redis-cache"): {
            "primary_endpoint": "canary-cache.internal",
            "auth_token": values["auth_token output"],
        },
    }


class RecordingCluster(SimulatedCluster):
    """The simulation, remembering every status it showed envbot (to prove the canaries were really there)."""

    seen: list[str]

    def list(self, *args: Any, **kwargs: Any) -> tuple[ObservedObject, ...]:
        found = super().list(*args, **kwargs)
        self.seen.append(observed_statuses(found))
        return found


def quick(cluster: SimulatedCluster, outputs: dict[str, dict[str, Any]], seen: list[str]) -> RecordingCluster:
    recording = RecordingCluster(**{f.name: getattr(cluster, f.name) for f in dataclasses.fields(cluster) if f.init})
    recording.seen = seen
    recording.workspace_delay = recording.application_delay = recording.deletion_delay = dt.timedelta(0)
    recording.output_overrides = outputs
    return recording


def literal_secret_environment(values: dict[str, str]) -> dict[str, Any]:
    document = environment_document("canary-literal")
    document["catalogs"][3]["parameters"]["apiKey"] = values["literal secret parameter"]
    return document


def debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    """Every logger at DEBUG: the root, and those a library set a level of its own on (PyGithub's ``github``)."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            caplog.set_level(logging.DEBUG, logger=name)


def finish(
    scan: Scan, transcript: list[str], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    out, err = capsys.readouterr()
    scan.look("stdout and stderr", "".join(transcript) + out + err)
    records = scan.log_records("logging", caplog.records)
    assert records > 0, "DEBUG logging was not captured"
    with capsys.disabled():
        print(f"\n{scan.report()}")
    assert scan.total == 0, scan.report()


# -- (a) the demo ----------------------------------------------------------------------------------------------


def test_demo_lifecycle_copies_no_secret_anywhere(
    tmp_path: Path,
    canaries: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    debug_everywhere(caplog)
    seen: list[str] = []
    outputs = sensitive_outputs(canaries, ENV)

    def make_cluster(*args: Any, **kwargs: Any) -> SimulatedCluster:
        return quick(SimulatedCluster(*args, **kwargs), outputs, seen)

    monkeypatch.setattr(bot.demo, "SimulatedCluster", make_cluster)
    env_file = tmp_path / "canary-env.yaml"
    env_file.write_text(yaml.safe_dump(environment_document(ENV), sort_keys=False), encoding="utf-8")
    literal = tmp_path / "literal.yaml"
    literal.write_text(yaml.safe_dump(literal_secret_environment(canaries), sort_keys=False), encoding="utf-8")
    workdir = tmp_path / "demo"

    transcript: list[str] = []

    def said() -> str:
        out, err = capsys.readouterr()
        transcript.append(out + err)
        return out + err

    # A literal secret is refused before anything exists, by the demo and by validate.
    assert (
        main(
            ["demo", "--workdir", str(workdir), "--environment", str(literal), "--catalogs", str(CATALOGS)],
            timebase=ManualClock().timebase,
        )
        == 1
    )
    assert main(["validate", str(literal), "--catalogs", str(CATALOGS)], timebase=ManualClock().timebase) == 1
    assert "parameter apiKey: is a secret" in said()
    assert not workdir.exists()

    assert (
        main(
            ["demo", "--workdir", str(workdir), "--environment", str(env_file), "--catalogs", str(CATALOGS)],
            timebase=ManualClock().timebase,
        )
        == 0
    )

    shown = said()
    assert "Ready" in shown and "Deleted" in shown and "Phases: Creating" in shown
    # The literal secret again, now with repositories to write to: refused, nothing written.
    config = tmp_path / "envbot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": str(workdir / "platform.git")},
                "apps": {"repository": str(workdir / "apps.git")},
                "catalogs": str(CATALOGS),
                "cluster": {"type": "simulated", "path": str(tmp_path / "cluster.json")},
            }
        ),
        encoding="utf-8",
    )
    assert main(["provision", str(literal), "--config", str(config)], timebase=ManualClock().timebase) == 1

    # The canaries really were in front of envbot: the Workspaces reported the sensitive outputs.
    assert any(canaries["master_password output"] in status for status in seen)
    assert any(canaries["auth_token output"] in status for status in seen)

    scan = Scan(canaries)
    objects = sum(scan.git_repository(which, workdir / f"{which}.git") for which in ("platform", "apps"))
    assert objects > 50  # every phase's pull request, merge and record update is in there
    assert scan.places > 10
    finish(scan, transcript, capsys, caplog)


# -- (b) the GitHub Action path --------------------------------------------------------------------------------


class QuietGitHubForge(bot.forge.github.GitHubForge):
    """The production forge without the one-second spacing of writes (the fakes need no rate limiting)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("seconds_between_writes", None)
        super().__init__(*args, **kwargs)


@dataclasses.dataclass
class GitHubs:
    fakes: dict[str, FakeGitHub]
    mock: responses.RequestsMock

    def authorizations(self) -> dict[str, set[str]]:
        """The Authorization header of every request, by the API base URL it went to."""
        found: dict[str, set[str]] = {}
        for call in self.mock.calls:
            host = urlsplit(call.request.url or "").hostname
            base = next(b for b in (PLATFORM_URL, APPS_URL, SOURCE_URL) if urlsplit(b).hostname == host)
            found.setdefault(base, set()).add(str(call.request.headers.get("Authorization")))
        return found


@pytest.fixture
def githubs() -> Iterator[GitHubs]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        opened = {
            "source": FakeGitHub(repository=REPO, base_url=SOURCE_URL).install(mock),
            "platform": FakeGitHub(repository="acme/gitops-platform", base_url=PLATFORM_URL).install(mock),
            "apps": FakeGitHub(repository="acme/gitops-apps", base_url=APPS_URL).install(mock),
        }
        opened["platform"].seed({"README.md": "platform\n"})
        opened["apps"].seed({"README.md": "apps\n"})
        opened["source"].seed({"README.md": "app\n"})
        opened["source"].seed({"README.md": "feature\n"}, branch=PR_BRANCH)
        opened["source"].pulls[PR] = {
            "number": PR,
            "title": "Login flow",
            "body": "",
            "head": PR_BRANCH,
            "base": "main",
            "head_sha": opened["source"].refs[f"refs/heads/{PR_BRANCH}"],
            "state": "open",
            "labels": set(),
            "merged": False,
            "merge_sha": None,
        }
        opened["source"].grant(WRITER, "write")
        yield GitHubs(opened, mock)
        for fake in opened.values():
            assert fake.violations == []


def test_github_action_lifecycle_copies_no_secret_anywhere(
    tmp_path: Path,
    canaries: dict[str, str],
    githubs: GitHubs,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    debug_everywhere(caplog)
    monkeypatch.setattr(bot.forge.github, "GitHubForge", QuietGitHubForge)
    (tmp_path / "envs").mkdir()
    template = environment_document("ignored")
    (tmp_path / "envs" / "feature.yaml").write_text(yaml.safe_dump(template, sort_keys=False), encoding="utf-8")
    config_path = tmp_path / "envbot.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": "acme/gitops-platform"},
                "apps": {"repository": "acme/gitops-apps"},
                "catalogs": str(CATALOGS),
                "github": {"apiUrl": SOURCE_URL},
                "cluster": {"type": "simulated", "path": "cluster.json"},
                "events": {"repository": REPO, "defaultTemplate": "envs/feature.yaml"},
            }
        ),
        encoding="utf-8",
    )
    config = load_config(config_path)
    seen: list[str] = []

    clock = ManualClock()

    def reconciler() -> Reconciler:
        """As ``connect.build_reconciler``, but each GitOps repository on its own GitHub (one API URL each);
        the forges read their token from ENVBOT_GITOPS_TOKEN themselves."""
        catalogs = load_catalogs(config.resolve(config.catalogs))
        platform = open_forge(dataclasses.replace(config, github_api_url=PLATFORM_URL), config.platform)
        apps = open_forge(dataclasses.replace(config, github_api_url=APPS_URL), config.apps)
        cluster = open_cluster(config, platform, apps, catalogs, clock.timebase)
        assert isinstance(cluster, SimulatedCluster)
        return Reconciler(
            platform=platform,
            apps=apps,
            cluster=quick(cluster, sensitive_outputs(canaries, PR_BRANCH), seen),
            catalogs=catalogs,
            wording=WORDING,
            clock=clock,
            sleep=clock.sleep,
            settings=config.render,
        )

    runs = 0

    def handle(event_name: str, document: dict[str, Any]) -> tuple[int, list[str]]:
        nonlocal runs
        runs += 1
        event = tmp_path / f"event-{runs}.json"
        event.write_text(json.dumps(document), encoding="utf-8")
        logs: list[str] = []
        environ = {
            "GITHUB_OUTPUT": str(tmp_path / f"output-{runs}"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / f"summary-{runs}.md"),
        }
        code = handle_event_files(
            event_name, event, config, source=None, reconciler=reconciler, log=logs.append, environ=environ
        )
        print("\n".join(logs))  # captured: scanned with stdout
        return code, logs

    def comment(body: str) -> dict[str, Any]:
        return payload(COMMENT, comment__body=body)

    def until(phase: str) -> list[str]:
        for _ in range(8):
            _, logs = handle("issue_comment", comment("/status"))
            if any(line.startswith(f"envbot: {PR_BRANCH}: {phase}:") for line in logs):
                return logs
        raise AssertionError(f"{PR_BRANCH} never reached {phase}")

    code, logs = handle("issue_comment", comment("/provision"))
    assert code == 0 and logs[0] == f"envbot: provisioning {PR_BRANCH} (/provision)", logs
    until("Ready")
    literal = f"/provision datadog-agent.apiKey={canaries['literal secret parameter']}"
    assert handle("issue_comment", comment(literal)) == (0, ["envbot: replied on the pull request"])
    code, logs = handle("issue_comment", comment("/destroy"))
    assert code == 0 and logs[0] == f"envbot: destroying {PR_BRANCH}: /destroy by {WRITER}", logs
    until("Deleted")

    # The whole lifecycle happened on the three fakes, each request with its own token.
    fakes = githubs.fakes
    platform, apps, source = fakes["platform"], fakes["apps"], fakes["source"]
    assert platform.count("pulls/merge") >= 3 and apps.count("pulls/merge") >= 2  # provision, record, clean-ups
    assert [p["state"] for p in platform.pulls.values()].count("closed") == len(platform.pulls)
    assert source.statuses and source.comments
    assert any(canaries["master_password output"] in status for status in seen)
    assert any(canaries["auth_token output"] in status for status in seen)
    authorizations = githubs.authorizations()
    assert authorizations[PLATFORM_URL] == authorizations[APPS_URL] == {f"token {canaries['ENVBOT_GITOPS_TOKEN']}"}
    assert authorizations[SOURCE_URL] == {f"token {canaries['ENVBOT_SOURCE_TOKEN']}"}

    scan = Scan(canaries)
    for name, fake in fakes.items():
        scan.fake_github(name, fake)
    scan.files("job", sorted(tmp_path.glob("summary-*.md")) + sorted(tmp_path.glob("output-*")))
    scan.files("simulated cluster", [tmp_path / "cluster.json"])
    assert len(list(tmp_path.glob("summary-*.md"))) >= 4
    finish(scan, [], capsys, caplog)


def test_the_scan_finds_a_planted_canary(tmp_path: Path) -> None:
    """The scanner is not blind: a canary in a blob of an unreferenced commit, in a reflog, in a fake's blob and
    in a request body is found, each time."""
    value = canary("planted")
    scan = Scan({"planted": value})
    repository = tmp_path / "planted.git"
    subprocess.run(["git", "init", "--bare", "-q", str(repository)], check=True)
    blob = subprocess.run(
        ["git", "-C", str(repository), "hash-object", "-w", "--stdin"],
        input=f"password: {value}\n".encode(),
        check=True,
        capture_output=True,
    ).stdout
    assert blob.strip()
    (repository / "logs").mkdir(exist_ok=True)
    (repository / "logs" / "HEAD").write_text(f"0 1 envbot <e@x> 0 +0000\tcommit: {value}\n", encoding="utf-8")
    scan.git_repository("planted", repository)
    fake = FakeGitHub(repository="acme/planted")
    fake.seed({"secret.txt": value})
    scan.fake_github("fake", fake)
    assert scan.found == {
        ("planted: git objects", "planted"): 1,
        ("planted: logs/HEAD", "planted"): 1,
        ("fake: blob " + next(iter(fake.blobs))[:10], "planted"): 1,
    }


def test_this_folder_does_not_shadow_the_standard_library_secrets_module() -> None:
    """tests/ is on sys.path, so a tests/secrets/__init__.py would turn ``import secrets`` (which
    bot.report.github_actions uses for its output delimiters) into this folder: it must stay a plain folder."""
    import secrets as imported

    assert imported.__file__ is not None and not Path(imported.__file__).is_relative_to(Path(__file__).parent)
    assert callable(imported.token_hex)
