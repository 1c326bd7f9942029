"""Terraform outputs: every JSON type typed and read-only; sensitive ones only by connection Secret name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kube_schemas import validate, validate_upstream

from bot.cluster import (
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    ConnectionSecretRef,
    OutputNotFoundError,
    OutputType,
    workspace_outputs,
)
from bot.cluster.model import observe_raw, thaw

from .cluster_support import workspace

OUTPUTS = {
    "endpoint": "pr-42.abcdefgh.eu-west-1.rds.amazonaws.com",
    "port": 5432,
    "cpu_share": 0.25,
    "multi_az": False,
    "subnet_data": {"id": "subnet-0a1b", "arn": "arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0a1b"},
    "zones": ["eu-west-1a", "eu-west-1b"],
    "replica": None,
}


def every_json_type() -> dict[str, Any]:
    """A cluster-scoped Workspace whose outputs hold every JSON type."""
    return workspace("pr-42-rds", outputs=OUTPUTS, secret={"name": "pr-42-rds-conn", "namespace": "pr-42"})


def namespaced_with_secret() -> dict[str, Any]:
    """A namespaced Workspace whose connection Secret goes to its own namespace."""
    return workspace("pr-42-rds", namespace="team-a", outputs={}, secret={"name": "rds-conn"})


def test_every_json_type_is_read_and_typed() -> None:
    raw = every_json_type()
    validate(raw)  # the CRD keeps outputs as free-form JSON (x-kubernetes-preserve-unknown-fields)
    result = workspace_outputs(observe_raw(raw, WORKSPACE))
    types = {name: out.type for name, out in result.outputs.items()}
    assert types == {
        "endpoint": OutputType.STRING,
        "port": OutputType.NUMBER,
        "cpu_share": OutputType.NUMBER,
        "multi_az": OutputType.BOOL,
        "subnet_data": OutputType.OBJECT,
        "zones": OutputType.LIST,
        "replica": OutputType.NULL,
    }
    assert result.value("endpoint") == OUTPUTS["endpoint"]
    assert result.value("port") == 5432
    assert result.value("multi_az") is False
    assert result.value("zones") == ("eu-west-1a", "eu-west-1b")
    subnet = result.value("subnet_data")
    assert isinstance(subnet, dict) is False  # read-only mapping, not a dict anyone could mutate
    assert json.loads(json.dumps(thaw(subnet))) == OUTPUTS["subnet_data"]
    with pytest.raises(TypeError):
        subnet["id"] = "changed"  # type: ignore[index]


def test_connection_secret_is_a_reference_only() -> None:
    raw = workspace("pr-42-rds", outputs={"endpoint": "db"}, secret={"name": "pr-42-rds-conn", "namespace": "pr-42"})
    result = workspace_outputs(observe_raw(raw, WORKSPACE), sensitive=["password"])
    assert result.connection_secret == ConnectionSecretRef(name="pr-42-rds-conn", namespace="pr-42")
    with pytest.raises(
        OutputNotFoundError, match=r"'password' is sensitive; reference it from Secret pr-42/pr-42-rds-conn"
    ):
        result.value("password")


def test_an_output_declared_sensitive_is_never_taken_even_if_terraform_exposed_it() -> None:
    raw = workspace("pr-42-rds", outputs={"endpoint": "db", "admin_password": "hunter2"})
    result = workspace_outputs(observe_raw(raw, WORKSPACE), sensitive=["admin_password"])
    assert "admin_password" not in result.outputs
    assert "hunter2" not in repr(result)
    with pytest.raises(OutputNotFoundError, match=r"spec\.writeConnectionSecretToRef is not set"):
        result.value("admin_password")


def test_namespaced_workspace_secret_lives_in_its_namespace() -> None:
    raw = namespaced_with_secret()
    validate(raw)  # tf.m.upbound.io's writeConnectionSecretToRef has no namespace field
    result = workspace_outputs(observe_raw(raw, NAMESPACED_WORKSPACE))
    assert result.connection_secret == ConnectionSecretRef(name="rds-conn", namespace="team-a")


def test_missing_output_says_what_exists() -> None:
    result = workspace_outputs(observe_raw(workspace("pr-42-rds", outputs={"b": 1, "a": 2}), WORKSPACE))
    with pytest.raises(OutputNotFoundError, match=r"no output 'endpoint' .* \(outputs: a, b\)"):
        result.value("endpoint")


def test_no_status_means_no_outputs_yet() -> None:
    result = workspace_outputs(observe_raw(workspace("pr-42-rds", status=False), WORKSPACE))
    assert dict(result.outputs) == {}
    assert result.connection_secret is None
    with pytest.raises(OutputNotFoundError, match="none yet"):
        result.value("endpoint")


def test_output_shapes_are_ones_the_upstream_crds_accept(fixtures_dir: Any) -> None:
    validate_upstream(every_json_type())
    validate_upstream(namespaced_with_secret())
