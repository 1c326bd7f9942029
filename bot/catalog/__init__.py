"""Catalogs, what decide renders from: the model, the parser of a catalog's files, Konstruct discovery; pure."""

from bot.catalog.loader import parse_catalog
from bot.catalog.model import Catalog, CatalogSet, CatalogType, Output, Parameter, ParameterType

__all__ = [
    "Catalog",
    "CatalogSet",
    "CatalogType",
    "Output",
    "Parameter",
    "ParameterType",
    "parse_catalog",
]
