"""StaticCluster.from_path re-reads its files on every call, so edits made while a command waits are seen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from bot.cluster import APPLICATION, WORKSPACE, ClusterConfigError, StaticCluster
from bot.cluster import static as static_module

from .cluster_support import application, workspace


def dump(path: Path, *docs: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")


def age(path: Path, seconds: float = 3600) -> None:
    """Date the file back, out of the window in which its timestamp could hide a second edit."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - int(seconds * 1e9)))


def test_edits_additions_and_removals_are_seen_by_the_next_call(tmp_path: Path) -> None:
    dump(tmp_path / "workspaces.yaml", workspace("pr-1-rds", "pr-1"))
    cluster = StaticCluster.from_path(tmp_path)
    assert [o.name for o in cluster.list(WORKSPACE)] == ["pr-1-rds"]

    dump(tmp_path / "workspaces.yaml", workspace("pr-1-rds", "pr-1"), workspace("pr-2-rds", "pr-2"))
    assert [o.name for o in cluster.list(WORKSPACE)] == ["pr-1-rds", "pr-2-rds"]

    dump(tmp_path / "apps" / "web.yaml", application("web", "pr-1"))
    assert [o.name for o in cluster.list(APPLICATION)] == ["web"]

    (tmp_path / "workspaces.yaml").unlink()
    assert cluster.list(WORKSPACE) == ()
    assert [o.name for o in cluster.objects] == ["web"]


def test_an_edit_of_the_same_size_within_the_same_timestamp_is_seen(tmp_path: Path) -> None:
    """Timestamps are coarser than edits: a file modified "just now" (here: dated ahead) has its bytes compared."""
    path = tmp_path / "one.yaml"
    dump(path, workspace("pr-1-rds", "pr-1"))
    age(path, -3600)
    stamp = path.stat().st_mtime_ns
    cluster = StaticCluster.from_path(path)
    assert [o.name for o in cluster.list(WORKSPACE)] == ["pr-1-rds"]
    dump(path, workspace("pr-1-rdx", "pr-1"))  # same length, same inode, and the timestamp put back
    os.utime(path, ns=(stamp, stamp))
    assert [o.name for o in cluster.list(WORKSPACE)] == ["pr-1-rdx"]


def test_unchanged_files_are_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dump(tmp_path / "a.yaml", workspace("pr-1-rds", "pr-1"))
    dump(tmp_path / "b.yaml", application("web", "pr-1"))
    age(tmp_path / "a.yaml")
    age(tmp_path / "b.yaml")
    cluster = StaticCluster.from_path(tmp_path)
    first = cluster.objects
    parsed: list[Path] = []
    real_parse = static_module._parse

    def counting_parse(file: Path, data: bytes) -> tuple[object, ...]:
        parsed.append(file)
        return real_parse(file, data)

    monkeypatch.setattr(static_module, "_parse", counting_parse)
    assert cluster.objects is first
    assert len(cluster.list(WORKSPACE)) == 1 and parsed == []

    dump(tmp_path / "b.yaml", application("api", "pr-1"))
    assert [o.name for o in cluster.list(APPLICATION)] == ["api"]
    assert parsed == [tmp_path / "b.yaml"]


def test_a_broken_edit_is_a_one_line_error_and_the_folder_must_stay(tmp_path: Path) -> None:
    dump(tmp_path / "w.yaml", workspace("pr-1-rds", "pr-1"))
    cluster = StaticCluster.from_path(tmp_path / "w.yaml")
    (tmp_path / "w.yaml").write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(ClusterConfigError, match=r"w\.yaml:\d+: not valid YAML"):
        cluster.list(WORKSPACE)
    (tmp_path / "w.yaml").unlink()
    with pytest.raises(ClusterConfigError, match="no such file or folder"):
        cluster.list(WORKSPACE)
