"""Parses ``kind: Environment`` documents into ``Environment`` objects and writes them back, both pure."""

from __future__ import annotations

import re
from typing import Any

from bot import yamldoc
from bot.catalog.model import API_VERSION
from bot.catalog.values import describe_type, show
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
from bot.names import MAX_LABEL_LENGTH, is_dns1123_label, is_repository

_TOP_KEYS = frozenset(
    {
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
    }
)
_CATALOG_KEYS = frozenset({"name", "parameters"})
_ORIGIN_KEYS = frozenset({"kind", "repository", "branch", "pullRequest"})
_SECRET_KEYS = frozenset({"backend", "path", "key", "env"})
_CLUSTER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+\Z")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_DESCRIPTION = 1000
DEFAULT_CLUSTER = "in-cluster"


def _label_problem(value: object) -> str:
    if isinstance(value, str) and len(value) > MAX_LABEL_LENGTH:
        return f"is {len(value)} characters long; at most {MAX_LABEL_LENGTH} are allowed"
    return (
        f"{show(value)} is not a DNS-1123 label (lowercase letters, digits and '-', "
        "starting and ending with a letter or digit)"
    )


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
    if not is_dns1123_label(ref.backend):
        return f"fromSecret.backend {show(ref.backend)} must be a DNS-1123 label, such as vault or kubernetes"
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
    problems: list[str] = []

    def add(where: str, message: str) -> None:
        problems.append(f"{source}: {where}: {message}")

    if not isinstance(document, dict):
        raise EnvironmentSpecError(f"{source}: must be a mapping with kind: Environment, got {describe_type(document)}")
    for key in document:
        if key not in _TOP_KEYS:
            add(str(key), f"unknown field (known: {', '.join(sorted(_TOP_KEYS))})")
    if document.get("kind") != "Environment":
        add("kind", f"must be Environment, got {show(document.get('kind'))}")
    if document.get("apiVersion", API_VERSION) != API_VERSION:
        add("apiVersion", f"must be {API_VERSION}, got {show(document.get('apiVersion'))}")

    name = document.get("name")
    if not is_dns1123_label(name):
        add("name", "is missing" if name is None else _label_problem(name))
    namespace = document.get("namespace", name)
    if namespace is not name and not is_dns1123_label(namespace):
        add("namespace", _label_problem(namespace))

    env_type = EnvironmentType.PRE_RELEASE
    try:
        env_type = EnvironmentType(document.get("type", "pre-release"))
    except ValueError:
        add("type", f"must be pre-release or release, got {show(document.get('type'))}")

    description = document.get("description", "")
    if not isinstance(description, str):
        add("description", f"must be a string, got {describe_type(description)}")
        description = ""
    elif len(description) > _MAX_DESCRIPTION:
        add("description", f"is {len(description)} characters long; at most {_MAX_DESCRIPTION} are allowed")

    cluster = document.get("cluster", DEFAULT_CLUSTER)
    if not isinstance(cluster, str) or len(cluster) > 253 or not _CLUSTER_NAME.match(cluster):
        add(
            "cluster",
            f"{show(cluster)} is not an Argo CD cluster name (lowercase letters, digits, '-' and '.')",
        )

    ttl = document.get("ttl")
    ttl_seconds: int | None = None
    if ttl is not None:
        ttl_seconds = parse_ttl(ttl) if isinstance(ttl, str) else None
        if not ttl_seconds:
            add("ttl", f"{show(ttl)} is not a duration such as 30m, 72h, 7d or 1w2d")

    owner = document.get("owner")
    if owner is not None and (not isinstance(owner, str) or "\n" in owner or len(owner) > 200):
        add("owner", "must be a one-line string")

    origin = _origin(document.get("origin"), add)
    catalogs = _catalog_requests(document.get("catalogs"), add)

    if problems:
        raise EnvironmentSpecError(sorted(problems))
    return Environment(
        name=str(name),
        namespace=str(namespace),
        type=env_type,
        description=description.strip(),
        cluster=cluster,
        ttl=ttl,
        ttl_seconds=ttl_seconds,
        owner=owner,
        origin=origin,
        catalogs=catalogs,
    )


def _origin(value: Any, add: Any) -> Origin:
    if value is None:
        return Origin()
    if not isinstance(value, dict):
        add("origin", f"must be a mapping, got {describe_type(value)}")
        return Origin()
    for key in value:
        if key not in _ORIGIN_KEYS:
            add(f"origin.{key}", f"unknown field (known: {', '.join(sorted(_ORIGIN_KEYS))})")
    try:
        kind = OriginKind(value.get("kind", "manual"))
    except ValueError:
        add("origin.kind", f"must be branch, pullRequest or manual, got {show(value.get('kind'))}")
        return Origin()
    repository = value.get("repository")
    if repository is not None and not is_repository(repository):
        add("origin.repository", f"{show(repository)} is not an owner/name repository")
    branch = value.get("branch")
    if branch is not None and (not isinstance(branch, str) or not branch or "\n" in branch or ".." in branch):
        add("origin.branch", f"{show(branch)} is not a branch name")
    number = value.get("pullRequest")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
        add("origin.pullRequest", f"must be a pull request number, got {describe_type(number)}")
    if kind is OriginKind.BRANCH and not branch:
        add("origin.branch", "a branch origin names its branch")
    if kind is OriginKind.PULL_REQUEST and not number:
        add("origin.pullRequest", "a pullRequest origin names its pull request number")
    return Origin(kind=kind, repository=repository, branch=branch, pull_request=number)


def _catalog_requests(value: Any, add: Any) -> tuple[CatalogRequest, ...]:
    if value is None:
        add("catalogs", "is missing: list the catalogs to deploy")
        return ()
    if not isinstance(value, list) or not value:
        add("catalogs", "must be a non-empty list of {name, parameters}")
        return ()
    requests: list[CatalogRequest] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        where = f"catalogs[{index}]"
        if not isinstance(entry, dict):
            add(where, f"must be a mapping with name and parameters, got {describe_type(entry)}")
            continue
        for key in entry:
            if key not in _CATALOG_KEYS:
                add(f"{where}.{key}", "unknown field (known: name, parameters)")
        name = entry.get("name")
        if not is_dns1123_label(name):
            add(f"{where}.name", "is missing" if name is None else f"catalog name {_label_problem(name)}")
            continue
        if name in seen:
            add(f"{where}.name", f"catalog {name} is listed twice")
            continue
        seen.add(name)
        parameters = entry.get("parameters") or {}
        if not isinstance(parameters, dict):
            add(f"{where}.parameters", f"must be a mapping, got {describe_type(parameters)}")
            continue
        requests.append(CatalogRequest(name=name, parameters={str(k): v for k, v in parameters.items()}))
    return tuple(requests)


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
