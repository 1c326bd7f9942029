"""The example catalogs and environment shipped inside the package: the defaults of ``envbot demo``."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOGS = HERE / "catalogs"
ENVIRONMENT = HERE / "environments" / "dev-feature-auth.yaml"
