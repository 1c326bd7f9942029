"""The environment record kept in the platform repository: the request, the catalog versions, and the intents."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot import yamldoc
from bot.catalog.model import API_VERSION
from bot.clock import parse_timestamp, utc_timestamp
from bot.environment.model import BoundEnvironment, Environment
from bot.environment.spec import environment_from_document, environment_to_document
from bot.errors import EnvironmentSpecError

RECORD_KIND = "EnvironmentRecord"


@dataclass(frozen=True)
class RecordedIntent:
    """An explicit request a person made (destroy, retry), with who and when; written once, never rewritten."""

    requested_at: dt.datetime
    requested_by: str
    count: int = 1


@dataclass(frozen=True)
class Record:
    """A parsed environment record."""

    environment: Environment
    catalog_digests: Mapping[str, str]
    deletion: RecordedIntent | None = None
    retry: RecordedIntent | None = None


def _intent_document(intent: RecordedIntent, with_count: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "requestedAt": utc_timestamp(intent.requested_at),
        "requestedBy": intent.requested_by,
    }
    if with_count:
        document["count"] = intent.count
    return document


def record_document(
    bound: BoundEnvironment, *, deletion: RecordedIntent | None = None, retry: RecordedIntent | None = None
) -> dict[str, Any]:
    """The record: the request as given, which catalog versions it was rendered from, and pending intents."""
    document: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": RECORD_KIND,
        "environment": environment_to_document(bound.environment),
        "catalogs": {
            item.name: {"version": item.catalog.version, "digest": f"sha256:{item.catalog.digest}"}
            for item in bound.catalogs
        },
    }
    if retry is not None:
        document["retry"] = _intent_document(retry, with_count=True)
    if deletion is not None:
        document["deletion"] = _intent_document(deletion, with_count=False)
    return document


def record_text(
    bound: BoundEnvironment, *, deletion: RecordedIntent | None = None, retry: RecordedIntent | None = None
) -> str:
    return yamldoc.dump_document(record_document(bound, deletion=deletion, retry=retry))


def _intent(value: Any, source: str, field: str) -> RecordedIntent | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EnvironmentSpecError(f"{source}: {field}: must be a mapping")
    try:
        requested_at = parse_timestamp(str(value["requestedAt"]))
    except (KeyError, ValueError):
        raise EnvironmentSpecError(f"{source}: {field}.requestedAt: must be an RFC 3339 time") from None
    count = value.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise EnvironmentSpecError(f"{source}: {field}.count: must be a positive integer")
    return RecordedIntent(requested_at=requested_at, requested_by=str(value.get("requestedBy", "")), count=count)


@functools.lru_cache(maxsize=1024)
def parse_record(text: str, source: str) -> Record:
    """Read a record back; the environment inside is checked like any environment file.

    Remembered per text: a run reads the same records again and again, and a ``Record`` is immutable.
    """
    try:
        document = yamldoc.load_one(text)
    except yamldoc.YamlError as exc:
        raise EnvironmentSpecError(f"{source}: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != RECORD_KIND:
        raise EnvironmentSpecError(f"{source}: is not an envbot environment record (kind: {RECORD_KIND})")
    environment = environment_from_document(document.get("environment"), f"{source}: environment")
    catalogs = document.get("catalogs") or {}
    digests = {str(name): str(entry.get("digest", "")) for name, entry in catalogs.items() if isinstance(entry, dict)}
    return Record(
        environment=environment,
        catalog_digests=MappingProxyType(digests),
        deletion=_intent(document.get("deletion"), source, "deletion"),
        retry=_intent(document.get("retry"), source, "retry"),
    )
