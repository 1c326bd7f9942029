"""How envbot tells, writes and spends time: a clock, the one timestamp format, a sleep tests can replace."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc_timestamp(when: dt.datetime) -> str:
    """``2025-06-01T12:00:00Z``: the instant in UTC, whole seconds (rounded down), as records and APIs write it."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Timebase:
    """Where "now" comes from and how a wait is spent; the wall clock unless a caller (a test) passes its own."""

    clock: Clock = utc_now
    sleep: Sleep = time.sleep


WALL_CLOCK = Timebase()
