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
        """Publish what changed since the last call; the number of objects created, changed or deleted."""
        changed = 0
        current = self.simulation._sync()
        present = {(raw["apiVersion"], raw["metadata"].get("namespace"), raw["metadata"]["name"]) for raw in current}
        for key in [key for key in self.published if key not in present]:
            api_version, namespace, name = key
            kind = self.emulator._kind_of({"apiVersion": api_version})
            if json.loads(self.published[key])["metadata"].get("deletionTimestamp"):
                # Being deleted already: the controller lets go of its finalizers, and the object goes.
                self.emulator.patch(kind, name, {"metadata": {"finalizers": []}}, namespace)
            else:
                self.emulator.delete(kind, name, namespace)
            del self.published[key]
            changed += 1
        for raw in current:
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
