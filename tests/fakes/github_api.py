"""A stateful fake of GitHub's REST API for one repository, plugged into ``responses``: every request is checked
against a description of the API (the project's own, or GitHub's OpenAPI file) and a request GitHub would reject
fails the test."""

from __future__ import annotations

import base64
import copy
import datetime as dt
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

import responses
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.fakes.three_way import merge_trees

OWN_DESCRIPTION = Path(__file__).resolve().parents[1] / "fixtures" / "github-rest" / "operations.yaml"
"""The project's own description of the operations the fake serves (found beside this file rather than through
``project_paths``, so that the benchmarks, which import the fake without ``tests/`` on the path, load it too)."""
UPSTREAM_FILES = ("github-openapi/github-rest-subset.json", "github-openapi/api.github.com.json")
"""GitHub's OpenAPI description in the third-party data: the repository subset when present, else the whole file."""

_SPEC_URI = "urn:github-openapi"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_LEGACY = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FAKE_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""The fake's time when a test gives it no clock (comments are stamped with it)."""


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
        fine: the fake answers with what envbot reads."""
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


@functools.cache
def upstream_api() -> OpenApi:
    """GitHub's OpenAPI description from the third-party data, parsed once per process and never at import.

    For the conformance tier only: a test that calls this reads ``project_paths.FIXTURES``."""
    from project_paths import FIXTURES  # here, not at import: the benchmarks import this module without tests/

    for name in UPSTREAM_FILES:
        if (FIXTURES / name).is_file():
            return OpenApi(FIXTURES / name)
    raise FileNotFoundError(f"none of {list(UPSTREAM_FILES)} under {FIXTURES}")


# -- git objects -----------------------------------------------------------------------------------------------


def _sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class FakeCommit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str


class ReplyError(Exception):
    """Raised by a handler to answer with an error status."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, **extra}


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
    comments, labels, statuses and collaborator permissions, kept in memory.

    ``api`` is the description every request is checked against: the project's own by default,
    ``upstream_api()`` (GitHub's OpenAPI file) in the conformance tier. ``clock`` is GitHub's time, which stamps
    each comment's ``created_at`` and ``updated_at`` (a test hands in its own clock to move it)."""

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
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _stamp: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    api: RestApi = field(default_factory=own_api, repr=False, compare=False)
    clock: Callable[[], dt.datetime] = field(default=lambda: FAKE_NOW, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.prefix = urlsplit(self.base_url).path.rstrip("/")
        self.owner = self.repository.split("/")[0]
        self.html = "https://github.example/" + self.repository

    # -- setup helpers for tests ------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> FakeGitHub:
        """Answer every request to ``base_url`` on ``mock``."""
        # PyGithub spells the default port out (https://api.github.com:443/...).
        base = urlsplit(self.base_url)
        origin = re.escape(f"{base.scheme}://{base.hostname}") + (f":{base.port}" if base.port else r"(:\d+)?")
        pattern = re.compile(origin + re.escape(self.prefix) + r"(/.*)?$")
        for method in _METHODS:
            mock.add_callback(method, pattern, callback=self._respond, content_type="application/json")
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
        """Requests received, or those of one operationId (``git/create-tree``)."""
        return sum(1 for c in self.calls if operation is None or c.operation == operation)

    # -- object store -----------------------------------------------------------------------------------------

    def _store_blob(self, data: bytes) -> str:
        sha = _sha("blob", data)
        self.blobs[sha] = data
        return sha

    def _store_tree(self, entries: dict[str, str]) -> str:
        sha = _sha("tree", json.dumps(sorted(entries.items())).encode())
        self.trees[sha] = dict(entries)
        return sha

    def _store_commit(self, tree: str, parents: tuple[str, ...], message: str) -> str:
        # Real commits carry a timestamp, so the same tree committed twice gets two SHAs: so do ours.
        payload = json.dumps([tree, parents, message, next(self._stamp)]).encode()
        sha = _sha("commit", payload)
        self.commits[sha] = FakeCommit(sha, tree, parents, message)
        return sha

    def _resolve(self, ref: str) -> str:
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
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
        if f"{params.get('owner')}/{params.get('repo')}" != self.repository:
            call.status, call.reply = 404, {"message": "Not Found"}
        else:
            try:
                call.status, call.reply = handler(params, query, body or {})
            except ReplyError as reply:
                call.status, call.reply = reply.status, reply.body
        return call.status, {}, "" if call.reply is None else json.dumps(call.reply)

    # -- git data ---------------------------------------------------------------------------------------------

    def _branch_json(self, name: str) -> dict[str, Any]:
        commit = self.commits[self.refs[f"refs/heads/{name}"]]
        return {
            "name": name,
            "commit": {
                "sha": commit.sha,
                "commit": {"message": commit.message, "tree": {"sha": commit.tree}},
                "parents": [{"sha": p} for p in commit.parents],
            },
            "protected": False,
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
        sha = self._store_commit(b["tree"], parents, b["message"])
        return 201, {
            "sha": sha,
            "message": b["message"],
            "tree": {"sha": b["tree"]},
            "parents": [{"sha": s} for s in parents],
        }

    def op_git_get_commit(self, p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        commit = self.commits.get(p["commit_sha"])
        if commit is None:
            raise ReplyError(404, "Not Found")
        return 200, {"sha": commit.sha, "tree": {"sha": commit.tree}, "parents": [{"sha": s} for s in commit.parents]}

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

    def _pull_json(self, pr: dict[str, Any], full: bool) -> dict[str, Any]:
        ref = f"refs/heads/{pr['head']}"
        if pr["state"] == "open" and ref in self.refs:
            pr["head_sha"] = self.refs[ref]
        data = {
            "number": pr["number"],
            "state": pr["state"],
            "title": pr["title"],
            "body": pr["body"],
            "html_url": f"{self.html}/pull/{pr['number']}",
            "head": {"ref": pr["head"], "sha": pr["head_sha"]},
            "base": {"ref": pr["base"], "sha": self.refs.get(f"refs/heads/{pr['base']}")},
            "labels": [{"name": n} for n in sorted(pr["labels"])],
            "merged_at": "2025-01-01T00:00:00Z" if pr["merged"] else None,
            "merge_commit_sha": pr["merge_sha"],
        }
        if full:
            mergeable = None
            if pr["state"] == "open" and pr["number"] not in self.mergeable_unknown:
                mergeable = self._merge_trees(self._resolve(pr["base"]), pr["head_sha"]) is not None
            data.update(merged=pr["merged"], mergeable=mergeable)
        return data

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
        }
        return 201, self._pull_json(self.pulls[number], full=True) | {"mergeable": None}

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
        self._pull_json(pr, full=False)  # refresh the head SHA
        if pr["state"] != "open":
            raise ReplyError(405, "Pull Request is not mergeable")
        if b.get("sha") and b["sha"] != pr["head_sha"]:
            raise ReplyError(409, "Head branch was modified. Review and try the merge again.")
        base_ref = f"refs/heads/{pr['base']}"
        base_sha = self.refs[base_ref]
        merged = self._merge_trees(base_sha, pr["head_sha"])
        if merged is None:
            raise ReplyError(405, "Pull Request is not mergeable")
        tree = self._store_tree(merged)
        method = b.get("merge_method", "merge")
        parents = (base_sha,) if method == "squash" else (base_sha, pr["head_sha"])
        title = b.get("commit_title") or f"Merge pull request #{pr['number']} from {pr['head']}"
        sha = self._store_commit(tree, parents, title)
        self.refs[base_ref] = sha
        pr.update(state="closed", merged=True, merge_sha=sha)
        return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}

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
        latest: dict[str, dict[str, Any]] = {}
        for entry in self.statuses.get(sha, []):
            latest[entry["context"].lower()] = entry
        states = [e["state"] for e in latest.values()]
        if any(s in ("failure", "error") for s in states):
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        statuses = [copy.deepcopy(e) for e in latest.values()]
        return 200, {"state": state, "sha": sha, "statuses": statuses, "total_count": len(statuses)}

    def op_repos_get_collaborator_permission_level(
        self, p: dict[str, str], q: dict[str, str], b: Any
    ) -> tuple[int, Any]:
        role = self.roles.get(p["username"])
        if role is None:
            raise ReplyError(404, f"{p['username']} is not a user")
        return 200, {"permission": _LEGACY.get(role, "read"), "role_name": role, "user": {"login": p["username"]}}
