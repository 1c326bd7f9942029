"""GitHub's GraphQL API for the test fake: each query is parsed with graphql-core, validated against a schema (the
project's own SDL, or GitHub's published schema in the conformance tier) and executed on resolvers the fake hands in;
a query GitHub would refuse is reported, never answered."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

OWN_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "github-graphql" / "operations.graphql"
"""The project's own SDL of the part of GitHub's GraphQL API the fake serves."""
UPSTREAM_SCHEMA = "github-graphql/schema.graphql"
"""GitHub's published GraphQL schema in the third-party data (the conformance tier)."""

Resolver = Callable[..., Any]


class GraphQLRequestError(Exception):
    """A GraphQL request GitHub would refuse (it does not parse or validate, its variables do not fit), or one that
    asks for a field the fake does not serve: the fake records it as a violation."""


class GraphQLAnswerError(Exception):
    """Raised by a resolver: GitHub's answer is an error of this ``type`` (``UNPROCESSABLE``, ``NOT_FOUND``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _UnservedFieldError(Exception):
    """A field the schema has and the fake does not answer."""


@dataclass(frozen=True)
class GraphQLApi:
    """A GraphQL schema the fake validates and executes queries against, and what it is called in messages."""

    schema: GraphQLSchema
    source: str


@functools.cache
def own_graphql() -> GraphQLApi:
    """The project's own SDL, built once per process."""
    return GraphQLApi(build_schema(OWN_SCHEMA.read_text(encoding="utf-8")), "envbot's GraphQL schema")


@functools.cache
def upstream_graphql() -> GraphQLApi:
    """GitHub's published schema from the third-party data, built once per process and never at import (about a
    second: its 1.2 MB of SDL). GitHub's file defines a few fields twice, which graphql-core's SDL check refuses,
    so it is built as GitHub serves it, unchecked.

    For the conformance tier only: a test that calls this reads ``project_paths.FIXTURES``."""
    from project_paths import FIXTURES  # here, not at import: the benchmarks import the fake without tests/

    path = FIXTURES / UPSTREAM_SCHEMA
    schema = build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)
    return GraphQLApi(schema, f"GitHub's GraphQL schema ({path.name})")


def graphql_url(base_url: str) -> str:
    """Where GitHub answers GraphQL for a REST ``base_url``, as PyGithub derives it: ``https://api.github.com/graphql``,
    and ``https://host/api/graphql`` for GitHub Enterprise's ``https://host/api/v3``."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/").removesuffix("/v3")
    return urlunsplit((parts.scheme, parts.netloc, path + "/graphql", "", ""))


def _field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Each field from the fake's mappings: a value, or a callable taking ``info`` and the field's arguments; a field
    the mapping lacks is one the fake does not serve (never a silent null)."""
    if not isinstance(source, Mapping) or info.field_name not in source:
        raise _UnservedFieldError(f"{info.parent_type.name}.{info.field_name}")
    value = source[info.field_name]
    return value(info, **args) if callable(value) else value


def _top_fields(operation: OperationDefinitionNode) -> list[str]:
    return [
        selection.name.value
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode) and selection.name.value != "__typename"
    ]


def _github_error(error: GraphQLError, failure: GraphQLAnswerError) -> dict[str, Any]:
    """An error the way GitHub words one: its ``type``, the field's ``path``, the query ``locations``, a message."""
    return {
        "type": failure.kind,
        "path": list(error.path or ()),
        "locations": [{"line": where.line, "column": where.column} for where in error.locations or ()],
        "message": str(failure),
    }


def run_graphql(api: GraphQLApi, body: Any, root: Mapping[str, Resolver]) -> tuple[list[str], dict[str, Any]]:
    """Execute one GraphQL request body on ``root`` (a resolver for each root field the fake serves): the names of
    the operation's root fields and GitHub's answer (``data``, plus ``errors`` when a resolver failed).

    Raises ``GraphQLRequestError`` for a request GitHub would refuse or a field the fake does not serve."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise GraphQLRequestError("a GraphQL request body is a JSON object with a 'query' string")
    extra = set(body) - {"query", "variables", "operationName", "extensions"}
    if extra:
        raise GraphQLRequestError(f"undocumented GraphQL request fields {sorted(extra)}")
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise GraphQLRequestError("GraphQL 'variables' must be a JSON object")
    name = body.get("operationName")
    try:
        document = parse(body["query"])
    except GraphQLSyntaxError as exc:
        raise GraphQLRequestError(f"the query does not parse: {exc.message}") from None
    invalid = validate(api.schema, document)
    if invalid:
        raise GraphQLRequestError(f"the query is not valid against {api.source}: {invalid[0].message}")
    operation = get_operation_ast(document, name)
    if operation is None:
        raise GraphQLRequestError(f"no operation {name!r} in the query" if name else "the query names no operation")
    result = execute_sync(
        api.schema, document, root_value=root, variable_values=variables, operation_name=name, field_resolver=_field
    )
    if result.data is None and result.errors:
        # Only the variables, checked before anything runs, fail a whole request: GitHub answers 200 with errors,
        # but the request was wrong.
        raise GraphQLRequestError(f"the variables do not fit the query: {result.errors[0].message}")
    errors: list[dict[str, Any]] = []
    for error in result.errors or ():
        cause = error.original_error
        if isinstance(cause, GraphQLAnswerError):
            errors.append(_github_error(error, cause))
        elif isinstance(cause, _UnservedFieldError):
            raise GraphQLRequestError(f"{cause} is valid but not implemented by the fake") from None
        elif cause is not None:
            raise cause
        else:  # a null for a non-null field: the fake's answer contradicts the schema
            raise GraphQLRequestError(f"the fake's answer contradicts {api.source}: {error.message}")
    answer: dict[str, Any] = {"data": result.data}
    if errors:
        answer["errors"] = errors
    return _top_fields(operation), answer
