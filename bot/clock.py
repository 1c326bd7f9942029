"""How envbot tells, writes and spends time: a clock, the one timestamp format, a sleep tests can replace."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def readable_time(when: dt.datetime, *, date: bool = True) -> str:
    """``2025-06-01 12:00:05 UTC`` (or ``12:00:05 UTC`` without ``date``): an instant as people read it in replies."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if date else "%H:%M:%S UTC")


def utc_timestamp(when: dt.datetime) -> str:
    """``2025-06-01T12:00:00Z``: the instant in UTC, whole seconds (rounded down), as records and APIs write it."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> dt.datetime:
    """The instant an RFC 3339 time names, in UTC: ``2025-06-01T12:00:00Z`` as GitHub, Kubernetes and envbot write
    it, with a fraction of a second or an offset (``+02:00``, as git writes it) too; ``ValueError`` for any other
    text (a date alone, no zone, a space for the ``T``)."""
    if not isinstance(text, str) or _RFC3339.fullmatch(text) is None:
        raise ValueError(f"not an RFC 3339 time: {str(text)[:40]!r}")
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


@dataclass(frozen=True)
class Timebase:
    """Where "now" comes from and how a wait is spent; the wall clock unless a caller (a test) passes its own."""

    clock: Clock = utc_now
    sleep: Sleep = time.sleep


WALL_CLOCK = Timebase()


@dataclass
class PassingTime:
    """Time that every wait moves on at once: a dry run sees what a real run would see after its waits."""

    start: dt.datetime
    waited: float = 0.0

    def clock(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.waited)

    def sleep(self, seconds: float) -> None:
        self.waited += max(0.0, seconds)
