"""Cluster fixtures: a kmock Kubernetes emulator on 127.0.0.1 and a KubeCluster pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cluster import KubeCluster

from .cluster_support import Emulator, write_kubeconfig


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, emulator: Emulator) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", emulator.url)


@pytest.fixture
def kube(kubeconfig: Path) -> Iterator[KubeCluster]:
    cluster = KubeCluster.from_kubeconfig(kubeconfig, "envbot-test", request_timeout=(2.0, 5.0))
    try:
        yield cluster
    finally:
        cluster.close()
