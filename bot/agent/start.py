"""``envbot agent`` wired: the reconciler ``envbot.yaml`` names, the watch threads, the probes, SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from bot.agent.logs import structured_log
from bot.agent.loop import Agent, MeteredForge
from bot.agent.metrics import Metrics
from bot.agent.server import Health, serve
from bot.clock import Timebase
from bot.cluster.model import APPLICATION, WORKSPACE_KINDS
from bot.cluster.protocol import WatchableCluster
from bot.config import Config
from bot.connect import build_reconciler, open_source_forge
from bot.forge.protocol import Forge
from bot.reconcile.runner import Pass
from bot.reconcile.schedule import Timing
from bot.report.origin import origin_pull_request, report_on_origin
from bot.report.status import status_row


class SourceForges:
    """The repositories environments come from, opened once each (as the App, or with ENVBOT_SOURCE_TOKEN), to
    report on their pull requests."""

    def __init__(self, config: Config, timebase: Timebase) -> None:
        self.config = config
        self.timebase = timebase
        self._opened: dict[str, Forge] = {}

    def of(self, repository: str | None) -> Forge | None:
        chosen = repository or self.config.events.repository
        if not chosen:
            return None
        key = chosen.casefold()
        if key not in self._opened:
            self._opened[key] = open_source_forge(self.config, chosen, self.timebase)
        return self._opened[key]


def reporter(sources: SourceForges, timebase: Timebase) -> Callable[[Pass], None]:
    """Report a reconcile where its environment came from; nothing for one without an origin to report on."""

    def report(current: Pass) -> None:
        origin = current.origin
        if origin is None or (origin_pull_request(origin) is None and not origin.branch):
            return
        source = sources.of(origin.repository)
        if source is not None:
            row = status_row(current.decision, current.history)
            report_on_origin(source, current.decision, row, timebase.clock(), origin=origin)

    return report


def build_agent(
    config: Config,
    timebase: Timebase,
    write: Callable[[str], None],
    *,
    log_format: str = "text",
) -> Agent:
    """The agent over the forges, cluster and catalogs ``config`` names (checked before anything is written)."""
    reconciler = build_reconciler(config, timebase)
    settings = config.agent
    timing = Timing(debounce=settings.debounce, resync=settings.resync, full_resync=settings.full_resync)
    cluster = reconciler.cluster
    watched = (*WORKSPACE_KINDS, APPLICATION) if isinstance(cluster, WatchableCluster) else ()
    return Agent(
        reconciler,
        timing,
        report=reporter(SourceForges(config, timebase), timebase),
        log=structured_log(write, log_format, timebase.clock),
        metrics=Metrics(),
        health=Health(kinds=frozenset(kind.resource for kind in watched)),
        metered=[f for f in (reconciler.platform, reconciler.apps) if isinstance(f, MeteredForge)],
    )


def run_agent(agent: Agent, listen: str, *, serving: Callable[[int], None] | None = None) -> int:
    """Serve the probes, start the watches, run the loop until SIGTERM or SIGINT; then stop everything.

    ``serving(port)`` is told the probes' port once they are up and the signals are handled (tests).
    """
    server = serve(listen, agent.health, agent.metrics)
    stop_watching = threading.Event()
    cluster = agent.reconciler.cluster
    if isinstance(cluster, WatchableCluster):
        watch = threading.Thread(
            target=cluster.watch_environments,
            args=(agent.changed, stop_watching),
            kwargs={
                "on_ready": lambda kind: agent.health.watch_ready(kind.resource),
                "on_restart": lambda kind, why: agent.metrics.watch_restarts.labels(
                    kind=kind.resource, reason=why
                ).inc(),
                "application_namespace": agent.reconciler.application_namespace,
            },
            name="envbot-watch",
            daemon=True,
        )
        watch.start()
    else:
        agent.log("no cluster watch: this cluster type is only resynced", every=agent.timing.resync)

    def stop(signum: int, frame: FrameType | None) -> None:
        agent.log("stopping", signal=signal.Signals(signum).name)
        agent.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    if serving is not None:
        serving(server.server_address[1])
    try:
        agent.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_watching.set()
        server.shutdown()
        server.server_close()
    return 0
