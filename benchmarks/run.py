"""envbot's benchmarks in one run: ``python benchmarks/run.py [--json FILE] [--quick] [--profile DIR]``.

Run from the project root with the project's virtualenv. Prints a table; ``--json FILE`` writes the figures.
``--quick`` skips the n = 1000 sweep (and with it ``sweep_peak_mb``, written as null) and measures shorter.
Performance is checked here, never by timed tests. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common
import latency
import parsing
import provision
import render
import startup
import sweep
from rich.console import Console
from rich.table import Table

PAGE_SIZE_KUBE = 500
PAGE_SIZE_GITHUB = 100


def expected_sweep_requests(n: int) -> tuple[int, int]:
    """What an unchanged sweep should cost: (GitHub, Kubernetes) requests, pages included.

    GitHub: the pre-flight's check of each GitOps repository's base branch, one tree listing per GitOps repository,
    one listing of each GitOps repository's open pull requests (envbot's pull requests that may have to be
    withdrawn, and first pull requests not merged yet; none here, so one page each), one listing of the source's
    branches (answered whole) and the source's pull request listing (100 a page; the last page is the first with
    fewer than 100). Kubernetes: one list per kind (cluster-scoped and namespaced Workspaces, Applications), 500
    objects a page.
    """
    pulls = n // 2  # odd environments come from a pull request, even ones from a branch
    github = 6 + (1 if n - pulls else 0) + (pulls // PAGE_SIZE_GITHUB + 1 if pulls else 0)
    workspaces, applications = n, 2 * n  # the seed example: one Workspace and two Applications each
    kube = sum(max(1, math.ceil(count / PAGE_SIZE_KUBE)) for count in (workspaces, 0, applications))
    return github, kube


def mark(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]✓[/green]" if ok else "[red]✗ missed[/red]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--quick", action="store_true", help="skip n = 1000 and measure for less time")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="write cProfile data of render and sweep to DIR")
    options = parser.parse_args(argv)
    console = Console(stderr=True)
    out = Console()
    if not out.is_terminal:
        out = Console(width=170)  # a file or a pipe: wide enough that each figure stays on one line
    started = time.perf_counter()
    machine = common.machine()
    if options.profile is not None:
        options.profile.mkdir(parents=True, exist_ok=True)

    with console.status("provisioning the seed example through the GitHub fakes..."):
        provisioned = provision.run()
    console.log("provision: done")
    with console.status("rendering on one core..."):
        rendered = render.measure(
            seconds=0.5 if options.quick else 1.5,
            rounds=3,
            profile=options.profile / "render.prof" if options.profile else None,
        )
    console.log("render: done")
    with console.status("starting processes..."):
        started_up = startup.measure()
    console.log("startup: done")
    with console.status("parsing hostile comment bodies..."):
        parsed = parsing.measure()
    console.log("parsing: done")
    with console.status("the agent: a Workspace turns Available in the Kubernetes emulator..."):
        waited = latency.run()
    console.log("latency: done")
    sizes = sweep.SIZES[:-1] if options.quick else sweep.SIZES
    profile = options.profile / f"sweep-{max(sizes)}.prof" if options.profile else None
    with (
        console.status(f"sweeping n = {', '.join(map(str, sizes))} (each sweep in its own process)..."),
        tempfile.TemporaryDirectory(prefix="envbot-bench-") as tmp,
    ):
        swept = sweep.measure(sizes, Path(tmp), profile)
    console.log("sweep: done")

    seed, sixty, scheduled = provisioned["seed"], provisioned["60 files"], provisioned["seed, scheduled sweeps"]
    settled = provisioned["seed, default 2m settle"]
    peak = swept[1000]["warm"].peak_mb if 1000 in swept else None
    figures: dict[str, Any] = {
        "github_requests_provision": seed.requests,
        "github_requests_provision_60_files": sixty.requests,
        "sweep": [swept[n]["warm"].public() for n in sizes],
        "render_envs_per_s": round(rendered.envs_per_s, 1),
        "render_ratio_to_baseline": round(rendered.ratio, 3),
        "startup_help_s": round(started_up.help_s, 3),
        "startup_noop_event_s": round(started_up.noop_event_s, 3),
        "comment_parse_worst_s": round(parsed.worst_s, 4),
        "sweep_peak_mb": round(peak, 1) if peak is not None else None,
        "agent_available_to_app_merged": waited.as_dict(),
        "machine": machine,
    }

    title = (
        f"envbot benchmarks — {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['implementation']} {machine['python']}, {machine['system']}"
    )
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_column("")
    table.add_column("what it is")
    by_forge = ", ".join(f"{k} {v}" for k, v in seed.by_forge.items())
    table.add_row(
        "github_requests_provision", str(seed.requests), "≤ 25", mark(seed.requests <= 25),
        f"/provision comment → Ready in one waiting run, merge.settle 0s (no CI) ({by_forge}); comment: "
        f"{seed.comment}, status: {seed.status}",
    )  # fmt: skip
    table.add_row(
        "github_requests_provision_60_files", str(sixty.requests), f"= {seed.requests}",
        mark(sixty.requests == seed.requests), "the same with 60 templates / .tf files per catalog",
    )  # fmt: skip
    table.add_row(
        "  (for information)", str(scheduled.requests), "", "",
        f"the same driven by {scheduled.events - 1} later schedule events instead of waiting; "
        f"comment left at: {scheduled.comment}, status: {scheduled.status}",
    )  # fmt: skip
    table.add_row(
        "  (for information)", str(settled.requests), "", "",
        f"the same waiting run with the default merge.settle of 2m (the fakes have no CI): each PR waits its "
        f"settle time in one sleep, then is weighed again; {settled.simulated_seconds:.0f} s on the fake clock",
    )  # fmt: skip
    for n in sizes:
        warm, cold = swept[n]["warm"], swept[n]["cold"]
        github, kube = expected_sweep_requests(n)
        ok = warm.github_requests <= github and warm.kube_requests <= kube
        table.add_row(
            f"sweep n={n}",
            f"GitHub {warm.github_requests}, kube {warm.kube_requests}, {warm.seconds:.2f} s",
            f"GitHub {github}, kube {kube}",
            mark(ok),
            f"steady state (warm blob cache, new process); cold: GitHub {cold.github_requests}, "
            f"kube {cold.kube_requests}, {cold.seconds:.2f} s; child peak {warm.peak_mb:.0f} MB "
            f"(cold {cold.peak_mb:.0f} MB)",
        )
    table.add_row(
        "render_envs_per_s", f"{rendered.envs_per_s:.0f}", "≥ 1000", mark(rendered.envs_per_s >= 1000),
        f"seed example parse + bind + render with outputs, one core: {rendered.ms_per_env:.2f} ms, "
        f"{rendered.files} files",
    )  # fmt: skip
    table.add_row(
        "render_ratio_to_baseline", f"{rendered.ratio:.2f}", "≤ 2", mark(rendered.ratio <= 2),
        f"plain Jinja2 + PyYAML writing the same documents: {rendered.baseline_ms_per_env:.2f} ms",
    )  # fmt: skip
    table.add_row(
        "startup_help_s", f"{started_up.help_s:.3f}", "≤ 0.3", mark(started_up.help_s <= 0.3),
        "python -m bot --help, median of 5 processes",
    )  # fmt: skip
    table.add_row(
        "startup_noop_event_s", f"{started_up.noop_event_s:.3f}", "", "",
        "python -m bot handle-event on a ping payload (ignored), median of 5",
    )  # fmt: skip
    table.add_row(
        "comment_parse_worst_s", f"{parsed.worst_s:.4f}", "≤ 0.5", mark(parsed.worst_s <= 0.5),
        f"slowest parse_comment over {parsed.bodies} hostile bodies (up to {parsed.largest_chars:,} characters)",
    )  # fmt: skip
    if peak is not None:
        before = swept[1000]["warm"].rss_before_mb
        table.add_row(
            "sweep_peak_mb", f"{peak:.0f}", "≤ 200", mark(peak <= 200),
            f"peak RSS (VmHWM) of the process of the n=1000 steady-state sweep; {before:.0f} MB before it "
            "(interpreter, clients, the GitHub fakes' data)",
        )  # fmt: skip
    else:
        table.add_row("sweep_peak_mb", "—", "≤ 200", "", "not measured with --quick (n = 1000 is skipped)")
    within = waited.debounce_s <= latency.TIMING.debounce.total_seconds()
    table.add_row(
        "agent_available_to_app_merged", f"{waited.debounce_s:.1f} s + {waited.reconcile_wall_s:.2f} s",
        "≤ 1 debounce + the merge", mark(within),
        f"watch event → app PR merged by the agent ({waited.github_requests} GitHub requests in that reconcile); "
        f"the Action alone: the next scheduled run, up to {waited.action_only_s / 60:.0f} min later",
    )  # fmt: skip
    out.print(table)
    console.log(f"all figures in {time.perf_counter() - started:.0f} s")

    if options.json is not None:
        options.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        console.log(f"wrote {options.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
