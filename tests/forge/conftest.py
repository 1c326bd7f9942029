"""Fixtures for the forge tests: git with no global identity, and the same scenario on each forge."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import responses
from manual_clock import ManualClock

from bot.forge.local import LocalForge
from tests.fakes.github_api import FakeGitHub, RestApi, own_api, upstream_api
from tests.fakes.memory_forge import MemoryForge
from tests.forge.support import (
    IDENTITY,
    SEED,
    GitHubHarness,
    Harness,
    LocalHarness,
    MemoryHarness,
    github_forge,
    make_bare_repo,
)


@pytest.fixture(autouse=True)
def no_git_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every forge test as on a machine with no global or system git configuration (no user.name)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "absent-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in IDENTITY:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    """pytest-httpserver on the loopback address only."""
    return ("127.0.0.1", 0)


@contextmanager
def seeded_fake(api: RestApi, clock: ManualClock | None = None) -> Iterator[FakeGitHub]:
    """The GitHub fake on ``responses``, seeded with ``SEED`` on main; fails the test on any request ``api`` refuses
    and on any answer it contradicts. ``clock`` is GitHub's time (a fixed instant by default)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub(api=api, clock=clock or ManualClock()).install(mock)
        fake.seed(SEED)
        yield fake
        assert fake.violations == []
        assert [problem for call in fake.calls for problem in api.reply_problems(call)] == []


@pytest.fixture
def github_fake() -> Iterator[FakeGitHub]:
    """The GitHub fake on the project's own description of GitHub's REST API."""
    with seeded_fake(own_api()) as fake:
        yield fake


@pytest.fixture(params=["github", pytest.param("github-openapi", marks=pytest.mark.conformance), "local", "memory"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The same scenario against GitHubForge (on the fake, which checks each request against the project's own
    description, or, in the conformance tier, against GitHub's OpenAPI description), LocalForge (on a bare
    repository) and MemoryForge (the tests' in-memory forge); all keep time by one manual clock
    (``harness.clock``)."""
    clock = ManualClock()
    if request.param == "memory":
        yield MemoryHarness(MemoryForge.initialize(SEED, clock=clock), clock)
        return
    if request.param == "local":
        bare = make_bare_repo(tmp_path, SEED)
        with LocalForge(bare, clock=clock) as forge:
            yield LocalHarness(bare, forge, clock)
        return
    with seeded_fake(upstream_api() if request.param == "github-openapi" else own_api(), clock) as fake:
        yield GitHubHarness(fake, github_forge(fake), clock)
