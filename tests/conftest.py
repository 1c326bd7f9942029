"""Shared test paths: the project root, its catalogs, and the third-party fixtures in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
CATALOGS = PROJECT_ROOT / "catalogs"
EXAMPLES = PROJECT_ROOT / "examples"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"third-party fixtures not found at {FIXTURES}; ../shared must sit beside the project"
    return FIXTURES
