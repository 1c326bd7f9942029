"""The ``Cluster`` seam: list one kind by label selector; ``WatchableCluster``: follow the changes as they happen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from bot.clock import Sleep
from bot.cluster.model import ENVIRONMENT_LABEL, Kind, ObservedObject
from bot.cluster.watch import Backoff, OnChange, OnReady, OnRestart


@runtime_checkable
class Cluster(Protocol):
    """Read-only view of the objects envbot watches; implementations raise only ``EnvbotError`` subclasses."""

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        """Every object of ``kind`` matching the label ``selector``, in all namespaces unless one is given.

        The default selector (the bare ``envbot.io/environment`` key) returns every environment's objects at
        once: a reconcile lists each kind once, never once per environment.
        """
        ...


@runtime_checkable
class WatchableCluster(Protocol):
    """A cluster that reports, as they happen, which environments' Workspaces or Applications changed."""

    def watch_environments(
        self,
        on_change: OnChange,
        stop: threading.Event,
        *,
        on_ready: OnReady | None = None,
        on_restart: OnRestart | None = None,
        sleep: Sleep | None = None,
        backoff: Backoff = ...,
        clock: Callable[[], float] = ...,
        application_namespace: str | None = None,
        watch_timeout: int = ...,
    ) -> None:
        """Call ``on_change(environment)`` for every environment listed at the start (and after each re-list)
        and for each labelled object added, changed or deleted, until ``stop`` is set; never raises for a
        cluster fault (it starts again after a pause and tells ``on_restart(kind, reason)``).

        ``on_ready(kind)`` follows a kind's first list. The callbacks run on the implementation's threads.
        """
        ...
