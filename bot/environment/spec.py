"""Parses ``kind: Environment`` documents into ``Environment`` objects and writes them back, both pure."""

from __future__ import annotations

import re
from typing import Any

from bot import yamldoc
from bot.catalog.model import API_VERSION
from bot.documents import Node, describe_type, show
from bot.durations import parse_ttl
from bot.environment.model import (
    CatalogRequest,
    Environment,
    EnvironmentType,
    Origin,
    OriginKind,
    OutputRef,
    SecretRef,
    SecretRequest,
)
from bot.errors import EnvironmentSpecError
from bot.names import SUBDOMAIN_RULE, is_dns1123_label, is_dns1123_subdomain, is_repository, label_problem

_TOP_KEYS = (
    "apiVersion",
    "kind",
    "name",
    "namespace",
    "type",
    "description",
    "cluster",
    "ttl",
    "owner",
    "origin",
    "catalogs",
)
_ORIGIN_KEYS = ("kind", "repository", "branch", "pullRequest")
_SECRET_KEYS = frozenset({"backend", "path", "key", "env"})
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+\Z")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_DESCRIPTION = 1000
_MAX_OWNER = 200
DEFAULT_CLUSTER = "in-cluster"
"""The Argo CD destination by default. Argo CD itself takes any text as a cluster name; envbot makes it a folder of
the app repository (``<env>/<cluster>/<catalog>.yaml``), so it keeps to a DNS-1123 subdomain, as Kubernetes names."""


def parse_value(value: Any) -> Any:
    """A parameter as written → a literal, an ``OutputRef`` or a ``SecretRequest``; raises ValueError otherwise."""
    if not isinstance(value, dict):
        return value
    if set(value) == {"fromOutput"}:
        ref = value["fromOutput"]
        if not isinstance(ref, str) or ref.count(".") != 1:
            raise ValueError("fromOutput takes '<catalog>.<output>', for example rds-postgres.endpoint")
        catalog, output = ref.split(".")
        if not is_dns1123_label(catalog) or not output:
            raise ValueError(f"fromOutput {show(ref)} does not name a catalog and an output")
        return OutputRef(catalog=catalog, output=output)
    if set(value) == {"fromSecret"}:
        ref = value["fromSecret"]
        if not isinstance(ref, dict):
            raise ValueError("fromSecret takes a mapping with backend, path and key")
        unknown = sorted(str(k) for k in ref if k not in _SECRET_KEYS)
        if unknown:
            raise ValueError(f"fromSecret has unknown field {unknown[0]!r} (known: backend, env, key, path)")
        for key, item in ref.items():
            if not isinstance(item, str) or not item or "\n" in item:
                raise ValueError(f"fromSecret.{key} must be a one-line string")
        return SecretRequest(backend=ref.get("backend"), path=ref.get("path"), key=ref.get("key"), env=ref.get("env"))
    raise ValueError("a mapping value must be {fromOutput: <catalog>.<output>} or {fromSecret: {...}}")


def check_secret_fields(ref: SecretRef) -> str | None:
    """What is wrong with a completed secret reference, or None."""
    missing = [name for name in ("backend", "path", "key") if not getattr(ref, name)]
    if missing:
        return f"the secret reference lacks {', '.join(missing)} (give them under fromSecret)"
    backend_problem = label_problem(ref.backend)
    if backend_problem is not None:
        return f"fromSecret.backend {backend_problem}; name one such as vault or kubernetes"
    if not _SECRET_KEY.match(ref.key):
        return f"fromSecret.key {show(ref.key)} may hold only letters, digits, '-', '_' and '.'"
    if ref.env is not None and not _ENV_VAR.match(ref.env):
        return f"fromSecret.env {show(ref.env)} is not an environment variable name"
    return None


def parse_environment(text: str, source: str) -> Environment:
    """Parse an environment file; every structural problem is raised at once, each naming the field."""
    try:
        document = yamldoc.load_one(text)
    except yamldoc.YamlError as exc:
        raise EnvironmentSpecError(f"{source}: {exc}") from None
    return environment_from_document(document, source)


def environment_from_document(document: Any, source: str) -> Environment:
    """Check and build an environment from its loaded document; every problem is raised at once, sorted."""
    if not isinstance(document, dict):
        raise EnvironmentSpecError(f"{source}: must be a mapping with kind: Environment, got {describe_type(document)}")
    root = Node(document, source).mapping(_TOP_KEYS)
    root["kind"].choice(("Environment",), required=True)
    root["apiVersion"].choice((API_VERSION,), API_VERSION)
    name = root["name"].label(required=True)
    ttl = root["ttl"]
    ttl_seconds = ttl.parsed(_ttl_seconds, None, f"{show(ttl.value)} is not a duration such as 30m, 72h, 7d or 1w2d")
    environment = Environment(
        name=str(name),
        namespace=root["namespace"].label() or str(name),
        type=root["type"].choice(EnvironmentType, EnvironmentType.PRE_RELEASE),
        description=root["description"].string("", max_length=_MAX_DESCRIPTION).strip(),
        cluster=root["cluster"].string(DEFAULT_CLUSTER, valid=is_dns1123_subdomain, what=SUBDOMAIN_RULE),
        ttl=ttl.value if ttl_seconds else None,
        ttl_seconds=ttl_seconds,
        owner=root["owner"].string(one_line=True, max_length=_MAX_OWNER),
        origin=_origin(root["origin"]),
        catalogs=_catalog_requests(root["catalogs"]),
    )
    if root.problems.lines:
        raise EnvironmentSpecError(sorted(root.problems.lines))
    return environment


def _ttl_seconds(text: str) -> int | None:
    return parse_ttl(text) or None


def _origin(node: Node) -> Origin:
    origin = node.mapping(_ORIGIN_KEYS)
    kind = origin["kind"].choice(OriginKind, OriginKind.MANUAL)
    branch = origin["branch"].string(non_empty=True, one_line=True, valid=_is_branch, what="a branch name")
    number = origin["pullRequest"].integer(minimum=1, what="a pull request number")
    if kind is OriginKind.BRANCH and not branch:
        origin["branch"].problem("a branch origin names its branch")
    if kind is OriginKind.PULL_REQUEST and not number:
        origin["pullRequest"].problem("a pullRequest origin names its pull request number")
    return Origin(
        kind=kind,
        repository=origin["repository"].string(valid=is_repository, what="a GitHub owner/name"),
        branch=branch,
        pull_request=number,
    )


def _is_branch(name: str) -> bool:
    return ".." not in name


def _catalog_requests(node: Node) -> tuple[CatalogRequest, ...]:
    requests: dict[str, CatalogRequest] = {}
    entries = node.items(
        what="a non-empty list of {name, parameters}", required="list the catalogs to deploy", non_empty=True
    )
    for entry in entries:
        catalog = entry.mapping(("name", "parameters"), what="a mapping with name and parameters")
        name = catalog["name"].label(required=True)
        if name is not None and name in requests:
            catalog["name"].problem(f"catalog {name} is listed twice")
        elif name is not None:
            parameters = {key: parameter.value for key, parameter in catalog["parameters"].mapping().entries()}
            requests[name] = CatalogRequest(name=name, parameters=parameters)
    return tuple(requests.values())


def environment_to_document(environment: Environment) -> dict[str, Any]:
    """The canonical document of an environment (as stored in the environment record)."""
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "Environment",
        "name": environment.name,
        "namespace": environment.namespace,
        "type": environment.type.value,
        "description": environment.description,
        "cluster": environment.cluster,
    }
    if environment.ttl is not None:
        document["ttl"] = environment.ttl
    if environment.owner is not None:
        document["owner"] = environment.owner
    origin: dict[str, Any] = {"kind": environment.origin.kind.value}
    if environment.origin.repository:
        origin["repository"] = environment.origin.repository
    if environment.origin.branch:
        origin["branch"] = environment.origin.branch
    if environment.origin.pull_request:
        origin["pullRequest"] = environment.origin.pull_request
    document["origin"] = origin
    document["catalogs"] = [
        {"name": request.name, "parameters": dict(request.parameters)} for request in environment.catalogs
    ]
    return document
