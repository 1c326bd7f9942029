"""StaticCluster from YAML files and folders, label selectors, parsing, and snapshots grouped by environment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from bot.cluster import (
    APPLICATION,
    WORKSPACE,
    Cluster,
    ClusterConfigError,
    StaticCluster,
    observe,
    parse_selector,
)
from bot.cluster.model import observe_raw

from .cluster_support import application, workspace


def dump(path: Path, *docs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "observed"
    dump(root / "workspaces.yaml", workspace("pr-1-rds", "pr-1"), workspace("pr-2-rds", "pr-2"))
    dump(
        root / "apps" / "list.yml",
        {"apiVersion": "v1", "kind": "List", "items": [application("web", "pr-1"), application("api", "pr-2")]},
    )
    dump(
        root / "apps" / "other.yaml",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ignored"}},
        None,
        workspace("pr-1-ns", "pr-1", namespace="team-a"),
        workspace("unlabelled", None),
    )
    (root / "README.md").write_text("not yaml: [", encoding="utf-8")
    return root


def test_folder_of_multi_document_yaml(folder: Path) -> None:
    cluster = StaticCluster.from_path(folder)
    assert isinstance(cluster, Cluster)
    names = sorted(o.name for o in cluster.objects)
    assert names == ["api", "pr-1-ns", "pr-1-rds", "pr-2-rds", "unlabelled", "web"]
    assert [o.name for o in cluster.list(WORKSPACE)] == ["pr-1-rds", "pr-2-rds"]  # labelled ones only
    assert [o.name for o in cluster.list(WORKSPACE, "")] == ["pr-1-rds", "pr-2-rds", "unlabelled"]
    assert cluster.list(APPLICATION, namespace="elsewhere") == ()


def test_single_file(tmp_path: Path) -> None:
    path = dump(tmp_path / "one.yaml", workspace("pr-1-rds", "pr-1"))
    assert [o.name for o in StaticCluster.from_path(path).list(WORKSPACE)] == ["pr-1-rds"]


def test_observe_groups_by_environment_with_one_list_per_kind(folder: Path) -> None:
    cluster = StaticCluster.from_path(folder)
    snapshot = observe(cluster)
    assert snapshot.environments == ("pr-1", "pr-2")
    assert [o.name for o in snapshot.workspaces_of("pr-1")] == ["pr-1-ns", "pr-1-rds"]
    assert [o.name for o in snapshot.applications_of("pr-2")] == ["api"]
    assert snapshot.workspaces_of("pr-404") == ()
    assert cluster.api_calls == {
        "list workspaces.tf.upbound.io": 1,
        "list workspaces.tf.m.upbound.io": 1,
        "list applications.argoproj.io": 1,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("a: [1,\n", r"bad\.yaml:\d+: not valid YAML", id="yaml-syntax"),
        pytest.param(b"\xff\xfe\x00", "cannot read", id="not-utf8"),
    ],
)
def test_unreadable_files_are_one_line_user_errors(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "bad.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ClusterConfigError, match=message):
        StaticCluster.from_path(path)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ClusterConfigError, match="no such file or folder"):
        StaticCluster.from_path(tmp_path / "nope")


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        pytest.param("", {}, True, id="empty-matches-all"),
        pytest.param("envbot.io/environment", {"envbot.io/environment": "pr-1"}, True, id="exists"),
        pytest.param("envbot.io/environment", {"other": "x"}, False, id="exists-missing"),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_selector(selector).matches(labels) is matches


@pytest.mark.parametrize("selector", ["a,,b", "bad key!", "a=in valid", "-a"])
def test_malformed_selectors_are_refused(selector: str) -> None:
    with pytest.raises(ClusterConfigError, match="label selector"):
        parse_selector(selector)


def test_parsing_keeps_only_what_the_verdicts_need_and_is_read_only() -> None:
    raw = workspace(
        "pr-1-rds", "pr-1", secret={"name": "conn", "namespace": "pr-1"}, deleting_since="2025-06-01T11:00:00Z"
    )
    obj = observe_raw(raw, WORKSPACE)
    assert obj.kind == "Workspace"
    assert obj.api_version == "tf.upbound.io/v1beta1"
    assert obj.namespace is None
    assert obj.catalog == "rds"
    assert obj.generation == 1
    assert obj.deletion_timestamp == dt.datetime(2025, 6, 1, 11, 0, tzinfo=dt.UTC)
    assert obj.finalizers == ("finalizer.managedresource.crossplane.io",)
    assert set(obj.spec) == {"writeConnectionSecretToRef"}  # the inline module is dropped
    with pytest.raises(TypeError):
        obj.labels["x"] = "y"  # type: ignore[index]
    assert hash(obj) == hash(observe_raw(raw, WORKSPACE))
    assert obj == observe_raw(raw, WORKSPACE)


def test_only_the_status_fields_the_verdicts_read_are_kept() -> None:
    obj = observe_raw(application("web", "pr-1"), APPLICATION)
    assert obj.status is not None
    assert set(obj.status) == {"sync", "health", "operationState", "reconciledAt"}  # no history, no sourceType
    assert set(obj.spec) == {"project", "source", "destination"}


def test_malformed_fields_do_not_crash_parsing() -> None:
    raw = {
        "apiVersion": "tf.upbound.io/v1beta1",
        "kind": "Workspace",
        "metadata": {"name": "x", "generation": "seven", "labels": None, "finalizers": "nope"},
        "status": {"conditions": [{"type": "Ready", "lastTransitionTime": "yesterday"}, "junk", {"status": "True"}]},
    }
    obj = observe_raw(raw, WORKSPACE)
    assert obj.generation is None
    assert obj.finalizers == ()
    assert [c.type for c in obj.conditions] == ["Ready"]
    assert obj.conditions[0].last_transition_time is None
