"""Typed forge faults: callers tell a moved base, a missing object and an outage apart by class, never by text."""

from __future__ import annotations

from bot.errors import PermanentError, TransientError


class ForgeUnavailableError(TransientError):
    """The forge failed in a way that may pass: 5xx, rate limits past the retry budget, timeouts, lost races."""


class BaseMovedError(TransientError):
    """``push_commit`` refused: the base branch is no longer at the commit the caller computed its changes on.

    Re-read the base and recompute; retrying the same call unchanged would fail again.
    """

    def __init__(self, base: str, expected: str, actual: str | None) -> None:
        self.base = base
        self.expected = expected
        self.actual = actual
        super().__init__(f"base branch {base!r} moved: expected {expected[:12]}, found {(actual or 'none')[:12]}")


class ForgeNotFoundError(PermanentError):
    """A branch, pull request or repository the caller named does not exist (or the token cannot see it)."""


class ForgeRejectedError(PermanentError):
    """The forge refused the request as invalid or forbidden (401, 403, 422, ...); retrying will not help."""
