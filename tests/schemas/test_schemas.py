"""The published JSON Schemas: valid draft 2020-12, met by every example, and in agreement with envbot's validators."""

from __future__ import annotations

import functools
import json
import re
import textwrap
import tomllib
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from project_paths import CATALOGS, EXAMPLES, PROJECT_ROOT

from bot import yamldoc
from bot.catalog.loader import CatalogFiles, parse_catalog
from bot.catalog.model import CAMEL_CASE_NAME, snake_case
from bot.catalog_files import read_catalog_folder
from bot.cli import SCHEMA_NAMES, main
from bot.config import parse_config
from bot.environment.spec import parse_environment, parse_value
from bot.errors import CatalogError, EnvironmentSpecError, UserError

SCHEMAS = PROJECT_ROOT / "bot" / "schemas"
MODELINE = re.compile(r"# yaml-language-server: \$schema=(?P<path>\S+)\n")


def schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    return document


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


def schema_accepts(name: str, text: str) -> bool:
    """What the schema says of a file read as envbot reads it (YAML 1.2 core schema)."""
    return validator(name).is_valid(yamldoc.load_one(text))


def schema_problems(name: str, text: str) -> list[str]:
    return [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(yamldoc.load_one(text))
    ]


# -- envbot's own validators, each as accept / refuse -----------------------------------------------------------


def config_accepts(text: str) -> bool:
    try:
        parse_config(text, "envbot.yaml")
    except UserError:
        return False
    return True


def environment_accepts(text: str) -> bool:
    """``parse_environment``, then ``parse_value`` on every parameter value (what binding does first)."""
    try:
        environment = parse_environment(text, "env.yaml")
        for request in environment.catalogs:
            for value in request.parameters.values():
                parse_value(value)
    except (EnvironmentSpecError, ValueError):
        return False
    return True


def catalog_folder(text: str) -> CatalogFiles:
    """A folder for ``catalog.yaml`` whose other files fit it: a module declaring every variable and output the
    document names (iac, hybrid) and one template (yaml, hybrid), so that only ``catalog.yaml`` decides."""
    document = yamldoc.load_one(text)
    body = document if isinstance(document, dict) else {}
    kind = body.get("type")
    files = {"catalog.yaml": text}
    terraform = body.get("terraform") if isinstance(body.get("terraform"), dict) else {}
    if kind in ("iac", "hybrid") and terraform.get("source") != "remote":
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        variables = {"tags"}
        for name, spec in parameters.items():
            given = spec.get("terraformVariable") if isinstance(spec, dict) else None
            variables.add(given if isinstance(given, str) else snake_case(str(name)))
        outputs = body.get("outputs") if isinstance(body.get("outputs"), dict) else {}
        output_blocks = []
        for name, spec in outputs.items():
            spec = spec if isinstance(spec, dict) else {}
            given = spec.get("terraformOutput")
            sensitive = "true" if spec.get("sensitive") is True else "false"
            tf_name = given if isinstance(given, str) else snake_case(str(name))
            output_blocks.append(f'output "{tf_name}" {{\n  value     = "x"\n  sensitive = {sensitive}\n}}\n')
        identifiers = sorted(v for v in variables if re.fullmatch(r"[a-z_][a-z0-9_]*", v))
        files["main.tf"] = 'resource "null_resource" "this" {}\n'
        files["variables.tf"] = "".join(f'variable "{v}" {{}}\n' for v in identifiers)
        files["outputs.tf"] = "".join(output_blocks)
    if kind in ("yaml", "hybrid"):
        folder = body.get("templates", "templates")
        folder = folder if isinstance(folder, str) and folder and ".." not in folder else "templates"
        files[f"{folder.strip('/')}/app.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
    return CatalogFiles(name="tiny", root="catalogs/tiny", files=files)


def catalog_accepts(text: str) -> bool:
    try:
        parse_catalog(catalog_folder(text))
    except CatalogError:
        return False
    return True


ORACLES: dict[str, Callable[[str], bool]] = {
    "envbot": config_accepts,
    "catalog": catalog_accepts,
    "environment": environment_accepts,
}


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# -- the schemas themselves and the files that use them --------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    document = schema(name)
    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"https://envbot.dev/schemas/{name}.schema.json"


def undescribed_properties(node: Any, path: str = "") -> list[str]:
    """Every property of the schema without a description (conditions aside: they describe nothing)."""
    missing: list[str] = []
    if isinstance(node, dict):
        for key, child in (node.get("properties") or {}).items():
            if isinstance(child, dict) and "description" not in child:
                missing.append(f"{path}/{key}")
        for key, child in node.items():
            if key not in ("if", "then", "else", "not"):
                missing.extend(undescribed_properties(child, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            missing.extend(undescribed_properties(child, f"{path}/{index}"))
    return missing


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_property_is_described_for_editors(name: str) -> None:
    assert undescribed_properties(schema(name)) == []


def shipped_files() -> list[tuple[Path, str]]:
    catalogs = sorted(CATALOGS.glob("*/catalog.yaml"))
    environments = sorted(EXAMPLES.glob("*.yaml"))
    return [(path, "catalog") for path in catalogs] + [(path, "environment") for path in environments]


@pytest.mark.parametrize(
    ("path", "name"),
    shipped_files(),
    ids=lambda v: v.relative_to(PROJECT_ROOT).as_posix() if isinstance(v, Path) else v,
)
def test_every_shipped_file_meets_its_schema_and_the_environments_name_it(path: Path, name: str) -> None:
    """A catalog carries no modeline: its record digests every file of it, so a new line would show as a change."""
    text = path.read_text(encoding="utf-8")
    modeline = MODELINE.match(text)
    if name == "catalog":
        assert modeline is None, f"{path.name}: a comment line changes the catalog's digest in every record"
    else:
        assert modeline, f"{path.name}: the first line is not the yaml-language-server modeline"
        assert (path.parent / modeline["path"]).resolve() == (SCHEMAS / f"{name}.schema.json").resolve()
    if name == "catalog":
        parse_catalog(read_catalog_folder(path.parent))
    else:
        parse_environment(text, path.as_posix())
    assert schema_problems(name, text) == []


def test_every_shipped_file_is_checked() -> None:
    catalogs = [path.parent.name for path, name in shipped_files() if name == "catalog"]
    assert catalogs == sorted(folder.name for folder in CATALOGS.iterdir() if folder.is_dir())
    assert [path.name for path, name in shipped_files() if name == "environment"] == sorted(
        path.name for path in EXAMPLES.iterdir()
    )


def fenced_yaml(markdown: Path) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", markdown.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def documented_examples() -> list[Any]:
    configuration, events, modeline = fenced_yaml(PROJECT_ROOT / "docs" / "configuration.md")
    (environment,) = fenced_yaml(PROJECT_ROOT / "docs" / "environments.md")
    (readme,) = fenced_yaml(PROJECT_ROOT / "README.md")
    repositories = "platform: {repository: acme/p}\napps: {repository: acme/a}\n"
    return [
        pytest.param("envbot", configuration, id="docs/configuration.md"),
        pytest.param("envbot", repositories + events, id="docs/configuration.md#events"),
        pytest.param("envbot", modeline, id="docs/configuration.md#editor-support"),
        pytest.param("environment", environment, id="docs/environments.md"),
        pytest.param("environment", readme, id="README.md"),
    ]


@pytest.mark.parametrize(("name", "text"), documented_examples())
def test_documented_examples_meet_the_validators_and_the_schemas(name: str, text: str) -> None:
    assert ORACLES[name](text)
    assert schema_problems(name, text) == []


def test_every_envbot_yaml_the_tests_write_meets_the_schema(tmp_path: Path) -> None:
    """The configurations the other test suites build (imported here, not at collection)."""
    from tests.action.support import world_config
    from tests.faults.world import write_config
    from tests.hostile.corpus_files import config

    texts = {
        "faults": write_config(tmp_path, api_url="http://127.0.0.1:1", merge={"requiredChecks": ["ci"]}).read_text(),
        "action": dump(world_config("acme/shop", extra={"timeouts": {"wait": "5m", "pollInterval": "1s"}})),
        "hostile": config(),
    }
    for origin, text in texts.items():
        assert config_accepts(text), origin
        assert schema_problems("envbot", text) == [], origin


# -- agreement: what envbot refuses for its structure, the schema refuses too ---------------------------------

REPOS = {"platform": {"repository": "acme/gitops-platform"}, "apps": {"repository": "./apps.git"}}
APP = {"id": 123456, "installationId": 12345678, "privateKeyFile": "/var/run/secrets/envbot/github-app/private-key.pem"}
AGENT = {"resync": "60s", "fullResync": "10m", "debounce": "2s", "listen": "0.0.0.0:8080"}


def cfg(**sections: Any) -> str:
    return dump({**REPOS, **sections})


CONFIGS = [
    pytest.param(cfg(), True, id="minimal"),
    pytest.param(
        cfg(
            catalogs="catalogs",
            github={"apiUrl": "https://ghe.example.com/api/v3", "commentAuthor": "bot"},
            cluster={"type": "static", "path": "observed/"},
            render={"workspaceApi": "tf.m.upbound.io/v1beta1", "providerConfigKind": "ProviderConfig"},
            timeouts={"failureGrace": "1w2d", "stuckDeletingAfter": "1h30m", "wait": "0s", "pollInterval": "5s"},
            merge={"method": "squash", "requiredChecks": ["ci/lint"], "settle": "2m", "native": "never"},
            events={
                "repository": "acme/shop",
                "branches": [{"pattern": "feature/*", "template": "envs/feature.yaml"}],
                "defaultTemplate": None,
                "provisionLabel": "envbot:provision",
                "destroyOnCloseUnmerged": True,
                "permission": " Maintain ",
                "namePrefix": "pr-",
                "foreignCommands": ["lgtm", "re_test"],
            },
        ),
        True,
        id="every-key",
    ),
    pytest.param(cfg(events={"repository": None}), True, id="events-repository-null"),
    pytest.param(cfg(cluster={"type": "kubernetes", "path": ""}), True, id="empty-path-off-static"),
    pytest.param("- platform\n", False, id="not-a-mapping"),
    pytest.param(cfg(plattform={"repository": "x"}), False, id="unknown-top-key"),
    pytest.param(dump({"apps": REPOS["apps"]}), False, id="no-platform"),
    pytest.param(cfg(apps={}), False, id="no-apps-repository"),
    pytest.param(cfg(apps={"repository": ""}), False, id="empty-repository"),
    pytest.param(cfg(apps={"repository": " "}), False, id="blank-repository"),
    pytest.param(cfg(apps=None), False, id="apps-null"),
    pytest.param(cfg(platform={"repository": "acme/p", "token": "x"}), False, id="unknown-repository-key"),
    pytest.param(cfg(platform={"repository": "acme/p", "baseBranch": 1}), False, id="base-branch-number"),
    pytest.param(
        cfg(
            catalogs=None,
            github=None,
            cluster={"type": None, "kubeconfig": None},
            timeouts={"wait": None},
            merge={"method": None, "requiredChecks": None},
            events={"permission": None, "branches": None, "destroyOnCloseUnmerged": None},
        ),
        True,
        id="null-is-not-given",
    ),
    pytest.param(cfg(platform={"repository": None}), False, id="repository-null"),
    pytest.param(cfg(events={"branches": [{"pattern": "*", "template": None}]}), False, id="branch-template-null"),
    pytest.param(cfg(github={"apiUrl": 5}), False, id="api-url-number"),
    pytest.param(cfg(cluster={"type": "docker"}), False, id="cluster-type"),
    pytest.param(cfg(cluster={"type": "static"}), False, id="static-without-path"),
    pytest.param(cfg(cluster={"type": "static", "path": ""}), False, id="static-empty-path"),
    pytest.param(cfg(cluster={"token": "x"}), False, id="unknown-cluster-key"),
    pytest.param(cfg(render={"workspaceApi": "tf.upbound.io/v2"}), False, id="workspace-api"),
    pytest.param(cfg(render={"environmentsDir": ["a"]}), False, id="environments-dir-list"),
    pytest.param(cfg(timeouts={"wait": "forever"}), False, id="duration-words"),
    pytest.param(cfg(timeouts={"wait": "0m"}), False, id="duration-zero"),
    pytest.param(cfg(timeouts={"wait": ""}), False, id="duration-empty"),
    pytest.param(cfg(timeouts={"wait": "10"}), False, id="duration-without-unit"),
    pytest.param(cfg(timeouts={"wait": "1m30s"}), False, id="duration-minutes-and-seconds"),
    pytest.param(cfg(timeouts={"wait": 60}), False, id="duration-number"),
    pytest.param(cfg(merge={"method": "rebase"}), False, id="merge-method"),
    pytest.param(cfg(merge={"native": "sometimes"}), False, id="merge-native"),
    pytest.param(cfg(merge={"requiredChecks": ["ci", " "]}), False, id="required-check-blank"),
    pytest.param(cfg(merge={"requiredChecks": "ci"}), False, id="required-checks-not-a-list"),
    pytest.param(cfg(events=None), True, id="events-null"),
    pytest.param(cfg(events=["x"]), False, id="events-list"),
    pytest.param(cfg(events={"allowForks": True}), False, id="events-unknown-key"),
    pytest.param(cfg(events={"repository": "../../etc"}), False, id="events-repository"),
    pytest.param(cfg(events={"repository": "acme/.."}), False, id="events-repository-dot-dot"),
    pytest.param(cfg(events={"repository": "-acme/app"}), False, id="events-repository-owner"),
    pytest.param(cfg(events={"repository": "a" * 40 + "/app"}), False, id="events-repository-owner-too-long"),
    pytest.param(cfg(events={"repository": "acme/" + "a" * 101}), False, id="events-repository-name-too-long"),
    pytest.param(cfg(events={"branches": {"pattern": "*"}}), False, id="branches-mapping"),
    pytest.param(cfg(events={"branches": [{"pattern": "*"}]}), False, id="branch-without-template"),
    pytest.param(
        cfg(events={"branches": [{"pattern": "*", "template": "t.yaml", "permission": "read"}]}),
        False,
        id="branch-extra-key",
    ),
    pytest.param(cfg(events={"branches": [{"pattern": " ", "template": "t.yaml"}]}), False, id="branch-blank-pattern"),
    pytest.param(cfg(events={"branches": [{"pattern": "*", "template": 5}]}), False, id="template-number"),
    pytest.param(cfg(events={"defaultTemplate": "a.yaml\n../../etc/passwd"}), False, id="template-two-lines"),
    pytest.param(cfg(events={"defaultTemplate": "a\x00b"}), False, id="template-nul"),
    pytest.param(cfg(events={"defaultTemplate": "  "}), False, id="template-blank"),
    pytest.param(cfg(events={"provisionLabel": "x" * 51}), False, id="label-too-long"),
    pytest.param(cfg(events={"provisionLabel": " "}), False, id="label-blank"),
    pytest.param(cfg(events={"destroyOnCloseUnmerged": "yes"}), False, id="destroy-yes"),
    pytest.param(cfg(events={"permission": "none"}), False, id="permission-none"),
    pytest.param(cfg(events={"permission": "owner"}), False, id="permission-unknown"),
    pytest.param(cfg(events={"permission": 3}), False, id="permission-number"),
    pytest.param(cfg(events={"namePrefix": "PR_"}), False, id="prefix-uppercase"),
    pytest.param(cfg(events={"namePrefix": "../"}), False, id="prefix-traversal"),
    pytest.param(cfg(events={"namePrefix": "a" * 21}), False, id="prefix-too-long"),
    pytest.param(cfg(events={"foreignCommands": ["/lgtm"]}), False, id="foreign-command-slash"),
    pytest.param(cfg(events={"foreignCommands": "lgtm"}), False, id="foreign-commands-not-a-list"),
    pytest.param(cfg(github={"app": APP}, agent=AGENT), True, id="agent-and-app"),
    pytest.param(cfg(github={"app": None}, agent=None), True, id="agent-and-app-null"),
    pytest.param(cfg(github={"app": {**APP, "privateKeyFile": ""}}), True, id="app-key-file-empty"),
    pytest.param(
        cfg(agent={"resync": None, "fullResync": None, "debounce": None, "listen": None}),
        True,
        id="agent-nulls",
    ),
    pytest.param(cfg(github={"app": {}}), False, id="app-empty"),
    pytest.param(cfg(github={"app": "123"}), False, id="app-text"),
    pytest.param(cfg(github={"app": {**APP, "secret": "x"}}), False, id="app-unknown-key"),
    pytest.param(cfg(github={"app": {"id": 1, "installationId": 2}}), False, id="app-without-key-file"),
    pytest.param(cfg(github={"app": {"id": 1, "privateKeyFile": "k.pem"}}), False, id="app-without-installation"),
    pytest.param(cfg(github={"app": {**APP, "id": None}}), False, id="app-id-null"),
    pytest.param(cfg(github={"app": {**APP, "id": 0}}), False, id="app-id-zero"),
    pytest.param(cfg(github={"app": {**APP, "id": "123"}}), False, id="app-id-text"),
    pytest.param(cfg(github={"app": {**APP, "installationId": True}}), False, id="app-installation-boolean"),
    pytest.param(cfg(github={"app": {**APP, "privateKeyFile": None}}), False, id="app-key-file-null"),
    pytest.param(cfg(github={"app": {**APP, "privateKeyFile": 5}}), False, id="app-key-file-number"),
    pytest.param(cfg(agent=["resync"]), False, id="agent-list"),
    pytest.param(cfg(agent={"replicas": 2}), False, id="agent-unknown-key"),
    pytest.param(cfg(agent={"enabled": True}), False, id="agent-unknown-key"),
    pytest.param(cfg(agent={"resync": "1m30s"}), False, id="agent-resync-minutes-and-seconds"),
    pytest.param(cfg(agent={"debounce": 2}), False, id="agent-debounce-number"),
    pytest.param(cfg(agent={"fullResync": "0h"}), False, id="agent-full-resync-zero"),
    pytest.param(cfg(agent={"debounce": "0s"}), True, id="agent-debounce-0s"),
    pytest.param(cfg(agent={"listen": ":8080"}), True, id="listen-any-host"),
    pytest.param(cfg(agent={"listen": "[::]:08080"}), True, id="listen-ipv6-leading-zero"),
    pytest.param(cfg(agent={"listen": "127.0.0.1:65535"}), True, id="listen-highest-port"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:65536"}), False, id="listen-port-too-high"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:0"}), False, id="listen-port-zero"),
    pytest.param(cfg(agent={"listen": "0.0.0.0"}), False, id="listen-without-port"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:"}), False, id="listen-empty-port"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:http"}), False, id="listen-port-name"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:8080\n"}), False, id="listen-trailing-newline"),
    pytest.param(cfg(agent={"listen": "unix:/run/envbot:80"}), False, id="listen-slash"),
    pytest.param(cfg(agent={"listen": "0.0.0.0:\uff18\uff10"}), False, id="listen-fullwidth-digits"),
    pytest.param(cfg(agent={"listen": 8080}), False, id="listen-number"),
]

ENV = {"apiVersion": "envbot.io/v1alpha1", "kind": "Environment", "name": "dev"}
APP = {"name": "sample-app", "parameters": {"databaseEndpoint": "db.internal"}}


def env(*catalogs: Any, **fields: Any) -> str:
    return dump({**ENV, **fields, "catalogs": list(catalogs) or [APP]})


def param(value: Any) -> str:
    return env({"name": "sample-app", "parameters": {"value": value}})


SECRET = {"backend": "vault", "path": "secret/data/x", "key": "api-key", "env": "API_KEY"}

ENVIRONMENTS = [
    pytest.param(env(), True, id="minimal"),
    pytest.param(
        env(
            namespace="team-a",
            type="release",
            description="x" * 1000,
            cluster="dev.cluster-1",
            ttl="1w2d",
            owner="alice",
            origin={"kind": "pullRequest", "repository": "acme/app", "branch": "feature/x", "pullRequest": 42},
        ),
        True,
        id="every-field",
    ),
    pytest.param(env(ttl=None, owner=None, origin=None), True, id="nulls"),
    pytest.param(env(origin={"kind": "branch", "branch": "feature/x"}), True, id="branch-origin"),
    pytest.param(env({"name": "sample-app", "parameters": None}), True, id="parameters-null"),
    pytest.param(param({"fromOutput": "rds-postgres.endpoint"}), True, id="from-output"),
    pytest.param(param({"fromSecret": SECRET}), True, id="from-secret"),
    pytest.param(param({"fromSecret": {}}), True, id="from-secret-completed-by-the-catalog"),
    pytest.param(param([1, "a", None]), True, id="literal-list"),
    pytest.param("- just\n- a list\n", False, id="not-a-mapping"),
    pytest.param(env(colour="blue"), False, id="unknown-field"),
    pytest.param(dump({"name": "dev", "catalogs": [APP]}), False, id="no-kind"),
    pytest.param(env(kind="Catalog"), False, id="wrong-kind"),
    pytest.param(env(apiVersion="envbot.io/v2"), False, id="wrong-api-version"),
    pytest.param(dump({"kind": "Environment", "catalogs": [APP]}), False, id="no-name"),
    pytest.param(env(name="../prod"), False, id="name-traversal"),
    pytest.param(env(name="Dev"), False, id="name-uppercase"),
    pytest.param(env(name="a" * 64), False, id="name-over-63"),
    pytest.param(env(name="dev\n"), False, id="name-trailing-newline"),
    pytest.param(
        env(namespace=None, apiVersion=None, type=None, description=None, cluster=None, origin={"kind": None}),
        True,
        id="null-is-not-given",
    ),
    pytest.param(env(name=None), False, id="name-null"),
    pytest.param(env(kind=None), False, id="kind-null"),
    pytest.param(dump({**ENV, "catalogs": None}), False, id="catalogs-null"),
    pytest.param(env(namespace="team_a"), False, id="namespace-underscore"),
    pytest.param(env(type="production"), False, id="type"),
    pytest.param(env(description=5), False, id="description-number"),
    pytest.param(env(description="x" * 1001), False, id="description-too-long"),
    pytest.param(env(cluster="Prod Cluster"), False, id="cluster-name"),
    pytest.param(env(cluster="a" * 254), False, id="cluster-too-long"),
    pytest.param(env(cluster="a..b"), False, id="cluster-empty-part"),
    pytest.param(env(cluster="a.-b"), False, id="cluster-part-starts-with-dash"),
    pytest.param(env(ttl="3 days"), False, id="ttl-words"),
    pytest.param(env(ttl="0h"), False, id="ttl-zero"),
    pytest.param(env(ttl="30s"), False, id="ttl-seconds"),
    pytest.param(env(ttl=72), False, id="ttl-number"),
    pytest.param(env(owner="alice\nbob"), False, id="owner-two-lines"),
    pytest.param(env(owner="x" * 201), False, id="owner-too-long"),
    pytest.param(env(owner=5), False, id="owner-number"),
    pytest.param(env(owner="a\x00b"), False, id="owner-nul"),
    pytest.param(env(origin=["manual"]), False, id="origin-list"),
    pytest.param(env(origin={"kind": "manual", "actor": "x"}), False, id="origin-unknown-field"),
    pytest.param(env(origin={"kind": "tag"}), False, id="origin-kind"),
    pytest.param(env(origin={"repository": "acme"}), False, id="origin-repository"),
    pytest.param(env(origin={"branch": "a..b"}), False, id="origin-branch-dots"),
    pytest.param(env(origin={"branch": ""}), False, id="origin-branch-empty"),
    pytest.param(env(origin={"branch": " "}), False, id="origin-branch-blank"),
    pytest.param(env(origin={"branch": "a\x00b"}), False, id="origin-branch-nul"),
    pytest.param(env(origin={"branch": "a\nb"}), False, id="origin-branch-two-lines"),
    pytest.param(env(origin={"pullRequest": 0}), False, id="origin-pull-request-zero"),
    pytest.param(env(origin={"pullRequest": True}), False, id="origin-pull-request-boolean"),
    pytest.param(env(origin={"pullRequest": "42"}), False, id="origin-pull-request-text"),
    pytest.param(env(origin={"kind": "branch"}), False, id="branch-origin-without-branch"),
    pytest.param(env(origin={"kind": "pullRequest", "branch": "x"}), False, id="pull-request-origin-without-number"),
    pytest.param(dump(ENV), False, id="no-catalogs"),
    pytest.param(dump({**ENV, "catalogs": []}), False, id="no-catalog"),
    pytest.param(dump({**ENV, "catalogs": {"sample-app": {}}}), False, id="catalogs-mapping"),
    pytest.param(env("sample-app"), False, id="catalog-entry-text"),
    pytest.param(env({"name": "sample-app", "version": 2}), False, id="catalog-entry-unknown-field"),
    pytest.param(env({"parameters": {}}), False, id="catalog-without-name"),
    pytest.param(env({"name": "../../etc"}), False, id="catalog-name-traversal"),
    pytest.param(env({"name": "sample-app", "parameters": "x"}), False, id="parameters-text"),
    pytest.param(param({"value": "x"}), False, id="unknown-mapping-value"),
    pytest.param(param({"fromOutput": "rds-postgres"}), False, id="from-output-without-output"),
    pytest.param(param({"fromOutput": "a.b.c"}), False, id="from-output-two-dots"),
    pytest.param(param({"fromOutput": "RDS.endpoint"}), False, id="from-output-catalog-name"),
    pytest.param(param({"fromOutput": "rds."}), False, id="from-output-empty-output"),
    pytest.param(param({"fromOutput": 5}), False, id="from-output-number"),
    pytest.param(param({"fromOutput": "a.b", "default": 1}), False, id="from-output-extra-key"),
    pytest.param(param({"fromSecret": "vault:x"}), False, id="from-secret-text"),
    pytest.param(param({"fromSecret": {"colour": "x"}}), False, id="from-secret-unknown-field"),
    pytest.param(param({"fromSecret": {"key": ""}}), False, id="from-secret-empty-field"),
    pytest.param(param({"fromSecret": {"key": "a\nb"}}), False, id="from-secret-two-lines"),
    pytest.param(param({"fromSecret": {"key": 5}}), False, id="from-secret-number"),
]

TINY_YAML = {"name": "tiny", "type": "yaml", "parameters": {"replicas": {"type": "integer", "default": 1}}}
TINY_IAC = {
    "name": "tiny",
    "type": "iac",
    "parameters": {"bucketName": {"required": True}},
    "outputs": {"bucketArn": {"sensitive": False, "example": "arn:x"}, "adminToken": {"sensitive": True}},
}


def yaml_catalog(**fields: Any) -> str:
    return dump({**TINY_YAML, **fields})


def iac_catalog(**fields: Any) -> str:
    return dump({**TINY_IAC, **fields})


def parameter(**spec: Any) -> str:
    return yaml_catalog(parameters={"value": spec})


CATALOG_DOCUMENTS = [
    pytest.param(yaml_catalog(), True, id="minimal-yaml"),
    pytest.param(iac_catalog(), True, id="minimal-iac"),
    pytest.param(iac_catalog(type="hybrid", templates="deploy/"), True, id="hybrid"),
    pytest.param(
        yaml_catalog(apiVersion="envbot.io/v1alpha1", kind="Catalog", description="d", version=1.5, outputs={}),
        True,
        id="every-top-field",
    ),
    pytest.param(yaml_catalog(parameters=None), True, id="parameters-null"),
    pytest.param(yaml_catalog(parameters={"value": None}), True, id="parameter-null-is-a-string"),
    pytest.param(
        yaml_catalog(name=None, version=None, description=None, templates=None, kind=None, apiVersion=None),
        True,
        id="null-is-not-given",
    ),
    pytest.param(parameter(type=None, pattern="^a$", description=None, required=None), True, id="null-type-is-string"),
    pytest.param(iac_catalog(outputs={"arn": {"terraformOutput": None, "sensitive": None}}), True, id="output-nulls"),
    pytest.param(iac_catalog(terraform={"source": None, "module": None}), True, id="terraform-nulls"),
    pytest.param(dump({"name": "tiny", "type": None}), False, id="type-null"),
    pytest.param(parameter(type="enum", options=None), False, id="enum-options-null"),
    pytest.param(iac_catalog(terraform={"source": "remote", "module": None}), False, id="remote-module-null"),
    pytest.param(parameter(type="enum", options=["a", 1, 2.5, False], default=1), True, id="enum"),
    pytest.param(parameter(pattern="^[a-z]+$", default="abc", description="d", required=False), True, id="string"),
    pytest.param(parameter(type="number", minimum=0.5, maximum=2, default=1), True, id="number-limits"),
    pytest.param(parameter(type="boolean", default=None), True, id="default-null"),
    pytest.param(parameter(type="secret", required=True, secret=SECRET), True, id="secret-defaults"),
    pytest.param(parameter(type="secret", secret={"backend": None, "path": "p"}), True, id="secret-null-field"),
    pytest.param(
        iac_catalog(parameters={"dbPassword": {"type": "secret", "secret": {"backend": "kubernetes", "key": "k"}}}),
        True,
        id="iac-secret-kubernetes",
    ),
    pytest.param(
        iac_catalog(parameters={"size": {"type": "integer", "terraformVariable": "disk_size", "default": 5}}),
        True,
        id="terraform-variable",
    ),
    pytest.param(
        iac_catalog(outputs={"arn": {"description": 7, "terraformOutput": "bucket_arn"}}), True, id="output-fields"
    ),
    pytest.param(iac_catalog(outputs=None, terraform=None), True, id="outputs-and-terraform-null"),
    pytest.param(
        iac_catalog(terraform={"source": "remote", "module": "git::https://x/y.git", "tagsVariable": None}),
        True,
        id="terraform-remote",
    ),
    pytest.param(iac_catalog(terraform={"source": "inline", "module": None}), True, id="terraform-inline"),
    pytest.param("- a list\n", False, id="not-a-mapping"),
    pytest.param(yaml_catalog(hooks={"preRender": "sh"}), False, id="unknown-field"),
    pytest.param(yaml_catalog(apiVersion="v2"), False, id="api-version"),
    pytest.param(yaml_catalog(kind="Environment"), False, id="kind"),
    pytest.param(yaml_catalog(name="../tiny"), False, id="name-traversal"),
    pytest.param(yaml_catalog(name="a" * 64), False, id="name-too-long"),
    pytest.param(dump({"name": "tiny", "parameters": {}}), False, id="no-type"),
    pytest.param(yaml_catalog(type="helm"), False, id="type"),
    pytest.param(yaml_catalog(description=["x"]), False, id="description-list"),
    pytest.param(yaml_catalog(version=True), False, id="version-boolean"),
    pytest.param(yaml_catalog(parameters=["replicas"]), False, id="parameters-list"),
    pytest.param(yaml_catalog(parameters={"db_name": {}}), False, id="parameter-snake-case"),
    pytest.param(yaml_catalog(parameters={"value": "string"}), False, id="parameter-text"),
    pytest.param(parameter(colour="blue"), False, id="parameter-unknown-field"),
    pytest.param(parameter(type="float"), False, id="parameter-type"),
    pytest.param(parameter(required="yes"), False, id="required-text"),
    pytest.param(parameter(required=True, default="x"), False, id="required-with-default"),
    pytest.param(parameter(required=True, default=None), False, id="required-with-null-default"),
    pytest.param(parameter(options=["a"]), False, id="options-on-a-string"),
    pytest.param(parameter(type="enum"), False, id="enum-without-options"),
    pytest.param(parameter(type="enum", options=[]), False, id="enum-empty-options"),
    pytest.param(parameter(type="enum", options="a, b"), False, id="enum-options-text"),
    pytest.param(parameter(type="enum", options=[{"a": 1}]), False, id="enum-option-mapping"),
    pytest.param(parameter(type="enum", options=["a", None]), False, id="enum-option-null"),
    pytest.param(parameter(type="enum", options=["a", "a"]), False, id="enum-options-repeat"),
    pytest.param(parameter(type="enum", options=["a"], default=["a"]), False, id="enum-default-list"),
    pytest.param(parameter(type="integer", pattern="^1$"), False, id="pattern-on-an-integer"),
    pytest.param(parameter(pattern=5), False, id="pattern-number"),
    pytest.param(parameter(minimum=1), False, id="minimum-on-a-string"),
    pytest.param(parameter(type="integer", maximum="10"), False, id="maximum-text"),
    pytest.param(parameter(type="integer", minimum=True), False, id="minimum-boolean"),
    pytest.param(parameter(type="integer", default="1"), False, id="integer-default-text"),
    pytest.param(parameter(type="integer", default=1.5), False, id="integer-default-fraction"),
    pytest.param(parameter(type="number", default=True), False, id="number-default-boolean"),
    pytest.param(parameter(type="boolean", default="yes"), False, id="boolean-default-yes"),
    pytest.param(parameter(default=12), False, id="string-default-number"),
    pytest.param(parameter(terraformVariable=5), False, id="terraform-variable-number"),
    pytest.param(parameter(secret={"backend": "vault"}), False, id="secret-defaults-on-a-string"),
    pytest.param(parameter(type="secret", default=None), False, id="secret-with-default"),
    pytest.param(parameter(type="secret", secret="vault"), False, id="secret-defaults-text"),
    pytest.param(parameter(type="secret", secret={"store": "x"}), False, id="secret-unknown-field"),
    pytest.param(parameter(type="secret", secret={"backend": "Vault"}), False, id="secret-backend-label"),
    pytest.param(parameter(type="secret", secret={"path": 5}), False, id="secret-path-number"),
    pytest.param(
        iac_catalog(parameters={"dbPassword": {"type": "secret", "secret": {"backend": "vault"}}}),
        False,
        id="iac-secret-not-kubernetes",
    ),
    pytest.param(yaml_catalog(outputs={"endpoint": {}}), False, id="outputs-on-a-yaml-catalog"),
    pytest.param(yaml_catalog(terraform={}), False, id="terraform-on-a-yaml-catalog"),
    pytest.param(yaml_catalog(terraform=None), True, id="terraform-null-on-a-yaml-catalog"),
    pytest.param(iac_catalog(outputs=["arn"]), False, id="outputs-list"),
    pytest.param(iac_catalog(outputs={"bucket_arn": {}}), False, id="output-snake-case"),
    pytest.param(iac_catalog(outputs={"arn": "x"}), False, id="output-text"),
    pytest.param(iac_catalog(outputs={"arn": {"value": "x"}}), False, id="output-unknown-field"),
    pytest.param(iac_catalog(outputs={"arn": {"sensitive": "no"}}), False, id="sensitive-text"),
    pytest.param(iac_catalog(outputs={"token": {"sensitive": True, "example": None}}), False, id="sensitive-example"),
    pytest.param(iac_catalog(terraform=["inline"]), False, id="terraform-list"),
    pytest.param(iac_catalog(terraform={"source": "git"}), False, id="terraform-source"),
    pytest.param(iac_catalog(terraform={"source": "remote"}), False, id="remote-without-module"),
    pytest.param(iac_catalog(terraform={"source": "remote", "module": " "}), False, id="remote-blank-module"),
    pytest.param(iac_catalog(terraform={"module": "git::https://x/y.git"}), False, id="inline-with-module"),
    pytest.param(iac_catalog(terraform={"tagsVariable": 5}), False, id="tags-variable-number"),
    pytest.param(iac_catalog(terraform={"workspace": "x"}), False, id="terraform-unknown-field"),
    pytest.param(yaml_catalog(templates="/etc"), False, id="templates-absolute"),
    pytest.param(yaml_catalog(templates="a/../../outside"), False, id="templates-traversal"),
    pytest.param(yaml_catalog(templates=5), False, id="templates-number"),
]


@pytest.mark.parametrize(("text", "accepted"), CONFIGS)
def test_envbot_yaml_schema_agrees_with_parse_config(text: str, accepted: bool) -> None:
    assert (config_accepts(text), schema_accepts("envbot", text)) == (accepted, accepted)


@pytest.mark.parametrize(("text", "accepted"), ENVIRONMENTS)
def test_environment_schema_agrees_with_parse_environment(text: str, accepted: bool) -> None:
    assert (environment_accepts(text), schema_accepts("environment", text)) == (accepted, accepted)


@pytest.mark.parametrize(("text", "accepted"), CATALOG_DOCUMENTS)
def test_catalog_schema_agrees_with_the_loader(text: str, accepted: bool) -> None:
    assert (catalog_accepts(text), schema_accepts("catalog", text)) == (accepted, accepted)


def hostile_texts(cases: list[Any], file: str) -> list[tuple[str, str]]:
    """(id, text) of the hostile corpus's files of one kind that are YAML at all (the rest never reach a schema)."""
    found = []
    for case in cases:
        text = case.files.get(file)
        if not isinstance(text, str):
            continue
        try:
            yamldoc.load_one(text)
        except yamldoc.YamlError:
            continue
        found.append((case.id, text))
    return found


def test_the_schemas_agree_with_the_validators_on_the_hostile_corpus() -> None:
    from tests.hostile import corpus_files

    corpus = {
        "envbot": hostile_texts(corpus_files.CONFIGS, "envbot.yaml"),
        "environment": hostile_texts(corpus_files.ENVIRONMENTS, "env.yaml"),
        "catalog": hostile_texts(corpus_files.CATALOGS, "catalogs/tiny/catalog.yaml"),
    }
    assert {name: len(texts) >= 10 for name, texts in corpus.items()} == dict.fromkeys(corpus, True)
    disagree = [
        (name, id)
        for name, texts in corpus.items()
        for id, text in texts
        if ORACLES[name](text) != schema_accepts(name, text)
    ]
    assert disagree == []


# -- where the schemas are and how people get them -------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_envbot_schema_prints_the_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", name]) == 0
    out = capsys.readouterr().out
    assert out == (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    assert json.loads(out) == schema(name)


def test_envbot_schema_refuses_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "workspace"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "error: no schema named 'workspace' (known: envbot, catalog, environment)\n",
    )


def test_the_schemas_ship_in_the_package_and_at_the_top_of_the_repository() -> None:
    package_data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["bot"]
    names = sorted(p.name for p in SCHEMAS.glob("*.json"))
    assert names == sorted(f"{name}.schema.json" for name in SCHEMA_NAMES)
    assert all(any(fnmatch(f"schemas/{n}", glob) for glob in package_data) for n in names)
    assert (PROJECT_ROOT / "schemas").resolve() == SCHEMAS.resolve()


def test_the_catalog_harness_builds_folders_the_loader_accepts() -> None:
    """``catalog_folder`` writes what catalog.yaml needs, so a refusal in the agreement table is about catalog.yaml."""
    text = textwrap.dedent(
        """\
        name: tiny
        type: hybrid
        parameters: {diskSize: {type: integer, default: 1}, apiKey: {type: secret, secret: {backend: kubernetes}}}
        outputs: {endpoint: {}, authToken: {sensitive: true}}
        """
    )
    catalog = parse_catalog(catalog_folder(text))
    assert catalog.parameters["diskSize"].terraform_variable == "disk_size"
    assert set(catalog.outputs) == {"endpoint", "authToken"} and catalog.templates
    assert all(CAMEL_CASE_NAME.match(name) for name in catalog.parameters)
