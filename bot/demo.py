"""``envbot demo``: the whole lifecycle on local bare repositories and a SIMULATED cluster, with live progress."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from bot.catalog_files import load_catalogs
from bot.clock import WALL_CLOCK, Timebase
from bot.environment.bind import bind_environment
from bot.environment.spec import parse_environment
from bot.errors import UserError
from bot.forge.local import LocalForge
from bot.reconcile.model import Phase
from bot.reconcile.runner import Reconciler
from bot.report.progress import Timeline
from bot.report.pull_requests import WORDING
from bot.report.status import status_row, status_table
from bot.report.text import render_text
from bot.simulation import SimulatedCluster

DEMO_TIMEOUT = dt.timedelta(minutes=3)
POLL_SECONDS = 0.25


def _history(console: Any, repositories: dict[str, LocalForge]) -> None:
    """Both main branches as one timeline, oldest first, so the order across repositories shows."""
    from rich.markup import escape
    from rich.table import Table

    entries = [
        (when, sequence, name, short, subject)
        for name, forge in repositories.items()
        for sequence, (short, when, subject) in enumerate(reversed(forge.history("main")))
    ]
    table = Table(title="main-branch history of both repositories, oldest first", title_justify="left")
    for column in ("time", "repository", "commit", "title"):
        table.add_column(column, overflow="fold")
    for when, _, name, short, subject in sorted(entries, key=lambda e: (e[0], e[1])):
        table.add_row(when.strftime("%H:%M:%S"), name, short, escape(subject))
    console.print(table)


def run_demo(
    workdir: Path | None,
    catalogs_dir: Path,
    environment_file: Path,
    console: Any,
    timebase: Timebase = WALL_CLOCK,
) -> Path:
    """Provision the example environment through every phase, show it, then destroy it; returns the workdir."""
    catalogs = load_catalogs(catalogs_dir)
    try:
        text = environment_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{environment_file}: environment file not found") from None
    environment = parse_environment(text, environment_file.as_posix())
    bind_environment(environment, catalogs)

    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="envbot-demo-"))
    elif workdir.exists() and any(workdir.iterdir()):
        raise UserError(f"{workdir}: the demo needs a new or empty folder")
    readme = render_text("demo_repository_readme.md.j2")
    platform = LocalForge.initialize(workdir / "platform.git", {"README.md": readme})
    apps = LocalForge.initialize(workdir / "apps.git", {"README.md": readme})
    cluster = SimulatedCluster(platform, apps, catalogs, clock=timebase.clock)
    reconciler = Reconciler(
        platform=platform,
        apps=apps,
        cluster=cluster,
        catalogs=catalogs,
        wording=WORDING,
        clock=timebase.clock,
        sleep=timebase.sleep,
    )

    console.print(render_text("demo_banner.txt.j2", workdir=workdir.as_posix(), environment=environment.name))
    timeline = Timeline(console, timebase, timebase.clock())
    with console.status("starting", spinner="dots") as status:
        timeline.status = status
        final = reconciler.run(
            environment.name,
            environment,
            wait=True,
            timeout=DEMO_TIMEOUT,
            poll_interval=POLL_SECONDS,
            on_pass=timeline,
        )
    if final.decision.phase is not Phase.READY:
        raise UserError(
            f"demo: environment {environment.name} ended {final.decision.phase.value}: {final.decision.waiting_on}"
        )
    console.print()
    console.print(status_table([status_row(final.decision)], timebase.clock()))

    console.print()
    console.print(f"[bold]Destroying {environment.name}[/bold]: applications first, then infrastructure.")
    timeline.outcome(reconciler.request_deletion(environment.name, requested_by="envbot demo"))
    with console.status("starting cleanup", spinner="dots") as status:
        timeline.status = status
        final = reconciler.run(
            environment.name, wait=True, timeout=DEMO_TIMEOUT, poll_interval=POLL_SECONDS, on_pass=timeline
        )
    if final.decision.phase is not Phase.DELETED:
        raise UserError(f"demo: cleanup of {environment.name} ended {final.decision.phase.value}")
    console.print()
    _history(console, {"platform": platform, "apps": apps})
    console.print()
    console.print(f"Phases: {' → '.join(p.value for p in timeline.phases)}")
    console.print(render_text("demo_done.txt.j2", workdir=workdir.as_posix()))
    platform.close()
    apps.close()
    return workdir
