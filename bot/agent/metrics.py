"""The agent's Prometheus metrics, in a registry of their own (``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.reconcile.model import Phase


@dataclass
class Metrics:
    """Every figure the agent reports; each agent has its own registry, so tests and processes never share one."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.reconciles = Counter(
            "envbot_reconciles", "Reconciles, by what started them and how they ended.", ["trigger", "result"],
            registry=self.registry,
        )  # fmt: skip
        self.environments = Gauge(
            "envbot_environments", "Environments by phase, as last decided.", ["phase"], registry=self.registry
        )
        self.github_requests = Counter(
            "envbot_github_requests", "HTTP requests sent to GitHub, retries included.", registry=self.registry
        )
        self.rate_limit_remaining = Gauge(
            "envbot_github_rate_limit_remaining", "Requests left in GitHub's rate-limit window.", registry=self.registry
        )
        self.watch_restarts = Counter(
            "envbot_watch_restarts", "Cluster watches restarted, by kind and why.", ["kind", "reason"],
            registry=self.registry,
        )  # fmt: skip
        self.available_to_merged = Histogram(
            "envbot_available_to_app_merged_seconds",
            "From every Workspace Available (as the agent saw it) to the app pull request merged.",
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
            registry=self.registry,
        )

    def restarted(self, kind: str, reason: str) -> None:
        """A watch of ``kind`` started again (``gone``, ``error``, ``timeout``, ``closed``)."""
        self.watch_restarts.labels(kind=kind, reason=reason).inc()

    def phases(self, counts: dict[Phase, int]) -> None:
        """Set the per-phase gauge from a count of every environment's phase (phases with none show 0)."""
        for phase in Phase:
            self.environments.labels(phase=phase.value).set(counts.get(phase, 0))
