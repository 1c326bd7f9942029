"""Conformance: the project's description of GitHub's REST API agrees with GitHub's OpenAPI description, and the
fake built on GitHub's description refuses the same bad requests and documents its answers (the forge contract
suite also runs on it: ``harness`` ``github-openapi`` in ``conftest.py``); the project's GraphQL SDL agrees with
GitHub's published GraphQL schema."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    build_schema,
    is_non_null_type,
)

from tests.fakes.github_api import Call, OpenApi, Operation, api_from_description, own_api, upstream_api
from tests.fakes.github_graphql import own_graphql, upstream_graphql
from tests.forge.test_forge_fake_github import API, REFUSED, assert_refused, serve

pytestmark = pytest.mark.conformance

OWN_OPERATIONS = [op.operation_id for op in own_api().operations]


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set() if kind is None else {kind} if isinstance(kind, str) else set(kind)


def schema_differences(ours: dict[str, Any], theirs: Any, upstream: OpenApi, where: str) -> list[str]:
    """Where our schema accepts what GitHub's does not, or types, enums and required names differ (our properties
    may be fewer than GitHub's; each of our alternatives must agree with one of GitHub's)."""
    theirs = upstream.deref(theirs)
    conditions = theirs.get("anyOf") or theirs.get("oneOf") or []
    if "properties" in theirs and conditions and all("type" not in upstream.deref(c) for c in conditions):
        # Alternatives that only add conditions to one object (checks/update: a completed status needs a
        # conclusion): our shapes cannot say that, so the fake's handler refuses such a body instead.
        theirs = {key: value for key, value in theirs.items() if key not in ("anyOf", "oneOf")}
    our_options = ours.get("anyOf", [ours])
    their_options = [upstream.deref(option) for option in theirs.get("oneOf") or theirs.get("anyOf") or [theirs]]
    if len(our_options) > 1 or len(their_options) > 1:
        problems: list[str] = []
        for i, option in enumerate(our_options):
            tried: list[list[str]] = [
                schema_differences(option, their, upstream, f"{where}|{i}") for their in their_options
            ]
            if all(tried):
                closest: list[str] = min(tried, key=len)
                problems += closest
        return problems
    ours, theirs = our_options[0], their_options[0]
    problems = []
    if _types(ours) != _types(theirs):
        problems.append(f"{where}: type {sorted(_types(ours))} here, {sorted(_types(theirs))} upstream")
    if set(ours.get("enum", ())) != set(theirs.get("enum", ())):
        problems.append(f"{where}: enum {ours.get('enum')} here, {theirs.get('enum')} upstream")
    if ours.get("minItems", 0) != theirs.get("minItems", 0):
        problems.append(f"{where}: minItems {ours.get('minItems', 0)} here, {theirs.get('minItems', 0)} upstream")
    if "items" in ours or "items" in theirs:
        problems += schema_differences(ours.get("items", {}), theirs.get("items", {}), upstream, f"{where}[]")
    if "properties" in ours or "properties" in theirs:
        mine, documented = ours.get("properties", {}), theirs.get("properties", {})
        problems += [f"{where}.{name}: not a property upstream" for name in sorted(set(mine) - set(documented))]
        for name in sorted(set(mine) & set(documented)):
            problems += schema_differences(mine[name], documented[name], upstream, f"{where}.{name}")
        if set(ours.get("required", ())) != set(theirs.get("required", ())):
            problems.append(f"{where}: required {ours.get('required', [])} here, {theirs.get('required', [])} upstream")
    return problems


@pytest.fixture(scope="module")
def upstream() -> OpenApi:
    return upstream_api()


@pytest.fixture(params=OWN_OPERATIONS)
def pair(request: pytest.FixtureRequest, upstream: OpenApi) -> tuple[Operation, Operation]:
    ours = own_api().by_id[request.param]
    theirs = upstream.by_id.get(request.param)
    assert theirs is not None, f"{request.param}: no operation with this id in {upstream.source}"
    return ours, theirs


def test_each_operation_has_the_same_method_path_and_placeholders(pair: tuple[Operation, Operation]) -> None:
    ours, theirs = pair
    assert (ours.method, ours.template) == (theirs.method, theirs.template)
    assert ours.multi_segment == theirs.multi_segment


def test_query_names_are_documented(pair: tuple[Operation, Operation]) -> None:
    ours, theirs = pair
    assert ours.query <= theirs.query


def test_request_bodies_agree(pair: tuple[Operation, Operation], upstream: OpenApi) -> None:
    ours, theirs = pair
    assert (ours.body_schema is None) == (theirs.body_schema is None)
    assert ours.body_required == theirs.body_required
    if ours.body_schema is not None:
        assert schema_differences(ours.body_schema, theirs.body_schema, upstream, "(body)") == []


def test_every_operation_of_ours_is_compared(upstream: OpenApi) -> None:
    assert set(OWN_OPERATIONS) <= set(upstream.by_id)


# -- the fake on GitHub's description -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body", "reason"), REFUSED)
def test_github_refuses_what_our_description_refuses(
    upstream: OpenApi, method: str, url: str, body: Any, reason: str
) -> None:
    # GitHub documents more operations than ours (GET /user, say): there, the fake reports one it does not serve.
    unknown = reason == "no such operation"
    with serve(upstream) as fake:
        assert_refused(fake, method, url, body, "no such operation|not implemented by the fake" if unknown else reason)


def test_a_documented_operation_the_fake_does_not_serve_is_reported(upstream: OpenApi) -> None:
    with serve(upstream) as fake:
        assert_refused(fake, "GET", f"{API}/deployments", None, "not implemented by the fake")


def test_answers_are_checked_against_the_documented_responses(upstream: OpenApi) -> None:
    pull = {"number": 1, "state": "open", "head": {"ref": "a", "sha": "b", "invented": 1}, "merged": "no"}
    problems = upstream.reply_problems(Call("GET", "/repos/acme/platform/pulls/1", "pulls/get", {}, None, 200, pull))
    assert [p.rsplit(": ", 1)[-1] for p in problems] == [
        "(body).head.invented is not a documented field",
        "(body).merged is string, GitHub documents ['boolean']",
    ]
    created = Call("POST", "/repos/acme/platform/pulls", "pulls/create", {}, {}, 200, {"number": 1})
    assert upstream.reply_problems(created) == [
        "POST /repos/acme/platform/pulls (pulls/create) answered 200: GitHub does not document this status"
    ]


def test_the_comparison_notices_a_disagreement(upstream: OpenApi) -> None:
    drifted = api_from_description(
        {
            "operations": [
                {
                    "id": "repos/create-commit-status",
                    "request": "POST /repos/{owner}/{repo}/statuses/{sha}",
                    "body": {"object": {"state": {"enum": ["ok"]}, "colour": "string"}, "required": ["state"]},
                }
            ]
        }
    )
    ours = drifted.by_id["repos/create-commit-status"]
    theirs = upstream.by_id["repos/create-commit-status"]
    assert schema_differences(ours.body_schema, theirs.body_schema, upstream, "(body)") == [
        "(body).colour: not a property upstream",
        "(body).state: enum ['ok'] here, ['error', 'failure', 'pending', 'success'] upstream",
    ]


# -- the project's GraphQL SDL against GitHub's schema -------------------------------------------------------------


def _required_inputs(fields: dict[str, Any]) -> set[str]:
    """Arguments or input fields a request must give: non-null and without a default."""
    return {name for name, f in fields.items() if is_non_null_type(f.type) and f.default_value is Undefined}


def _field_differences(where: str, mine: dict[str, Any], theirs: dict[str, Any], inputs: bool) -> list[str]:
    problems: list[str] = []
    for name, field in mine.items():
        other = theirs.get(name)
        if other is None:
            problems.append(f"{where}.{name}: not a field upstream")
            continue
        if str(field.type) != str(other.type):
            problems.append(f"{where}.{name}: {field.type} here, {other.type} upstream")
        if not inputs:
            problems += _field_differences(f"{where}.{name}()", field.args, other.args, inputs=True)
    if inputs:
        problems += [f"{where}.{name}: required upstream, absent here" for name in _required_inputs(theirs) - set(mine)]
    return sorted(problems)


def _type_differences(mine: GraphQLNamedType, theirs: GraphQLNamedType | None) -> list[str]:
    if theirs is None:
        return [f"{mine.name}: no such type upstream"]
    if type(mine) is not type(theirs):
        return [f"{mine.name}: a {type(mine).__name__} here, a {type(theirs).__name__} upstream"]
    if isinstance(mine, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(theirs, GraphQLObjectType | GraphQLInterfaceType)
        missing = {i.name for i in mine.interfaces} - {i.name for i in theirs.interfaces}
        problems = [f"{mine.name}: implements {name} here, not upstream" for name in sorted(missing)]
        return problems + _field_differences(mine.name, mine.fields, theirs.fields, inputs=False)
    if isinstance(mine, GraphQLInputObjectType):
        assert isinstance(theirs, GraphQLInputObjectType)
        return _field_differences(mine.name, mine.fields, theirs.fields, inputs=True)
    if isinstance(mine, GraphQLEnumType):
        assert isinstance(theirs, GraphQLEnumType)
        if set(mine.values) != set(theirs.values):
            return [f"{mine.name}: values {sorted(mine.values)} here, {sorted(theirs.values)} upstream"]
    if isinstance(mine, GraphQLUnionType):
        assert isinstance(theirs, GraphQLUnionType)
        extra = {t.name for t in mine.types} - {t.name for t in theirs.types}
        return [f"{mine.name}: member {name} here, not upstream" for name in sorted(extra)]
    return []


def sdl_differences(ours: GraphQLSchema, theirs: GraphQLSchema) -> list[str]:
    """Where our SDL says what GitHub's schema does not: a type, field, argument, input field, enum value, interface
    or union member it lacks, another type, or an input GitHub requires and we leave out (we may have fewer types
    and fields; enums must have the same values)."""
    problems: list[str] = []
    for root in ("query_type", "mutation_type"):
        mine, other = getattr(ours, root), getattr(theirs, root)
        if mine is not None and (other is None or other.name != mine.name):
            problems.append(f"{root}: {mine.name} here, {getattr(other, 'name', None)} upstream")
    for name, mine in sorted(ours.type_map.items()):
        if not name.startswith("__"):
            problems += _type_differences(mine, theirs.type_map.get(name))
    return problems


@pytest.fixture(scope="module")
def github_graphql_schema() -> GraphQLSchema:
    return upstream_graphql().schema


def test_our_graphql_schema_agrees_with_githubs(github_graphql_schema: GraphQLSchema) -> None:
    assert sdl_differences(own_graphql().schema, github_graphql_schema) == []


def test_the_graphql_comparison_notices_a_disagreement(github_graphql_schema: GraphQLSchema) -> None:
    drifted = build_schema(
        """
        enum PullRequestMergeMethod { MERGE SQUASH }
        input DisablePullRequestAutoMergeInput { clientMutationId: Int }
        type PullRequest { number: Int! colour: String }
        type Invented { x: Int }
        type Query { node(id: ID!, deep: Boolean): PullRequest }
        """
    )
    assert sdl_differences(drifted, github_graphql_schema) == [
        "DisablePullRequestAutoMergeInput.clientMutationId: Int here, String upstream",
        "DisablePullRequestAutoMergeInput.pullRequestId: required upstream, absent here",
        "Invented: no such type upstream",
        "PullRequest.colour: not a field upstream",
        "PullRequestMergeMethod: values ['MERGE', 'SQUASH'] here, ['MERGE', 'REBASE', 'SQUASH'] upstream",
        "Query.node().deep: not a field upstream",
        "Query.node: PullRequest here, Node upstream",
    ]
