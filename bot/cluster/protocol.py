"""The ``Cluster`` seam: get one object, or list one kind by label selector."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.cluster.model import ENVIRONMENT_LABEL, Kind, ObservedObject


@runtime_checkable
class Cluster(Protocol):
    """Read-only view of the objects envbot watches; implementations raise only ``EnvbotError`` subclasses."""

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> ObservedObject | None:
        """One object by name (``namespace`` for namespaced kinds), or ``None`` when it does not exist."""
        ...

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        """Every object of ``kind`` matching the label ``selector``, in all namespaces unless one is given.

        The default selector (the bare ``envbot.io/environment`` key) returns every environment's objects at
        once: a reconcile lists each kind once, never once per environment.
        """
        ...
