"""The ``Cluster`` seam: list one kind by label selector."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.cluster.model import ENVIRONMENT_LABEL, Kind, ObservedObject


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
