"""The agent's loop over real local repositories and the simulated controllers, on a fake clock: changes move
environments on at once, a resync finds what GitHub-side changes did, failures are retried, SIGTERM is clean."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from prometheus_client import generate_latest

from bot.agent.logs import structured_log
from bot.agent.loop import AFTER_FAILURE, Agent
from bot.agent.metrics import Metrics
from bot.agent.server import Health
from bot.forge.errors import ForgeUnavailableError
from bot.reconcile.model import Phase
from bot.reconcile.runner import Pass
from bot.reconcile.schedule import Timing
from tests.reconcile.harness import World, make_world, seed_environment

TIMING = Timing(debounce=dt.timedelta(seconds=2), resync=dt.timedelta(seconds=60), full_resync=dt.timedelta(minutes=10))


class Recorded:
    def __init__(self) -> None:
        self.lines: list[dict[str, object]] = []
        self.reports: list[Pass] = []

    def write(self, line: str) -> None:
        self.lines.append(json.loads(line))


def agent_for(world: World, recorded: Recorded) -> Agent:
    return Agent(
        world.reconciler(),
        TIMING,
        report=recorded.reports.append,
        log=structured_log(recorded.write, "json", world.clock),
        metrics=Metrics(),
        health=Health(),
    )


def recorded_intent(world: World) -> str:
    """What the Action does on /provision: the environment's first pull request, merged (no CI on local git)."""
    environment = seed_environment()
    world.reconciler().run(environment.name, environment)
    return environment.name


def metric(agent: Agent, name: str, **labels: str) -> float:
    value = agent.metrics.registry.get_sample_value(name, labels)
    return value if value is not None else 0.0


def test_cluster_changes_carry_an_environment_to_ready_without_any_github_event(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    name = recorded_intent(world)
    recorded = Recorded()
    agent = agent_for(world, recorded)

    first = agent.step()  # a new agent resyncs: the record is there, the Workspace not Available yet
    assert first.resynced and agent.phases[name] is Phase.PROVISIONING_INFRASTRUCTURE
    assert first.wake == world.clock() + TIMING.resync

    world.clock.advance(dt.timedelta(seconds=3))  # the controllers make the Workspace Available
    agent.changed(name)  # as the watch reports it
    assert agent.step().reconciled == ()  # debounced
    world.clock.advance(TIMING.debounce)
    assert agent.step().reconciled == (name,)  # the app pull request is rendered with the outputs and merged
    assert agent.phases[name] is Phase.DEPLOYING_APPLICATIONS

    for _ in range(5):  # the Applications sync and turn Healthy; each change is reported, as a watch would
        world.clock.advance(dt.timedelta(seconds=2))
        agent.changed(name)
        world.clock.advance(TIMING.debounce)
        assert not agent.step().resynced  # all of it well within one resync interval
        if agent.phases[name] is Phase.READY:
            break
    assert agent.phases[name] is Phase.READY
    assert [p.decision.phase for p in recorded.reports][-1] is Phase.READY
    assert metric(agent, "envbot_environments", phase="Ready") == 1
    assert metric(agent, "envbot_available_to_app_merged_seconds_count") == 1
    assert metric(agent, "envbot_reconciles_total", trigger="change", result="ok") == 2
    reconciled = [line for line in recorded.lines if line["event"] == "reconciled"]
    assert reconciled[-1]["phase"] == "Ready" and reconciled[-1]["environment"] == name
    assert any("applications: merged" in str(line.get("actions")) for line in reconciled)
    assert b"envbot_github_requests_total" in generate_latest(agent.metrics.registry)


def test_a_resync_finds_what_changed_on_the_github_side(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    recorded = Recorded()
    agent = agent_for(world, recorded)
    assert agent.step().resynced and agent.known == set()

    name = recorded_intent(world)  # the Action records an intent; no cluster change comes
    world.clock.advance(TIMING.resync)
    assert agent.step().resynced and name in agent.known

    world.clock.advance(TIMING.resync)  # the Workspace became Available meanwhile, and no watch said so
    agent.step()
    assert agent.phases[name] in (Phase.DEPLOYING_APPLICATIONS, Phase.READY)


def test_a_reconcile_that_fails_is_logged_and_tried_again_while_others_go_on(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    name = recorded_intent(world)
    recorded = Recorded()
    agent = agent_for(world, recorded)
    agent.step()
    real_run = agent.reconciler.run
    failures = iter([ForgeUnavailableError("GitHub is unavailable (502); try again later")])

    def flaky(environment: str, *args: object, **kwargs: object) -> Pass:
        for failure in failures:
            raise failure
        return real_run(environment, *args, **kwargs)  # type: ignore[arg-type]

    agent.reconciler.run = flaky  # type: ignore[method-assign]
    agent.changed(name)
    world.clock.advance(TIMING.debounce)
    assert agent.step().failed == (name,)
    assert metric(agent, "envbot_reconciles_total", trigger="change", result="error") == 1
    assert agent.health.readiness() is not None and "502" in (agent.health.readiness() or "")
    failed = [line for line in recorded.lines if line["event"] == "reconcile failed"]
    assert failed and failed[0]["error"] == "transient"
    world.clock.advance(AFTER_FAILURE)
    assert agent.step().reconciled == (name,)
    assert agent.health.readiness() is None


def test_a_bug_in_one_reconcile_is_one_log_line_and_the_loop_goes_on(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    name = recorded_intent(world)
    recorded = Recorded()
    agent = agent_for(world, recorded)
    agent.step()

    def broken(environment: str, *args: object, **kwargs: object) -> Pass:
        raise KeyError("a bug")

    agent.reconciler.run = broken  # type: ignore[method-assign]
    agent.changed(name)
    world.clock.advance(TIMING.debounce)
    assert agent.step().failed == (name,)
    (line,) = [line for line in recorded.lines if line["event"] == "reconcile failed: a bug in envbot"]
    assert "KeyError: 'a bug'" in str(line["traceback"])
    assert metric(agent, "envbot_reconciles_total", trigger="change", result="bug") == 1


def test_stop_ends_the_loop_after_the_reconcile_in_flight(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    name = recorded_intent(world)
    recorded = Recorded()
    agent = agent_for(world, recorded)
    in_flight = threading.Event()
    finish = threading.Event()
    real_run = agent.reconciler.run

    def slow(environment: str, *args: object, **kwargs: object) -> Pass:
        in_flight.set()
        assert finish.wait(timeout=30), "the test never let the reconcile finish"
        return real_run(environment, *args, **kwargs)  # type: ignore[arg-type]

    agent.step()  # the first resync, before the slow reconciles
    agent.reconciler.run = slow  # type: ignore[method-assign]
    world.clock.advance(dt.timedelta(seconds=3))
    agent.changed(name)
    world.clock.advance(TIMING.debounce)
    loop = threading.Thread(target=agent.run)
    loop.start()
    assert in_flight.wait(timeout=30)
    agent.stop()  # SIGTERM while the reconcile runs
    finish.set()
    loop.join(timeout=30)
    assert not loop.is_alive()
    assert agent.phases[name] is Phase.DEPLOYING_APPLICATIONS  # the reconcile in flight finished its work
    assert [line["event"] for line in recorded.lines][-1] == "agent stopped"
    assert not agent.health.alive
