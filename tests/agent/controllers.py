"""Crossplane and Argo CD for the agent's tests and benchmark: the simulation's objects written to the emulator."""

from __future__ import annotations

import json

from bot.simulation import SimulatedCluster
from tests.cluster.cluster_support import Emulator


class Controllers:
    """Crossplane and Argo CD as the emulator shows them: what the simulation would have done by now, written
    through the Kubernetes API, so every live watch hears of it."""

    def __init__(self, simulation: SimulatedCluster, emulator: Emulator) -> None:
        self.simulation = simulation
        self.emulator = emulator
        self.published: dict[tuple[str, str | None, str], str] = {}

    def catch_up(self) -> int:
        """Publish what changed since the last call; the number of objects created or changed."""
        changed = 0
        for raw in self.simulation._sync():
            meta = raw["metadata"]
            key = (raw["apiVersion"], meta.get("namespace"), meta["name"])
            text = json.dumps(raw, sort_keys=True)
            if self.published.get(key) == text:
                continue
            kind = self.emulator._kind_of(raw)
            if key in self.published:
                self.emulator.patch(kind, meta["name"], raw, meta.get("namespace"))
            else:
                self.emulator.create(raw)
            self.published[key] = text
            changed += 1
        return changed
