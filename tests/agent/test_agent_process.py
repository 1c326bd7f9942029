"""``envbot agent`` as a process runs it: built from envbot.yaml, probes and metrics over HTTP, a real SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from manual_clock import ManualClock
from project_paths import CATALOGS

from bot.agent.start import build_agent, run_agent
from bot.config import load_config
from bot.forge.local import LocalForge
from tests.cluster.cluster_support import free_port


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_agent_serves_its_probes_and_stops_on_sigterm(tmp_path: Path) -> None:
    LocalForge.initialize(tmp_path / "platform.git", {"README.md": "platform\n"})
    LocalForge.initialize(tmp_path / "apps.git", {"README.md": "apps\n"})
    config_file = tmp_path / "envbot.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "platform": {"repository": "./platform.git"},
                "apps": {"repository": "./apps.git"},
                "catalogs": str(CATALOGS),
                "cluster": {"type": "simulated", "path": "simulated-cluster.json"},
                "agent": {"listen": f"127.0.0.1:{free_port()}"},
            }
        ),
        encoding="utf-8",
    )
    config = load_config(config_file)
    lines: list[str] = []
    agent = build_agent(config, ManualClock().timebase, lines.append, log_format="json")
    answers: dict[str, tuple[int, str]] = {}
    probed = threading.Event()

    def probe(port: int) -> None:
        def run() -> None:
            try:
                assert agent.started.wait(timeout=60), "the agent never finished its first step"
                for path in ("/healthz", "/readyz", "/metrics", "/nope"):
                    answers[path] = get(port, path)
            finally:
                probed.set()
                os.kill(os.getpid(), signal.SIGTERM)  # as the kubelet stops the pod

        threading.Thread(target=run, daemon=True).start()

    before = signal.getsignal(signal.SIGTERM)
    assert run_agent(agent, config.agent.listen, serving=probe) == 0
    assert probed.is_set()
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back
    assert answers["/healthz"] == (200, "ok\n")
    assert answers["/readyz"] == (200, "ok\n")  # a simulated cluster is not watched: GitHub's side is what counts
    assert answers["/metrics"][0] == 200 and "envbot_reconciles_total" in answers["/metrics"][1]
    assert answers["/nope"][0] == 404
    events = [json.loads(line)["event"] for line in lines]
    assert events[0] == "no cluster watch: this cluster type is only resynced"
    assert events[-2:] == ["stopping", "agent stopped"]
