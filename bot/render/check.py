"""Checks a loaded catalog renders: a trial render with its defaults and example values."""

from __future__ import annotations

from typing import Any

from bot.catalog.model import TERRAFORM_SECRET_BACKEND, Catalog, Parameter, ParameterType
from bot.environment.model import (
    BoundCatalog,
    BoundEnvironment,
    Environment,
    EnvironmentType,
    Origin,
    SecretRef,
)
from bot.errors import UserError
from bot.render.renderer import render_environment

TRIAL_ENVIRONMENT = "catalog-check"


def _example_value(parameter: Parameter) -> Any:
    if parameter.has_default:
        return parameter.default
    if parameter.type is ParameterType.SECRET:
        defaults = parameter.secret
        return SecretRef(
            backend=defaults.backend or TERRAFORM_SECRET_BACKEND,
            path=defaults.path or "example",
            key=defaults.key or "example",
            env=defaults.env,
        )
    if parameter.type is ParameterType.ENUM:
        return parameter.options[0]
    if parameter.type is ParameterType.BOOLEAN:
        return True
    if parameter.type is ParameterType.INTEGER:
        return int(parameter.minimum) if parameter.minimum is not None else 1
    if parameter.type is ParameterType.NUMBER:
        return parameter.minimum if parameter.minimum is not None else 1.0
    return "example"


def check_catalog_renders(catalog: Catalog) -> list[str]:
    """Problems found while rendering a catalog on its own, one line each."""
    problems: list[str] = []
    environment = Environment(
        name=TRIAL_ENVIRONMENT,
        namespace=TRIAL_ENVIRONMENT,
        type=EnvironmentType.PRE_RELEASE,
        description="trial render",
        cluster="in-cluster",
        ttl=None,
        ttl_seconds=None,
        owner=None,
        origin=Origin(),
        catalogs=(),
    )
    values = {name: _example_value(parameter) for name, parameter in catalog.parameters.items()}
    outputs = {
        catalog.name: {
            name: output.example if output.example is not None else "example"
            for name, output in catalog.outputs.items()
            if not output.sensitive
        }
    }
    bound = BoundEnvironment(environment=environment, catalogs=(BoundCatalog(catalog=catalog, values=values),))
    try:
        render_environment(bound, outputs)
    except UserError as exc:
        problems.extend(exc.problems)
    return problems
