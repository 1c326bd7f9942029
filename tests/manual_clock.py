"""The one test clock: time moves only when a test advances it or the code under test sleeps."""

from __future__ import annotations

import datetime as dt
import threading

from bot.clock import Timebase

START = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


class ManualClock:
    """A clock for ``Timebase``: ``sleep`` advances it at once; thread-safe for the race tests."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.advance(dt.timedelta(seconds=seconds))

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self.now += delta

    @property
    def timebase(self) -> Timebase:
        return Timebase(clock=self, sleep=self.sleep)
