"""How envbot tells and spends time: a clock and a sleep, handed in so that tests move time themselves."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Timebase:
    """Where "now" comes from and how a wait is spent; the wall clock unless a caller (a test) passes its own."""

    clock: Clock = utc_now
    sleep: Sleep = time.sleep


WALL_CLOCK = Timebase()
