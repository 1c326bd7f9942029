"""The fault-injection worlds; the tally of injected faults is printed by the root conftest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.world import World


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """``make_world(**options)``: a new World (see its options); every fake must see no request that GitHub's
    OpenAPI description rejects."""
    worlds: list[World] = []

    def make(**options: Any) -> World:
        worlds.append(World(tmp_path / f"world-{len(worlds) + 1}", **options))
        return worlds[-1]

    try:
        yield make
        for made in worlds:
            assert made.violations() == []
    finally:
        for made in worlds:
            made.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A World with the default options."""
    return make_world()
