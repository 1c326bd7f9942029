"""Catalogs: the model, the folder loader, and Konstruct-compatible parameter discovery."""

from bot.catalog.loader import load_catalogs, parse_catalog, read_catalog_folder
from bot.catalog.model import Catalog, CatalogSet, CatalogType, Output, Parameter, ParameterType

__all__ = [
    "Catalog",
    "CatalogSet",
    "CatalogType",
    "Output",
    "Parameter",
    "ParameterType",
    "load_catalogs",
    "parse_catalog",
    "read_catalog_folder",
]
