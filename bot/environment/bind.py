"""Checks an environment against the catalogs and settles every parameter; reports every problem at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.catalog.model import TERRAFORM_SECRET_BACKEND, Catalog, CatalogSet, Parameter, ParameterType
from bot.catalog.values import problem_with_value
from bot.environment.model import (
    BoundCatalog,
    BoundEnvironment,
    Environment,
    OutputRef,
    SecretRef,
    SecretRequest,
)
from bot.environment.spec import check_secret_fields, parse_value
from bot.errors import EnvironmentSpecError
from bot.names import did_you_mean


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an environment, located by environment, catalog and parameter."""

    environment: str
    catalog: str | None
    parameter: str | None
    message: str

    def __str__(self) -> str:
        parts = [f"environment {self.environment}"]
        if self.catalog is not None:
            parts.append(f"catalog {self.catalog}")
        if self.parameter is not None:
            parts.append(f"parameter {self.parameter}")
        return ": ".join([*parts, self.message])


def bind_environment(environment: Environment, catalogs: CatalogSet) -> BoundEnvironment:
    """Bind or raise ``EnvironmentSpecError`` listing every problem, one line each."""
    problems, bound = check_environment(environment, catalogs)
    if problems:
        raise EnvironmentSpecError(str(p) for p in problems)
    return bound


def check_environment(environment: Environment, catalogs: CatalogSet) -> tuple[list[Problem], BoundEnvironment]:
    """Every problem of an environment and the binding of whatever was sound."""
    problems: list[Problem] = []
    requested = {request.name for request in environment.catalogs}
    bound: dict[str, BoundCatalog] = {}
    for request in environment.catalogs:
        catalog = catalogs.get(request.name)
        if catalog is None:
            known = ", ".join(catalogs.names()) or "none"
            problems.append(
                Problem(
                    environment.name,
                    request.name,
                    None,
                    f"no such catalog in the catalogs folder{did_you_mean(request.name, catalogs.names())}"
                    f" (known: {known})",
                )
            )
            continue
        values = _bind_catalog(environment, request.parameters, catalog, catalogs, requested, problems)
        bound[catalog.name] = BoundCatalog(catalog=catalog, values=values)
    order = _dependency_order(environment, bound, problems)
    return sorted(set(problems), key=_problem_order(environment)), BoundEnvironment(
        environment=environment, catalogs=tuple(bound[name] for name in order)
    )


def _problem_order(environment: Environment) -> Any:
    positions = {request.name: index for index, request in enumerate(environment.catalogs)}

    def key(problem: Problem) -> tuple[int, str, str]:
        return (positions.get(problem.catalog or "", -1), problem.parameter or "", problem.message)

    return key


def _bind_catalog(
    environment: Environment,
    given: Any,
    catalog: Catalog,
    catalogs: CatalogSet,
    requested: set[str],
    problems: list[Problem],
) -> dict[str, Any]:
    def add(parameter: str | None, message: str) -> None:
        problems.append(Problem(environment.name, catalog.name, parameter, message))

    values: dict[str, Any] = {}
    for name, raw in given.items():
        parameter = catalog.parameters.get(name)
        if parameter is None:
            known = ", ".join(catalog.parameters) or "none"
            add(
                name,
                f"the catalog has no such parameter{did_you_mean(name, catalog.parameters)} (known: {known})",
            )
            continue
        try:
            value = parse_value(raw)
        except ValueError as exc:
            add(name, str(exc))
            continue
        checked = _check_given(parameter, value, catalog, catalogs, requested, add)
        if checked is not None:
            values[name] = checked
    for name, parameter in catalog.parameters.items():
        if name in given:
            continue
        if parameter.type is ParameterType.SECRET:
            completed = _complete_secret(parameter, SecretRequest())
            if check_secret_fields(completed) is None:
                values[name] = completed
                continue
            if parameter.required:
                add(name, "is required: give a reference {fromSecret: {backend, path, key}}")
            continue
        if parameter.has_default:
            values[name] = parameter.default
        elif parameter.required:
            add(name, f"is required (a {parameter.type.value}; see envbot catalog show {catalog.name})")
    return values


def _complete_secret(parameter: Parameter, request: SecretRequest) -> SecretRef:
    defaults = parameter.secret
    return SecretRef(
        backend=request.backend or defaults.backend or "",
        path=request.path or defaults.path or "",
        key=request.key or defaults.key or "",
        env=request.env or defaults.env,
    )


def _check_given(
    parameter: Parameter,
    value: Any,
    catalog: Catalog,
    catalogs: CatalogSet,
    requested: set[str],
    add: Any,
) -> Any:
    name = parameter.name
    if parameter.type is ParameterType.SECRET:
        if isinstance(value, OutputRef):
            add(
                name,
                "is a secret: it takes {fromSecret: {...}}, not an output (sensitive outputs stay in Secrets)",
            )
            return None
        if not isinstance(value, SecretRequest):
            add(
                name,
                "is a secret: give a reference {fromSecret: {backend, path, key}}, never the value itself",
            )
            return None
        completed = _complete_secret(parameter, value)
        problem = check_secret_fields(completed)
        if problem:
            add(name, problem)
            return None
        if parameter.terraform_variable and completed.backend != TERRAFORM_SECRET_BACKEND:
            add(
                name,
                "reaches Terraform as an environment variable read from a Kubernetes Secret, so its reference "
                f"needs backend: {TERRAFORM_SECRET_BACKEND} (path is the Secret's name)",
            )
            return None
        return completed
    if isinstance(value, SecretRequest):
        add(name, f"takes a {parameter.type.value} value, not a secret reference")
        return None
    if isinstance(value, OutputRef):
        return _check_output_ref(value, catalogs, requested, name, add)
    if value is None and not parameter.required:
        return parameter.default if parameter.has_default else None
    problem = problem_with_value(parameter, value)
    if problem:
        add(name, problem)
        return None
    return value


def _check_output_ref(ref: OutputRef, catalogs: CatalogSet, requested: set[str], name: str, add: Any) -> Any:
    if ref.catalog not in requested:
        add(name, f"fromOutput {ref} names catalog {ref.catalog}, which this environment does not deploy")
        return None
    target = catalogs.get(ref.catalog)
    if target is None:
        return None  # reported as an unknown catalog already
    output = target.outputs.get(ref.output)
    if output is None:
        known = ", ".join(target.outputs) or "none"
        add(
            name,
            f"fromOutput {ref}: catalog {ref.catalog} declares no output {ref.output}"
            f"{did_you_mean(ref.output, target.outputs)} (outputs: {known})",
        )
        return None
    if output.sensitive:
        add(
            name,
            f"fromOutput {ref} is a sensitive output; envbot never copies it (the app reads it from the "
            "Workspace's connection Secret)",
        )
        return None
    return ref


def _dependency_order(environment: Environment, bound: dict[str, BoundCatalog], problems: list[Problem]) -> list[str]:
    """Catalog names with every output producer before its consumers; reports reference cycles."""
    edges = {
        name: sorted({ref.catalog for _, ref in item.output_refs() if ref.catalog in bound})
        for name, item in bound.items()
    }
    order: list[str] = []
    state: dict[str, str] = {}
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = [*path[path.index(name) :], name]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                problems.append(Problem(environment.name, cycle[0], None, f"reference cycle: {' -> '.join(cycle)}"))
            return
        state[name] = "visiting"
        for dependency in edges[name]:
            visit(dependency, [*path, name])
        state[name] = "done"
        order.append(name)

    for request in environment.catalogs:
        if request.name in bound:
            visit(request.name, [])
    return order
