"""Figure 4: wall time of whole ``python -m bot`` processes: ``--help``, and ``handle-event`` on an ignored event."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import PING

RUNS = 5


@dataclass
class StartupFigure:
    help_s: float
    noop_event_s: float
    help_runs: list[float]
    noop_runs: list[float]


def _clean_environ() -> dict[str, str]:
    """The current environment without anything GitHub Actions would set (the event comes from the options)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ENVBOT_"))}


def _timed(command: Sequence[str], cwd: Path, expect: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=_clean_environ(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or expect not in done.stdout:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-2000:]}"
        )
    return elapsed


def measure(runs: int = RUNS) -> StartupFigure:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="envbot-bench-startup-") as tmp:
        root = Path(tmp)
        (root / "envbot.yaml").write_text(
            yaml.safe_dump(
                {"platform": {"repository": "acme/gitops-platform"}, "apps": {"repository": "acme/gitops-apps"}}
            ),
            encoding="utf-8",
        )
        shutil.copy(PING, root / "ping.json")
        help_command = [python, "-m", "bot", "--help"]
        noop_command = [
            python, "-m", "bot", "handle-event", "--event-name", "ping", "--event-path", "ping.json",
            "--config", "envbot.yaml",
        ]  # fmt: skip
        # One untimed run of each first, so byte-code caches are written before anything is timed.
        _timed(help_command, root, "handle-event")
        _timed(noop_command, root, "nothing to do")
        help_runs = [_timed(help_command, root, "handle-event") for _ in range(runs)]
        noop_runs = [_timed(noop_command, root, "nothing to do") for _ in range(runs)]
    return StartupFigure(statistics.median(help_runs), statistics.median(noop_runs), help_runs, noop_runs)
