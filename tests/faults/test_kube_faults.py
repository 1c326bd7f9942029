"""Kubernetes API faults during a reconcile: envbot reads the simulated controllers' objects through the real
``KubeCluster`` from kmock's Kubernetes emulator, which answers some list call with a 500, 503, 403 or too late.
The run stops with a clear error before writing anything more (a cluster read comes first in every pass), and
the next run converges on the state the same runs reach without the fault."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cluster import (
    APPLICATION,
    ENVIRONMENT_LABEL,
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    Kind,
    KubeCluster,
    ObservedObject,
)
from bot.cluster.errors import ClusterForbiddenError, ClusterUnavailableError
from bot.errors import EnvbotError
from bot.simulation import SimulatedCluster
from tests.cluster.cluster_support import Emulator, write_kubeconfig
from tests.cluster.cluster_support import Fault as KubeFault
from tests.faults import ledger
from tests.faults.world import World, assert_converged, reference

READ_TIMEOUT = 0.25


@dataclass
class KubeMirror:
    """A Cluster whose every read publishes the simulation's objects to the emulator and then lists them through
    ``KubeCluster``: the reconciler sees the simulated controllers through the real client and its error mapping.

    ``plan`` arms a fault for the n-th list call (1-based; a reconcile pass lists Workspaces, namespaced
    Workspaces and Applications, in that order); ``writes_when_armed`` records how many GitOps writes had
    happened when it was armed.
    """

    simulation: SimulatedCluster
    emulator: Emulator
    kube: KubeCluster
    world: World
    plan: dict[int, tuple[Kind, KubeFault]] = field(default_factory=dict)
    calls: int = 0
    writes_when_armed: int | None = None

    def _publish(self) -> None:
        objects = self.simulation._sync()
        self.emulator.handler.objects.clear()
        self.emulator.add(*objects)

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        self.calls += 1
        planned = self.plan.pop(self.calls, None)
        if planned is not None:
            fault_kind, fault = planned
            assert fault_kind == kind, f"list call {self.calls} is for {kind.resource}, not {fault_kind.resource}"
            ledger.record(f"kubernetes {fault.status or 'timeout'}")
            self.writes_when_armed = self.world.platform.writes() + self.world.apps.writes()
            self.emulator.fail(kind, fault)
        self._publish()
        return self.kube.list(kind, selector, namespace)


@pytest.fixture
def mirrored(world: World, tmp_path: Path) -> Iterator[KubeMirror]:
    emulator = Emulator()
    kube = KubeCluster.from_kubeconfig(
        write_kubeconfig(tmp_path / "kubeconfig", emulator.url), "envbot-test", request_timeout=(2.0, READ_TIMEOUT)
    )
    mirror = KubeMirror(world.cluster, emulator, kube, world)
    world.cluster_for = lambda: mirror
    try:
        yield mirror
    finally:
        kube.close()
        emulator.close()


FORBIDDEN = (
    'applications.argoproj.io is forbidden: User "system:serviceaccount:envbot:envbot" cannot list resource '
    '"applications" in API group "argoproj.io" at the cluster scope'
)


@pytest.mark.parametrize(
    ("call", "kind", "fault", "error", "phrase"),
    [
        pytest.param(
            1,
            WORKSPACE,
            KubeFault(500, "InternalError", "etcdserver: request timed out"),
            ClusterUnavailableError,
            "could not list workspaces.tf.upbound.io (cluster-scoped) with selector 'envbot.io/environment': "
            "500 Internal Server Error (API server: etcdserver: request timed out)",
            id="500-before-anything",
        ),
        pytest.param(
            5,
            NAMESPACED_WORKSPACE,
            KubeFault(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
            ClusterUnavailableError,
            "could not list workspaces.tf.m.upbound.io across all namespaces",
            id="503-after-the-first-merge",
        ),
        pytest.param(
            6,
            APPLICATION,
            KubeFault(403, "Forbidden", FORBIDDEN),
            ClusterForbiddenError,
            "could not list applications.argoproj.io across all namespaces with selector 'envbot.io/environment': "
            "403 Forbidden. envbot needs verb 'list' on resource 'applications' in API group 'argoproj.io'",
            id="403-after-the-first-merge",
        ),
        pytest.param(
            10,
            WORKSPACE,
            KubeFault(delay=READ_TIMEOUT + 0.25),
            ClusterUnavailableError,
            f"could not list workspaces.tf.upbound.io (cluster-scoped) with selector 'envbot.io/environment': "
            f"no answer within (2.0, {READ_TIMEOUT})s",
            id="timeout-in-the-second-run",
        ),
    ],
)
def test_a_kubernetes_fault_stops_the_run_cleanly_and_the_next_run_converges(
    world: World,
    mirrored: KubeMirror,
    call: int,
    kind: Kind,
    fault: KubeFault,
    error: type[EnvbotError],
    phrase: str,
) -> None:
    mirrored.plan[call] = (kind, fault)
    writes_after: list[int] = []
    runs = world.drive(between=lambda w, _: writes_after.append(w.platform.writes() + w.apps.writes()))
    failed = [run for run in runs if run.error is not None]
    assert len(failed) == 1 and isinstance(failed[0].error, error)
    message = failed[0].message
    assert message.startswith(f"error: Kubernetes API at {mirrored.emulator.url}: {phrase}"), message
    transient = issubclass(error, ClusterUnavailableError)
    assert message.endswith("(a temporary fault; try again later)") is transient
    assert "\n" not in message and "Traceback" not in message
    assert failed[0].seconds < 2.0
    # Nothing half-way: every pass reads the cluster before it acts, so the failed run wrote nothing after it.
    assert writes_after[runs.index(failed[0])] == mirrored.writes_when_armed
    assert not mirrored.plan and not mirrored.emulator.faults.get(kind.resource)  # the fault was used up
    assert_converged(world.end_state(), reference())
