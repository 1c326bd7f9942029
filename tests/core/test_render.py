"""The renderer: golden trees for the seed example, CRD validity, determinism, and values that stay data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_schemas import has_schema, validate, validate_upstream
from project_paths import CATALOGS, EXAMPLES, PROJECT_ROOT

from bot import yamldoc
from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.environment import bind_environment, parse_environment
from bot.environment.model import BoundEnvironment
from bot.render import RenderResult, RenderSettings, Repo, WorkspaceApi, render_environment
from bot.render.bootstrap import BootstrapRepos, render_bootstrap
from bot.render.manifests import CLUSTER_SCOPED_KINDS

GOLDEN = PROJECT_ROOT / "tests" / "golden" / "dev-feature-auth"
UPDATE_GOLDEN = os.environ.get("ENVBOT_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


@pytest.fixture(scope="module")
def seed(catalogs: CatalogSet) -> BoundEnvironment:
    path = EXAMPLES / "dev-feature-auth.yaml"
    return bind_environment(parse_environment(path.read_text(), path.as_posix()), catalogs)


def example_outputs(catalogs: CatalogSet) -> dict[str, dict[str, Any]]:
    return {name: catalog.example_outputs() for name, catalog in catalogs.catalogs.items() if catalog.outputs}


def tree(result: RenderResult) -> dict[str, str]:
    return {f"{f.repo.value}/{f.path}": f.content for f in (*result.platform, *result.apps)}


def objects(result: RenderResult) -> list[dict[str, Any]]:
    return [
        document
        for content in tree(result).values()
        for document in yaml.safe_load_all(content)
        if document is not None
    ]


def check_golden(name: str, result: RenderResult) -> None:
    folder = GOLDEN / name
    rendered = tree(result)
    if UPDATE_GOLDEN:
        for path, content in rendered.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(content)
    expected = {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}
    assert sorted(rendered) == sorted(expected), "rendered file set differs from the golden tree"
    for path, content in expected.items():
        assert rendered[path] == content, f"{path} differs from its golden copy (ENVBOT_UPDATE_GOLDEN=1 refreshes)"


def test_seed_before_outputs_matches_golden_and_reports_pending(seed: BoundEnvironment) -> None:
    result = render_environment(seed)
    check_golden("before-outputs", result)
    assert [str(p) for p in result.pending] == [
        "sample-app applications: parameter databaseEndpoint waits on output rds-postgres.endpoint"
    ]
    assert not any("sample-app" in path for path in tree(result)), "an app waiting on an output is never rendered"


def test_seed_with_outputs_matches_golden(seed: BoundEnvironment, catalogs: CatalogSet) -> None:
    result = render_environment(seed, example_outputs(catalogs))
    check_golden("with-outputs", result)
    assert result.pending == ()
    sample = yaml.safe_load(
        result.files(Repo.APPS)["registry/environments/dev-feature-auth/dev-cluster/sample-app.yaml"]
    )
    env = sample["spec"]["source"]["helm"]["valuesObject"]["extraEnvs"]
    assert env == [
        {"name": "DATABASE_ENDPOINT", "value": catalogs.catalogs["rds-postgres"].outputs["endpoint"].example}
    ]


def test_render_is_byte_for_byte_deterministic(seed: BoundEnvironment, catalogs: CatalogSet) -> None:
    outputs = example_outputs(catalogs)
    first = tree(render_environment(seed, outputs))
    for _ in range(3):
        assert tree(render_environment(seed, outputs)) == first


@pytest.mark.parametrize("api", list(WorkspaceApi))
def test_every_rendered_object_validates_against_the_crd_facts(
    seed: BoundEnvironment, catalogs: CatalogSet, api: WorkspaceApi
) -> None:
    result = render_environment(seed, example_outputs(catalogs), RenderSettings(workspace_api=api))
    checked = [obj for obj in objects(result) if has_schema(obj)]
    kinds = sorted({obj["kind"] for obj in checked})
    assert kinds == ["Application", "Workspace"]
    for obj in checked:
        validate(obj)
        assert obj["metadata"]["labels"]["envbot.io/environment"] == "dev-feature-auth"
        assert obj["metadata"]["labels"]["envbot.io/catalog"]


def every_catalog(catalogs: CatalogSet) -> BoundEnvironment:
    """An environment that uses every example catalog once."""
    environment = parse_environment(
        yaml.safe_dump(
            {
                "kind": "Environment",
                "name": "everything",
                "cluster": "dev-cluster",
                "catalogs": [
                    {"name": "rds-postgres", "parameters": {"databaseName": "app", "vpcId": "vpc-0abc"}},
                    {"name": "s3-bucket", "parameters": {"bucketName": "everything-assets"}},
                    {"name": "redis-cache", "parameters": {"vpcId": "vpc-0abc"}},
                    {
                        "name": "datadog-agent",
                        "parameters": {
                            "clusterName": "dev",
                            "apiKey": {"fromSecret": {"backend": "kubernetes"}},
                        },
                    },
                    {
                        "name": "sample-app",
                        "parameters": {"databaseEndpoint": {"fromOutput": "rds-postgres.endpoint"}},
                    },
                ],
            }
        ),
        "everything.yaml",
    )
    return bind_environment(environment, catalogs)


def test_all_example_catalogs_render_valid_objects(catalogs: CatalogSet) -> None:
    result = render_environment(every_catalog(catalogs), example_outputs(catalogs))
    assert result.pending == ()
    everything = objects(result)
    workspaces = [o for o in everything if o["kind"] == "Workspace"]
    assert sorted(w["metadata"]["name"] for w in workspaces) == [
        "everything-rds-postgres",
        "everything-redis-cache",
        "everything-s3-bucket",
    ]
    for obj in everything:
        if obj["kind"] == "EnvironmentRecord":
            continue
        if has_schema(obj):
            validate(obj)
        labels = obj["metadata"]["labels"]
        assert labels["envbot.io/environment"] == "everything"
        if obj["kind"] in CLUSTER_SCOPED_KINDS:
            assert "namespace" not in obj["metadata"]
    for workspace in workspaces:
        for_provider = workspace["spec"]["forProvider"]
        assert all(isinstance(v["value"], str) for v in for_provider.get("vars", []))
        assert for_provider["varmap"]["tags"]["envbot.io/environment"] == "everything"


def test_rendered_objects_and_golden_trees_validate_against_the_upstream_crds(
    fixtures_dir: Path, catalogs: CatalogSet
) -> None:
    """Conformance: what the own CRD facts accept above, the upstream CRDs accept too."""
    environments = [every_catalog(catalogs)]
    for path in sorted(EXAMPLES.glob("*.yaml")):
        environments.append(bind_environment(parse_environment(path.read_text(), path.as_posix()), catalogs))
    assert len(environments) > 1, f"no example environments in {EXAMPLES}"
    checked: list[dict[str, Any]] = []
    for bound in environments:
        for api in WorkspaceApi:
            for known in ({}, example_outputs(catalogs)):
                checked += objects(render_environment(bound, known, RenderSettings(workspace_api=api)))
    golden = [p for p in sorted(GOLDEN.rglob("*.yaml")) if p.is_file()]
    assert golden, f"no golden trees under {GOLDEN}"
    checked += [document for p in golden for document in yaml.safe_load_all(p.read_text()) if document is not None]
    bootstrap = render_bootstrap(BootstrapRepos("https://github.com/acme/p.git", "https://github.com/acme/a.git"))
    checked += [yaml.safe_load(f.content) for f in bootstrap]
    kinds = set()
    for obj in checked:
        if has_schema(obj):
            validate_upstream(obj)
            kinds.add((obj["apiVersion"], obj["kind"]))
    assert kinds == {
        ("tf.upbound.io/v1beta1", "Workspace"),
        ("tf.m.upbound.io/v1beta1", "Workspace"),
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
    }


def test_hybrid_catalog_waits_on_its_own_outputs(catalogs: CatalogSet) -> None:
    environment = parse_environment(
        "kind: Environment\nname: cache-only\ncatalogs:\n  - name: redis-cache\n    parameters: {vpcId: vpc-0abc}\n",
        "cache-only.yaml",
    )
    bound = bind_environment(environment, catalogs)
    before = render_environment(bound)
    assert [f.path for f in before.apps] == []
    assert {p.waits_on.output for p in before.pending} == {"primaryEndpoint", "port"}
    assert [f.catalog for f in before.platform] == [None, "redis-cache"]
    after = render_environment(bound, {"redis-cache": catalogs.catalogs["redis-cache"].example_outputs()})
    assert after.pending == () and after.apps


def test_sensitive_outputs_are_refused_without_echoing_them(seed: BoundEnvironment) -> None:
    from bot.errors import UserError

    with pytest.raises(UserError) as caught:
        render_environment(seed, {"rds-postgres": {"endpoint": "db.example", "masterPassword": "hunter2-canary"}})
    assert "hunter2-canary" not in str(caught.value)
    assert "rds-postgres.masterPassword is sensitive" in str(caught.value)


def test_connection_secret_for_catalogs_with_sensitive_outputs(seed: BoundEnvironment) -> None:
    files = render_environment(seed).files(Repo.PLATFORM)
    workspace = yaml.safe_load(files["registry/environments/dev-feature-auth/infrastructure/rds-postgres.yaml"])
    assert workspace["spec"]["writeConnectionSecretToRef"] == {
        "name": "dev-feature-auth-rds-postgres-connection",
        "namespace": "crossplane-system",
    }
    assert "namespace" not in workspace["metadata"]


def test_namespaced_workspaces_live_in_the_environment_namespace(seed: BoundEnvironment) -> None:
    settings = RenderSettings(workspace_api=WorkspaceApi.NAMESPACED)
    files = render_environment(seed, settings=settings).files(Repo.PLATFORM)
    workspace = yaml.safe_load(files["registry/environments/dev-feature-auth/infrastructure/rds-postgres.yaml"])
    assert workspace["apiVersion"] == "tf.m.upbound.io/v1beta1"
    assert workspace["metadata"]["namespace"] == "dev-feature-auth"
    assert workspace["spec"]["providerConfigRef"] == {"kind": "ClusterProviderConfig", "name": "default"}
    assert workspace["spec"]["writeConnectionSecretToRef"] == {"name": "dev-feature-auth-rds-postgres-connection"}


def test_bootstrap_application_sets_validate() -> None:
    files = render_bootstrap(BootstrapRepos("https://github.com/acme/platform.git", "https://github.com/acme/apps.git"))
    assert [(f.repo, f.path) for f in files] == [
        (Repo.PLATFORM, "bootstrap/envbot-infrastructure.yaml"),
        (Repo.APPS, "bootstrap/envbot-applications.yaml"),
        (Repo.APPS, "bootstrap/envbot-manifests.yaml"),
    ]
    for rendered in files:
        application_set = yaml.safe_load(rendered.content)
        validate(application_set)
        generator = application_set["spec"]["generators"][0]["git"]
        assert generator["directories"][0]["path"].startswith("registry/environments/*")
        template = application_set["spec"]["template"]
        assert template["metadata"]["labels"]["envbot.io/environment"] == "{{index .path.segments 2}}"
        assert template["metadata"]["labels"]["envbot.io/generated-by"] == application_set["metadata"]["name"]
        assert "envbot.io/catalog" not in template["metadata"]["labels"]


def test_bootstrap_never_cascades_a_deleted_generated_app() -> None:
    """Deleting a set, or a generated app, leaves the objects; a folder's last objects are pruned all the same."""
    for rendered in render_bootstrap(BootstrapRepos("https://github.com/acme/p.git", "https://github.com/acme/a.git")):
        spec = yaml.safe_load(rendered.content)["spec"]
        assert spec["syncPolicy"] == {"preserveResourcesOnDeletion": True}, "no applicationsSync: see the docs"
        assert "finalizers" not in spec["template"]["metadata"], "a template finalizer cascades despite preserve"
        assert spec["template"]["spec"]["syncPolicy"]["automated"] == {
            "prune": True,
            "selfHeal": True,
            "allowEmpty": True,
        }


# --- Values are data: whatever a parameter holds arrives as that very string. ---

HOSTILE_VALUES = [
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{{ ''.__class__.__mro__ }}",
    "line one\nline two: injected\n",
    "---\napiVersion: v1\nkind: Secret\n",
    "yes",
    "no",
    "null",
    "~",
    "1e3",
    "0x1F",
    "012",
    "1:20",
    ".inf",
    "true",
    "- item",
    "key: value",
    "&anchor value",
    "*alias",
    "!!python/object:os.system",
    "# comment",
    "",
    " leading and trailing ",
    "ünïcødé — 数据库 🚀",
    "'quoted'\"double\"",
    "a" * 5000,
]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: repr(v)[:40])
def test_parameter_values_are_rendered_literally(catalogs: CatalogSet, value: str) -> None:
    document = {
        "kind": "Environment",
        "name": "literal",
        "catalogs": [{"name": "sample-app", "parameters": {"databaseEndpoint": value}}],
    }
    bound = bind_environment(parse_environment(yamldoc.dump_document(document), "literal.yaml"), catalogs)
    result = render_environment(bound)
    (content,) = result.files(Repo.APPS).values()
    documents = [d for d in yaml.safe_load_all(content) if d is not None]
    assert len(documents) == 1, "a value must never add or remove documents"
    application = documents[0]
    assert application["spec"]["source"]["helm"]["valuesObject"]["extraEnvs"] == [
        {"name": "DATABASE_ENDPOINT", "value": value}
    ]
    assert sorted(application) == ["apiVersion", "kind", "metadata", "spec"]


def test_workspace_vars_keep_hostile_strings_literal(catalogs: CatalogSet) -> None:
    value = "x'\n---\nkind: Secret\n{{ 7*7 }}"
    document = {
        "kind": "Environment",
        "name": "literal",
        "catalogs": [{"name": "s3-bucket", "parameters": {"bucketName": "literal-bucket"}}],
    }
    bound = bind_environment(parse_environment(yaml.safe_dump(document), "literal.yaml"), catalogs)
    # Patterns keep such a value out of bucketName; the Workspace writer must be safe on its own all the same.
    from dataclasses import replace

    (item,) = bound.catalogs
    tampered = replace(bound, catalogs=(replace(item, values={**item.values, "bucketName": value}),))
    files = render_environment(tampered).files(Repo.PLATFORM)
    workspace_text = files["registry/environments/literal/infrastructure/s3-bucket.yaml"]
    (workspace,) = list(yaml.safe_load_all(workspace_text))
    assert {"key": "bucket_name", "value": value} in workspace["spec"]["forProvider"]["vars"]


def test_written_files_stay_inside_the_repositories(seed: BoundEnvironment, catalogs: CatalogSet) -> None:
    for path in tree(render_environment(seed, example_outputs(catalogs))):
        parts = Path(path).parts
        assert ".." not in parts and not Path(path).is_absolute()


# --- Templates that try to leave the sandbox get one clear line each. ---

SANDBOX_ESCAPES = [
    (
        "v: {{ ''.__class__.__mro__ }}",
        "refused by the template sandbox: access to attribute '__class__' of 'str' object is unsafe.",
    ),
    (
        "v: {{ cycler.__init__.__globals__ }}",
        "refused by the template sandbox: access to attribute '__init__' of 'type' object is unsafe.",
    ),
    (
        "v: {{ lipsum.__globals__ }}",
        "refused by the template sandbox: access to attribute '__globals__' of 'function' object is unsafe.",
    ),
    (
        "v: {{ params.update({'x': 1}) }}",
        "refused by the template sandbox: access to attribute 'update' of 'dict' object is unsafe.",
    ),
    (
        "{% for i in range(10**9) %}a: 1\n{% endfor %}",
        "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
    ),
    ("v: {{ 'a' * 100000000 }}", "refused by the template sandbox: repetition beyond the size limit is not allowed"),
    ("v: {{ 9 ** 99999 }}", "refused by the template sandbox: exponents above 64 are not allowed"),
    ("{% include '/etc/passwd' %}", "templates cannot include or import other files (/etc/passwd)"),
    ("v: {{ params.missing }}", "'dict object' has no attribute 'missing'"),
    ("v: {{ nothing }}", "'nothing' is undefined"),
    (
        "a: [{{ params.replicas }}",
        "does not render to valid YAML: line 3, column 1: expected ',' or ']', but got '<stream end>'",
    ),
    ("v: {{ labels }}-suffix", "a dict value cannot be part of a longer string"),
]


@pytest.mark.parametrize(("body", "message"), SANDBOX_ESCAPES, ids=[b for b, _ in SANDBOX_ESCAPES])
def test_templates_cannot_leave_the_sandbox(body: str, message: str) -> None:
    from bot.catalog.templating import render_template
    from bot.errors import TemplateRenderError

    with pytest.raises(TemplateRenderError) as caught:
        render_template(
            f"kind: ConfigMap\n{body}\n",
            "catalogs/x/templates/t.yaml",
            {"params": {"replicas": 2}, "labels": {"a": "b"}},
        )
    assert str(caught.value) == f"catalogs/x/templates/t.yaml: {message}"


# --- Object names a template renders are names Kubernetes accepts (docs/catalogs.md, "Object names"). ---

LABEL_RULE = (
    "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63"
    " characters)"
)
SUBDOMAIN_RULE = (
    "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each dot-separated part starting and ending with a"
    " letter or digit, at most 253 characters)"
)
LONG = "a-very-long-application-name-that-a-template-joined-from-several-parts"  # 70 characters


def render_named(kind: str, name: str, api_version: str = "v1", namespace: str | None = None) -> dict[str, Any]:
    """Render one object of a one-template catalog whose name (and namespace) come from parameters."""
    from bot.catalog import parse_catalog
    from bot.catalog.loader import CatalogFiles

    metadata = "{name: {{ params.objectName }}" + (", namespace: {{ params.objectNamespace }}}" if namespace else "}")
    catalog = parse_catalog(
        CatalogFiles(
            name="named",
            root="catalogs/named",
            files={
                "catalog.yaml": "name: named\ntype: yaml\nparameters:\n"
                "  objectName: {type: string}\n  objectNamespace: {type: string, default: x}\n",
                "templates/object.yaml": f"apiVersion: {api_version}\nkind: {kind}\nmetadata: {metadata}\n",
            },
        )
    )
    document = {
        "kind": "Environment",
        "name": "dev",
        "catalogs": [{"name": "named", "parameters": {"objectName": name, "objectNamespace": namespace or "x"}}],
    }
    bound = bind_environment(
        parse_environment(yamldoc.dump_document(document), "env.yaml"), CatalogSet({"named": catalog})
    )
    (content,) = render_environment(bound).files(Repo.APPS).values()
    (rendered,) = yaml.safe_load_all(content)
    assert isinstance(rendered, dict)
    return rendered


@pytest.mark.parametrize(
    ("kind", "name", "api_version"),
    [
        ("ConfigMap", "app.config-1", "v1"),
        ("ConfigMap", "a" * 253, "v1"),
        ("Service", "a" * 63, "v1"),
        ("Namespace", "team-a", "v1"),
        ("Application", "a" * 63, "argoproj.io/v1alpha1"),
        ("ClusterRole", "system:metrics-reader", "rbac.authorization.k8s.io/v1"),
    ],
)
def test_object_names_kubernetes_accepts_are_kept(kind: str, name: str, api_version: str) -> None:
    assert render_named(kind, name, api_version)["metadata"]["name"] == name


def test_a_too_long_application_name_is_shortened_like_a_workspace_name() -> None:
    from bot.render.settings import object_name

    rendered = render_named("Application", LONG, "argoproj.io/v1alpha1")
    name = rendered["metadata"]["name"]
    assert name == object_name(LONG) and len(name) == 63
    assert name.startswith(LONG[:54]) and len(name.rsplit("-", 1)[1]) == 8
    assert render_named("Application", LONG, "argoproj.io/v1alpha1")["metadata"]["name"] == name


@pytest.mark.parametrize(
    ("kind", "name", "api_version", "rule"),
    [
        ("Application", "Sample_App", "argoproj.io/v1alpha1", LABEL_RULE),
        ("Application", "sample.app", "argoproj.io/v1alpha1", LABEL_RULE),
        ("Application", LONG.replace("parts", "Parts"), "argoproj.io/v1alpha1", LABEL_RULE),
        ("Service", "a" * 64, "v1", LABEL_RULE),
        ("Namespace", "Team-A", "v1", LABEL_RULE),
        ("ConfigMap", "My_Config", "v1", SUBDOMAIN_RULE),
        ("ConfigMap", "a" * 254, "v1", SUBDOMAIN_RULE),
        ("ConfigMap", "-config", "v1", SUBDOMAIN_RULE),
    ],
    ids=lambda v: v if len(v) < 30 else f"{v[:10]}...({len(v)})",
)
def test_other_bad_object_names_name_the_file_the_kind_and_the_name(
    kind: str, name: str, api_version: str, rule: str
) -> None:
    from bot.documents import show
    from bot.errors import TemplateRenderError

    with pytest.raises(TemplateRenderError) as caught:
        render_named(kind, name, api_version)
    assert (
        str(caught.value) == f"catalogs/named/templates/object.yaml: {kind} {show(name)}: metadata.name is not {rule}"
    )


def test_a_namespace_a_template_names_is_a_dns_label() -> None:
    from bot.errors import TemplateRenderError

    assert render_named("ConfigMap", "app", namespace="team-a")["metadata"]["namespace"] == "team-a"
    with pytest.raises(TemplateRenderError) as caught:
        render_named("ConfigMap", "app", namespace="Team_A")
    assert str(caught.value) == (
        f"catalogs/named/templates/object.yaml: ConfigMap 'app': metadata.namespace 'Team_A' is not {LABEL_RULE}"
    )
