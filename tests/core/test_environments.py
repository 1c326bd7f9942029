"""Environment files: parsing, and a table of bad inputs each answered with its exact error line."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from project_paths import CATALOGS, EXAMPLES

from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.durations import parse_duration, parse_ttl
from bot.environment import OutputRef, SecretRef, bind_environment, parse_environment
from bot.errors import EnvironmentSpecError


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


def bind(document: Any, catalogs: CatalogSet) -> Any:
    text = document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return bind_environment(parse_environment(text, "env.yaml"), catalogs)


def errors_of(document: Any, catalogs: CatalogSet) -> list[str]:
    with pytest.raises(EnvironmentSpecError) as caught:
        bind(document, catalogs)
    return list(caught.value.problems)


def env(*entries: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "envbot.io/v1alpha1",
        "kind": "Environment",
        "name": "dev",
        **fields,
        "catalogs": list(entries),
    }


RDS = {"databaseName": "app", "vpcId": "vpc-0abc"}
DATADOG_KEY = {"fromSecret": {"backend": "vault", "path": "secret/data/datadog", "key": "api-key"}}


def test_seed_example_binds_in_dependency_order(catalogs: CatalogSet) -> None:
    path = EXAMPLES / "dev-feature-auth.yaml"
    bound = bind_environment(parse_environment(path.read_text(), path.as_posix()), catalogs)
    environment = bound.environment
    assert (environment.name, environment.namespace, environment.type.value) == (
        "dev-feature-auth",
        "dev-feature-auth",
        "pre-release",
    )
    assert [c.name for c in bound.catalogs] == ["rds-postgres", "datadog-agent", "sample-app"]
    rds, datadog, sample = bound.catalogs
    assert rds.values["databaseName"] == "feature_auth_db" and rds.values["allocatedStorage"] == 20
    assert rds.values["instanceClass"] == "db.t3.micro"
    assert datadog.values["apiKey"] == SecretRef("vault", "secret/data/datadog", "api-key", "DD_API_KEY")
    assert sample.values["databaseEndpoint"] == OutputRef("rds-postgres", "endpoint")
    assert sample.values["replicas"] == 2


def test_consumers_come_after_producers_whatever_the_file_order(catalogs: CatalogSet) -> None:
    bound = bind(
        env(
            {"name": "sample-app", "parameters": {"databaseEndpoint": {"fromOutput": "rds-postgres.endpoint"}}},
            {"name": "rds-postgres", "parameters": RDS},
        ),
        catalogs,
    )
    assert [c.name for c in bound.catalogs] == ["rds-postgres", "sample-app"]


def test_secret_defaults_complete_a_partial_reference(catalogs: CatalogSet) -> None:
    bound = bind(
        env({"name": "datadog-agent", "parameters": {"clusterName": "c", "apiKey": {"fromSecret": {"path": "kv/dd"}}}}),
        catalogs,
    )
    assert bound.catalogs[0].values["apiKey"] == SecretRef("vault", "kv/dd", "api-key", "DD_API_KEY")


BAD_ENVIRONMENTS = [
    pytest.param(
        env({"name": "rds-postgress", "parameters": RDS}),
        [
            "environment dev: catalog rds-postgress: no such catalog in the catalogs folder (did you mean "
            "rds-postgres?) (known: datadog-agent, rds-postgres, redis-cache, s3-bucket, sample-app)"
        ],
        id="unknown-catalog",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "instanceClas": "db.t3.micro"}}),
        [
            "environment dev: catalog rds-postgres: parameter instanceClas: the catalog has no such parameter "
            "(did you mean instanceClass?) (known: databaseName, instanceClass, allocatedStorage, engineVersion, "
            "environment, deletionProtection, vpcId, subnetIds, allowedCidr)"
        ],
        id="unknown-parameter",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {"vpcId": "vpc-0abc"}}),
        [
            "environment dev: catalog rds-postgres: parameter databaseName: is required (a string; see envbot "
            "catalog show rds-postgres)"
        ],
        id="missing-required",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "allocatedStorage": "twenty"}}),
        [
            "environment dev: catalog rds-postgres: parameter allocatedStorage: must be an integer, got the string 'twenty'"
        ],
        id="wrong-type",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "allocatedStorage": 5}}),
        ["environment dev: catalog rds-postgres: parameter allocatedStorage: must be at least 20, got 5"],
        id="below-minimum",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "allocatedStorage": 5000}}),
        ["environment dev: catalog rds-postgres: parameter allocatedStorage: must be at most 1000, got 5000"],
        id="above-maximum",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "instanceClass": "db.x1e.32xlarge"}}),
        [
            "environment dev: catalog rds-postgres: parameter instanceClass: must be one of db.t3.micro, "
            "db.t3.small, db.t3.medium, db.m6g.large; got 'db.x1e.32xlarge'"
        ],
        id="enum-violation",
    ),
    pytest.param(
        env({"name": "rds-postgres", "parameters": {**RDS, "databaseName": "Robert'); DROP TABLE"}}),
        [
            'environment dev: catalog rds-postgres: parameter databaseName: "Robert\'); DROP TABLE" does not '
            "match the pattern ^[a-z][a-z0-9_]{0,62}$"
        ],
        id="pattern-violation",
    ),
    pytest.param(
        "kind: Environment\nname: dev\ncatalogs:\n  - name: datadog-agent\n    parameters:\n"
        "      clusterName: c\n      logsEnabled: yes\n      apiKey: {fromSecret: {backend: vault}}\n"
        "  - name: sample-app\n    parameters: {databaseEndpoint: 1e3, imageTag: no}\n",
        [
            "environment dev: catalog datadog-agent: parameter logsEnabled: must be true or false, got the string "
            "'yes' (envbot reads YAML 1.2, where only true and false are booleans)",
            "environment dev: catalog sample-app: parameter databaseEndpoint: must be a string, got the number "
            "1000.0; put it in quotes to keep it text (YAML reads an unquoted number, true, false or null as that "
            "type)",
        ],
        id="yaml-special-words",
    ),
    pytest.param(
        env({"name": "sample-app", "parameters": {"databaseEndpoint": 5432, "replicas": True}}),
        [
            "environment dev: catalog sample-app: parameter databaseEndpoint: must be a string, got the integer 5432; "
            "put it in quotes to keep it text (YAML reads an unquoted number, true, false or null as that type)",
            "environment dev: catalog sample-app: parameter replicas: must be an integer, got the boolean true",
        ],
        id="number-for-string-and-boolean-for-integer",
    ),
    pytest.param(
        env({"name": "sample-app", "parameters": {"databaseEndpoint": {"fromOutput": "rds-postgres.endpoint"}}}),
        [
            "environment dev: catalog sample-app: parameter databaseEndpoint: fromOutput rds-postgres.endpoint names "
            "catalog rds-postgres, which this environment does not deploy"
        ],
        id="output-of-catalog-not-deployed",
    ),
    pytest.param(
        env(
            {"name": "rds-postgres", "parameters": RDS},
            {"name": "sample-app", "parameters": {"databaseEndpoint": {"fromOutput": "rds-postgres.hostname"}}},
        ),
        [
            "environment dev: catalog sample-app: parameter databaseEndpoint: fromOutput rds-postgres.hostname: "
            "catalog rds-postgres declares no output hostname (outputs: endpoint, port, databaseName, "
            "masterUsername, masterPassword)"
        ],
        id="undeclared-output",
    ),
    pytest.param(
        env(
            {"name": "rds-postgres", "parameters": RDS},
            {"name": "sample-app", "parameters": {"databaseEndpoint": {"fromOutput": "rds-postgres.masterPassword"}}},
        ),
        [
            "environment dev: catalog sample-app: parameter databaseEndpoint: fromOutput rds-postgres.masterPassword "
            "is a sensitive output; envbot never copies it (the app reads it from the Workspace's connection Secret)"
        ],
        id="sensitive-output",
    ),
    pytest.param(
        env(
            {"name": "s3-bucket", "parameters": {"bucketName": {"fromOutput": "redis-cache.primaryEndpoint"}}},
            {"name": "redis-cache", "parameters": {"vpcId": {"fromOutput": "s3-bucket.bucketName"}}},
        ),
        ["environment dev: catalog s3-bucket: reference cycle: s3-bucket -> redis-cache -> s3-bucket"],
        id="reference-cycle",
    ),
    pytest.param(
        env({"name": "redis-cache", "parameters": {"vpcId": {"fromOutput": "redis-cache.port"}}}),
        ["environment dev: catalog redis-cache: reference cycle: redis-cache -> redis-cache"],
        id="self-reference",
    ),
    pytest.param(
        env({"name": "datadog-agent", "parameters": {"clusterName": "c", "apiKey": "dd-live-canary-0123456789"}}),
        [
            "environment dev: catalog datadog-agent: parameter apiKey: is a secret: give a reference "
            "{fromSecret: {backend, path, key}}, never the value itself"
        ],
        id="literal-secret",
    ),
    pytest.param(
        env({"name": "datadog-agent", "parameters": {"clusterName": DATADOG_KEY, "apiKey": DATADOG_KEY}}),
        ["environment dev: catalog datadog-agent: parameter clusterName: takes a string value, not a secret reference"],
        id="secret-reference-for-plain-parameter",
    ),
    pytest.param(
        env({"name": "datadog-agent", "parameters": {"clusterName": "c", "apiKey": {"fromSecret": {"key": "a b"}}}}),
        [
            "environment dev: catalog datadog-agent: parameter apiKey: fromSecret.key 'a b' may hold only letters, "
            "digits, '-', '_' and '.'"
        ],
        id="bad-secret-key",
    ),
    pytest.param(
        env({"name": "sample-app", "parameters": {"databaseEndpoint": {"value": "x"}}}),
        [
            "environment dev: catalog sample-app: parameter databaseEndpoint: a mapping value must be "
            "{fromOutput: <catalog>.<output>} or {fromSecret: {...}}"
        ],
        id="unknown-mapping-value",
    ),
    pytest.param(
        env({"name": "../../etc", "parameters": {}}),
        [
            "env.yaml: catalogs[0].name: '../../etc' is not a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        ],
        id="path-traversal-catalog-name",
    ),
    pytest.param(
        {**env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}), "name": "../prod"},
        [
            "env.yaml: name: '../prod' is not a DNS-1123 label (lowercase letters, digits and '-', starting and "
            "ending with a letter or digit, at most 63 characters)"
        ],
        id="path-traversal-environment-name",
    ),
    pytest.param(
        {**env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}), "name": "a" * 64},
        ["env.yaml: name: is 64 characters long; at most 63 are allowed"],
        id="name-over-63",
    ),
    pytest.param(
        {**env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}), "name": "dév-ünïcode"},
        [
            "env.yaml: name: 'dév-ünïcode' is not a DNS-1123 label (lowercase letters, digits and '-', starting "
            "and ending with a letter or digit, at most 63 characters)"
        ],
        id="unicode-name",
    ),
    pytest.param(
        {**env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}), "name": "dev\n"},
        [
            "env.yaml: name: 'dev\\n' is not a DNS-1123 label (lowercase letters, digits and '-', starting and "
            "ending with a letter or digit, at most 63 characters)"
        ],
        id="trailing-newline-name",
    ),
    pytest.param(
        {
            **env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}),
            "type": "production",
            "ttl": "3 days",
            "colour": "blue",
            "cluster": "Prod Cluster",
        },
        [
            "env.yaml: cluster: 'Prod Cluster' is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', "
            "each dot-separated part starting and ending with a letter or digit, at most 253 characters)",
            "env.yaml: colour: unknown key (known: apiVersion, catalogs, cluster, description, kind, name, "
            "namespace, origin, owner, ttl, type)",
            "env.yaml: ttl: '3 days' is not a duration such as 30m, 72h, 7d or 1w2d",
            "env.yaml: type: must be pre-release or release, got 'production'",
        ],
        id="every-structural-problem-at-once",
    ),
    pytest.param(
        env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}, {"name": "sample-app"}),
        ["env.yaml: catalogs[1].name: catalog sample-app is listed twice"],
        id="duplicate-catalog",
    ),
    pytest.param(
        "kind: Environment\nname: dev\ncatalogs: [\n",
        ["env.yaml: line 4, column 1: expected the node content, but found '<stream end>'"],
        id="not-yaml",
    ),
    pytest.param(
        "- just\n- a list\n",
        ["env.yaml: must be a mapping with kind: Environment, got a list"],
        id="not-a-mapping",
    ),
    pytest.param(
        {**env({"name": "sample-app", "parameters": {"databaseEndpoint": "x"}}), "origin": {"kind": "branch"}},
        ["env.yaml: origin.branch: a branch origin names its branch"],
        id="origin-without-branch",
    ),
]


@pytest.mark.parametrize(("document", "expected"), BAD_ENVIRONMENTS)
def test_bad_environments_get_exact_errors(document: Any, expected: list[str], catalogs: CatalogSet) -> None:
    assert errors_of(document, catalogs) == expected


@pytest.mark.parametrize(
    ("cluster", "accepted"),
    [
        ("in-cluster", True),
        ("prod.eu-west-1", True),
        ("a" * 253, True),
        ("a..b", False),
        ("prod.-eu", False),
        ("prod-.eu", False),
        (".prod", False),
        ("a" * 254, False),
    ],
)
def test_a_cluster_name_is_a_dns_subdomain_part_by_part(cluster: str, accepted: bool) -> None:
    """The cluster is a folder of the app repository and an Argo CD destination: a Kubernetes object name."""
    text = yaml.safe_dump(env({"name": "sample-app"}, cluster=cluster))
    if accepted:
        assert parse_environment(text, "env.yaml").cluster == cluster
        return
    with pytest.raises(EnvironmentSpecError) as caught:
        parse_environment(text, "env.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith(f"env.yaml: cluster: {cluster[:20]!r}"[:-1])
    assert problem.endswith(
        " is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each dot-separated part starting and"
        " ending with a letter or digit, at most 253 characters)"
    )


def test_every_problem_of_every_catalog_is_reported_at_once(catalogs: CatalogSet) -> None:
    problems = errors_of(
        env(
            {"name": "rds-postgres", "parameters": {"allocatedStorage": 1}},
            {"name": "nope", "parameters": {}},
            {"name": "sample-app", "parameters": {"replicas": 0}},
        ),
        catalogs,
    )
    assert [p.split(": ")[1:3] for p in problems] == [
        ["catalog rds-postgres", "parameter allocatedStorage"],
        ["catalog rds-postgres", "parameter databaseName"],
        ["catalog rds-postgres", "parameter vpcId"],
        ["catalog nope", "no such catalog in the catalogs folder (known"],
        ["catalog sample-app", "parameter databaseEndpoint"],
        ["catalog sample-app", "parameter replicas"],
    ]


def test_secret_values_never_reach_error_messages(catalogs: CatalogSet) -> None:
    canary = "canary-7f3a9c-do-not-print"
    problems = errors_of(env({"name": "datadog-agent", "parameters": {"clusterName": "c", "apiKey": canary}}), catalogs)
    assert problems and not any(canary in p for p in problems)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("72h", 259200), ("7d", 604800), ("1w2d", 777600), ("1d12h", 129600), ("", None), ("3", None)],
)
def test_ttl_durations(text: str, seconds: int | None) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["\u0663m", "\uff11h", "\u0663\u0660s", "2d\u0663h"])  # Arabic-Indic, full-width
def test_durations_take_ascii_digits_only(text: str) -> None:
    """Python's ``int`` and ``\\d`` read digits of every script; a duration in a config file is ASCII."""
    assert parse_duration(text) is None and parse_ttl(text) is None
