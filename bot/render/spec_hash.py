"""The spec hash: a content hash on each Workspace and Application envbot renders, read back from the cluster."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bot.environment.model import SPEC_HASH_ANNOTATION

SPEC_HASH_LENGTH = 16
"""Hex digits of the content hash: a spec fingerprint, unlike the 8 of a shortened name (``bot.names``)."""


def spec_hash(document: Mapping[str, Any]) -> str:
    """A hash of the whole object as rendered (apart from the hash annotation itself); stable across runs."""
    metadata = dict(document.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != SPEC_HASH_ANNOTATION}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    canonical = json.dumps({**document, "metadata": metadata}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:SPEC_HASH_LENGTH]


def stamp_spec_hash(document: dict[str, Any]) -> dict[str, Any]:
    """The object with its spec hash annotation, so an observation can tell whether the cluster holds this spec."""
    metadata = dict(document["metadata"])
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != SPEC_HASH_ANNOTATION}
    annotations[SPEC_HASH_ANNOTATION] = spec_hash(document)
    metadata["annotations"] = annotations
    return {**document, "metadata": metadata}
