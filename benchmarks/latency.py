"""Figure: how soon the agent merges the app pull request once the Workspace reports Available (watch → merge)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import CATALOGS, EXAMPLE, FakeClock, forge_for, github_fakes

from bot.agent.logs import structured_log
from bot.agent.loop import Agent
from bot.agent.metrics import Metrics
from bot.agent.server import Health
from bot.catalog_files import load_catalogs
from bot.cluster.kube import KubeCluster
from bot.cluster.model import APPLICATION, NAMESPACED_WORKSPACE, WORKSPACE
from bot.environment.spec import parse_environment
from bot.reconcile.gate import MergePolicy
from bot.reconcile.model import Phase
from bot.reconcile.runner import Reconciler
from bot.reconcile.schedule import Timing
from bot.report.pull_requests import WORDING
from bot.simulation import SimulatedCluster
from tests.agent.controllers import Controllers
from tests.cluster.cluster_support import Emulator, write_kubeconfig

TIMING = Timing(debounce=dt.timedelta(seconds=2), resync=dt.timedelta(seconds=60), full_resync=dt.timedelta(minutes=10))
SCHEDULE_INTERVAL = dt.timedelta(hours=1)
"""The shipped workflow's schedule: without the agent, the next scheduled run is what notices the Workspace."""
NO_CI = MergePolicy(settle=dt.timedelta(0))


@dataclasses.dataclass(frozen=True)
class Latency:
    """Available → app pull request merged, on the agent's path, against the Action-only path."""

    debounce_s: float
    """Simulated time from the watch event to the reconcile that merged (the debounce, by design)."""
    reconcile_wall_s: float
    """Real time that reconcile took (its GitHub requests against the fake, its Kubernetes lists)."""
    github_requests: int
    """GitHub requests of that reconcile: the merge's own (render, push, open, weigh, merge)."""
    action_only_s: float
    """The Action-only path: the next scheduled run, one schedule interval later at worst (GitHub may be later)."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def run() -> Latency:
    clock = FakeClock()
    catalogs = load_catalogs(CATALOGS)
    environment = parse_environment(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.as_posix())
    name = environment.name
    emulator = Emulator()
    with tempfile.TemporaryDirectory(prefix="envbot-latency-") as folder, github_fakes("acme/shop", clock) as fakes:
        platform_fake, apps_fake, _ = fakes
        for fake in (platform_fake, apps_fake):
            fake.seed({"README.md": f"{fake.repository}\n"})
        platform, apps = forge_for(platform_fake), forge_for(apps_fake)
        simulation = SimulatedCluster(platform, apps, catalogs, clock=clock.now)
        common: dict[str, Any] = {"catalogs": catalogs, "wording": WORDING, "clock": clock.now, "sleep": clock.sleep}
        Reconciler(platform, apps, simulation, merge_policy=NO_CI, **common).run(name, environment)  # the intent
        kube = KubeCluster.from_kubeconfig(write_kubeconfig(Path(folder) / "kubeconfig", emulator.url), "envbot-test")
        agent = Agent(
            Reconciler(platform, apps, kube, merge_policy=NO_CI, **common),
            TIMING,
            report=lambda current: None,
            log=structured_log(lambda line: None, "json", clock.now),
            metrics=Metrics(),
            health=Health(),
            metered=[platform, apps],
        )
        heard = threading.Event()
        stop = threading.Event()

        def changed(environment_name: str) -> None:
            agent.changed(environment_name)
            heard.set()

        watch = threading.Thread(target=kube.watch_environments, args=(changed, stop), daemon=True)
        watch.start()
        try:
            for kind in (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION):
                emulator.wait_watching(kind)
            agent.step()
            controllers = Controllers(simulation, emulator)
            while agent.phases.get(name) is Phase.PROVISIONING_INFRASTRUCTURE:
                clock.sleep(1)
                heard.clear()
                if controllers.catch_up() and not heard.wait(timeout=30):
                    raise RuntimeError("the watch never reported the change")
                noticed = clock.now()
                clock.sleep(TIMING.debounce.total_seconds())
                before = platform.request_count + apps.request_count
                started = time.perf_counter()
                agent.step()
                wall = time.perf_counter() - started
                requests = platform.request_count + apps.request_count - before
            if agent.phases.get(name) is not Phase.DEPLOYING_APPLICATIONS:
                raise RuntimeError(f"{name} is {agent.phases.get(name)}, not Deploying Applications")
            return Latency(
                debounce_s=(clock.now() - noticed).total_seconds(),
                reconcile_wall_s=wall,
                github_requests=requests,
                action_only_s=SCHEDULE_INTERVAL.total_seconds(),
            )
        finally:
            stop.set()
            watch.join(timeout=30)
            kube.close()
            emulator.close()


if __name__ == "__main__":
    figures = run()
    print(
        f"Available → app PR merged: agent {figures.debounce_s:.1f} s debounce + {figures.reconcile_wall_s:.2f} s"
        f" ({figures.github_requests} GitHub requests); Action only: up to {figures.action_only_s / 60:.0f} min"
    )
