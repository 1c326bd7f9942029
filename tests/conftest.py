"""Session-wide fixtures; paths live in project_paths so sub-folder conftest files cannot shadow them."""

from __future__ import annotations

from pathlib import Path

import pytest
from project_paths import FIXTURES


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"third-party fixtures not found at {FIXTURES}; ../shared must sit beside the project"
    return FIXTURES
