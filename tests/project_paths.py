"""Paths the tests share: the project root, its catalogs and examples, its own fixtures, and the third-party data."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CATALOGS = PROJECT_ROOT / "bot" / "examples" / "catalogs"
EXAMPLES = PROJECT_ROOT / "bot" / "examples" / "environments"
OWN_FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
"""Fixtures the project writes itself (webhook payloads shaped as GitHub documents them, minimal CRD facts)."""


def _upstream_fixtures() -> Path:
    chosen = os.environ.get("ENVBOT_FIXTURES", "").strip()
    return Path(chosen).expanduser().resolve() if chosen else (PROJECT_ROOT.parent / "shared" / "fixtures").resolve()


FIXTURES = _upstream_fixtures()
"""Third-party data for the conformance tier: ``ENVBOT_FIXTURES``, else ``../shared/fixtures`` beside the project."""
FETCH_HINT = "python -m tests.fixtures fetch"


def upstream_available() -> bool:
    """Whether the third-party data of the conformance tier is present."""
    return (FIXTURES / "SOURCES.md").is_file() or (FIXTURES / "crds").is_dir()


def upstream_required() -> bool:
    """In CI (``CI=true``) or with ``ENVBOT_REQUIRE_FIXTURES=1`` a missing conformance tier is an error."""
    ci = os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}
    return ci or os.environ.get("ENVBOT_REQUIRE_FIXTURES", "").strip() in {"1", "true", "yes"}
