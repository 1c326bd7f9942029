"""The agent's schedule: debounced changes, a bounded burst, resyncs, full resyncs and settle times (pure)."""

from __future__ import annotations

import datetime as dt

from bot.reconcile.schedule import Schedule, Timing

T0 = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
TIMING = Timing(debounce=dt.timedelta(seconds=2), resync=dt.timedelta(seconds=60), full_resync=dt.timedelta(minutes=10))


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_new_agent_resyncs_at_once_and_then_every_interval() -> None:
    schedule = Schedule.starting(T0)
    assert schedule.due(T0, (), TIMING).resync
    schedule = schedule.resynced(["a", "b"], T0, TIMING)
    assert not schedule.due(at(59), ["a", "b"], TIMING).resync
    assert schedule.due(at(60), ["a", "b"], TIMING).resync
    assert schedule.next_wake(["a", "b"], TIMING) == at(60)


def test_a_change_is_due_one_debounce_after_the_last_of_a_burst() -> None:
    schedule = Schedule.starting(T0).resynced(["a"], T0, TIMING).changed("a", at(1), TIMING)
    assert schedule.due(at(2.9), ["a"], TIMING).environments == ()
    assert schedule.due(at(3), ["a"], TIMING).environments == ("a",)
    later = schedule.changed("a", at(2.5), TIMING)
    assert later.due(at(3), ["a"], TIMING).environments == ()
    assert later.due(at(4.5), ["a"], TIMING).environments == ("a",)
    assert later.next_wake(["a"], TIMING) == at(4.5)


def test_a_stream_of_changes_postpones_an_environment_only_so_long() -> None:
    schedule = Schedule.starting(T0).resynced(["a"], T0, TIMING)
    for second in range(1, 30):  # a change every second: the debounce alone would never end
        schedule = schedule.changed("a", at(second), TIMING)
    assert schedule.due(at(11), ["a"], TIMING).environments == ("a",)  # first change + 5 debounces


def test_a_reconcile_clears_what_was_waiting() -> None:
    schedule = Schedule.starting(T0).resynced(["a", "b"], T0, TIMING).changed("a", at(1), TIMING)
    schedule = schedule.changed("b", at(1), TIMING).done(["a"], at(3))
    assert schedule.due(at(3), ["a", "b"], TIMING).environments == ("b",)
    # a new burst after the reconcile starts its own debounce
    assert schedule.changed("a", at(20), TIMING).due(at(22), ["a", "b"], TIMING).environments == ("a", "b")


def test_every_environment_is_reconciled_at_least_once_per_full_resync() -> None:
    slow = Timing(debounce=TIMING.debounce, resync=dt.timedelta(hours=1), full_resync=dt.timedelta(minutes=10))
    schedule = Schedule.starting(T0).resynced(["a"], T0, slow)
    assert schedule.due(at(599), ["a", "b"], slow).environments == ("b",)  # never reconciled: due at once
    schedule = schedule.done(["b"], at(1))
    assert schedule.due(at(600), ["a", "b"], slow).environments == ("a",)
    assert schedule.next_wake(["a", "b"], slow) == at(600)


def test_a_settle_time_brings_the_environment_back_then_and_not_later_than_a_change() -> None:
    schedule = Schedule.starting(T0).resynced(["a"], T0, TIMING).come_back("a", at(120))
    assert schedule.next_wake(["a"], TIMING) == at(60)  # the resync comes first
    assert schedule.due(at(120), ["a"], TIMING).environments == ("a",)
    assert schedule.changed("a", at(5), TIMING).come_back("a", at(120)).due(at(7), ["a"], TIMING).environments == ("a",)


def test_a_deleted_environment_is_forgotten() -> None:
    schedule = Schedule.starting(T0).resynced(["a"], T0, TIMING).changed("a", at(1), TIMING).forget(["a"])
    assert schedule.due(at(30), [], TIMING).environments == ()
    assert "a" not in schedule.reconciled
