"""Paths the tests share: the project root, its catalogs and examples, and the third-party fixtures in ../shared."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
CATALOGS = PROJECT_ROOT / "catalogs"
EXAMPLES = PROJECT_ROOT / "examples"
