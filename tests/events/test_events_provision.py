"""A Provision intent applied to an environment template with the real catalogs, from our payloads to Environment."""

from __future__ import annotations

from typing import Any

import pytest
from project_paths import CATALOGS, EXAMPLES

from bot import yamldoc
from bot.action import load_event
from bot.catalog.model import CatalogSet
from bot.catalog_files import load_catalogs
from bot.environment.model import Environment, Origin, OriginKind
from bot.environment.spec import parse_environment
from bot.errors import EnvironmentSpecError
from bot.events.comments import Reply, Setting
from bot.events.config import BranchRule, EventsConfig
from bot.events.intents import Provision, RunCommand
from bot.events.payloads import parse_event
from bot.events.provision import build_environment
from bot.events.routing import authorize, resolve_command, to_intent
from bot.forge.model import Permission
from tests.events.support import BRANCH_CREATE, comment_payload
from tests.webhooks import path_of

TEMPLATE_FILE = EXAMPLES / "dev-feature-auth.yaml"
PR_ORIGIN = Origin(OriginKind.PULL_REQUEST, repository="acme/app", branch="feature/x", pull_request=3)


@pytest.fixture(scope="module")
def catalogs() -> CatalogSet:
    return load_catalogs(CATALOGS)


def template() -> dict[str, Any]:
    document = yamldoc.load_one(TEMPLATE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def provision(*settings: Setting, catalogs: tuple[str, ...] = (), **fields: Any) -> Provision:
    return Provision(
        "feature-x-1a2b3c4d",
        str(TEMPLATE_FILE),
        PR_ORIGIN,
        requested_by="chhsia0",
        pr_number=3,
        catalogs=catalogs,
        settings=settings,
        trigger="/provision rds-postgres replicas=3",
        **fields,
    )


def build(catalogs: CatalogSet, request: Provision, document: dict[str, Any] | None = None) -> Environment | Reply:
    return build_environment(document if document is not None else template(), request, catalogs, "template.yaml")


def test_the_template_gets_the_name_namespace_origin_and_keeps_the_rest(catalogs: CatalogSet) -> None:
    environment = build(catalogs, provision())
    assert isinstance(environment, Environment)
    original = parse_environment(TEMPLATE_FILE.read_text(encoding="utf-8"), "t")
    assert environment.name == environment.namespace == "feature-x-1a2b3c4d"
    assert environment.origin == PR_ORIGIN
    assert environment.owner == "alice"  # the template's owner stays
    assert environment.catalogs == original.catalogs
    assert (environment.cluster, environment.ttl, environment.type) == (
        original.cluster,
        original.ttl,
        original.type,
    )


def test_a_template_without_name_or_owner(catalogs: CatalogSet) -> None:
    document = template()
    del document["name"], document["namespace"], document["owner"]
    environment = build(catalogs, provision(), document)
    assert isinstance(environment, Environment)
    assert environment.namespace == "feature-x-1a2b3c4d"
    assert environment.owner == "chhsia0"


def test_a_template_namespace_of_its_own_is_kept(catalogs: CatalogSet) -> None:
    document = template()
    document["namespace"] = "shared-previews"
    environment = build(catalogs, provision(), document)
    assert isinstance(environment, Environment)
    assert environment.namespace == "shared-previews"


def test_settings_are_typed_by_the_catalog_parameter(catalogs: CatalogSet) -> None:
    environment = build(
        catalogs,
        provision(
            Setting("rds-postgres", "allocatedStorage", "30"),
            Setting(None, "replicas", "3"),
            Setting(None, "logsEnabled", "false"),
            Setting("rds-postgres", "instanceClass", "db.t3.small"),
            Setting("datadog-agent", "environment", "staging"),
        ),
    )
    assert isinstance(environment, Environment)
    parameters = {request.name: dict(request.parameters) for request in environment.catalogs}
    assert parameters["rds-postgres"]["allocatedStorage"] == 30
    assert parameters["rds-postgres"]["instanceClass"] == "db.t3.small"
    assert parameters["rds-postgres"]["environment"] == "development"
    assert parameters["sample-app"]["replicas"] == 3
    assert parameters["datadog-agent"]["logsEnabled"] is False
    assert parameters["datadog-agent"]["environment"] == "staging"


def test_chosen_catalogs_only(catalogs: CatalogSet) -> None:
    environment = build(catalogs, provision(catalogs=("rds-postgres",)))
    assert isinstance(environment, Environment)
    assert [request.name for request in environment.catalogs] == ["rds-postgres"]


def test_a_catalog_the_template_lacks_starts_with_defaults(catalogs: CatalogSet) -> None:
    request = provision(Setting(None, "bucketName", "feature-x-assets"), catalogs=("rds-postgres", "s3-bucket"))
    environment = build(catalogs, request)
    assert isinstance(environment, Environment)
    assert [r.name for r in environment.catalogs] == ["rds-postgres", "s3-bucket"]
    assert dict(environment.catalogs[1].parameters) == {"bucketName": "feature-x-assets"}


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (
            provision(Setting(None, "environment", "staging")),
            "`environment=staging`: environment is ambiguous (rds-postgres, datadog-agent all have it);"
            " write rds-postgres.environment=...",
        ),
        (provision(Setting(None, "replica", "3")), "`replica=3`: no catalog of this environment has a parameter"),
        (provision(Setting(None, "replica", "3")), "(did you mean replicas?)"),
        (
            provision(Setting("s3-bucket", "versioning", "true")),
            "`s3-bucket.versioning=true`: catalog s3-bucket is not part of this environment",
        ),
        (
            provision(Setting("rds-postgres", "storage", "30")),
            "`rds-postgres.storage=30`: catalog rds-postgres has no parameter storage",
        ),
        (
            provision(Setting("rds-postgres", "allocatedStorage", "5")),
            "rds-postgres.allocatedStorage must be at least 20, got 5",
        ),
        (provision(Setting(None, "replicas", "two")), "sample-app.replicas must be an integer, got `two`"),
        (provision(Setting(None, "apiKey", "hunter2")), "datadog-agent.apiKey is a secret; a comment cannot carry it"),
        (
            provision(Setting(None, "vpcId", "@octocat")),
            "rds-postgres.vpcId `@octocat` does not match the pattern",
        ),
        (
            provision(Setting(None, "replicas", "2"), Setting("sample-app", "replicas", "3")),
            "sample-app.replicas is set more than once",
        ),
        (provision(catalogs=("rds-postgress",)), "there is no catalog rds-postgress (did you mean rds-postgres?)"),
        (
            provision(catalogs=("sample-app",)),
            "environment feature-x-1a2b3c4d: catalog sample-app: parameter databaseEndpoint:",
        ),
    ],
)
def test_problems_come_back_as_one_reply(catalogs: CatalogSet, request_: Provision, problem: str) -> None:
    result = build(catalogs, request_)
    assert isinstance(result, Reply), result
    assert result.text.startswith("`/provision rds-postgres replicas=3` cannot be carried out: ")
    assert problem in result.text
    assert "\n" not in result.text
    assert "hunter2" not in result.text


def test_many_problems_are_cut_short(catalogs: CatalogSet) -> None:
    request = provision(*(Setting(None, f"unknown{i}", "x") for i in range(8)))
    result = build(catalogs, request)
    assert isinstance(result, Reply)
    assert result.text.endswith("(and 3 more).")


def test_a_broken_template_is_the_configuration_s_error(catalogs: CatalogSet) -> None:
    with pytest.raises(EnvironmentSpecError, match=r"template\.yaml: catalogs: must be a non-empty list"):
        build(catalogs, provision(), {"kind": "Environment"})
    with pytest.raises(EnvironmentSpecError, match=r"template\.yaml: an environment template must be a mapping"):
        build_environment(["x"], provision(), catalogs, "template.yaml")  # type: ignore[arg-type]
    document = template()
    document["cluster"] = "Not Valid"
    with pytest.raises(EnvironmentSpecError, match=r"template\.yaml: cluster:"):
        build(catalogs, provision(), document)


def test_the_template_document_is_not_changed(catalogs: CatalogSet) -> None:
    document = template()
    before = yamldoc.dump_document(document)
    build(catalogs, provision(Setting(None, "replicas", "3"), catalogs=("rds-postgres", "sample-app")), document)
    assert yamldoc.dump_document(document) == before


# -- from a payload to an Environment ----------------------------------------------------------------------------------

CONFIG = EventsConfig(
    repository="acme/shop",
    branches=(BranchRule("feature-*", str(TEMPLATE_FILE)),),
    default_template=str(TEMPLATE_FILE),
)


def test_comment_to_environment(catalogs: CatalogSet) -> None:
    body = "Thanks!\n\n/provision rds-postgres sample-app rds-postgres.allocatedStorage=50 replicas=4\n"
    intent = to_intent(parse_event("issue_comment", comment_payload(body)), CONFIG)
    assert isinstance(intent, RunCommand)
    authorized = authorize(intent, Permission.WRITE)
    assert authorized is intent
    resolved = resolve_command(intent, "feature/one-time-code", CONFIG)
    assert isinstance(resolved, Provision)
    environment = build_environment(template(), resolved, catalogs, resolved.template_path)
    assert isinstance(environment, Environment)
    assert environment.origin == Origin(
        OriginKind.PULL_REQUEST, repository="acme/shop", branch="feature/one-time-code", pull_request=42
    )
    assert [r.name for r in environment.catalogs] == ["rds-postgres", "sample-app"]
    assert environment.catalogs[0].parameters["allocatedStorage"] == 50
    assert environment.catalogs[1].parameters["replicas"] == 4


def test_branch_create_to_environment(catalogs: CatalogSet) -> None:
    config = EventsConfig(branches=CONFIG.branches)
    intent = to_intent(load_event("create", path_of(BRANCH_CREATE)), config)
    assert isinstance(intent, Provision)
    assert authorize(intent, Permission.ADMIN) is intent
    environment = build_environment(template(), intent, catalogs, intent.template_path)
    assert isinstance(environment, Environment)
    assert environment.name == "feature-checkout"
    assert environment.origin == Origin(OriginKind.BRANCH, repository="acme/shop", branch="feature-checkout")
