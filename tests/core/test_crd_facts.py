"""The project's CRD facts (tests/fixtures/crds): what they reject, and (conformance tier) that upstream agrees."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import yaml
from kube_schemas import (
    UPSTREAM_CRD_FILES,
    Key,
    KindFacts,
    disagreements,
    has_schema,
    own_facts,
    upstream_facts,
    validate,
    validate_upstream,
)
from project_paths import CATALOGS

from bot.catalog.model import CatalogSet, Parameter, ParameterType, TerraformSource
from bot.catalog_files import load_catalogs
from bot.environment import bind_environment, parse_environment
from bot.environment.model import SecretRef
from bot.errors import EnvironmentSpecError
from bot.render import RenderSettings, WorkspaceApi, render_environment
from bot.render.bootstrap import BootstrapRepos, render_bootstrap
from bot.render.manifests import build_workspace

ENVIRONMENT = """\
kind: Environment
name: facts
cluster: dev-cluster
catalogs:
  - name: rds-postgres
    parameters: {databaseName: facts_db, vpcId: vpc-0abc}
  - name: sample-app
    parameters: {databaseEndpoint: db.facts.internal}
"""

Mutation = Callable[[dict[str, Any]], object]


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


@pytest.fixture(scope="module")
def rendered(catalogs: CatalogSet) -> dict[WorkspaceApi, list[dict[str, Any]]]:
    """For each Workspace API, the Workspace, Application and ApplicationSets envbot renders for a small environment."""
    bound = bind_environment(parse_environment(ENVIRONMENT, "facts.yaml"), catalogs)
    bootstrap = render_bootstrap(BootstrapRepos("https://git.example/p.git", "https://git.example/a.git"))
    objects: dict[WorkspaceApi, list[dict[str, Any]]] = {}
    for api in WorkspaceApi:
        result = render_environment(bound, settings=RenderSettings(workspace_api=api))
        objects[api] = [
            document
            for file in (*result.platform, *result.apps, *bootstrap)
            for document in yaml.safe_load_all(file.content)
            if document is not None and has_schema(document)
        ]
    return objects


def first_of(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind))


def test_own_facts_name_every_kind_envbot_renders_or_reads() -> None:
    facts = own_facts()
    assert sorted(facts) == sorted(UPSTREAM_CRD_FILES)
    assert {key: (f.scope, f.versions) for key, f in facts.items()} == {
        ("tf.upbound.io", "Workspace"): ("Cluster", ("v1beta1",)),
        ("tf.m.upbound.io", "Workspace"): ("Namespaced", ("v1beta1",)),
        ("argoproj.io", "Application"): ("Namespaced", ("v1alpha1",)),
        ("argoproj.io", "ApplicationSet"): ("Namespaced", ("v1alpha1",)),
    }


def test_every_rendered_kind_passes_the_own_facts(rendered: dict[WorkspaceApi, list[dict[str, Any]]]) -> None:
    for api, objects in rendered.items():
        assert sorted({(o["apiVersion"], o["kind"]) for o in objects}) == [
            ("argoproj.io/v1alpha1", "Application"),
            ("argoproj.io/v1alpha1", "ApplicationSet"),
            (api.value, "Workspace"),
        ]
        for obj in objects:
            validate(obj)


def _set(path: str, value: Any) -> Mutation:
    """Set the field at a dotted path (list indexes as numbers), creating mappings on the way."""

    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


CLUSTER, NAMESPACED = WorkspaceApi.CLUSTER, WorkspaceApi.NAMESPACED
BROKEN = [
    # (Workspace API, kind, what breaks it, the words of the error, whether the upstream CRD rejects it too)
    pytest.param(
        CLUSTER, "Workspace", _set("spec.forProvider.modul", "x"), "'modul' was unexpected", True, id="unknown-field"
    ),
    pytest.param(
        CLUSTER,
        "Workspace",
        _set("metadata.namespace", "facts"),
        "scope Cluster",
        True,
        id="namespace-on-cluster-scope",
    ),
    pytest.param(
        NAMESPACED,
        "Workspace",
        _drop("metadata.namespace"),
        "namespace missing",
        True,
        id="namespaced-without-namespace",
    ),
    pytest.param(
        NAMESPACED,
        "Workspace",
        _set("spec.writeConnectionSecretToRef.namespace", "elsewhere"),
        "'namespace' was unexpected",
        True,
        id="secret-namespace-on-namespaced-workspace",
    ),
    pytest.param(
        NAMESPACED,
        "Workspace",
        _drop("spec.providerConfigRef.kind"),
        "'kind' is a required property",
        True,
        id="namespaced-provider-config-without-kind",
    ),
    pytest.param(
        CLUSTER, "Workspace", _set("apiVersion", "tf.upbound.io/v1alpha1"), "not served", True, id="unserved-version"
    ),
    pytest.param(
        CLUSTER, "Workspace", _set("spec.forProvider.source", "Git"), "'Git' is not one of", True, id="unknown-source"
    ),
    pytest.param(
        CLUSTER,
        "Workspace",
        _set("spec.forProvider.vars.0.value", 5),
        "5 is not of type 'string'",
        True,
        id="typed-var",
    ),
    pytest.param(
        CLUSTER,
        "Workspace",
        _set("status.conditions", [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-06-01T12:00:00Z"}]),
        "'reason' is a required property",
        True,
        id="condition-without-reason",
    ),
    pytest.param(
        CLUSTER, "Application", _drop("spec.project"), "'project' is a required property", True, id="no-project"
    ),
    pytest.param(
        CLUSTER,
        "Application",
        _set("spec.syncPolicy.automated.selfheal", True),
        "'selfheal' was unexpected",
        True,
        id="misspelt-sync-policy",
    ),
    pytest.param(
        CLUSTER,
        "Application",
        _set("status.sync.status", "Synched"),
        "'Synched' is not one of",
        False,
        id="unknown-sync-status",
    ),
    pytest.param(
        CLUSTER, "Application", _set("metadata.label", {}), "'label' was unexpected", False, id="misspelt-metadata"
    ),
    pytest.param(
        CLUSTER,
        "ApplicationSet",
        _drop("spec.generators.0.git.revision"),
        "'revision' is a required property",
        True,
        id="git-generator-without-revision",
    ),
    pytest.param(
        CLUSTER,
        "ApplicationSet",
        _set("spec.template.spec.source.revision", "HEAD"),
        "'revision' was unexpected",
        True,
        id="template-source-field-of-another-kind",
    ),
    pytest.param(
        CLUSTER,
        "ApplicationSet",
        _set("spec.template.spec.syncPolicy.preserveResourcesOnDeletion", True),
        "'preserveResourcesOnDeletion' was unexpected",
        True,
        id="set-sync-policy-in-the-template",
    ),
]


@pytest.mark.parametrize(("api", "kind", "mutate", "message", "upstream_too"), BROKEN)
def test_own_facts_reject_what_the_api_server_would_refuse_or_prune(
    rendered: dict[WorkspaceApi, list[dict[str, Any]]],
    api: WorkspaceApi,
    kind: str,
    mutate: Mutation,
    message: str,
    upstream_too: bool,
) -> None:
    obj = first_of(rendered[api], kind)
    validate(obj)
    mutate(obj)
    with pytest.raises(AssertionError) as caught:
        validate(obj)
    assert message in str(caught.value)


def secret_variable_workspace(catalogs: CatalogSet, api: WorkspaceApi, path: str = "team/api") -> dict[str, Any]:
    """A Workspace of a remote module that takes one variable from a Secret (no example catalog does both)."""
    bucket = catalogs.catalogs["s3-bucket"]
    assert bucket.terraform is not None
    token = Parameter(name="apiToken", type=ParameterType.SECRET, terraform_variable="api_token")
    catalog = replace(
        bucket,
        parameters={**bucket.parameters, "apiToken": token},
        terraform=replace(
            bucket.terraform, source=TerraformSource.REMOTE, remote_module="git::https://git.example/tf.git//bucket"
        ),
    )
    values = {"bucketName": "facts-assets", "apiToken": SecretRef(backend="kubernetes", path=path, key="token")}
    environment = parse_environment(ENVIRONMENT, "facts.yaml")
    return build_workspace(environment, catalog, values, RenderSettings(workspace_api=api))


@pytest.mark.parametrize(
    ("api", "path", "key_ref"),
    [
        (CLUSTER, "team/api", {"name": "api", "key": "token", "namespace": "team"}),
        (NAMESPACED, "api", {"name": "api", "key": "token"}),  # the Workspace's own namespace: no field for it
    ],
)
def test_remote_module_with_a_secret_variable_passes_the_own_facts(
    catalogs: CatalogSet, api: WorkspaceApi, path: str, key_ref: dict[str, str]
) -> None:
    workspace = secret_variable_workspace(catalogs, api, path)
    assert workspace["spec"]["forProvider"]["source"] == "Remote"
    assert workspace["spec"]["forProvider"]["env"] == [{"name": "TF_VAR_api_token", "secretKeyRef": key_ref}]
    validate(workspace)


def test_a_namespaced_workspace_refuses_a_secret_of_another_namespace(catalogs: CatalogSet) -> None:
    with pytest.raises(EnvironmentSpecError, match=r"parameter apiToken: a tf\.m\.upbound\.io/v1beta1 Workspace"):
        secret_variable_workspace(catalogs, NAMESPACED, "team/api")


# --- conformance: the facts against the upstream CRDs ---------------------------------------------------------


@pytest.mark.parametrize("key", sorted(UPSTREAM_CRD_FILES), ids="/".join)
def test_own_facts_agree_with_the_upstream_crd(fixtures_dir: Any, key: Key) -> None:
    assert disagreements(own_facts()[key], upstream_facts()[key]) == []


def test_the_agreement_check_finds_looser_or_invented_facts(fixtures_dir: Any) -> None:
    key = ("tf.upbound.io", "Workspace")
    own = own_facts()[key]
    schema = copy.deepcopy(own.schemas["v1beta1"])
    for_provider = schema["properties"]["spec"]["properties"]["forProvider"]
    for_provider["properties"]["inventedField"] = {"type": "string"}
    for_provider["properties"]["source"]["enum"] = ["Inline", "Remote", "Git"]
    for_provider["properties"]["vars"]["items"]["properties"]["value"] = {"type": "integer"}
    for_provider["required"] = ["source"]
    for_provider["properties"]["module"]["x-kubernetes-preserve-unknown-fields"] = True
    loose = KindFacts(own.group, own.kind, own.plural, "Namespaced", {"v1beta1": schema}, "a loosened copy")
    found = disagreements(loose, upstream_facts()[key])
    expected = [
        "scope",
        "spec.forProvider.inventedField: not in the upstream schema",
        "spec.forProvider.source: enum",
        "spec.forProvider.vars[].value: type integer here, string upstream",
        "spec.forProvider: upstream requires ['module']",
        "spec.forProvider.module: keeps unknown fields here",
    ]
    for words in expected:
        assert any(words in problem for problem in found), f"{words!r} not in {found}"
    assert len(found) == len(expected), found


@pytest.mark.parametrize(("api", "kind", "mutate", "message", "upstream_too"), BROKEN)
def test_upstream_crds_reject_the_same_objects(
    fixtures_dir: Any,
    rendered: dict[WorkspaceApi, list[dict[str, Any]]],
    api: WorkspaceApi,
    kind: str,
    mutate: Mutation,
    message: str,
    upstream_too: bool,
) -> None:
    obj = first_of(rendered[api], kind)
    validate_upstream(obj)
    mutate(obj)
    if not upstream_too:
        validate_upstream(obj)  # the own facts are stricter here (documented values, a closed metadata)
        return
    with pytest.raises(AssertionError) as caught:
        validate_upstream(obj)
    assert message in str(caught.value)
