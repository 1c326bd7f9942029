"""GitHubForge's disk cache of blobs (``ENVBOT_CACHE_DIR/blobs/<sha>``) on the fake: a file restored from another
run's cache is used only when it hashes to its name, so a planted, truncated or broken cache never becomes data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from manual_clock import ManualClock
from project_paths import CATALOGS, EXAMPLES

from bot.catalog_files import load_catalogs
from bot.cluster.static import StaticCluster
from bot.environment.bind import bind_environment
from bot.environment.record import record_text
from bot.environment.spec import parse_environment
from bot.forge.github import GitHubForge, _blob_sha
from bot.reconcile.runner import Reconciler
from bot.report.pull_requests import WORDING
from tests.fakes.github_api import FakeGitHub
from tests.forge.support import github_forge

ENV = "dev-feature-auth"
RECORD = f"registry/environments/{ENV}/environment.yaml"
APPS_URL = "https://apps.ghe.test/api/v3"


def real_record() -> str:
    """The record envbot writes for the example environment."""
    environment = parse_environment((EXAMPLES / f"{ENV}.yaml").read_text(encoding="utf-8"), f"{ENV}.yaml")
    return record_text(bind_environment(environment, load_catalogs(CATALOGS)))


@pytest.fixture
def fakes() -> Iterator[tuple[FakeGitHub, FakeGitHub]]:
    """The platform repository (holding the example's record) and the apps repository, on one mock."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        platform = FakeGitHub(repository="acme/gitops-platform").install(mock)
        apps = FakeGitHub(repository="acme/gitops-apps", base_url=APPS_URL).install(mock)
        platform.seed({"README.md": "platform\n", RECORD: real_record()})
        apps.seed({"README.md": "apps\n"})
        yield platform, apps
        assert platform.violations == [] and apps.violations == []


def reconciler(fakes: tuple[FakeGitHub, FakeGitHub], cache: Path) -> Reconciler:
    """A new run's reconciler: new forges over the fakes, sharing the disk cache ``cache``."""
    platform, apps = fakes
    clock = ManualClock()
    return Reconciler(
        platform=github_forge(platform, blob_cache=cache),
        apps=github_forge(apps, blob_cache=cache),
        cluster=StaticCluster(),
        catalogs=load_catalogs(CATALOGS),
        wording=WORDING,
        clock=clock,
        sleep=clock.sleep,
    )


def owner_seen(fakes: tuple[FakeGitHub, FakeGitHub], cache: Path) -> str:
    """The owner of the environment as envbot reads it from the platform repository's record."""
    record = reconciler(fakes, cache).observe(ENV).record
    assert record is not None
    return record.environment.owner


def blob_reads(fake: FakeGitHub) -> int:
    return fake.count("git/get-blob")


def test_a_planted_record_under_the_real_records_sha_is_dropped_and_the_real_one_read(
    fakes: tuple[FakeGitHub, FakeGitHub], tmp_path: Path
) -> None:
    real = real_record()
    forged = real.replace("owner: alice", "owner: mallory")
    assert forged != real
    cache = tmp_path / "blobs"
    cache.mkdir()
    planted = cache / _blob_sha(real)
    planted.write_text(forged, encoding="utf-8")  # as another run's restored cache could hold it

    assert owner_seen(fakes, cache) == "alice"

    assert blob_reads(fakes[0]) == 1  # fetched again from GitHub
    assert planted.read_text(encoding="utf-8") == real  # and the cache now holds the real blob
    assert owner_seen(fakes, cache) == "alice"
    assert blob_reads(fakes[0]) == 1  # a sound cache entry is used as before: no request


def test_a_truncated_cache_file_is_fetched_again(fakes: tuple[FakeGitHub, FakeGitHub], tmp_path: Path) -> None:
    real = real_record()
    cache = tmp_path / "blobs"
    cache.mkdir()
    (cache / _blob_sha(real)).write_bytes(real.encode()[: len(real) // 2])  # a crash half-way through a write

    assert owner_seen(fakes, cache) == "alice"
    assert (cache / _blob_sha(real)).read_text(encoding="utf-8") == real


@pytest.mark.parametrize("broken", ["cache-is-a-file", "blob-is-a-folder", "binary-junk"])
def test_a_cache_that_cannot_be_used_does_not_break_a_run(
    fakes: tuple[FakeGitHub, FakeGitHub], tmp_path: Path, broken: str
) -> None:
    cache = tmp_path / "blobs"
    sha = _blob_sha(real_record())
    if broken == "cache-is-a-file":
        cache.write_text("not a folder\n", encoding="utf-8")
    elif broken == "blob-is-a-folder":
        (cache / sha).mkdir(parents=True)
    else:
        cache.mkdir()
        (cache / sha).write_bytes(b"\xff\xfe owner: mallory\n")

    assert owner_seen(fakes, cache) == "alice"
    assert owner_seen(fakes, cache) == "alice"


def test_cache_files_are_written_whole_or_not_at_all(
    github_fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "kind: Environment\nname: atomic\n"
    github_fake.seed({"registry/atomic.yaml": text})
    cache = tmp_path / "blobs"

    def crash(source: Path, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", crash)  # the rename that would put the file in place fails
    forge = github_forge(github_fake, blob_cache=cache)
    forge.list_tree("registry", "main")
    assert forge.read_file("registry/atomic.yaml", "main") == text
    assert list(cache.iterdir()) == []  # no half file under the blob's name, no temporary file left behind

    monkeypatch.undo()
    forge = github_forge(github_fake, blob_cache=cache)
    forge.list_tree("registry", "main")
    assert forge.read_file("registry/atomic.yaml", "main") == text
    assert [p.name for p in cache.iterdir()] == [_blob_sha(text)]
    assert (cache / _blob_sha(text)).read_bytes() == text.encode()


def test_the_cache_is_keyed_by_the_blob_sha_github_names(github_fake: FakeGitHub, tmp_path: Path) -> None:
    text = "line one\r\nline two é\n"  # bytes on disk are the blob's bytes: no newline translation, UTF-8
    github_fake.seed({"registry/crlf.txt": text})
    forge: GitHubForge = github_forge(github_fake, blob_cache=tmp_path)
    (path,) = forge.list_tree("registry", "main")

    assert forge.read_file(path, "main") == text

    (cached,) = tmp_path.iterdir()
    assert cached.read_bytes() == text.encode() and cached.name in github_fake.blobs
