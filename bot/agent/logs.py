"""One structured line per action: ``key=value`` text, or JSON objects with ``--log-format json``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from bot.clock import Clock, utc_timestamp
from bot.durations import format_duration
from bot.report.github_actions import log_text

LogFormat = str
FORMATS = ("text", "json")


def _plain(value: object) -> object:
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    if isinstance(value, dt.datetime):
        return utc_timestamp(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def structured_log(write: Callable[[str], None], log_format: LogFormat, clock: Clock) -> Callable[..., None]:
    """``log(event, **fields)`` writing one line: every value is data (JSON-escaped, or made inert in text), and no
    caller passes a secret (tokens and keys never reach the loop)."""

    def log(event: str, **fields: object) -> None:
        values = {key: _plain(value) for key, value in fields.items() if value not in (None, "", [], ())}
        if log_format == "json":
            write(json.dumps({"time": utc_timestamp(clock()), "event": event, **values}, ensure_ascii=True))
            return
        pairs = " ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in values.items())
        write(log_text(f"envbot agent: {event}" + (f" {pairs}" if pairs else "")))

    return log
