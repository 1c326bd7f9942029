"""The tally of injected faults, printed at the end of the run (``faults injected: N``) for the README."""

from __future__ import annotations

import threading
from collections import Counter

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def record(kind: str, count: int = 1) -> None:
    """Count ``count`` faults of ``kind`` (``github 503``, ``kubernetes 403``, ``crash``, ...) as injected."""
    if count:
        with _lock:
            _counts[kind] += count


def total() -> int:
    with _lock:
        return sum(_counts.values())


def breakdown() -> dict[str, int]:
    with _lock:
        return dict(sorted(_counts.items()))
