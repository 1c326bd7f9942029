"""Durations as envbot reads and writes them: ``72h``, ``1d12h`` or ``30s`` in, ``2h05m`` out."""

from __future__ import annotations

import datetime as dt
import re

_TTL = re.compile(r"^(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?\Z", re.ASCII)
_TTL_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60}


def parse_ttl(text: str) -> int | None:
    """``72h`` → 259200; ``1d12h`` → 129600; None when the text is not a duration."""
    match = _TTL.match(text)
    if not text or match is None:
        return None
    return sum(int(amount) * _TTL_UNITS[unit] for unit, amount in match.groupdict().items() if amount)


def parse_duration(text: str) -> dt.timedelta | None:
    """``30s`` (seconds on their own) or a non-zero ``parse_ttl`` duration such as ``10m``; None for anything else."""
    if text.endswith("s") and text[:-1].isascii() and text[:-1].isdigit():
        return dt.timedelta(seconds=int(text[:-1]))
    seconds = parse_ttl(text)
    return dt.timedelta(seconds=seconds) if seconds else None


def format_duration(delta: dt.timedelta) -> str:
    """``45s``, ``12m``, ``2h05m``, ``3d4h``: short enough for a PR comment table."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m" if not seconds or minutes >= 10 else f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"
