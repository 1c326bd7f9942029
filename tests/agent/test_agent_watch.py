"""The agent against the Kubernetes emulator: the watch tells it a Workspace turned Available, and it renders the
app pull request with the Terraform outputs and merges it, with no event from GitHub and no scheduled run; after a
recorded destroy, it removes the applications, then the infrastructure, as the controllers report each gone."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from manual_clock import ManualClock

from bot.agent.logs import structured_log
from bot.agent.loop import Agent
from bot.agent.metrics import Metrics
from bot.agent.server import Health
from bot.cluster.kube import KubeCluster
from bot.cluster.model import APPLICATION, NAMESPACED_WORKSPACE, WORKSPACE
from bot.forge.github import GitHubForge
from bot.reconcile.gate import MergePolicy
from bot.reconcile.model import Phase
from bot.reconcile.runner import Reconciler
from bot.reconcile.schedule import Timing
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.agent.controllers import Controllers
from tests.cluster.cluster_support import Emulator, write_kubeconfig
from tests.fakes.github_api import FakeGitHub
from tests.reconcile.harness import World, make_world, project_catalogs, seed_environment

PLATFORM_URL = "https://platform.ghe.test/api/v3"
APPS_URL = "https://apps.ghe.test/api/v3"
TIMING = Timing(debounce=dt.timedelta(seconds=2), resync=dt.timedelta(minutes=5), full_resync=dt.timedelta(hours=1))


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    served = Emulator()
    try:
        yield served
    finally:
        served.close()


def test_a_workspace_turning_available_moves_the_environment_to_ready_through_the_watch(
    tmp_path: Path, emulator: Emulator
) -> None:
    world: World = make_world(tmp_path / "world")
    environment = seed_environment()
    name = environment.name
    world.reconciler().run(name, environment)  # the Action recorded the intent: the first pull request merged
    assert world.cluster is not None
    controllers = Controllers(world.cluster, emulator)
    kube = KubeCluster.from_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", emulator.url), "envbot-test")
    platform, apps = world.forges()
    reconciler = Reconciler(platform, apps, kube, world.catalogs, WORDING, clock=world.clock, sleep=world.clock.sleep)
    lines: list[str] = []
    agent = Agent(
        reconciler,
        TIMING,
        report=lambda current: None,
        log=structured_log(lines.append, "json", world.clock),
        metrics=Metrics(),
        health=Health(kinds=frozenset(k.resource for k in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION))),
    )
    heard = threading.Event()

    def changed(environment_name: str) -> None:
        agent.changed(environment_name)
        heard.set()

    stop = threading.Event()
    watch = threading.Thread(
        target=kube.watch_environments,
        args=(changed, stop),
        kwargs={"on_ready": lambda k: agent.health.watch_ready(k.resource)},
    )
    watch.start()
    try:
        for kind in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION):
            emulator.wait_watching(kind)
        assert agent.step().resynced
        assert agent.phases[name] is Phase.PROVISIONING_INFRASTRUCTURE
        assert agent.health.readiness() is None

        for _ in range(6):  # the controllers move on; each change reaches the agent through its watch alone
            world.clock.advance(dt.timedelta(seconds=3))
            heard.clear()
            if controllers.catch_up():
                assert heard.wait(timeout=30), "the watch never reported the change"
            world.clock.advance(TIMING.debounce)
            stepped = agent.step()
            assert not stepped.resynced  # no resync came: only the watch moved it
            if agent.phases.get(name) is Phase.READY:
                break
        assert agent.phases[name] is Phase.READY
        app = world.main_files("apps")[f"registry/environments/{name}/dev-cluster/sample-app.yaml"]
        assert (
            "value: feature-auth-db-3f9a1c2e.c1x2y3z4w5v6.us-east-1.rds.amazonaws.com" in app
        )  # the Workspace's output
        merged = [pr.title for pr in world.pull_requests("apps") if pr.state == "merged"]
        assert merged == [f"envbot: {name}: applications"]
        latency = agent.metrics.registry.get_sample_value("envbot_available_to_app_merged_seconds_count")
        assert latency == 1

        world.reconciler().request_deletion(name, "nadia")  # the Action recorded /destroy; the agent does the rest
        agent.changed(name)  # the next resync would find it; a change brings it sooner here
        phases: list[Phase] = []
        for _ in range(12):
            world.clock.advance(TIMING.debounce)
            assert not agent.step().resynced
            if name not in agent.phases:  # Deleted, and forgotten
                break
            phases.append(agent.phases[name])
            world.clock.advance(dt.timedelta(seconds=3))
            heard.clear()
            if controllers.catch_up():
                assert heard.wait(timeout=30), "the watch never reported the change"
        assert name not in agent.phases and name not in agent.known
        assert world.main_files("platform") == {"README.md": "platform\n"}
        assert set(world.main_files("apps")) == {"README.md"}
        assert phases and set(phases) == {Phase.DELETING}
        removed = [pr.title for pr in world.pull_requests("apps") if pr.state == "merged"][1:]
        platform_removed = [pr.title for pr in world.pull_requests("platform") if pr.state == "merged"][1:]
        assert removed[0] == f"envbot: {name}: remove applications"  # apps first
        assert f"envbot: {name}: remove infrastructure" in platform_removed
    finally:
        stop.set()
        watch.join(timeout=30)
        kube.close()
    assert not watch.is_alive()


def test_on_the_github_fake_the_watch_alone_merges_the_app_pull_request(tmp_path: Path, emulator: Emulator) -> None:
    """The same path on GitHub's side as it really is: both GitOps repositories on the OpenAPI-checked fake."""
    clock = ManualClock()
    environment = seed_environment()
    name = environment.name
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fakes = [
            FakeGitHub(repository=repository, base_url=url, clock=clock).install(mock)
            for repository, url in (("acme/gitops-platform", PLATFORM_URL), ("acme/gitops-apps", APPS_URL))
        ]
        for fake in fakes:
            fake.seed({"README.md": f"{fake.repository}\n"})
        platform, apps = (
            GitHubForge(f.repository, "ghs_agent-test-token", base_url=f.base_url, seconds_between_writes=None)
            for f in fakes
        )
        catalogs = project_catalogs()
        simulation = SimulatedCluster(platform, apps, catalogs, clock=clock)
        timed = {"clock": clock, "sleep": clock.sleep, "merge_policy": MergePolicy(settle=dt.timedelta(0))}
        Reconciler(platform, apps, simulation, catalogs, WORDING, **timed).run(name, environment)  # the intent
        kube = KubeCluster.from_kubeconfig(write_kubeconfig(tmp_path / "kubeconfig", emulator.url), "envbot-test")
        agent = Agent(
            Reconciler(platform, apps, kube, catalogs, WORDING, **timed),
            TIMING,
            report=lambda current: None,
            log=structured_log([].append, "json", clock),
            metrics=Metrics(),
            health=Health(),
            metered=[platform, apps],
        )
        heard = threading.Event()

        def changed(environment_name: str) -> None:
            agent.changed(environment_name)
            heard.set()

        stop = threading.Event()
        watch = threading.Thread(target=kube.watch_environments, args=(changed, stop))
        watch.start()
        try:
            for kind in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION):
                emulator.wait_watching(kind)
            agent.step()
            controllers = Controllers(simulation, emulator)
            for _ in range(6):
                clock.advance(dt.timedelta(seconds=3))
                heard.clear()
                if controllers.catch_up():
                    assert heard.wait(timeout=30), "the watch never reported the change"
                clock.advance(TIMING.debounce)
                assert not agent.step().resynced
                if agent.phases.get(name) is Phase.READY:
                    break
            assert agent.phases[name] is Phase.READY
            app = apps.read_file(f"registry/environments/{name}/dev-cluster/sample-app.yaml", "main") or ""
            assert "value: feature-auth-db-3f9a1c2e.c1x2y3z4w5v6.us-east-1.rds.amazonaws.com" in app
            assert sorted(apps.pull_request_states().values()) == ["merged"]
            counted = agent.metrics.registry.get_sample_value("envbot_github_requests_total")
            assert counted is not None and 0 < counted <= platform.request_count + apps.request_count
        finally:
            stop.set()
            watch.join(timeout=30)
            kube.close()
        assert not watch.is_alive()
        assert [v for fake in fakes for v in fake.violations] == []
