"""Figure: the slowest comment parse over the hostile bodies of the command tests (bounded by MAX_BODY, not size)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.events.commands import REGISTRY
from bot.events.comments import parse_comment
from tests.events.test_events_commands import HOSTILE_BODIES


@dataclass
class ParsingFigure:
    worst_s: float
    bodies: int
    largest_chars: int


def measure(rounds: int = 3) -> ParsingFigure:
    worst = 0.0
    for body in HOSTILE_BODIES:
        for _ in range(rounds):
            started = time.perf_counter()
            parse_comment(body, REGISTRY)
            worst = max(worst, time.perf_counter() - started)
    return ParsingFigure(worst, len(HOSTILE_BODIES), max(len(b) for b in HOSTILE_BODIES))
