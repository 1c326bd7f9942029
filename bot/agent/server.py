"""``/healthz``, ``/readyz`` and ``/metrics`` over plain HTTP, on a thread of their own."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.agent.metrics import Metrics


@dataclass
class Health:
    """What the probes answer: alive while the loop runs; ready once every watch is established and GitHub
    answered the last time it was asked."""

    kinds: frozenset[str] = frozenset()
    """The kinds the agent watches; ready needs each of them listed once."""
    watching: set[str] = field(default_factory=set)
    github_ok: bool = False
    github_problem: str = "GitHub not reached yet"
    alive: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def watch_ready(self, kind: str) -> None:
        with self._lock:
            self.watching.add(kind)

    def github(self, problem: str | None) -> None:
        """The last GitHub access went through (``None``) or failed with ``problem``."""
        with self._lock:
            self.github_ok, self.github_problem = problem is None, problem or ""

    def readiness(self) -> str | None:
        """None when ready, else why not (one line)."""
        with self._lock:
            missing = sorted(self.kinds - self.watching)
            if missing:
                return f"not watching yet: {', '.join(missing)}"
            return None if self.github_ok else self.github_problem


def serve(address: str, health: Health, metrics: Metrics) -> ThreadingHTTPServer:
    """Start serving on ``host:port`` (port 0: any free port, see ``server_address``) in a daemon thread."""
    host, _, port = address.rpartition(":")

    class Probes(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._answer(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._answer(200 if health.alive else 503, b"ok\n" if health.alive else b"stopping\n")
            elif path == "/readyz":
                problem = health.readiness()
                self._answer(200 if problem is None else 503, b"ok\n" if problem is None else f"{problem}\n".encode())
            else:
                self._answer(404, b"not found: /healthz, /readyz, /metrics\n")

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Probes every few seconds would drown the action lines: not logged."""

    server = ThreadingHTTPServer((host or "0.0.0.0", int(port)), Probes)  # noqa: S104 - a pod serves its probes
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="envbot-probes", daemon=True).start()
    return server
