"""A stateful fake of GitHub's REST and GraphQL APIs for one repository, plugged into ``responses``: every request is
checked against a description of the API (the project's own, or GitHub's published one) and a request GitHub would
reject fails the test. Besides git data and pull requests it keeps GitHub's merge rules: commit statuses and check
runs, rulesets and classic branch protection, approving reviews, ``mergeable_state``, and native auto-merge."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import fnmatch
import functools
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import responses
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.fakes.github_graphql import (
    GraphQLAnswerError,
    GraphQLApi,
    GraphQLRequestError,
    graphql_url,
    own_graphql,
    run_graphql,
    upstream_graphql,
)
from tests.fakes.three_way import merge_trees

OWN_DESCRIPTION = Path(__file__).resolve().parents[1] / "fixtures" / "github-rest" / "operations.yaml"
"""The project's own description of the operations the fake serves (found beside this file rather than through
``project_paths``, so that the benchmarks, which import the fake without ``tests/`` on the path, load it too)."""
UPSTREAM_FILE = "github-openapi/api.github.com.json"
"""GitHub's OpenAPI description in the third-party data, whole (its repository subset lacks the branch rules)."""

_SPEC_URI = "urn:github-openapi"
GRAPHQL_OPERATION = "graphql/"
"""How ``Call.operation`` names a GraphQL request: this and its root field (``graphql/enablePullRequestAutoMerge``)."""
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_LEGACY = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FAKE_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The fake's time when a test gives it no clock (comments, commits and check runs are stamped with it)."""
ACTOR = "envbot[bot]"
"""Who the fake's caller is: the author of comments, commits and auto-merge requests made through the API."""
GITHUB_ACTIONS_APP = (15368, "github-actions")
"""The id and slug of the GitHub App that reports GitHub Actions' check runs."""
PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
"""A completed check run with one of these conclusions has passed (GitHub's rule for required checks)."""
MERGEABLE_STATES = frozenset({"clean", "unstable", "has_hooks"})
"""The ``mergeable_state`` values in which GitHub lets a pull request merge (and auto-merge carries it out)."""
MINT_OPERATION = "apps/create-installation-access-token"
"""The one operation a GitHub App authenticates with its JWT; every other takes an installation token."""
_UNDECODABLE_JWT = "A JSON web token could not be decoded"
_BAD_CREDENTIALS = "Bad credentials"
_AUTH_DOCS = "https://docs.github.com/rest"


class SpecViolationError(AssertionError):
    """A request that the API description does not allow (or that this fake does not know)."""


# -- one description, two sources -------------------------------------------------------------------------------


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` has no JSON Schema meaning: turn it into an explicit ``null`` type."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    """One documented operation: where it lives and what its request may hold."""

    method: str
    template: str
    operation_id: str
    multi_segment: frozenset[str]
    """Placeholders whose value may span several path segments (a branch ``feature/x``, a file path)."""
    query: frozenset[str]
    body_schema: Any
    """The request body's JSON Schema (``nullable`` already turned into ``null`` types); None: no body."""
    body_required: bool
    body: Draft4Validator | None
    pattern: re.Pattern[str] = field(init=False)
    params: tuple[str, ...] = field(init=False)
    body_properties: frozenset[str] | None = field(init=False)
    """The body's top-level property names (None when its schema does not list them)."""

    def __post_init__(self) -> None:
        names: list[str] = []

        def segment(m: re.Match[str]) -> str:
            names.append(m.group(1))
            return "(.+)" if m.group(1) in self.multi_segment else "([^/]+)"

        regex = re.sub(r"\\\{(\w+)\\\}", segment, re.escape(self.template))
        schema = self.body_schema
        properties = frozenset(schema["properties"]) if isinstance(schema, dict) and "properties" in schema else None
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))
        object.__setattr__(self, "params", tuple(names))
        object.__setattr__(self, "body_properties", properties)


class RestApi:
    """Routes (method, path) to a documented operation and checks a request against it."""

    def __init__(self, operations: Iterable[Operation], source: str) -> None:
        # Literal segments beat placeholders: /issues/comments/{id} before /issues/{issue_number}/...
        self.operations = sorted(operations, key=lambda o: -len(re.sub(r"\{\w+\}", "", o.template)))
        self.by_id = {op.operation_id: op for op in self.operations}
        self.source = source

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        for op in self.operations:
            if op.method != method:
                continue
            m = op.pattern.match(path)
            if m:
                return op, {name: unquote(value) for name, value in zip(op.params, m.groups(), strict=True)}
        raise SpecViolationError(f"{method} {path}: no such operation in {self.source}")

    def check(self, op: Operation, query: dict[str, str], body: Any, has_body: bool) -> None:
        unknown = set(query) - op.query
        if unknown:
            raise SpecViolationError(f"{op.method} {op.template}: unknown query parameters {sorted(unknown)}")
        if op.body is None:
            if has_body:
                raise SpecViolationError(f"{op.method} {op.template}: this operation takes no request body")
            return
        if not has_body:
            if op.body_required:
                raise SpecViolationError(f"{op.method} {op.template}: request body required")
            return
        errors = sorted(op.body.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(body)"
            raise SpecViolationError(f"{op.method} {op.template}: body rejected at {where}: {errors[0].message}")
        if op.body_properties is not None and isinstance(body, dict):
            extra = set(body) - op.body_properties
            if extra:
                raise SpecViolationError(f"{op.method} {op.template}: undocumented body fields {sorted(extra)}")

    def reply_problems(self, call: Call) -> list[str]:
        """What in the fake's answer to ``call`` the description contradicts (the project's own says nothing of
        answers: only GitHub's OpenAPI description documents them)."""
        return []


# -- the project's own description (tests/fixtures/github-rest) -------------------------------------------------

_SCALARS = frozenset({"string", "integer", "number", "boolean"})
_SHAPE_KEYS = {
    "enum": {"nullable"},
    "array": {"min_items", "nullable"},
    "object": {"required", "nullable"},
    "one_of": {"nullable"},
}
_OPERATION_KEYS = frozenset({"id", "request", "multi_segment", "query", "body"})


def _shape(shape: Any, where: str) -> dict[str, Any]:
    """A shape of the own description (its header explains them) as an OpenAPI-style schema."""
    if isinstance(shape, str):
        name = shape.removesuffix("?")
        if name not in _SCALARS:
            raise ValueError(f"{where}: unknown type {shape!r}")
        return {"type": name, "nullable": True} if shape.endswith("?") else {"type": name}
    kinds = [kind for kind in _SHAPE_KEYS if kind in shape] if isinstance(shape, dict) else []
    if len(kinds) != 1 or set(shape) - {kinds[0], *_SHAPE_KEYS[kinds[0]]}:
        raise ValueError(f"{where}: not a shape: {shape!r}")
    kind = kinds[0]
    schema: dict[str, Any]
    if kind == "enum":
        schema = {"type": "string", "enum": [str(value) for value in shape["enum"]]}
    elif kind == "array":
        schema = {"type": "array", "items": _shape(shape["array"], f"{where}[]")}
        if "min_items" in shape:
            schema["minItems"] = shape["min_items"]
    elif kind == "object":
        properties = {name: _shape(sub, f"{where}.{name}") for name, sub in shape["object"].items()}
        required = list(shape.get("required", ()))
        if set(required) - set(properties):
            raise ValueError(
                f"{where}: required names that are not properties: {sorted(set(required) - set(properties))}"
            )
        schema = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = required
    else:
        schema = {"anyOf": [_shape(sub, f"{where}|{i}") for i, sub in enumerate(shape["one_of"])]}
    if shape.get("nullable"):
        schema["nullable"] = True
    return schema


def _own_operation(entry: Mapping[str, Any]) -> Operation:
    where = entry.get("id", "?")
    if set(entry) - _OPERATION_KEYS or "id" not in entry or "request" not in entry:
        raise ValueError(f"{where}: an operation has id, request and optionally {sorted(_OPERATION_KEYS)}")
    method, _, template = entry["request"].partition(" ")
    if method not in _METHODS or not template.startswith("/"):
        raise ValueError(f"{where}: request must read 'METHOD /path', got {entry['request']!r}")
    body = entry.get("body")
    schema = None
    if body is not None:
        shape = {k: v for k, v in body.items() if k != "optional"}
        openapi_schema = _shape(shape, where)
        # Extra top-level names are reported by name (``undocumented body fields``); deeper ones by the schema.
        openapi_schema.pop("additionalProperties", None)
        schema = _openapi_to_jsonschema(openapi_schema)
    return Operation(
        method=method,
        template=template,
        operation_id=entry["id"],
        multi_segment=frozenset(entry.get("multi_segment", ())),
        query=frozenset(entry.get("query", ())),
        body_schema=schema,
        body_required=body is not None and not body.get("optional", False),
        body=None if schema is None else Draft4Validator(schema),
    )


def api_from_description(document: Mapping[str, Any]) -> RestApi:
    """A ``RestApi`` from a document in the own description's format (tests build small ones of their own)."""
    return RestApi(
        [_own_operation(entry) for entry in document["operations"]], "envbot's description of GitHub's REST API"
    )


@functools.cache
def own_api() -> RestApi:
    """The project's own description, parsed once per process (the fake is made in hundreds of tests)."""
    return api_from_description(yaml.load(OWN_DESCRIPTION.read_text(encoding="utf-8"), Loader=_LOADER))


# -- GitHub's OpenAPI description (third-party: the conformance tier) ----------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


class OpenApi(RestApi):
    """GitHub's published OpenAPI description: routes and request checks as above, plus the documented answers."""

    def __init__(self, path: Path) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        spec = _openapi_to_jsonschema(raw)
        registry = Registry().with_resource(_SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))
        self.spec = spec
        self.documents: dict[str, dict[str, Any]] = {}
        """Each operation's OpenAPI object (``nullable`` already turned into ``null`` types), by operationId."""
        operations: list[Operation] = []
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method.upper() not in _METHODS:
                    continue
                params = [self.deref(p) for p in [*shared, *op.get("parameters", [])]]
                body = op.get("requestBody")
                schema = validator = None
                if body is not None and "application/json" not in body.get("content", {}):
                    body = None  # a file upload or a markdown text: the fake speaks JSON only
                if body is not None:
                    pointer = "/paths/" + _escape(template) + f"/{method}/requestBody/content/application~1json/schema"
                    validator = Draft4Validator({"$ref": f"{_SPEC_URI}#{pointer}"}, registry=registry)
                    schema = body["content"]["application/json"]["schema"]
                self.documents[op["operationId"]] = op
                operations.append(
                    Operation(
                        method=method.upper(),
                        template=template,
                        operation_id=op["operationId"],
                        multi_segment=frozenset(
                            p["name"] for p in params if p["in"] == "path" and p.get("x-multi-segment")
                        ),
                        query=frozenset(p["name"] for p in params if p["in"] == "query"),
                        body_schema=schema,
                        body_required=bool(body and body.get("required")),
                        body=validator,
                    )
                )
        super().__init__(operations, f"GitHub's OpenAPI description ({path.name})")

    def deref(self, node: Any) -> Any:
        """``node`` with its (chain of) ``$ref`` into this description followed."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def reply_problems(self, call: Call) -> list[str]:
        """A success status GitHub does not document for the operation, or a field (at any depth) or a JSON type
        in the answer that its response schema does not have. Fields GitHub sends and the fake leaves out are
        fine: the fake answers with what envbot reads. A GraphQL call's answer was made by executing the query
        against the GraphQL schema, so it is one the schema allows."""
        if call.operation.startswith(GRAPHQL_OPERATION):
            return []
        where = f"{call.method} {call.path} ({call.operation}) answered {call.status}"
        documented = self.documents[call.operation]["responses"].get(str(call.status))
        if documented is None:
            return [] if call.status >= 400 else [f"{where}: GitHub does not document this status"]
        content = (self.deref(documented).get("content") or {}).get("application/json")
        if content is None:
            # An error always carries GitHub's ``{"message": ...}``, even where the description shows no body (the
            # 422 of git/delete-ref: "Reference does not exist").
            silent = call.reply is None or call.status >= 400
            return [] if silent else [f"{where}: GitHub documents no body for this status"]
        return [f"{where}: {problem}" for problem in self._shape_problems(call.reply, content["schema"], "(body)")]

    def _shape_problems(self, value: Any, schema: Any, where: str) -> list[str]:
        schema = self.deref(schema)
        for choice in ("anyOf", "oneOf"):
            if choice in schema:
                tried = [self._shape_problems(value, option, where) for option in schema[choice]]
                return [] if any(not problems for problems in tried) else min(tried, key=len)
        if "allOf" in schema:
            parts = [self.deref(part) for part in schema["allOf"]]
            merged = {"properties": {k: v for part in parts for k, v in (part.get("properties") or {}).items()}}
            schema = {**merged, **{k: v for part in parts for k, v in part.items() if k != "properties"}}
        kind, allowed = _json_type(value), schema.get("type")
        if allowed is not None:
            types = {allowed} if isinstance(allowed, str) else set(allowed)
            if kind not in types and not (kind == "integer" and "number" in types):
                return [f"{where} is {kind}, GitHub documents {sorted(types)}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where} is {value!r}, not one of {schema['enum']}"]
        if kind == "array" and "items" in schema:
            return [
                p for i, item in enumerate(value) for p in self._shape_problems(item, schema["items"], f"{where}[{i}]")
            ]
        if kind != "object" or "properties" not in schema:
            return []
        problems: list[str] = []
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in schema["properties"]:
                problems += self._shape_problems(item, schema["properties"][name], f"{where}.{name}")
            elif isinstance(extra, dict):
                problems += self._shape_problems(item, extra, f"{where}.{name}")
            elif extra is not True:
                problems.append(f"{where}.{name} is not a documented field")
        return problems


def _escape(template: str) -> str:
    return template.replace("~", "~0").replace("/", "~1")


def _page(items: list[Any], query: Mapping[str, str]) -> list[Any]:
    """The page of ``items`` a list request's ``per_page`` (default 30) and ``page`` (from 1) ask for."""
    size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
    return items[(page - 1) * size : page * size]


@functools.cache
def upstream_api() -> OpenApi:
    """GitHub's whole OpenAPI description from the third-party data, parsed once per process and never at import
    (about 0.4 s for its 13 MB and 1,200 operations), so that a request to any operation GitHub documents and the
    fake does not serve is reported as such.

    For the conformance tier only: a test that calls this reads ``project_paths.FIXTURES``."""
    from project_paths import FIXTURES  # here, not at import: the benchmarks import this module without tests/

    return OpenApi(FIXTURES / UPSTREAM_FILE)


# -- git objects -----------------------------------------------------------------------------------------------


def _sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def _timestamp(when: dt.datetime) -> str:
    """An instant as GitHub writes one in its answers (UTC, whole seconds)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class GitPerson:
    """A commit's author or committer."""

    name: str
    email: str
    date: dt.datetime

    def json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "date": _timestamp(self.date)}


@dataclass(frozen=True)
class FakeCommit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: GitPerson = GitPerson(ACTOR, f"{ACTOR}@users.noreply.github.com", FAKE_NOW)
    committer: GitPerson = GitPerson(ACTOR, f"{ACTOR}@users.noreply.github.com", FAKE_NOW)

    def json(self) -> dict[str, Any]:
        """The commit as the Git Data API answers it."""
        return {
            "sha": self.sha,
            "message": self.message,
            "tree": {"sha": self.tree},
            "parents": [{"sha": s} for s in self.parents],
            "author": self.author.json(),
            "committer": self.committer.json(),
        }


@dataclass(frozen=True)
class _Requirement:
    """One rule on a base branch: a ruleset's or the classic protection's required checks, policy and reviews."""

    kind: str
    """``ruleset`` or ``protection`` (GitHub words their refusals differently)."""
    checks: tuple[tuple[str, int | None], ...]
    strict: bool
    reviews: int


@dataclass(frozen=True)
class _Gate:
    """A pull request's ``mergeable_state`` and the refusal of ``PUT /merge`` (None when it may merge)."""

    state: str
    refusal: str | None


class ReplyError(Exception):
    """Raised by a handler to answer with an error status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **extra}


@dataclass
class FakeApp:
    """A GitHub App installed on the fake's repository: with ``FakeGitHub.app`` set, ``POST /app/installations/
    {installation_id}/access_tokens`` mints installation tokens for a JWT the App's key signed (checked with
    ``public_key``, its ``iss`` and its ``iat``/``exp`` against the fake's clock), and every other request is answered
    401 "Bad credentials" unless it carries one of them that has not expired."""

    app_id: int
    installation_id: int
    public_key: Any = field(repr=False)
    """The App's RSA public key (a ``cryptography`` key object), which GitHub keeps to verify the App's JWTs."""
    token_life: dt.timedelta = dt.timedelta(hours=1)
    tokens: dict[str, dt.datetime] = field(default_factory=dict, repr=False)
    """Every installation token minted, and when it expires; a test deletes one to revoke it."""
    assertions: list[str] = field(default_factory=list, repr=False)
    """Every JWT presented to the token endpoint (for tests that look for them where they must never be)."""
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)


@dataclass
class Call:
    """One request the fake handled, and its answer."""

    method: str
    path: str
    operation: str
    query: dict[str, str]
    body: Any
    status: int = 0
    reply: Any = None


@dataclass
class FakeGitHub:
    """GitHub for one repository ``owner/name`` at ``base_url``: refs, trees, blobs, commits, pull requests,
    comments, labels, statuses, check runs, rulesets, branch protection, reviews and collaborator permissions, kept
    in memory, and GitHub's GraphQL endpoint for native auto-merge.

    ``api`` is the description every REST request is checked against: the project's own by default,
    ``upstream_api()`` (GitHub's OpenAPI file) in the conformance tier. ``graphql`` is the schema every GraphQL query
    is validated against; left None it follows ``api``: the project's own SDL, or GitHub's published schema when
    ``api`` is GitHub's description. ``clock`` is GitHub's time, which stamps comments, commits and check runs (a
    test hands in its own clock to move it). ``app`` puts the fake in App mode (``FakeApp``): requests need an
    installation token of that App; without it any token is accepted and no installation token can be minted.

    Pull requests follow GitHub's merge rules: ``mergeable_state`` is computed from the head's statuses and check
    runs, the rulesets (``add_ruleset``) and classic protection (``protect``) of the base, and approvals
    (``approve``); ``PUT /merge`` refuses what they block; a pull request with auto-merge enabled is merged by the
    fake itself as soon as they pass (after each request and each helper that changes them)."""

    repository: str = "acme/platform"
    base_url: str = "https://api.github.com"
    default_branch: str = "main"
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, dict[str, str]] = field(default_factory=dict)
    commits: dict[str, FakeCommit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    mergeable_unknown: set[int] = field(default_factory=set)
    """Pull requests whose mergeability GitHub is still computing: ``mergeable`` null, ``mergeable_state`` unknown."""
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    rulesets: dict[int, dict[str, Any]] = field(default_factory=dict)
    protections: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Classic branch protection, by branch name (``protect``)."""
    rules_status: int | None = None
    """An error status (403, 404) ``GET /rules/branches/{branch}`` answers with: an older GHES, or no access. The
    rulesets still hold the merge back."""
    allow_auto_merge: bool = False
    """The repository setting "Allow auto-merge"; without it ``enablePullRequestAutoMerge`` is refused."""
    check_app: tuple[int, str] = GITHUB_ACTIONS_APP
    """The GitHub App (id, slug) whose token reports check runs through ``POST /check-runs``."""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stamp: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _check_ids: Iterator[int] = field(default_factory=lambda: itertools.count(4_000_001))
    _ruleset_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    api: RestApi = field(default_factory=own_api, repr=False, compare=False)
    graphql: GraphQLApi | None = field(default=None, repr=False, compare=False)
    clock: Callable[[], dt.datetime] = field(default=lambda: FAKE_NOW, repr=False, compare=False)
    app: FakeApp | None = None

    def __post_init__(self) -> None:
        self.prefix = urlsplit(self.base_url).path.rstrip("/")
        self.owner = self.repository.split("/")[0]
        self.html = "https://github.example/" + self.repository
        self.graphql_url = graphql_url(self.base_url)
        self.graphql_path = urlsplit(self.graphql_url).path

    # -- setup helpers for tests ------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> FakeGitHub:
        """Answer every request to ``base_url`` on ``mock``."""
        # PyGithub spells the default port out (https://api.github.com:443/...).
        base = urlsplit(self.base_url)
        origin = re.escape(f"{base.scheme}://{base.hostname}") + (f":{base.port}" if base.port else r"(:\d+)?")
        pattern = re.compile(origin + re.escape(self.prefix) + r"(/.*)?$")
        for method in _METHODS:
            mock.add_callback(method, pattern, callback=self._respond, content_type="application/json")
        if not self.graphql_path.startswith(self.prefix + "/"):  # GitHub Enterprise: /api/graphql beside /api/v3
            graphql = re.compile(origin + re.escape(self.graphql_path) + "$")
            mock.add_callback("POST", graphql, callback=self._respond, content_type="application/json")
        return self

    def seed(self, files: dict[str, str], branch: str | None = None, message: str = "initial") -> str:
        """Commit ``files`` (replacing the whole tree) on ``branch`` and return the commit SHA."""
        ref = f"refs/heads/{branch or self.default_branch}"
        tree = self._store_tree({p: self._store_blob(c.encode()) for p, c in files.items()})
        parent = self.refs.get(ref)
        sha = self._store_commit(tree, (parent,) if parent else (), message)
        self.refs[ref] = sha
        return sha

    def grant(self, user: str, role: str) -> None:
        """Make ``user`` a collaborator with ``role`` (read, triage, write, maintain, admin)."""
        self.roles[user] = role

    def files(self, ref: str) -> dict[str, str]:
        """Every file at a branch or commit, decoded."""
        commit = self.commits[self._resolve(ref)]
        return {p: self.blobs[s].decode() for p, s in self.trees[commit.tree].items()}

    def count(self, operation: str | None = None) -> int:
        """Requests received, or those of one operation (``git/create-tree``, ``graphql/<mutation field>``)."""
        return sum(1 for c in self.calls if operation is None or c.operation == operation)

    def add_check_run(
        self,
        sha_or_branch: str,
        name: str,
        status: str = "queued",
        conclusion: str | None = None,
        *,
        app_id: int = GITHUB_ACTIONS_APP[0],
        app_slug: str = GITHUB_ACTIONS_APP[1],
    ) -> int:
        """Report a check run on a commit (or a branch's head) as the app ``app_slug`` would; its id. A
        ``conclusion`` completes it, as on GitHub."""
        run_id = self._new_check_run(self._resolve(sha_or_branch), name, status, conclusion, (app_id, app_slug))
        self.run_auto_merge()
        return run_id

    def update_check_run(self, run_id: int, *, status: str | None = None, conclusion: str | None = None) -> None:
        """Move a check run on: a new ``status``, or a ``conclusion`` (which completes it, stamped by the clock)."""
        self._update_check_run(self.check_runs[run_id], status, conclusion)
        self.run_auto_merge()

    def rerun_check_run(self, run_id: int) -> int:
        """Re-run a check: a new queued run with the same name and app on the same commit, with a larger id."""
        old = self.check_runs[run_id]
        return self._new_check_run(old["head_sha"], old["name"], "queued", None, (old["app_id"], old["app_slug"]))

    def add_ruleset(
        self,
        name: str,
        *,
        branches: Iterable[str] = ("main",),
        required_checks: Iterable[str | tuple[str, int]] = (),
        strict: bool = False,
        required_reviews: int = 0,
        enforcement: str = "active",
    ) -> int:
        """A repository ruleset on ``branches`` (names or fnmatch patterns; ``~DEFAULT_BRANCH``, ``~ALL``): required
        status checks (a context, or (context, integration id)) with ``strict`` up-to-date policy, and a pull request
        rule when ``required_reviews`` > 0. Only an ``active`` ruleset is listed and enforced (``evaluate`` and
        ``disabled`` ones are not); its id."""
        ruleset_id = next(self._ruleset_ids)
        checks = [(c, None) if isinstance(c, str) else (c[0], c[1]) for c in required_checks]
        self.rulesets[ruleset_id] = {
            "id": ruleset_id,
            "name": name,
            "branches": tuple(branches),
            "checks": checks,
            "strict": strict,
            "reviews": required_reviews,
            "enforcement": enforcement,
        }
        self.run_auto_merge()
        return ruleset_id

    def protect(
        self,
        branch: str,
        *,
        contexts: Iterable[str] = (),
        checks: Iterable[str | tuple[str, int | None]] = (),
        strict: bool = False,
        required_reviews: int = 0,
    ) -> None:
        """Classic branch protection on ``branch``: required ``contexts`` (from any source) and ``checks``
        (a context, or (context, app id)), ``strict`` up-to-date branches, ``required_reviews`` approvals."""
        required: list[tuple[str, int | None]] = [(c, None) for c in contexts]
        required += [(c, None) if isinstance(c, str) else (c[0], c[1]) for c in checks]
        self.protections[branch] = {"checks": required, "strict": strict, "reviews": required_reviews}
        self.run_auto_merge()

    def approve(self, number: int, user: str) -> None:
        """An approving review of ``user`` on pull request ``number`` (counted once per user)."""
        self.pulls[number].setdefault("approvals", set()).add(user)
        self.run_auto_merge()

    def run_auto_merge(self) -> list[int]:
        """Merge every open pull request with auto-merge enabled whose rules pass now, as GitHub does the moment
        they do; the numbers merged. The fake calls it after each request and each helper that changes the rules'
        inputs; a test that edits the fake's state directly may call it too."""
        merged: list[int] = []
        for pr in list(self.pulls.values()):
            if pr["state"] != "open" or not pr.get("auto_merge") or f"refs/heads/{pr['base']}" not in self.refs:
                continue
            self._refresh_head(pr)
            if self._gate(pr).state in MERGEABLE_STATES:
                request = pr["auto_merge"]
                self._merge_pull(pr, request["method"], request["title"])
                merged.append(pr["number"])
        return merged

    # -- object store -----------------------------------------------------------------------------------------

    def _store_blob(self, data: bytes) -> str:
        sha = _sha("blob", data)
        self.blobs[sha] = data
        return sha

    def _store_tree(self, entries: dict[str, str]) -> str:
        sha = _sha("tree", json.dumps(sorted(entries.items())).encode())
        self.trees[sha] = dict(entries)
        return sha

    def _store_commit(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        *,
        author: GitPerson | None = None,
        committer: GitPerson | None = None,
    ) -> str:
        # Real commits carry a timestamp, so the same tree committed twice gets two SHAs: so do ours.
        payload = json.dumps([tree, parents, message, next(self._stamp)]).encode()
        sha = _sha("commit", payload)
        made_by = author or GitPerson(ACTOR, f"{ACTOR}@users.noreply.github.com", self.clock())
        self.commits[sha] = FakeCommit(sha, tree, parents, message, made_by, committer or made_by)
        return sha

    def _resolve(self, ref: str) -> str:
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", f"refs/{ref}", ref):
            if candidate in self.refs:
                return self.refs[candidate]
        if ref in self.commits:
            return ref
        raise ReplyError(404, "Not Found")

    def _ancestors(self, sha: str) -> list[str]:
        seen: list[str] = []
        queue = [sha]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.append(current)
            queue.extend(self.commits[current].parents)
        return seen

    def _merge_trees(self, base: str, head: str) -> dict[str, str] | None:
        """Three-way merge, line by line within a file as git does: ``None`` on a conflict."""
        head_line = set(self._ancestors(head))
        ancestor = next((c for c in self._ancestors(base) if c in head_line), None)
        origin = self.trees[self.commits[ancestor].tree] if ancestor else {}
        ours, theirs = self.trees[self.commits[base].tree], self.trees[self.commits[head].tree]
        return merge_trees(
            origin,
            ours,
            theirs,
            read=lambda sha: self.blobs[sha].decode("utf-8", "surrogateescape"),
            store=lambda text: self._store_blob(text.encode("utf-8", "surrogateescape")),
        )

    # -- HTTP -------------------------------------------------------------------------------------------------

    def _respond(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        method = request.method.upper()
        if method == "POST" and url.path == self.graphql_path:
            return self._respond_graphql(request)
        try:
            if not url.path.startswith(self.prefix + "/"):
                raise SpecViolationError(f"{method} {request.url}: outside the API base URL {self.base_url}")
            path = url.path[len(self.prefix) :]
            op, params = self.api.match(method, path)
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            raw = request.body
            has_body = raw not in (None, b"", "")
            body = json.loads(raw) if has_body else None
            if has_body and "application/json" not in (request.headers.get("Content-Type") or ""):
                raise SpecViolationError(f"{method} {path}: a JSON body needs Content-Type: application/json")
            self.api.check(op, query, body, has_body)
        except SpecViolationError as exc:
            self.violations.append(str(exc))
            raise
        handler: Callable[..., tuple[int, Any]] | None = getattr(
            self, "op_" + op.operation_id.replace("/", "_").replace("-", "_"), None
        )
        if handler is None:
            message = f"{method} {op.template} ({op.operation_id}) is valid but not implemented by the fake"
            self.violations.append(message)
            raise SpecViolationError(message)
        call = Call(method, path, op.operation_id, query, body)
        self.calls.append(call)
        refusal = self._authentication_refusal(op.operation_id, request.headers.get("Authorization") or "")
        if refusal is not None:
            call.status, call.reply = 401, {"message": refusal, "documentation_url": _AUTH_DOCS}
        elif "owner" in params and f"{params['owner']}/{params.get('repo')}" != self.repository:
            call.status, call.reply = 404, {"message": "Not Found"}
        else:
            self.run_auto_merge()  # GitHub merges in the background: a test may have changed the state directly
            try:
                call.status, call.reply = handler(params, query, body or {})
            except ReplyError as reply:
                call.status, call.reply = reply.status, reply.body
            self.run_auto_merge()
        return call.status, {}, "" if call.reply is None else json.dumps(call.reply)

    def _respond_graphql(self, request: Any) -> tuple[int, dict[str, str], str]:
        """``POST /graphql``: the query validated against ``graphql`` and executed on this repository's pull
        requests; GitHub answers 200 even when a mutation fails (its ``errors`` say why)."""
        if self.graphql is None:
            self.graphql = upstream_graphql() if isinstance(self.api, OpenApi) else own_graphql()
        root: dict[str, Callable[..., Any]] = {
            "node": self._graphql_node,
            "enablePullRequestAutoMerge": self._graphql_enable_auto_merge,
            "disablePullRequestAutoMerge": self._graphql_disable_auto_merge,
        }
        try:
            raw = request.body
            if "application/json" not in (request.headers.get("Content-Type") or ""):
                raise GraphQLRequestError("a GraphQL request needs Content-Type: application/json")
            body = json.loads(raw) if raw not in (None, b"", "") else None
            refusal = self._authentication_refusal(GRAPHQL_OPERATION, request.headers.get("Authorization") or "")
            if refusal is not None:
                reply = {"message": refusal, "documentation_url": _AUTH_DOCS}
                self.calls.append(Call("POST", self.graphql_path, GRAPHQL_OPERATION, {}, body, 401, reply))
                return 401, {}, json.dumps(reply)
            self.run_auto_merge()
            fields, answer = run_graphql(self.graphql, body, root)
        except (GraphQLRequestError, json.JSONDecodeError) as exc:
            message = f"POST {self.graphql_path}: {exc}"
            self.violations.append(message)
            raise SpecViolationError(message) from None
        call = Call("POST", self.graphql_path, GRAPHQL_OPERATION + ",".join(fields), {}, body, 200, answer)
        self.calls.append(call)
        self.run_auto_merge()
        return 200, {}, json.dumps(answer)

    def _authentication_refusal(self, operation: str, authorization: str) -> str | None:
        """Why GitHub answers 401 to a request with this ``Authorization`` header (None: it does not). The token
        request needs a JWT of the App; in App mode every other request needs an unexpired installation token."""
        scheme, _, credential = authorization.partition(" ")
        if operation == MINT_OPERATION:
            return self._jwt_refusal(scheme, credential)
        if self.app is None:
            return None
        expires = self.app.tokens.get(credential) if scheme.lower() in ("token", "bearer") else None
        return None if expires is not None and self.clock() < expires else _BAD_CREDENTIALS

    def _jwt_refusal(self, scheme: str, assertion: str) -> str | None:
        """Why GitHub refuses ``assertion`` as the App's JWT: not signed with the App's key (RS256), another App's
        ``iss``, an ``iat`` in the future or an ``exp`` past or more than 10 minutes ahead (on the fake's clock)."""
        if self.app is None or scheme.lower() != "bearer":
            return _UNDECODABLE_JWT
        self.app.assertions.append(assertion)
        try:
            claims = jwt.decode(
                assertion,
                self.app.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["iat", "exp"]},
            )
        except jwt.InvalidTokenError:
            return _UNDECODABLE_JWT
        if str(claims.get("iss")) != str(self.app.app_id):
            return _UNDECODABLE_JWT  # GitHub verifies the signature with the key of the App ``iss`` names
        now, issued, expires = self.clock().timestamp(), claims["iat"], claims["exp"]
        if not isinstance(issued, int) or issued > now:
            return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        if not isinstance(expires, int) or not now < expires <= issued + 600:
            return (
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
                "assertion expires"
            )
        return None

    def op_apps_create_installation_access_token(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        """An installation token of the App (whose JWT was checked before), valid ``token_life`` on the fake's clock."""
        app = self.app
        if app is None or p["installation_id"] != str(app.installation_id):
            raise ReplyError(404, "Not Found")
        seed = f"{self.repository}/{app.installation_id}/{next(app._serial)}"
        token = "ghs_" + hashlib.sha256(seed.encode()).hexdigest()[:36]
        expires = self.clock() + app.token_life
        app.tokens[token] = expires
        permissions = {"contents": "write", "pull_requests": "write", "statuses": "write", "checks": "read"}
        return 201, {
            "token": token,
            "expires_at": _timestamp(expires),
            "permissions": {**permissions, "metadata": "read"},
            "repository_selection": "selected",
        }

    # -- git data ---------------------------------------------------------------------------------------------

    def _branch_json(self, name: str) -> dict[str, Any]:
        commit = self.commits[self.refs[f"refs/heads/{name}"]]
        return {
            "name": name,
            "commit": {
                "sha": commit.sha,
                "commit": {
                    "message": commit.message,
                    "tree": {"sha": commit.tree},
                    "author": commit.author.json(),
                    "committer": commit.committer.json(),
                },
                "parents": [{"sha": p} for p in commit.parents],
            },
            **self._protection_json(name),
        }

    def op_repos_get_branch(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if f"refs/heads/{p['branch']}" not in self.refs:
            raise ReplyError(404, "Branch not found")
        return 200, self._branch_json(p["branch"])

    def op_git_get_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        ref = "refs/" + p["ref"]
        if ref not in self.refs:
            raise ReplyError(404, "Not Found")
        return 200, {"ref": ref, "object": {"sha": self.refs[ref], "type": "commit"}}

    def _tree_listing(self, tree: dict[str, str], recursive: bool) -> list[dict[str, Any]]:
        entries: dict[str, dict[str, Any]] = {}
        for path, sha in tree.items():
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                entries.setdefault(folder, {"path": folder, "mode": "040000", "type": "tree", "sha": "0" * 40})
            entries[path] = {"path": path, "mode": "100644", "type": "blob", "sha": sha, "size": len(self.blobs[sha])}
        listed = [e for e in entries.values() if recursive or "/" not in e["path"]]
        return sorted(listed, key=lambda e: e["path"])

    def op_git_list_matching_refs(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        prefix = "refs/" + p["ref"]
        found = [{"ref": ref, "object": {"sha": sha, "type": "commit"}} for ref, sha in sorted(self.refs.items())
                 if ref.startswith(prefix)]  # fmt: skip
        return 200, found

    def op_git_get_tree(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        key = p["tree_sha"]
        sha = key if key in self.trees else self.commits[self._resolve(key)].tree
        listing = self._tree_listing(self.trees[sha], recursive="recursive" in q)
        return 200, {"sha": sha, "tree": listing, "truncated": False}

    def op_git_create_tree(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        base = b.get("base_tree")
        if base is not None and base not in self.trees:
            raise ReplyError(422, "Invalid base_tree")
        files = dict(self.trees[base]) if base else {}
        for entry in b["tree"]:
            path = entry.get("path")
            if not path or path.startswith("/") or path.endswith("/"):
                raise ReplyError(422, f"Invalid tree path {path!r}")
            if "content" in entry and "sha" in entry:
                raise ReplyError(422, "Use either tree.sha or content, not both")
            if entry.get("type") != "blob":
                raise ReplyError(422, "This fake only stores blobs")
            if "content" in entry:
                files[path] = self._store_blob(entry["content"].encode())
            elif entry.get("sha") is None:
                if path not in files:
                    raise ReplyError(422, "GitRPC::BadObjectState")
                del files[path]
            elif entry["sha"] in self.blobs:
                files[path] = entry["sha"]
            else:
                raise ReplyError(422, f"Invalid sha for {path}")
        sha = self._store_tree(files)
        return 201, {"sha": sha, "tree": self._tree_listing(files, recursive=False), "truncated": False}

    def op_git_create_commit(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if b["tree"] not in self.trees:
            raise ReplyError(422, "Tree SHA does not exist")
        parents = tuple(b.get("parents") or ())
        if any(parent not in self.commits for parent in parents):
            raise ReplyError(422, "Parent SHA does not exist or is not a commit object")
        author = self._git_person(b.get("author"), None)
        committer = self._git_person(b.get("committer"), author)
        sha = self._store_commit(b["tree"], parents, b["message"], author=author, committer=committer)
        return 201, self.commits[sha].json()

    def _git_person(self, given: dict[str, str] | None, fallback: GitPerson | None) -> GitPerson | None:
        """An author or committer of a created commit: as given (its date, else now), else ``fallback`` (GitHub:
        the committer defaults to the author, the author to whoever calls)."""
        if given is None:
            return fallback
        try:
            date = dt.datetime.fromisoformat(given["date"]) if "date" in given else self.clock()
        except ValueError:
            raise ReplyError(422, f"Invalid date {given['date']!r}") from None
        if date.tzinfo is None:
            date = date.replace(tzinfo=dt.UTC)
        return GitPerson(given.get("name", ACTOR), given.get("email", ""), date)

    def op_git_get_commit(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        commit = self.commits.get(p["commit_sha"])
        if commit is None:
            raise ReplyError(404, "Not Found")
        return 200, commit.json()

    def op_git_create_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        ref = b["ref"]
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ReplyError(422, "Reference name is invalid")
        if ref in self.refs:
            raise ReplyError(422, "Reference already exists")
        if b["sha"] not in self.commits:
            raise ReplyError(422, "Object does not exist")
        self.refs[ref] = b["sha"]
        return 201, {"ref": ref, "object": {"sha": b["sha"], "type": "commit"}}

    def op_git_update_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        ref = "refs/" + p["ref"]
        if ref not in self.refs:
            raise ReplyError(422, "Reference does not exist")
        if b["sha"] not in self.commits:
            raise ReplyError(422, "Object does not exist")
        if not b.get("force") and self.refs[ref] not in self._ancestors(b["sha"]):
            raise ReplyError(422, "Update is not a fast forward")
        self.refs[ref] = b["sha"]
        return 200, {"ref": ref, "object": {"sha": b["sha"], "type": "commit"}}

    def op_git_delete_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        ref = "refs/" + p["ref"]
        if ref not in self.refs:
            raise ReplyError(422, "Reference does not exist")
        if ref == f"refs/heads/{self.default_branch}":
            raise ReplyError(422, "Cannot delete the default branch")
        del self.refs[ref]
        for pr in self.pulls.values():  # GitHub closes the open pull requests of a deleted head branch
            if ref == f"refs/heads/{pr['head']}" and pr["state"] == "open":
                pr["state"] = "closed"
        return 204, None

    def op_repos_get_content(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        commit = self.commits[self._resolve(q.get("ref", self.default_branch))]
        files = self.trees[commit.tree]
        path = p["path"].strip("/")
        if path in files:
            data = self.blobs[files[path]]
            return 200, {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "name": path.rsplit("/", 1)[-1],
                "path": path,
                "sha": files[path],
                "content": base64.encodebytes(data).decode(),
            }
        inside = [f for f in files if f.startswith(path + "/")]
        if not inside:
            raise ReplyError(404, "Not Found")
        names = sorted({f[len(path) + 1 :].split("/")[0] for f in inside})
        return 200, [{"type": "dir" if f"{path}/{n}" not in files else "file", "name": n} for n in names]

    def op_git_get_blob(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        data = self.blobs.get(p["file_sha"])
        if data is None:
            raise ReplyError(404, "Not Found")
        return 200, {
            "sha": p["file_sha"],
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
        }

    # -- pull requests ----------------------------------------------------------------------------------------

    def _refresh_head(self, pr: dict[str, Any]) -> None:
        """An open pull request's head follows its branch; a closed one keeps the last head SHA."""
        ref = f"refs/heads/{pr['head']}"
        if pr["state"] == "open" and ref in self.refs:
            pr["head_sha"] = self.refs[ref]

    def node_id(self, number: int) -> str:
        """The GraphQL global ID of pull request ``number`` (what the REST answers call ``node_id``)."""
        return "PR_" + base64.urlsafe_b64encode(f"{self.repository}#{number}".encode()).decode().rstrip("=")

    def _pull_json(self, pr: dict[str, Any], full: bool) -> dict[str, Any]:
        self._refresh_head(pr)
        is_open = pr["state"] == "open"
        data = {
            "number": pr["number"],
            "node_id": self.node_id(pr["number"]),
            "state": pr["state"],
            "draft": bool(pr.get("draft")),
            "title": pr["title"],
            "body": pr["body"],
            "html_url": f"{self.html}/pull/{pr['number']}",
            "head": {"ref": pr["head"], "sha": pr["head_sha"]},
            "base": {"ref": pr["base"], "sha": self.refs.get(f"refs/heads/{pr['base']}")},
            "labels": [{"name": n} for n in sorted(pr["labels"])],
            "merged_at": "2025-01-01T00:00:00Z" if pr["merged"] else None,
            "merge_commit_sha": pr["merge_sha"],
            "auto_merge": self._auto_merge_json(pr) if is_open and pr.get("auto_merge") else None,
        }
        if full:
            known = is_open and pr["number"] not in self.mergeable_unknown
            gate = self._gate(pr) if known else None
            data.update(
                merged=pr["merged"],
                mergeable=None if gate is None else gate.state != "dirty",
                mergeable_state="unknown" if gate is None else gate.state,
            )
        return data

    def _auto_merge_json(self, pr: dict[str, Any]) -> dict[str, Any]:
        request = pr["auto_merge"]
        return {
            "enabled_by": {"login": request["by"], "type": "Bot" if request["by"].endswith("[bot]") else "User"},
            "merge_method": request["method"],
            "commit_title": request["title"] or self._merge_title(pr),
            "commit_message": request["message"] or "",
        }

    def _merge_title(self, pr: dict[str, Any]) -> str:
        return f"Merge pull request #{pr['number']} from {pr['head']}"

    def _pull(self, number: str) -> dict[str, Any]:
        pr = self.pulls.get(int(number))
        if pr is None:
            raise ReplyError(404, "Not Found")
        return pr

    def op_pulls_list(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        state = q.get("state", "open")
        found = [
            pr
            for pr in self.pulls.values()
            if (state == "all" or pr["state"] == state)
            and ("head" not in q or q["head"] == f"{self.owner}:{pr['head']}")
            and ("base" not in q or q["base"] == pr["base"])
        ]
        found.sort(key=lambda pr: -pr["number"])
        size, page = int(q.get("per_page", 30)), int(q.get("page", 1))
        return 200, [self._pull_json(pr, full=False) for pr in found[(page - 1) * size : page * size]]

    def op_pulls_create(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        head, base = b["head"].split(":")[-1], b["base"]
        for name in (head, base):
            if f"refs/heads/{name}" not in self.refs:
                raise ReplyError(422, "Validation Failed", errors=[{"field": "head", "code": "invalid"}])
        if any(pr["head"] == head and pr["base"] == base and pr["state"] == "open" for pr in self.pulls.values()):
            message = f"A pull request already exists for {self.owner}:{head}."
            raise ReplyError(
                422, "Validation Failed", errors=[{"resource": "PullRequest", "code": "custom", "message": message}]
            )
        head_sha, base_sha = self._resolve(head), self._resolve(base)
        if head_sha in self._ancestors(base_sha):
            message = f"No commits between {base} and {head}"
            raise ReplyError(
                422, "Validation Failed", errors=[{"resource": "PullRequest", "code": "custom", "message": message}]
            )
        number = next(self._ids)
        self.pulls[number] = {
            "number": number,
            "title": b.get("title", ""),
            "body": b.get("body") or "",
            "head": head,
            "base": base,
            "head_sha": head_sha,
            "state": "open",
            "labels": set(),
            "merged": False,
            "merge_sha": None,
            "draft": bool(b.get("draft")),
        }
        # GitHub starts computing the mergeability only now: the answer does not know it yet.
        return 201, self._pull_json(self.pulls[number], full=True) | {"mergeable": None, "mergeable_state": "unknown"}

    def op_pulls_get(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        return 200, self._pull_json(self._pull(p["pull_number"]), full=True)

    def op_pulls_update(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        pr = self._pull(p["pull_number"])
        self._pull_json(pr, full=False)  # refresh the head SHA: a closed pull request keeps the last one
        for key in ("title", "body", "base"):
            if key in b:
                pr[key] = b[key]
        if "state" in b and not pr["merged"]:
            pr["state"] = b["state"]
        return 200, self._pull_json(pr, full=True)

    def op_pulls_merge(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        pr = self._pull(p["pull_number"])
        self._refresh_head(pr)
        if pr["state"] != "open":
            raise ReplyError(405, "Pull Request is not mergeable")
        if b.get("sha") and b["sha"] != pr["head_sha"]:
            raise ReplyError(409, "Head branch was modified. Review and try the merge again.")
        gate = self._gate(pr)
        if gate.refusal is not None:
            raise ReplyError(405, gate.refusal)
        sha = self._merge_pull(pr, b.get("merge_method", "merge"), b.get("commit_title"))
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

    def _merge_pull(self, pr: dict[str, Any], method: str, title: str | None) -> str:
        """Merge an open, conflict-free pull request into its base (one parent for a squash); the merge commit."""
        base_ref = f"refs/heads/{pr['base']}"
        base_sha = self.refs[base_ref]
        merged = self._merge_trees(base_sha, pr["head_sha"])
        if merged is None:
            raise ReplyError(405, "Pull Request is not mergeable")
        tree = self._store_tree(merged)
        parents = (base_sha,) if method == "squash" else (base_sha, pr["head_sha"])
        sha = self._store_commit(tree, parents, title or self._merge_title(pr))
        self.refs[base_ref] = sha
        pr.update(state="closed", merged=True, merge_sha=sha)
        return sha

    # -- GraphQL: native auto-merge ----------------------------------------------------------------------------

    def _graphql_pull(self, node_id: str) -> dict[str, Any]:
        pr = next((pr for number, pr in self.pulls.items() if self.node_id(number) == node_id), None)
        if pr is None:
            raise GraphQLAnswerError("NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'")
        self._refresh_head(pr)
        return pr

    def _actor_node(self) -> dict[str, Any]:
        slug = ACTOR.removesuffix("[bot]")
        return {
            "__typename": "Bot",
            "id": "BOT_" + base64.urlsafe_b64encode(slug.encode()).decode().rstrip("="),
            "login": slug,
            "avatarUrl": lambda info, size=None: f"https://avatars.github.example/in/{slug}",
            "resourcePath": f"/apps/{slug}",
            "url": f"https://github.example/apps/{slug}",
        }

    def _pull_node(self, pr: dict[str, Any]) -> dict[str, Any]:
        """A pull request as GraphQL answers it; what costs a merge computation is computed only when asked."""
        self._refresh_head(pr)
        known = pr["state"] == "open" and pr["number"] not in self.mergeable_unknown

        def merge_state(info: Any) -> str:
            return self._gate(pr).state.upper() if known else "UNKNOWN"

        def mergeable(info: Any) -> str:
            if not known:
                return "UNKNOWN"
            return "CONFLICTING" if self._gate(pr).state == "dirty" else "MERGEABLE"

        return {
            "__typename": "PullRequest",
            "id": self.node_id(pr["number"]),
            "number": pr["number"],
            "title": pr["title"],
            "url": f"{self.html}/pull/{pr['number']}",
            "state": "MERGED" if pr["merged"] else pr["state"].upper(),
            "merged": pr["merged"],
            "isDraft": bool(pr.get("draft")),
            "headRefName": pr["head"],
            "headRefOid": pr["head_sha"],
            "baseRefName": pr["base"],
            "mergeStateStatus": merge_state,
            "mergeable": mergeable,
            "autoMergeRequest": lambda info: self._auto_merge_node(pr),
        }

    def _auto_merge_node(self, pr: dict[str, Any]) -> dict[str, Any] | None:
        request = pr.get("auto_merge")
        if pr["state"] != "open" or not request:
            return None
        return {
            "enabledAt": _timestamp(request["enabled_at"]),
            "enabledBy": self._actor_node(),
            "mergeMethod": request["method"].upper(),
            "commitHeadline": request["title"],
            "commitBody": request["message"],
            "authorEmail": request["author_email"],
            "pullRequest": lambda info: self._pull_node(pr),
        }

    def _payload(self, pr: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        return {
            "actor": self._actor_node(),
            "clientMutationId": given.get("clientMutationId"),
            "pullRequest": self._pull_node(pr),
        }

    def _auto_merge_target(self, node_id: str) -> dict[str, Any]:
        """The open pull request a mutation names, or GitHub's refusal."""
        pr = self._graphql_pull(node_id)
        if pr["merged"]:
            raise GraphQLAnswerError("UNPROCESSABLE", "Pull request is already merged")
        if pr["state"] != "open":
            raise GraphQLAnswerError("UNPROCESSABLE", "Pull request is closed")
        return pr

    def _graphql_enable_auto_merge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._auto_merge_target(input["pullRequestId"])
        if not self.allow_auto_merge:
            raise GraphQLAnswerError("UNPROCESSABLE", "Auto merge is not allowed for this repository")
        expected = input.get("expectedHeadOid")
        if expected is not None and expected != pr["head_sha"]:
            raise GraphQLAnswerError("UNPROCESSABLE", "Head ref was modified. Review and try the merge again.")
        if not pr.get("auto_merge"):  # enabling it again changes nothing
            state = self._gate(pr).state
            if state in MERGEABLE_STATES:  # nothing to wait for: GitHub wants a plain merge (its words, doubled)
                raise GraphQLAnswerError("UNPROCESSABLE", f"Pull request Pull request is in {state} status")
            pr["auto_merge"] = {
                "method": (input.get("mergeMethod") or "MERGE").lower(),
                "title": input.get("commitHeadline"),
                "message": input.get("commitBody"),
                "author_email": input.get("authorEmail"),
                "enabled_at": self.clock(),
                "by": ACTOR,
            }
        return self._payload(pr, input)

    def _graphql_disable_auto_merge(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        pr = self._auto_merge_target(input["pullRequestId"])
        if not pr.get("auto_merge"):
            raise GraphQLAnswerError("UNPROCESSABLE", "Auto merge is not enabled for this pull request")
        pr["auto_merge"] = None
        return self._payload(pr, input)

    def _graphql_node(self, info: Any, id: str) -> dict[str, Any]:
        return self._pull_node(self._graphql_pull(id))

    # -- the merge rules: statuses, check runs, rulesets, branch protection, reviews --------------------------

    def _latest_statuses(self, sha: str) -> dict[str, dict[str, Any]]:
        """Each context's latest commit status on ``sha``, by context in lower case (GitHub's contexts ignore
        case), in the order the contexts first reported."""
        latest: dict[str, dict[str, Any]] = {}
        for entry in self.statuses.get(sha, []):
            latest[entry["context"].lower()] = entry
        return latest

    def _latest_runs(self, sha: str) -> list[dict[str, Any]]:
        """The newest check run of each (name, app) on ``sha``, newest first."""
        newest: dict[tuple[str, int], dict[str, Any]] = {}
        for run in sorted(self.check_runs.values(), key=lambda r: r["id"]):
            if run["head_sha"] == sha:
                newest[(run["name"], run["app_id"])] = run
        return sorted(newest.values(), key=lambda r: -r["id"])

    def _required(self, branch: str) -> list[_Requirement]:
        """What the active rulesets on ``branch`` and its classic protection require, each rule on its own."""
        found: list[_Requirement] = []
        for ruleset in self._rulesets_on(branch):
            found.append(_Requirement("ruleset", tuple(ruleset["checks"]), ruleset["strict"], ruleset["reviews"]))
        protection = self.protections.get(branch)
        if protection is not None:
            found.append(
                _Requirement("protection", tuple(protection["checks"]), protection["strict"], protection["reviews"])
            )
        return found

    def _rulesets_on(self, branch: str) -> list[dict[str, Any]]:
        def covers(pattern: str) -> bool:
            if pattern == "~ALL":
                return True
            if pattern == "~DEFAULT_BRANCH":
                return branch == self.default_branch
            return fnmatch.fnmatchcase(branch, pattern)

        return [
            ruleset
            for _, ruleset in sorted(self.rulesets.items())
            if ruleset["enforcement"] == "active" and any(covers(pattern) for pattern in ruleset["branches"])
        ]

    def _check_verdict(self, sha: str, context: str, app_id: int | None) -> str:
        """``passed``, ``failing`` or ``expected`` (not reported, or still running) for a required check: its latest
        commit status, or its latest check run of that name (from app ``app_id`` when the rule names one)."""
        status = self._latest_statuses(sha).get(context.lower())
        runs = [r for r in self._latest_runs(sha) if r["name"] == context and app_id in (None, r["app_id"])]
        run_done = bool(runs) and runs[0]["status"] == "completed"
        state = status["state"] if status is not None else None
        if state == "success" or (run_done and runs[0]["conclusion"] in PASSING_CONCLUSIONS):
            return "passed"
        return "failing" if state in ("failure", "error") or run_done else "expected"

    def _gate(self, pr: dict[str, Any]) -> _Gate:
        """GitHub's ``mergeable_state`` of an open pull request, and the 405 message ``PUT /merge`` answers (None:
        it may merge). Conflicts first, then a draft, a head behind a strict base, unmet rules, then what is
        pending or failing without being required."""
        head, base = pr["head_sha"], self._resolve(pr["base"])
        if self._merge_trees(base, head) is None:
            return _Gate("dirty", "Pull Request is not mergeable")
        if pr.get("draft"):
            return _Gate("draft", "Pull Request is still a draft")
        rules = self._required(pr["base"])
        behind = base not in self._ancestors(head)
        if behind and any(rule.strict and rule.checks for rule in rules):
            return _Gate("behind", "Head branch is out of date. Review and try the merge again.")
        approvals = len(pr.get("approvals") or ())
        refusals: dict[str, list[str]] = {"ruleset": [], "protection": []}
        required_names: set[str] = set()
        for rule in rules:
            for context, app_id in rule.checks:
                required_names.add(context.lower())
                verdict = self._check_verdict(head, context, app_id)
                if verdict != "passed":
                    refusals[rule.kind].append(f'Required status check "{context}" is {verdict}.')
            if approvals < rule.reviews:
                reviews = "review is" if rule.reviews == 1 else "reviews are"
                refusals[rule.kind].append(
                    f"At least {rule.reviews} approving {reviews} required by reviewers with write access."
                )
        if refusals["ruleset"]:
            return _Gate("blocked", "Repository rule violations found\n\n" + "\n".join(refusals["ruleset"]))
        if refusals["protection"]:
            return _Gate("blocked", " ".join(refusals["protection"]))
        others = [s["state"] for c, s in self._latest_statuses(head).items() if c not in required_names]
        others += [
            "success" if r["status"] == "completed" and r["conclusion"] in PASSING_CONCLUSIONS else "other"
            for r in self._latest_runs(head)
            if r["name"].lower() not in required_names
        ]
        return _Gate("unstable" if any(state != "success" for state in others) else "clean", None)

    # -- issues: labels and comments --------------------------------------------------------------------------

    def op_issues_add_labels(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        pr = self._pull(p["issue_number"])
        names = b["labels"] if isinstance(b, dict) else b
        pr["labels"].update(n if isinstance(n, str) else n["name"] for n in names)
        return 200, [{"name": n} for n in sorted(pr["labels"])]

    def _comment_json(self, c: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.html}/pull/{c['issue']}#issuecomment-{c['id']}"
        author = c.get("author", "envbot[bot]")
        user = {"login": author, "type": "Bot" if author.endswith("[bot]") else "User"}
        times = {key: c[key].strftime("%Y-%m-%dT%H:%M:%SZ") for key in ("created_at", "updated_at")}
        return {"id": c["id"], "body": c["body"], "html_url": url, "user": user, **times}

    def op_issues_list_comments(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        self._pull(p["issue_number"])
        since = dt.datetime.fromisoformat(q["since"]) if "since" in q else None  # GitHub: last updated since
        found = sorted(
            (
                c
                for c in self.comments.values()
                if c["issue"] == int(p["issue_number"]) and (since is None or c["updated_at"] >= since)
            ),
            key=lambda c: c["id"],
        )
        size, page = int(q.get("per_page", 30)), int(q.get("page", 1))
        return 200, [self._comment_json(c) for c in found[(page - 1) * size : page * size]]

    def add_comment(
        self, number: int, body: str, author: str = "envbot[bot]", *, created_at: dt.datetime | None = None
    ) -> int:
        """Post a comment as ``author`` (tests plant a crashed run's duplicates, or a person's look-alikes), at
        ``created_at`` (default: the fake's clock)."""
        cid = 1000 + next(self._ids)
        at = created_at or self.clock()
        self.comments[cid] = {
            "id": cid,
            "issue": number,
            "body": body,
            "author": author,
            "created_at": at,
            "updated_at": at,
        }
        return cid

    def op_issues_create_comment(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        self._pull(p["issue_number"])
        cid = self.add_comment(int(p["issue_number"]), b["body"])
        return 201, self._comment_json(self.comments[cid])

    def op_issues_update_comment(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        c = self.comments.get(int(p["comment_id"]))
        if c is None:
            raise ReplyError(404, "Not Found")
        c["body"] = b["body"]
        c["updated_at"] = self.clock()
        return 200, self._comment_json(c)

    def op_issues_delete_comment(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if self.comments.pop(int(p["comment_id"]), None) is None:
            raise ReplyError(404, "Not Found")
        return 204, None

    # -- statuses and permissions -----------------------------------------------------------------------------

    def op_repos_create_commit_status(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if p["sha"] not in self.commits:
            raise ReplyError(422, f"No commit found for SHA: {p['sha']}")
        entry = {
            "state": b["state"],
            "context": b.get("context", "default"),
            "description": b.get("description"),
            "target_url": b.get("target_url"),
        }
        self.statuses.setdefault(p["sha"], []).append(entry)
        return 201, dict(entry)

    def op_repos_get_combined_status_for_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        sha = self._resolve(p["ref"])
        latest = list(self._latest_statuses(sha).values())
        states = [e["state"] for e in latest]
        if any(s in ("failure", "error") for s in states):
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        statuses = [copy.deepcopy(e) for e in _page(latest, q)]
        return 200, {"state": state, "sha": sha, "statuses": statuses, "total_count": len(latest)}

    # -- check runs ---------------------------------------------------------------------------------------------

    def _new_check_run(
        self,
        sha: str,
        name: str,
        status: str,
        conclusion: str | None,
        app: tuple[int, str],
        **details: Any,
    ) -> int:
        suites = {(r["head_sha"], r["app_id"]): r["suite"] for r in self.check_runs.values()}
        suite = suites.get((sha, app[0]), 7_000_000 + len(set(suites.values())) + 1)
        run = {
            "name": name,
            "head_sha": sha,
            "status": "queued",
            "conclusion": None,
            "started_at": self.clock(),
            "completed_at": None,
            "app_id": app[0],
            "app_slug": app[1],
            "suite": suite,
            "details_url": None,
            "external_id": None,
            "output": {},
            **details,
        }
        self._update_check_run(run, status, conclusion)  # before it is stored: a refused run leaves no trace
        run_id = run["id"] = next(self._check_ids)
        self.check_runs[run_id] = run
        return run_id

    def _update_check_run(self, run: dict[str, Any], status: str | None, conclusion: str | None) -> None:
        """A new status, or a conclusion (which completes the run, as on GitHub); completing stamps the time."""
        if conclusion is not None:
            status = "completed"
        if status is None:
            return
        if status == "completed" and conclusion is None and run["conclusion"] is None:
            raise ReplyError(422, "Invalid request.\n\nA check run needs a conclusion to complete.")
        run["status"] = status
        if status == "completed":
            run["conclusion"] = conclusion or run["conclusion"]
            run["completed_at"] = run["completed_at"] or self.clock()
        else:
            run["conclusion"] = run["completed_at"] = None

    def _check_run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/repos/{self.repository}/check-runs/{run['id']}"
        html_url = f"{self.html}/runs/{run['id']}"
        app_id, slug = run["app_id"], run["app_slug"]
        output = run["output"]
        for pr in self.pulls.values():
            self._refresh_head(pr)
        pulls = [pr for pr in self.pulls.values() if pr["state"] == "open" and pr["head_sha"] == run["head_sha"]]
        repo = {"id": self._repository_id(), "url": f"{self.base_url}/repos/{self.repository}", "name": self.repository}
        return {
            "id": run["id"],
            "node_id": "CR_" + base64.urlsafe_b64encode(f"{self.repository}#{run['id']}".encode()).decode().rstrip("="),
            "name": run["name"],
            "head_sha": run["head_sha"],
            "status": run["status"],
            "conclusion": run["conclusion"],
            "started_at": _timestamp(run["started_at"]) if run["started_at"] else None,
            "completed_at": _timestamp(run["completed_at"]) if run["completed_at"] else None,
            "url": url,
            "html_url": html_url,
            "details_url": run["details_url"] or html_url,
            "external_id": run["external_id"] or "",
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": 0,
                "annotations_url": url + "/annotations",
            },
            "app": {
                "id": app_id,
                "slug": slug,
                "node_id": "A_" + base64.urlsafe_b64encode(slug.encode()).decode().rstrip("="),
                "name": "GitHub Actions" if slug == GITHUB_ACTIONS_APP[1] else slug,
                "html_url": f"https://github.example/apps/{slug}",
            },
            "check_suite": {"id": run["suite"]},
            "pull_requests": [
                {
                    "id": 100_000 + pr["number"],
                    "number": pr["number"],
                    "url": f"{self.base_url}/repos/{self.repository}/pulls/{pr['number']}",
                    "head": {"ref": pr["head"], "sha": pr["head_sha"], "repo": repo},
                    "base": {"ref": pr["base"], "sha": self.refs.get(f"refs/heads/{pr['base']}"), "repo": repo},
                }
                for pr in pulls
            ],
        }

    def op_checks_list_for_ref(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        sha = self._resolve(p["ref"])
        if q.get("filter", "latest") == "latest":
            runs = self._latest_runs(sha)
        else:
            runs = sorted((r for r in self.check_runs.values() if r["head_sha"] == sha), key=lambda r: -r["id"])
        runs = [
            r
            for r in runs
            if q.get("check_name", r["name"]) == r["name"]
            and q.get("status", r["status"]) == r["status"]
            and q.get("app_id", str(r["app_id"])) == str(r["app_id"])
        ]
        return 200, {"total_count": len(runs), "check_runs": [self._check_run_json(r) for r in _page(runs, q)]}

    def _check_run_details(self, b: dict[str, Any]) -> dict[str, Any]:
        details: dict[str, Any] = {key: b[key] for key in ("name", "details_url", "external_id") if key in b}
        if "output" in b:
            details["output"] = dict(b["output"])
        if "started_at" in b:
            details["started_at"] = self._instant(b["started_at"])
        if b.get("conclusion") == "stale":
            raise ReplyError(422, "Invalid request.\n\nOnly GitHub can set a check run's conclusion to stale.")
        if "completed_at" in b and "conclusion" not in b:
            raise ReplyError(422, "Invalid request.\n\nA completed_at needs a conclusion.")
        return details

    def _instant(self, text: str) -> dt.datetime:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ReplyError(422, f"Invalid request.\n\n{text!r} is not a time.") from None
        return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)

    def op_checks_create(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if b["head_sha"] not in self.commits:
            raise ReplyError(422, f"No commit found for SHA: {b['head_sha']}")
        details = self._check_run_details(b)
        name = details.pop("name")
        run_id = self._new_check_run(
            b["head_sha"], name, b.get("status", "queued"), b.get("conclusion"), self.check_app, **details
        )
        if "completed_at" in b:
            self.check_runs[run_id]["completed_at"] = self._instant(b["completed_at"])
        return 201, self._check_run_json(self.check_runs[run_id])

    def op_checks_update(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        run = self.check_runs.get(int(p["check_run_id"]))
        if run is None:
            raise ReplyError(404, "Not Found")
        updated = {**run, **self._check_run_details(b)}
        self._update_check_run(updated, b.get("status"), b.get("conclusion"))  # a refused update changes nothing
        if "completed_at" in b:
            updated["completed_at"] = self._instant(b["completed_at"])
        self.check_runs[run["id"]] = updated
        return 200, self._check_run_json(updated)

    # -- rules, protection and the repository's settings --------------------------------------------------------

    def _rules_json(self, branch: str) -> list[dict[str, Any]]:
        source = {"ruleset_source_type": "Repository", "ruleset_source": self.repository}
        rules: list[dict[str, Any]] = []
        for ruleset in self._rulesets_on(branch):
            info = {**source, "ruleset_id": ruleset["id"]}
            if ruleset["checks"]:
                checks = [
                    {"context": context} if app_id is None else {"context": context, "integration_id": app_id}
                    for context, app_id in ruleset["checks"]
                ]
                parameters = {
                    "required_status_checks": checks,
                    "strict_required_status_checks_policy": ruleset["strict"],
                }
                rules.append({"type": "required_status_checks", "parameters": parameters, **info})
            if ruleset["reviews"]:
                parameters = {
                    "allowed_merge_methods": ["merge", "squash", "rebase"],
                    "dismiss_stale_reviews_on_push": False,
                    "require_code_owner_review": False,
                    "require_last_push_approval": False,
                    "required_approving_review_count": ruleset["reviews"],
                    "required_review_thread_resolution": False,
                }
                rules.append({"type": "pull_request", "parameters": parameters, **info})
        return rules

    def op_repos_get_branch_rules(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        if self.rules_status is not None:
            messages = {403: "Resource not accessible by integration", 404: "Not Found"}
            raise ReplyError(self.rules_status, messages.get(self.rules_status, "Error"))
        return 200, _page(self._rules_json(p["branch"]), q)

    def _protection_json(self, branch: str) -> dict[str, Any]:
        """The ``protected`` and ``protection`` of a branch's answer (and the reviews it requires, when any)."""
        protection = self.protections.get(branch)
        checks: dict[str, Any]
        if protection is None:
            checks = {"enforcement_level": "off", "contexts": [], "checks": []}
            return {"protected": False, "protection": {"enabled": False, "required_status_checks": checks}}
        checks = {
            "enforcement_level": "non_admins",
            "contexts": [context for context, _ in protection["checks"]],
            "checks": [{"context": context, "app_id": app_id} for context, app_id in protection["checks"]],
            "strict": protection["strict"],
        }
        answer: dict[str, Any] = {"protected": True, "protection": {"enabled": True, "required_status_checks": checks}}
        if protection["reviews"]:
            answer["required_approving_review_count"] = protection["reviews"]
        return answer

    def _repository_id(self) -> int:
        return int(hashlib.sha1(self.repository.encode(), usedforsecurity=False).hexdigest()[:8], 16)

    def op_repos_get(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        return 200, {
            "id": self._repository_id(),
            "node_id": "R_" + base64.urlsafe_b64encode(self.repository.encode()).decode().rstrip("="),
            "name": self.repository.split("/")[1],
            "full_name": self.repository,
            "html_url": self.html,
            "default_branch": self.default_branch,
            "private": False,
            "allow_auto_merge": self.allow_auto_merge,
            "allow_update_branch": False,
            "allow_merge_commit": True,
            "allow_squash_merge": True,
            "allow_rebase_merge": True,
            "delete_branch_on_merge": False,
        }

    def op_repos_get_collaborator_permission_level(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any]:
        role = self.roles.get(p["username"])
        if role is None:
            raise ReplyError(404, f"{p['username']} is not a user")
        return 200, {"permission": _LEGACY.get(role, "read"), "role_name": role, "user": {"login": p["username"]}}
