"""The project's own webhook payloads (tests/fixtures/webhooks/<event>/<scenario>.json): load one, change fields."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

WEBHOOKS = Path(__file__).resolve().parent / "fixtures" / "webhooks"
"""Written by the project after GitHub's documented shapes; see its README.md. No third-party data."""


def scenarios() -> list[str]:
    """Every payload, as ``event/scenario`` (the folder is the ``X-GitHub-Event``)."""
    return sorted(path.relative_to(WEBHOOKS).with_suffix("").as_posix() for path in WEBHOOKS.glob("*/*.json"))


def event_name_of(scenario: str) -> str:
    """The ``X-GitHub-Event`` of a scenario such as ``pull_request/labeled``."""
    return scenario.partition("/")[0]


def path_of(scenario: str) -> Path:
    return WEBHOOKS / f"{scenario}.json"


@functools.cache
def _load(scenario: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path_of(scenario).read_text(encoding="utf-8"))
    return document


def with_changes(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``document`` with fields set in place; ``a__b=v`` sets ``document["a"]["b"]``."""
    for dotted, value in changes.items():
        target = document
        *parents, last = dotted.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return document


def payload(scenario: str, **changes: Any) -> dict[str, Any]:
    """A fresh copy of one of our payloads, with the fields a test needs changed (``a__b`` nests)."""
    return with_changes(copy.deepcopy(_load(scenario)), **changes)


def repository_of(scenario: str) -> str:
    """The ``owner/name`` a payload comes from (a fake GitHub must answer for it)."""
    return str(_load(scenario)["repository"]["full_name"])
