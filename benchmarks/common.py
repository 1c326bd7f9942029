"""Shared by the benchmarks: paths, the fake clock, GitHub fakes on their own base URLs, and the machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The benchmarks reuse the tests' fakes (``tests.fakes``, ``tests.cluster``) without being tests. Only the project
# root goes on the path: ``tests/`` itself holds folders (``tests/secrets``) that would shadow the standard library.
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(1, str(PROJECT_ROOT))

import responses  # noqa: E402

from bot.forge.github import GitHubForge  # noqa: E402
from tests.fakes.github_api import FakeGitHub  # noqa: E402
from tests.webhooks import path_of  # noqa: E402

CATALOGS = PROJECT_ROOT / "catalogs"
EXAMPLE = PROJECT_ROOT / "examples" / "dev-feature-auth.yaml"
TOKEN = "ghs_benchmark-token-not-secret"
PING = path_of("ping/repository-hook")
"""The tests' own payloads (tests/fixtures/webhooks, ``tests.webhooks``) drive the benchmarks: no third-party data."""

PLATFORM_REPO = "acme/gitops-platform"
APPS_REPO = "acme/gitops-apps"
PLATFORM_URL = "https://platform.ghe.test/api/v3"
APPS_URL = "https://apps.ghe.test/api/v3"
SOURCE_URL = "https://source.ghe.test/api/v3"

START = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """The reconciler's and the simulated cluster's clock: ``sleep`` moves time on instead of waiting."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.current = start
        self.slept = 0.0

    def now(self) -> dt.datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.current += dt.timedelta(seconds=seconds)


@contextmanager
def github_fakes(
    source_repository: str, clock: FakeClock | None = None
) -> Iterator[tuple[FakeGitHub, FakeGitHub, FakeGitHub]]:
    """Three stateful GitHub fakes (platform, apps, source), each on its own base URL, on one ``responses`` mock;
    with ``clock``, GitHub's time is that clock's (commits and comments are stamped with it)."""
    timed = {"clock": clock.now} if clock is not None else {}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        platform_fake = FakeGitHub(repository=PLATFORM_REPO, base_url=PLATFORM_URL, **timed).install(mock)
        apps_fake = FakeGitHub(repository=APPS_REPO, base_url=APPS_URL, **timed).install(mock)
        source_fake = FakeGitHub(repository=source_repository, base_url=SOURCE_URL, **timed).install(mock)
        yield platform_fake, apps_fake, source_fake
        for fake in (platform_fake, apps_fake, source_fake):
            if fake.violations:
                raise RuntimeError(f"{fake.repository}: requests GitHub would refuse: {fake.violations}")


def forge_for(fake: FakeGitHub, *, blob_cache: Path | None = None) -> GitHubForge:
    """A GitHubForge on a fake; no spacing between writes (the fake needs none, and nothing may sleep)."""
    return GitHubForge(
        fake.repository, TOKEN, base_url=fake.base_url, seconds_between_writes=None, blob_cache=blob_cache
    )


def add_pull_request(fake: FakeGitHub, number: int, head: str, base: str = "main") -> None:
    """An open pull request on the source fake, its head branch created when missing."""
    if f"refs/heads/{head}" not in fake.refs:
        fake.seed({"README.md": f"{head}\n"}, branch=head)
    fake.pulls[number] = {
        "number": number,
        "title": f"Work on {head}",
        "body": "",
        "head": head,
        "base": base,
        "head_sha": fake.refs[f"refs/heads/{head}"],
        "state": "open",
        "labels": set(),
        "merged": False,
        "merge_sha": None,
    }


def rss_mb() -> float:
    """The current resident set size of this process."""
    with Path("/proc/self/statm").open(encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """The peak resident set size of this process's own memory since it started.

    That is ``VmHWM``: on Linux, ``ru_maxrss`` of a process started by another carries the starting process's
    size across fork and exec (a child of a 300 MB parent reports >= 300 MB), so it is read only where
    /proc is missing (ru_maxrss is in kilobytes on Linux).
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor() or platform.machine(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
    }
