"""Environments, what the record holds: the ``kind: Environment`` format, its parser, catalog binding; pure."""

from bot.environment.bind import Problem, bind_environment, check_environment
from bot.environment.model import (
    CATALOG_LABEL,
    ENVIRONMENT_LABEL,
    BoundCatalog,
    BoundEnvironment,
    Environment,
    OutputRef,
    SecretRef,
)
from bot.environment.spec import environment_to_document, parse_environment

__all__ = [
    "CATALOG_LABEL",
    "ENVIRONMENT_LABEL",
    "BoundCatalog",
    "BoundEnvironment",
    "Environment",
    "OutputRef",
    "Problem",
    "SecretRef",
    "bind_environment",
    "check_environment",
    "environment_to_document",
    "parse_environment",
]
