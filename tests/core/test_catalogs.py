"""The catalog loader: the example catalogs, Konstruct compatibility, and a table of malformed catalogs."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from project_paths import CATALOGS, PROJECT_ROOT

from bot.catalog import CatalogType, ParameterType, parse_catalog
from bot.catalog.loader import CatalogFiles, parse_catalogs
from bot.catalog_files import load_catalogs, read_catalog_folder
from bot.errors import CatalogError

VARIABLES_TF = textwrap.dedent(
    """
    variable "bucket_name" {
      type        = string
      description = "Name of the bucket"
    }
    variable "versioning" {
      type    = bool
      default = true
    }
    variable "retention_days" {
      type    = number
      default = 30
    }
    variable "admin_password" {
      type      = string
      sensitive = true
    }
    variable "extra_rules" {
      type    = list(string)
      default = []
    }
    variable "tags" {
      type    = map(string)
      default = {}
    }
    """
)
OUTPUTS_TF = textwrap.dedent(
    """
    output "bucket_arn" {
      value       = "arn:aws:s3:::x"
      description = "ARN of the bucket"
    }
    output "admin_token" {
      value     = "x"
      sensitive = true
    }
    """
)


def files(name: str, **contents: str) -> CatalogFiles:
    return CatalogFiles(
        name=name,
        root=f"catalogs/{name}",
        files={path.replace("__", "/").replace("_dot_", "."): textwrap.dedent(text) for path, text in contents.items()},
    )


def test_example_catalogs_load() -> None:
    catalogs = load_catalogs(CATALOGS)
    assert catalogs.names() == ("datadog-agent", "rds-postgres", "redis-cache", "s3-bucket", "sample-app")
    types = {name: c.type for name, c in catalogs.catalogs.items()}
    assert types["redis-cache"] is CatalogType.HYBRID and types["rds-postgres"] is CatalogType.IAC
    rds = catalogs.catalogs["rds-postgres"]
    assert {"endpoint", "port"} <= set(rds.example_outputs())
    assert rds.outputs["masterPassword"].sensitive and "masterPassword" not in rds.example_outputs()
    assert rds.parameters["allocatedStorage"].terraform_variable == "allocated_storage"
    datadog = catalogs.catalogs["datadog-agent"]
    assert {"clusterName", "environment", "logsEnabled", "apmEnabled", "apiKey"} <= set(datadog.parameters)
    assert datadog.parameters["apiKey"].type is ParameterType.SECRET
    assert set(catalogs.catalogs["sample-app"].parameters) == {"replicas", "imageTag", "databaseEndpoint"}


def test_iac_catalog_without_declared_parameters_reads_variables_tf() -> None:
    catalog = parse_catalog(
        files(
            "legacy-bucket",
            catalog_dot_yaml="name: legacy-bucket\ntype: iac\n",
            main_dot_tf='resource "null_resource" "x" {}\n',
            variables_dot_tf=VARIABLES_TF,
            outputs_dot_tf=OUTPUTS_TF,
        )
    )
    parameters = catalog.parameters
    assert list(parameters) == ["bucketName", "versioning", "retentionDays", "adminPassword"]
    assert parameters["bucketName"].required and parameters["bucketName"].description == "Name of the bucket"
    assert parameters["versioning"].type is ParameterType.BOOLEAN and parameters["versioning"].default is True
    assert parameters["retentionDays"].type is ParameterType.NUMBER and parameters["retentionDays"].default == 30
    assert parameters["adminPassword"].type is ParameterType.SECRET
    assert parameters["bucketName"].terraform_variable == "bucket_name"
    assert catalog.outputs["bucketArn"].terraform_output == "bucket_arn"
    assert catalog.outputs["adminToken"].sensitive
    assert catalog.terraform is not None and catalog.terraform.tags_variable == "tags"


def test_konstruct_values_annotations_become_parameters() -> None:
    values = """\
    # @input.type: string
    # @input.description: Name shown in Datadog
    # @input.required: true
    clusterName: ""
    datadog:
      # @input.type: boolean
      # @input.description: Collect logs
      logsEnabled: true
      # @input.type: enum
      # @input.options: [development, staging, production]
      # @input.default: development
      environment: ""
      # @input.description: API key
      # @input.secretBackend: vault
      # @input.secretPath: secret/data/datadog
      # @input.secretKey: api-key
      # @input.secretEnv: DD_API_KEY
      apiKey: ""
    replicas: 2
    """
    catalog = parse_catalog(
        files(
            "konstruct-agent",
            catalog_dot_yaml="name: konstruct-agent\ntype: yaml\n",
            values_dot_yaml=values,
            templates__app_dot_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {values: '{{ values }}'}\n",
        )
    )
    p = catalog.parameters
    assert list(p) == ["clusterName", "logsEnabled", "environment", "apiKey"]
    assert p["clusterName"].required and p["clusterName"].description == "Name shown in Datadog"
    assert p["logsEnabled"].type is ParameterType.BOOLEAN and p["logsEnabled"].default is True
    assert p["environment"].options == ("development", "staging", "production")
    assert p["environment"].default == "development"
    assert p["apiKey"].type is ParameterType.SECRET
    assert (p["apiKey"].secret.backend, p["apiKey"].secret.path, p["apiKey"].secret.key, p["apiKey"].secret.env) == (
        "vault",
        "secret/data/datadog",
        "api-key",
        "DD_API_KEY",
    )
    assert p["logsEnabled"].values_path == ("datadog", "logsEnabled")


GOOD_YAML_CATALOG = {
    "catalog_dot_yaml": "name: app\ntype: yaml\nparameters:\n  replicas: {type: integer, default: 1}\n",
    "templates__app_dot_yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
}

BAD_CATALOGS = [
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: helm\n"},
        ["catalogs/app/catalog.yaml: type: must be iac, yaml or hybrid, got 'helm'"],
        id="unknown-type",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: other\ntype: yaml\n", "templates__a_dot_yaml": "kind: x\n"},
        ["catalogs/app/catalog.yaml: name: 'other' differs from the folder name 'app'"],
        id="name-differs",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: yaml\n"},
        ["catalogs/app/templates/: no *.yaml templates found; a yaml or hybrid catalog needs at least one"],
        id="no-templates",
    ),
    pytest.param(
        {
            **GOOD_YAML_CATALOG,
            "catalog_dot_yaml": "name: app\ntype: yaml\nparameters:\n  replicas: {type: integer, default: many}\n",
        },
        ["catalogs/app/catalog.yaml: parameters.replicas.default: must be an integer, got the string 'many'"],
        id="default-wrong-type",
    ),
    pytest.param(
        {
            **GOOD_YAML_CATALOG,
            "catalog_dot_yaml": (
                "name: app\ntype: yaml\nparameters:\n"
                "  size: {type: enum}\n"
                "  port: {type: integer, minimum: 10, maximum: 1}\n"
                "  Bad_Name: {type: string}\n"
                "  tag: {type: string, pattern: '([a-z'}\n"
                "  key: {type: secret, default: hunter2}\n"
                "  mode: {type: string, required: true, default: a}\n"
                "  colour: {type: string, colour: red}\n"
            ),
        },
        [
            "catalogs/app/catalog.yaml: parameters.size.options: an enum parameter needs a non-empty list of options",
            "catalogs/app/catalog.yaml: parameters.port: minimum 10 is greater than maximum 1",
            "catalogs/app/catalog.yaml: parameters.Bad_Name: parameter names are camelCase: a lowercase letter, "
            "then letters and digits",
            "catalogs/app/catalog.yaml: parameters.tag.pattern: is not a valid regular expression: "
            "unterminated character set at position 1",
            "catalogs/app/catalog.yaml: parameters.key.default: a secret parameter takes no default value "
            "(use secret: defaults)",
            "catalogs/app/catalog.yaml: parameters.mode: a required parameter cannot have a default",
            "catalogs/app/catalog.yaml: parameters.colour.colour: unknown key (known: default, description, "
            "maximum, minimum, options, pattern, required, secret, terraformVariable, type)",
        ],
        id="every-parameter-problem-at-once",
    ),
    pytest.param(
        {
            "catalog_dot_yaml": (
                "name: db\ntype: iac\nparameters:\n  dbName: {type: string, required: true}\n"
                "outputs:\n  endpoint: {sensitive: false}\n  token: {sensitive: false}\n"
            ),
            "main_dot_tf": 'resource "null_resource" "db" {}\n',
            "variables_dot_tf": 'variable "name" { type = string }\n',
            "outputs_dot_tf": 'output "token" {\n  value = "x"\n  sensitive = true\n}\n',
        },
        [
            "catalogs/app/catalog.yaml: name: 'db' differs from the folder name 'app'",
            "catalogs/app/catalog.yaml: outputs.endpoint: outputs.tf declares no output 'endpoint'",
            "catalogs/app/catalog.yaml: outputs.token.sensitive: Terraform marks 'token' sensitive; declare it sensitive",
            "catalogs/app/catalog.yaml: parameters.dbName: variables.tf declares no variable 'db_name'",
        ],
        id="terraform-declarations",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: iac\n"},
        [
            "catalogs/app/catalog.yaml: terraform: an iac catalog needs a Terraform module: main.tf, variables.tf "
            "and outputs.tf beside catalog.yaml (source: inline, the default), or source: remote with its module "
            "address"
        ],
        id="iac-without-terraform",
    ),
    pytest.param(
        {**GOOD_YAML_CATALOG, "catalog_dot_yaml": "name: app\ntype: hybrid\n"},
        [
            "catalogs/app/catalog.yaml: terraform: a hybrid catalog needs a Terraform module: main.tf, variables.tf "
            "and outputs.tf beside catalog.yaml (source: inline, the default), or source: remote with its module "
            "address"
        ],
        id="hybrid-without-terraform",
    ),
    pytest.param(
        {
            "catalog_dot_yaml": "name: app\ntype: iac\n",
            "variables_dot_tf": 'variable "name" { type = string }\n',
            "outputs_dot_tf": 'output "name" { value = var.name }\n',
        },
        [
            "catalogs/app/catalog.yaml: terraform: the module's .tf files declare no resource, module or data block: "
            "Terraform would create nothing"
        ],
        id="iac-that-declares-nothing-to-create",
    ),
    pytest.param(
        {
            "catalog_dot_yaml": (
                "name: app\ntype: iac\nterraform: {source: remote, module: 'git::https://example.test/m.git'}\n"
                "parameters:\n  dbPassword: {type: secret, secret: {backend: vault, path: db, key: password}}\n"
            )
        },
        [
            "catalogs/app/catalog.yaml: parameters.dbPassword.secret.backend: 'vault' cannot reach Terraform: a "
            "Workspace reads secret variables (TF_VAR_db_password) from a Kubernetes Secret, so the backend is "
            "kubernetes"
        ],
        id="terraform-secret-default-backend-not-kubernetes",
    ),
    pytest.param(
        {
            **GOOD_YAML_CATALOG,
            "catalog_dot_yaml": "name: app\ntype: yaml\nparameters:\n  apiKey: {type: secret, secret: {backend: My Vault}}\n",
        },
        [
            "catalogs/app/catalog.yaml: parameters.apiKey.secret.backend: 'My Vault' is not a DNS-1123 label "
            "(lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), "
            "so no reference can use it; name one such as vault or kubernetes"
        ],
        id="secret-default-backend-not-a-label",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: iac\n", "main_dot_tf": "resource {{{ broken\n"},
        ["catalogs/app/main.tf: is not valid HCL: "],
        id="bad-hcl",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: [yaml\n"},
        ["catalogs/app/catalog.yaml: line 3, column 1: expected ',' or ']', but got '<stream end>'"],
        id="bad-yaml",
    ),
    pytest.param(
        {
            "catalog_dot_yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"b{i}: [*a, *a, *a]\n" for i in range(40))
        },
        ["catalogs/app/catalog.yaml: line 35: more than 100 YAML aliases; refusing to expand"],
        id="alias-bomb",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\nname: app\ntype: yaml\n"},
        ["catalogs/app/catalog.yaml: line 2: duplicate key 'name'"],
        id="duplicate-key",
    ),
    pytest.param(
        {**GOOD_YAML_CATALOG, "templates__app_dot_yaml": "kind: x\n{% if %}\n"},
        ["catalogs/app/templates/app.yaml: line 2: Expected an expression, got 'end of statement block'"],
        id="template-syntax",
    ),
    pytest.param(
        {"catalog_dot_yaml": "name: app\ntype: yaml\noutputs: {x: {sensitive: false}}\n", "templates__a_dot_yaml": ""},
        ["catalogs/app/catalog.yaml: outputs: only iac and hybrid catalogs have Terraform outputs"],
        id="outputs-on-yaml",
    ),
]


def test_a_template_only_secret_of_a_hybrid_catalog_may_default_to_any_backend() -> None:
    catalog = parse_catalog(
        files(
            "app",
            catalog_dot_yaml=(
                "name: app\ntype: hybrid\nparameters:\n"
                "  apiKey: {type: secret, secret: {backend: vault, path: secret/data/app, key: api-key}}\n"
            ),
            main_dot_tf='resource "null_resource" "x" {}\n',
            templates__app_dot_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
        )
    )
    assert catalog.parameters["apiKey"].terraform_variable is None
    assert catalog.parameters["apiKey"].secret.backend == "vault"


def test_catalog_yaml_is_read_as_yaml_1_2() -> None:
    catalog = parse_catalog(
        files(
            "app",
            catalog_dot_yaml=(
                "name: app\ntype: yaml\nversion: 012\nparameters:\n"
                "  mode: {type: enum, options: [on, off, yes], default: on}\n"
                "  since: {type: string, default: 2024-01-01}\n"
            ),
            templates__app_dot_yaml="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
        )
    )
    assert catalog.parameters["mode"].options == ("on", "off", "yes")
    assert catalog.parameters["mode"].default == "on"
    assert catalog.parameters["since"].default == "2024-01-01"
    assert catalog.version == "12"


@pytest.mark.parametrize(("contents", "expected"), BAD_CATALOGS)
def test_malformed_catalogs_name_file_field_and_problem(contents: dict[str, str], expected: list[str]) -> None:
    raw = files("app", **contents)
    with pytest.raises(CatalogError) as caught:
        parse_catalog(raw)
    problems = list(caught.value.problems)
    if expected[0].endswith(": ") and len(expected) == 1:
        assert len(problems) == 1 and problems[0].startswith(expected[0])
    else:
        assert sorted(problems) == sorted(expected)


def test_symlink_out_of_the_catalog_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "catalogs" / "leaky"
    (folder / "templates").mkdir(parents=True)
    (folder / "catalog.yaml").write_text("name: leaky\ntype: yaml\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("do not read")
    (folder / "templates" / "app.yaml").symlink_to(outside)
    with pytest.raises(CatalogError) as caught:
        read_catalog_folder(folder)
    assert caught.value.problems == (
        f"{folder.as_posix()}/templates/app.yaml: is a symbolic link pointing outside the catalog folder",
    )


def test_huge_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "catalog.yaml").write_text("name: big\ntype: yaml\n# " + "x" * (1024 * 1024) + "\n")
    with pytest.raises(CatalogError) as caught:
        read_catalog_folder(folder)
    (problem,) = caught.value.problems
    assert problem.endswith("catalog files may be at most 1048576")


def test_all_catalog_problems_are_reported_together(tmp_path: Path) -> None:
    for name, body in {"one": "type: nope\n", "two": "type: yaml\n"}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "catalog.yaml").write_text(body)
    with pytest.raises(CatalogError) as caught:
        load_catalogs(tmp_path)
    assert [p.split(": ")[0] for p in caught.value.problems] == [
        f"{(tmp_path / 'one').as_posix()}/catalog.yaml",
        f"{(tmp_path / 'two').as_posix()}/templates/",
    ]


def test_catalogs_parse_from_text_alone_with_every_problem_together() -> None:
    folders = [
        files("one", catalog_dot_yaml="type: nope\n"),
        files("two", catalog_dot_yaml="type: yaml\n"),
        files("app", **GOOD_YAML_CATALOG),
    ]
    with pytest.raises(CatalogError) as caught:
        parse_catalogs(folders)
    assert [p.split(": ")[0] for p in caught.value.problems] == ["catalogs/one/catalog.yaml", "catalogs/two/templates/"]
    assert parse_catalogs(folders[2:]).names() == ("app",)


FILE_IO = frozenset({"open", "read_text", "read_bytes", "write_text", "rglob", "glob", "iterdir", "stat", "exists"})


def test_the_catalog_package_touches_no_file() -> None:
    """``bot/catalog/`` gets a catalog's files as text; ``bot/catalog_files.py`` alone walks the disk."""
    touching = sorted(
        f"{path.name}:{node.lineno}"
        for path in (PROJECT_ROOT / "bot" / "catalog").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Attribute) and node.attr in FILE_IO)
        or (isinstance(node, ast.Name) and node.id == "open")
    )
    assert touching == []
