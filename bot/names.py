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
"""Hex digits of the hash that ends a shortened name (environment names from branches, Workspace names)."""
LABEL_RULE: Final = (
    "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, "
    f"at most {MAX_LABEL_LENGTH} characters)"
)
SUBDOMAIN_RULE: Final = (
    "a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each dot-separated part starting and ending "
    f"with a letter or digit, at most {MAX_SUBDOMAIN_LENGTH} characters)"
)

_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?", re.ASCII)
_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*", re.ASCII)
MAX_OWNER_LENGTH: Final = 39
"""GitHub's limit on a user or organization name."""
MAX_REPOSITORY_NAME_LENGTH: Final = 100
"""GitHub's limit on a repository name."""
_OWNER = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?:_[A-Za-z0-9]+)?", re.ASCII)
"""Letters and digits in runs joined by single hyphens; an Enterprise Managed User ends in ``_shortcode``."""
_REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)


def is_dns1123_label(value: object, max_length: int = MAX_LABEL_LENGTH) -> TypeGuard[str]:
    """Lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters."""
    return isinstance(value, str) and len(value) <= max_length and _LABEL.fullmatch(value) is not None


def label_problem(name: str) -> str | None:
    """Why ``name`` is no DNS-1123 label, worded to follow the field it is in, or None when it is one."""
    if is_dns1123_label(name):
        return None
    if len(name) > MAX_LABEL_LENGTH:
        return f"is {len(name)} characters long; at most {MAX_LABEL_LENGTH} are allowed"
    return f"{name!r} is not {LABEL_RULE}"


def is_dns1123_subdomain(value: object) -> TypeGuard[str]:
    """Dot-separated DNS-1123 labels, at most 253 characters in all."""
    return isinstance(value, str) and len(value) <= MAX_SUBDOMAIN_LENGTH and _SUBDOMAIN.fullmatch(value) is not None


def is_github_owner(value: object) -> TypeGuard[str]:
    """A GitHub user or organization name: letters and digits joined by single hyphens (none first or last), at
    most 39 characters; an Enterprise Managed User's ends in ``_shortcode``."""
    return isinstance(value, str) and len(value) <= MAX_OWNER_LENGTH and _OWNER.fullmatch(value) is not None


def is_repository(value: object) -> TypeGuard[str]:
    """A GitHub repository ``owner/name``: a GitHub owner, one '/', and a name of letters, digits, '.', '-' and
    '_' (at most 100 characters; ``.`` and ``..`` are no names)."""
    if not isinstance(value, str):
        return False
    owner, slash, name = value.partition("/")
    return (
        bool(slash)
        and is_github_owner(owner)
        and len(name) <= MAX_REPOSITORY_NAME_LENGTH
        and _REPOSITORY_NAME.fullmatch(name) is not None
        and name not in (".", "..")
    )


def name_hash(text: str) -> str:
    """The stable tail of a shortened name: ``HASH_LENGTH`` hex digits of the SHA-256 of ``text`` (UTF-8; a lone
    surrogate, as JSON can carry, is hashed as it is)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]


def with_hash(readable: str, hashed: str, limit: int = MAX_LABEL_LENGTH) -> str:
    """``readable`` cut to leave room within ``limit`` (no trailing '-'), then '-' and the ``name_hash`` of
    ``hashed``."""
    return f"{readable[: limit - HASH_LENGTH - 1].rstrip('-')}-{name_hash(hashed)}"


def shortened(name: str, limit: int = MAX_LABEL_LENGTH) -> str:
    """``name`` itself when it fits ``limit``, else a readable prefix, '-' and 8 hex digits of its SHA-256."""
    return name if len(name) <= limit else with_hash(name, name, limit)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the one candidate close to ``name``, else the empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
