"""The reconcile commands through the CLI, over an envbot.yaml: provision, status, destroy, retry, demo, config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.cli import main
from bot.config import parse_config
from bot.errors import UserError
from bot.forge.local import LocalForge

SEED = EXAMPLES / "dev-feature-auth.yaml"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    LocalForge.initialize(tmp_path / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(tmp_path / "apps.git", {"README.md": "apps\n"})
    path = tmp_path / "envbot.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": "./platform.git"},
                "apps": {"repository": "./apps.git", "baseBranch": "main"},
                "catalogs": str(CATALOGS),
                "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
                "timeouts": {"wait": "2m", "pollInterval": "1s"},
            }
        )
    )
    return path


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)``: the CLI in-process on one clock per test (so ``--wait`` polls without sleeping)."""
    clock = ManualClock()

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), timebase=clock.timebase)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_provision_status_and_destroy(config_file: Path, run: Run) -> None:
    code, out, err = run("provision", str(SEED), "--config", str(config_file), "--wait")
    assert (code, err) == (0, "")
    assert "Ready" in out and "dev-feature-auth" in out
    code, out, _ = run("status", "--config", str(config_file), "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["environment"], row["phase"]) == ("dev-feature-auth", "Ready")
    assert row["waitingOn"] == "all 1 Workspace Available; all 2 Applications Healthy"
    code, out, _ = run("status", "--config", str(config_file))
    assert code == 0 and "Ready" in out
    code, out, _ = run("reconcile", "--config", str(config_file))
    assert code == 0 and "Ready" in out
    code, out, _ = run("destroy", "dev-feature-auth", "--config", str(config_file), "--wait")
    assert code == 0 and "Deleted" in out
    code, out, _ = run("status", "--config", str(config_file), "--json")
    assert json.loads(out) == []


def test_provision_without_wait_moves_as_far_as_it_can(config_file: Path, run: Run) -> None:
    code, out, _ = run("provision", str(SEED), "--config", str(config_file))
    assert code == 0
    assert "Provisioning" in out and "Infrastructure" in out


def test_retry_refuses_an_environment_that_has_not_failed(config_file: Path, run: Run) -> None:
    run("provision", str(SEED), "--config", str(config_file), "--wait")
    code, _, err = run("retry", "dev-feature-auth", "--config", str(config_file))
    assert code == 1
    assert err == "error: environment dev-feature-auth is Ready, not Failed; there is nothing to retry\n"


def test_missing_config_is_one_line(tmp_path: Path, run: Run) -> None:
    code, _, err = run("status", "--config", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert err.startswith(f"error: {tmp_path / 'nope.yaml'}: config file not found")


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (
            "platform: {repository: a/b}\n",
            ["envbot.yaml: apps.repository: is required (a GitHub owner/name or a local path)"],
        ),
        (
            "platform: {repository: a/b, branch: main}\napps: {repository: c/d}\ncolour: red\n",
            [
                "envbot.yaml: platform.branch: unknown key (known: baseBranch, repository)",
                "envbot.yaml: colour: unknown key (known: apps, catalogs, cluster, events, github, merge, platform, render, timeouts)",
            ],
        ),
        (
            "platform: {repository: a/b}\napps: {repository: c/d}\ncluster: {type: minikube}\n"
            "timeouts: {failureGrace: soon}\nmerge: {method: rebase}\n",
            [
                "envbot.yaml: cluster.type: must be kubernetes, static or simulated",
                "envbot.yaml: timeouts.failureGrace: 'soon' is not a duration such as 30s, 10m or 2h",
                "envbot.yaml: merge.method: must be merge or squash",
            ],
        ),
        ("platform: {repository: 3}\napps: {repository: c/d}\n", ["envbot.yaml: platform.repository: must be a str"]),
    ],
)
def test_config_problems_are_reported_at_once(text: str, problems: list[str]) -> None:
    with pytest.raises(UserError) as caught:
        parse_config(text, "envbot.yaml")
    assert list(caught.value.problems) == problems


def test_config_defaults_and_github_detection(tmp_path: Path) -> None:
    config = parse_config("platform: {repository: acme/platform}\napps: {repository: ./apps.git}\n", "x", str(tmp_path))
    assert config.platform.is_github and not config.apps.is_github
    assert config.platform.base_branch == "main" and config.render.workspace_api.value == "tf.upbound.io/v1beta1"
    assert config.timeouts.failure_grace.total_seconds() == 600


def test_demo_runs_the_whole_lifecycle(tmp_path: Path, run: Run) -> None:
    code, out, err = run(
        "demo", "--workdir", str(tmp_path / "demo"), "--catalogs", str(CATALOGS), "--environment", str(SEED)
    )
    assert (code, err) == (0, "")
    flat = " ".join(out.split())
    assert (
        "Phases: Creating → Provisioning Infrastructure → Infrastructure Ready → Deploying Applications → Ready → "
        "Deleting → Deleted" in flat
    )
    assert "SIMULATION" in out
    merges = [line for line in out.splitlines() if "Merge pull request" in line]
    steps = [step for line in merges for step in ("/infrastructure", "/applications", "/cleanup-applications",
                                                   "/cleanup-infrastructure", "/remove-record") if step in line]  # fmt: skip
    assert steps == ["/infrastructure", "/applications", "/cleanup-applications", "/cleanup-infrastructure",
                     "/remove-record"]  # fmt: skip


def test_demo_from_any_folder_uses_the_catalogs_and_example_shipped_in_the_package(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no catalogs/ or examples/ here
    code, out, err = run("demo", "--workdir", str(tmp_path / "demo"))
    assert (code, err) == (0, "")
    assert "Phases: Creating → " in out and "Deleted" in out


def test_demo_catalogs_option_still_overrides_the_shipped_ones(tmp_path: Path, run: Run) -> None:
    empty = tmp_path / "no-catalogs"
    empty.mkdir()
    code, _, err = run("demo", "--workdir", str(tmp_path / "demo"), "--catalogs", str(empty))
    assert code == 1
    assert err.startswith("error: ") and "rds-postgres" in err
