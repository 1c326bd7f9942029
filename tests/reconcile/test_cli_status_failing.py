"""A Workspace error inside the grace period: ``envbot status`` and the sticky comment say for how long, the limit,
and the controller's own words (as data)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.cli import main
from bot.config import load_config
from bot.connect import build_reconciler
from bot.forge.local import LocalForge
from bot.report.comment import status_comment
from bot.report.status import status_row

WORKSPACE_FILE = "registry/environments/dev-feature-auth/infrastructure/rds-postgres.yaml"
MESSAGE = "apply failed: [bold]Error[/bold] creating DB instance <dev-feature-auth>"
FAILING = (
    "0/1 Workspaces Available; waiting on workspaces.tf.upbound.io/dev-feature-auth-rds-postgres: provider-terraform "
    f"reports ReconcileError for 2m, Failed after 10m unless it recovers: {MESSAGE}"
)


def _timestamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _failing_workspace(merged: str, since: dt.datetime) -> dict[str, Any]:
    """The merged Workspace as provider-terraform reports it: its apply fails since ``since``."""
    workspace = yaml.safe_load(merged)
    workspace["metadata"]["generation"] = 1
    at = _timestamp(since)
    workspace["status"] = {
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Synced",
                "status": "False",
                "reason": "ReconcileError",
                "lastTransitionTime": at,
                "message": MESSAGE,
            },
            {"type": "Ready", "status": "False", "reason": "Creating", "lastTransitionTime": at},
        ],
    }
    return dict(workspace)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, ManualClock]:
    LocalForge.initialize(tmp_path / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(tmp_path / "apps.git", {"README.md": "apps\n"})
    (tmp_path / "cluster").mkdir()
    config = tmp_path / "envbot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": "./platform.git"},
                "apps": {"repository": "./apps.git"},
                "catalogs": str(CATALOGS),
                "cluster": {"type": "static", "path": "cluster"},
                "timeouts": {"failureGrace": "10m"},
            }
        )
    )
    return config, ManualClock()


def test_a_failing_workspace_shows_for_how_long_the_limit_and_the_message(
    world: tuple[Path, ManualClock], capsys: pytest.CaptureFixture[str]
) -> None:
    config, clock = world
    assert (
        main(["provision", str(EXAMPLES / "dev-feature-auth.yaml"), "--config", str(config)], timebase=clock.timebase)
        == 0
    )
    merged = LocalForge(config.parent / "platform.git").read_file(WORKSPACE_FILE, "main")
    assert merged is not None, "the platform PR is merged on the first run"
    (config.parent / "cluster" / "workspace.yaml").write_text(
        yaml.safe_dump(_failing_workspace(merged, clock.now - dt.timedelta(minutes=2)))
    )
    capsys.readouterr()

    assert main(["status", "--config", str(config), "--json"], timebase=clock.timebase) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["phase"], row["waitingOn"], row["failure"]) == ("Provisioning Infrastructure", FAILING, None)

    assert main(["status", "--config", str(config)], timebase=clock.timebase) == 0
    table = capsys.readouterr().out
    waiting_column = "".join(line.split("│")[4] for line in table.splitlines() if line.count("│") == 6)
    assert waiting_column.replace(" ", "") == FAILING.replace(" ", ""), "the message is shown as written, not as markup"

    (decision,) = build_reconciler(load_config(config), clock.timebase).decisions(["dev-feature-auth"])
    comment = status_comment(status_row(decision), clock.now)
    assert "ReconcileError for 2m, Failed after 10m unless it recovers: apply failed:" in comment
    assert "[bold]Error[/bold] creating DB instance" in comment and "<dev-feature-auth>" not in comment
