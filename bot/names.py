"""Name rules (DNS-1123 labels and subdomains, GitHub ``owner/name``), shortening with a hash, "did you mean"."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from typing import Final, TypeGuard

MAX_LABEL_LENGTH: Final = 63
"""A DNS-1123 label: environment and catalog names, namespaces, Argo CD Applications, Services."""
MAX_SUBDOMAIN_LENGTH: Final = 253
"""A DNS-1123 subdomain: the name of most other Kubernetes objects."""
HASH_LENGTH: Final = 8

_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", re.ASCII)
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*", re.ASCII)
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", re.ASCII)


def is_dns1123_label(value: object, max_length: int = MAX_LABEL_LENGTH) -> TypeGuard[str]:
    """Lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters."""
    return isinstance(value, str) and len(value) <= max_length and _LABEL.fullmatch(value) is not None


def is_dns1123_subdomain(value: object) -> TypeGuard[str]:
    """Dot-separated DNS-1123 labels, at most 253 characters in all."""
    return isinstance(value, str) and len(value) <= MAX_SUBDOMAIN_LENGTH and _SUBDOMAIN.fullmatch(value) is not None


def is_repository(value: object) -> TypeGuard[str]:
    """A GitHub repository ``owner/name``: letters, digits, '_', '.' and '-' on each side of one '/'."""
    return isinstance(value, str) and _REPOSITORY.fullmatch(value) is not None


def shortened(name: str, limit: int = MAX_LABEL_LENGTH) -> str:
    """``name`` itself when it fits ``limit``, else a readable prefix, '-' and 8 hex digits of its SHA-256."""
    if len(name) <= limit:
        return name
    suffix = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: limit - HASH_LENGTH - 1].rstrip('-')}-{suffix}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the one candidate close to ``name``, else the empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
