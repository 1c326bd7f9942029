"""Fixtures for the forge tests: git with no global identity, and the same scenario on each forge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from bot.forge.local import LocalForge
from tests.fakes.github_api import FakeGitHub
from tests.forge.support import IDENTITY, SEED, GitHubHarness, Harness, LocalHarness, github_forge, make_bare_repo


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


@pytest.fixture
def github_fake() -> Iterator[FakeGitHub]:
    """The GitHub fake on ``responses``, seeded with ``SEED`` on main; fails the test on any spec violation."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGitHub().install(mock)
        fake.seed(SEED)
        yield fake
        assert fake.violations == []


@pytest.fixture(params=["github", "local"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """The same scenario against GitHubForge (on the fake) and LocalForge (on a bare repository)."""
    if request.param == "github":
        fake = request.getfixturevalue("github_fake")
        yield GitHubHarness(fake, github_forge(fake))
    else:
        bare = make_bare_repo(tmp_path, SEED)
        with LocalForge(bare) as forge:
            yield LocalHarness(bare, forge)
