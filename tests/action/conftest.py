"""The ``open_world`` fixture: one Action world per test, for the repository a real payload names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.action.support import ActionWorld, make_world

OpenWorld = Callable[..., ActionWorld]


@pytest.fixture
def open_world(tmp_path: Path) -> Iterator[OpenWorld]:
    """``open_world(repository, events=None, extra=None)``: a world whose fake GitHub answers for ``repository``."""
    with ExitStack() as stack:

        def opener(
            repository: str, events: dict[str, Any] | None = None, *, extra: dict[str, Any] | None = None
        ) -> ActionWorld:
            return stack.enter_context(contextmanager(make_world)(tmp_path, repository, events, extra=extra))

        yield opener
