"""When the agent reconciles what: cluster changes debounced per environment, resyncs on an interval (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

_NOTHING: Mapping[str, dt.datetime] = MappingProxyType({})
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Timing:
    """The agent's intervals (``agent.*`` in ``envbot.yaml``)."""

    debounce: dt.timedelta = dt.timedelta(seconds=2)
    resync: dt.timedelta = dt.timedelta(seconds=60)
    full_resync: dt.timedelta = dt.timedelta(minutes=10)

    @property
    def longest_debounce(self) -> dt.timedelta:
        """A stream of changes postpones an environment at most this long after its first change."""
        return self.debounce * 5


@dataclass(frozen=True)
class Due:
    """What is due now: environments to reconcile one by one, and whether a resync of everything is."""

    environments: tuple[str, ...] = ()
    resync: bool = False


@dataclass(frozen=True)
class Schedule:
    """What the agent knows of time: per environment, when a reconcile is due (``waiting``; the first change of a
    burst in ``first_change``) and when it was last reconciled; when the next resync is."""

    next_resync: dt.datetime
    waiting: Mapping[str, dt.datetime] = field(default_factory=lambda: _NOTHING)
    first_change: Mapping[str, dt.datetime] = field(default_factory=lambda: _NOTHING)
    reconciled: Mapping[str, dt.datetime] = field(default_factory=lambda: _NOTHING)

    @classmethod
    def starting(cls, now: dt.datetime) -> Schedule:
        """A new agent: a resync at once (every environment, as after any restart)."""
        return cls(next_resync=now)

    def changed(self, name: str, now: dt.datetime, timing: Timing) -> Schedule:
        """One of ``name``'s objects changed: reconcile it ``debounce`` after the last change of a burst, and never
        later than ``longest_debounce`` after its first."""
        first = self.first_change.get(name, now)
        due = min(now + timing.debounce, first + timing.longest_debounce)
        return dataclasses.replace(
            self,
            waiting=_with(self.waiting, name, due),
            first_change=_with(self.first_change, name, first),
        )

    def come_back(self, name: str, when: dt.datetime) -> Schedule:
        """Reconcile ``name`` again at ``when`` (a settle time that ends then), unless it is due sooner already."""
        due = min(when, self.waiting.get(name, when))
        return dataclasses.replace(self, waiting=_with(self.waiting, name, due))

    def due(self, now: dt.datetime, known: Iterable[str], timing: Timing) -> Due:
        """Everything due at ``now``: changed environments whose debounce is over, environments of ``known`` not
        reconciled within ``full_resync``, and the resync when its time has come."""
        ready = {name for name, when in self.waiting.items() if when <= now}
        stale = {name for name in known if now - self.reconciled.get(name, _NEVER) >= timing.full_resync}
        return Due(tuple(sorted(ready | stale)), resync=now >= self.next_resync)

    def done(self, names: Iterable[str], now: dt.datetime) -> Schedule:
        """``names`` were reconciled at ``now``: nothing of theirs is waiting any more."""
        chosen = set(names)
        return dataclasses.replace(
            self,
            waiting=_without(self.waiting, chosen),
            first_change=_without(self.first_change, chosen),
            reconciled=MappingProxyType({**self.reconciled, **dict.fromkeys(chosen, now)}),
        )

    def resynced(self, names: Iterable[str], now: dt.datetime, timing: Timing) -> Schedule:
        """A resync decided every environment (``names``) at ``now``; the next one is ``resync`` later."""
        return dataclasses.replace(self.done(names, now), next_resync=now + timing.resync)

    def forget(self, names: Iterable[str]) -> Schedule:
        """Environments that are gone (Deleted): the schedule keeps nothing of them."""
        chosen = set(names)
        return dataclasses.replace(
            self,
            waiting=_without(self.waiting, chosen),
            first_change=_without(self.first_change, chosen),
            reconciled=_without(self.reconciled, chosen),
        )

    def next_wake(self, known: Iterable[str], timing: Timing) -> dt.datetime:
        """The earliest moment something becomes due, unless a change comes first."""
        stale = [self.reconciled.get(name, _NEVER) + timing.full_resync for name in known]
        return min([self.next_resync, *self.waiting.values(), *stale])


def _with(mapping: Mapping[str, dt.datetime], name: str, when: dt.datetime) -> Mapping[str, dt.datetime]:
    return MappingProxyType({**mapping, name: when})


def _without(mapping: Mapping[str, dt.datetime], names: set[str]) -> Mapping[str, dt.datetime]:
    return MappingProxyType({key: value for key, value in mapping.items() if key not in names})
