"""Environment names from branch names: DNS-1123 labels, with a stable hash whenever the branch had to change."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.names import HASH_LENGTH, is_dns1123_label, name_hash, with_hash

MAX_PREFIX_LENGTH: Final = 20
_READ_AT_MOST: Final = 256
"""Only this much of a branch name shapes the readable part; the hash always covers all of it."""

_PREFIX = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)
_HASHED_TAIL = re.compile(rf"-[0-9a-f]{{{HASH_LENGTH}}}\Z", re.ASCII)
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+", re.ASCII)
_EMPTY_SLUG: Final = "branch"


def prefix_problem(prefix: str) -> str | None:
    """What is wrong with a name prefix such as ``pr-``, or None when it is usable."""
    if prefix == "":
        return None
    if len(prefix) > MAX_PREFIX_LENGTH:
        return f"is {len(prefix)} characters long; at most {MAX_PREFIX_LENGTH} are allowed"
    if not _PREFIX.fullmatch(prefix):
        return f"{prefix!r} must be lowercase letters, digits and '-', starting with a letter or digit"
    return None


def branch_hash(branch: str) -> str:
    """A short, stable digest of the whole branch name (any text, lone surrogates included)."""
    return name_hash(branch)


def slug(branch: str) -> str:
    """The readable part: ``feature/Auth_Flow`` → ``feature-auth-flow``; accents dropped, may be empty."""
    folded = unicodedata.normalize("NFKD", branch[:_READ_AT_MOST]).encode("ascii", "ignore").decode("ascii")
    return _NOT_ALLOWED.sub("-", folded.lower()).strip("-")


def environment_name(branch: str, prefix: str = "") -> str:
    """The environment of a branch: ``prefix + branch`` when that already is a DNS-1123 label of at most 63
    characters, else ``prefix + slug + "-" + hash``.

    A name that had to be lowercased, cleaned or shortened always ends in ``-`` and eight hex digits of the
    branch's SHA-256, and a name kept as it is never does (such a branch is hashed too), so two different
    branches never share an environment: ``feature/a.b`` and ``feature/a-b`` differ, and neither can collide
    with a branch literally named like the other's result. ``ValueError`` for an unusable ``prefix``.
    """
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"environment name prefix {problem}")
    kept = prefix + branch
    if is_dns1123_label(kept) and not _HASHED_TAIL.search(kept):
        return kept
    name = with_hash(prefix + (slug(branch) or _EMPTY_SLUG), branch)
    assert is_dns1123_label(name), name
    return name


def source_branch(
    head_ref: str,
    head_repository: str | None = None,
    repository: str | None = None,
    *,
    head_label: str | None = None,
    head_repository_deleted: bool = False,
) -> str | None:
    """The text a pull request's environment is named after: its head branch, or ``owner:branch`` for a fork.

    ``:`` cannot occur in a git branch name, so a fork's ``feature/x`` never shares an environment with the
    repository's own ``feature/x``. Once a fork is deleted GitHub reports its head repository as null
    (``head_repository_deleted``) and only ``head_label`` (``owner:branch``) still says whose it was: the fork
    keeps its ``owner:branch`` name, and when the label does not name an owner the result is None (unknown, never
    the repository's own branch). Without any head repository at all (older payloads), the head branch.
    """
    if head_repository_deleted:
        owner = _label_owner(head_label, head_ref)
        return f"{owner}:{head_ref}" if owner is not None else None
    if head_repository and repository and head_repository.casefold() != repository.casefold():
        owner = head_repository.partition("/")[0]
        return f"{owner}:{head_ref}"
    return head_ref


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,99})", re.ASCII)
_DELETED_ACCOUNT: Final = "ghost"
"""GitHub's stand-in login for every deleted account: two deleted owners would share it, so it names no one."""


def _label_owner(head_label: str | None, head_ref: str) -> str | None:
    """The owner in a head label ``owner:branch`` of ``head_ref``; None when the label is missing, names another
    branch, or does not name one account."""
    owner, colon, branch = (head_label or "").partition(":")
    if not colon or branch != head_ref or not _LOGIN.fullmatch(owner) or owner.casefold() == _DELETED_ACCOUNT:
        return None
    return owner
