"""Bounded GitHub retries: backoff on 5xx, 429 and rate limits, under a hard cap on the total time spent waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from github import GithubRetry
from urllib3.exceptions import InvalidHeader

from bot.forge.errors import ForgeUnavailableError

RETRIED_STATUSES: tuple[int, ...] = (429, *range(500, 600))
"""Retried on any method; GithubRetry adds 403, retried only when it is a rate limit."""

RETRIED_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
"""Every verb envbot uses. Non-idempotent retries are safe because each Forge call converges (a duplicate
comment is removed by the next upsert, a duplicate pull request is refused by GitHub and then found)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one GitHub request is retried.

    ``retries`` extra attempts, exponential backoff (``backoff_factor`` * 2^n, at most ``backoff_max`` each),
    and never more than ``max_total_wait`` seconds of waiting in all for one request, whatever GitHub asks
    for in ``Retry-After`` or ``X-RateLimit-Reset``: past that the request fails at once with
    ``ForgeUnavailableError`` and the next reconcile run tries again. ``sleep`` and ``epoch_seconds`` are
    injectable for tests.
    """

    retries: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    max_total_wait: float = 20.0
    secondary_rate_wait: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    epoch_seconds: Callable[[], float] = field(default=time.time, compare=False)
    """Now as Unix time, to read ``X-RateLimit-Reset`` against (injectable for tests, like ``sleep``)."""


class RetryBudgetExceededError(ForgeUnavailableError):
    """GitHub asked for a longer wait than the request's remaining retry budget."""


class BoundedRetry(GithubRetry):
    """``github.GithubRetry`` whose every wait goes through the policy's ``sleep`` and counts against its budget.

    urllib3 copies a Retry object for each attempt through ``new()``; the time already waited travels with the
    copies, so the cap holds per request. ``on_retry`` is called before each extra attempt (request counting).
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        on_retry: Callable[[], None] | None = None,
        waited: float = 0.0,
        **kwargs: Any,
    ) -> None:
        self.policy = policy
        self.on_retry = on_retry
        self.waited = waited
        kwargs.setdefault("total", policy.retries)
        kwargs.setdefault("backoff_factor", policy.backoff_factor)
        kwargs.setdefault("backoff_max", policy.backoff_max)
        kwargs.setdefault("status_forcelist", list(RETRIED_STATUSES))
        kwargs.setdefault("allowed_methods", RETRIED_METHODS)
        # After the last retry hand back GitHub's own answer, so the error names its status and message.
        kwargs.setdefault("raise_on_status", False)
        kwargs["secondary_rate_wait"] = policy.secondary_rate_wait
        kwargs["max_rate_limit_wait"] = policy.max_total_wait
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> BoundedRetry:
        kw.setdefault("policy", self.policy)
        kw.setdefault("on_retry", self.on_retry)
        kw.setdefault("waited", self.waited)
        retry: BoundedRetry = super().new(**kw)
        return retry

    def sleep(self, response: Any = None) -> None:
        delay = self._delay(response)
        left = self.policy.max_total_wait - self.waited
        if delay > left:
            raise RetryBudgetExceededError(
                f"GitHub asked to wait {delay:.0f}s before retrying, more than the {max(left, 0):.0f}s "
                "left of this request's retry budget"
            )
        self.waited += delay
        if self.on_retry is not None:
            self.on_retry()
        if delay > 0:
            self.policy.sleep(delay)

    def _delay(self, response: Any) -> float:
        """Seconds to wait before the next attempt: Retry-After, then a primary rate-limit reset, then backoff."""
        if response is not None:
            headers = response.headers
            if self.respect_retry_after_header:
                try:
                    after = self.get_retry_after(response)
                except InvalidHeader:
                    after = None
                if after is not None:
                    return float(after)
            reset = headers.get("X-RateLimit-Reset", "")
            if response.status in (403, 429) and headers.get("X-RateLimit-Remaining") == "0" and reset.isdigit():
                return max(int(reset) - self.policy.epoch_seconds(), 0.0) + 1.0
        return float(self.get_backoff_time())
