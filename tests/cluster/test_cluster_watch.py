"""KubeCluster.watch_environments against kmock's emulator: list, watch from the resourceVersion, resume, re-list on
410, back off on errors, stop at once. Every wait is for an event or a queue; the timeouts only guard against hangs."""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kmock
import pytest

from bot.cluster import APPLICATION, NAMESPACED_WORKSPACE, WORKSPACE, Kind, KubeCluster
from bot.cluster.protocol import WatchableCluster
from bot.cluster.watch import Backoff

from .cluster_support import (
    Emulator,
    Fault,
    application,
    bookmark,
    expired,
    free_port,
    watch_event,
    workspace,
    write_kubeconfig,
)

GUARD = 10.0
"""Seconds after which a wait counts as hung: a failure guard, never a wait for a state."""
BACKOFF = Backoff(initial=1.0, maximum=4.0, multiplier=2.0, jitter=0.5, random=lambda: 0.0)
KINDS = (WORKSPACE, NAMESPACED_WORKSPACE, APPLICATION)


def frozen_clock() -> float:
    """Time stands still: every stream the server ends has ended before its term."""
    return 0.0


def thread_of(kind: Kind) -> str:
    return f"envbot-watch-{kind.resource}"


class Run:
    """``watch_environments`` on a thread of its own; what it reports lands in queues.

    The injected sleep records each pause and returns at once, up to ``sleep_limit`` pauses per kind; after that
    it waits for ``stop`` (a kind that keeps failing then stops asking the emulator).
    """

    def __init__(
        self,
        kube: KubeCluster,
        *,
        backoff: Backoff = BACKOFF,
        clock: Callable[[], float] = frozen_clock,
        sleep_limit: int = 10,
        on_change: Callable[[str], None] | None = None,
        **options: Any,
    ) -> None:
        self.stop = threading.Event()
        self.changes: queue.Queue[str] = queue.Queue()
        self.ready: queue.Queue[Kind] = queue.Queue()
        self.restarts: queue.Queue[tuple[Kind, str]] = queue.Queue()
        self.sleeps: queue.Queue[tuple[str, float]] = queue.Queue()
        self.sleep_limit = sleep_limit
        self._slept: collections.Counter[str] = collections.Counter()
        self._unclaimed: list[tuple[str, float]] = []
        self.error: BaseException | None = None

        def run() -> None:
            try:
                kube.watch_environments(
                    on_change or self.changes.put,
                    self.stop,
                    on_ready=self.ready.put,
                    on_restart=lambda kind, reason: self.restarts.put((kind, reason)),
                    sleep=self._sleep,
                    backoff=backoff,
                    clock=clock,
                    **options,
                )
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, name="watch-environments", daemon=True)
        self.thread.start()

    def _sleep(self, seconds: float) -> None:
        name = threading.current_thread().name
        self._slept[name] += 1
        self.sleeps.put((name, seconds))
        if self._slept[name] >= self.sleep_limit:
            self.stop.wait()

    # -- waiting for what it reports -------------------------------------------------------------------------

    def next_change(self) -> str:
        return self.changes.get(timeout=GUARD)

    def changes_so_far(self) -> list[str]:
        found: list[str] = []
        while not self.changes.empty():
            found.append(self.changes.get_nowait())
        return found

    def wait_ready(self, *kinds: Kind) -> None:
        seen: set[Kind] = set()
        while not set(kinds) <= seen:
            seen.add(self.ready.get(timeout=GUARD))

    def next_restart(self) -> tuple[Kind, str]:
        return self.restarts.get(timeout=GUARD)

    def pauses(self, kind: Kind, count: int) -> list[float]:
        """The next ``count`` pauses of the kind's thread (other kinds' pauses are kept for later)."""
        found = [seconds for name, seconds in self._unclaimed if name == thread_of(kind)][:count]
        for seconds in found:
            self._unclaimed.remove((thread_of(kind), seconds))
        while len(found) < count:
            name, seconds = self.sleeps.get(timeout=GUARD)
            if name == thread_of(kind):
                found.append(seconds)
            else:
                self._unclaimed.append((name, seconds))
        return found

    def finish(self) -> None:
        """Set ``stop``; the call must return at once, with every watch thread ended."""
        self.stop.set()
        self.thread.join(GUARD)  # the only timed wait: a safety net
        assert not self.thread.is_alive(), "watch_environments did not return after stop"
        assert self.error is None, repr(self.error)
        left = [t.name for t in threading.enumerate() if t.name.startswith("envbot-watch-")]
        assert not left, f"watch threads still running: {left}"


@pytest.fixture
def watching(kube: KubeCluster) -> Iterator[Callable[..., Run]]:
    runs: list[Run] = []

    def start(cluster: KubeCluster = kube, **options: Any) -> Run:
        runs.append(Run(cluster, **options))
        return runs[-1]

    yield start
    for run in runs:
        run.finish()


def test_kube_cluster_is_a_watchable_cluster(kube: KubeCluster) -> None:
    assert isinstance(kube, WatchableCluster)


def test_changes_made_in_the_emulator_reach_on_change_with_their_environment(
    emulator: Emulator, kube: KubeCluster, watching: Callable[..., Run]
) -> None:
    emulator.add(
        workspace("pr-1-rds", "pr-1"),
        workspace("hand-made", None),
        workspace("pr-2-cache", "pr-2", namespace="team-a"),
        application("web", "pr-3"),
        application("web-pr-4", "pr-4", namespace="apps"),  # outside the Argo CD namespace: not watched
    )
    run = watching(application_namespace="argocd")
    run.wait_ready(*KINDS)
    assert sorted(run.changes_so_far()) == ["pr-1", "pr-2", "pr-3"]  # the first lists report every environment
    for kind in KINDS:
        emulator.wait_watching(kind)

    emulator.create(workspace("hand-made-2", None, finalizers=[]))  # no label: ignored
    emulator.create(workspace("pr-5-rds", "pr-5", finalizers=[]))
    assert run.next_change() == "pr-5"  # the stream is ordered: nothing came of the unlabelled one
    emulator.patch(WORKSPACE, "pr-5-rds", {"status": {"conditions": []}})
    assert run.next_change() == "pr-5"
    emulator.patch(WORKSPACE, "pr-5-rds", {"metadata": {"labels": {"envbot.io/environment": "pr-6"}}})
    assert [run.next_change(), run.next_change()] == ["pr-6", "pr-5"]  # moved: both environments changed
    emulator.patch(WORKSPACE, "hand-made-2", {"status": {"conditions": []}})
    emulator.delete(WORKSPACE, "pr-5-rds")
    assert run.next_change() == "pr-6"
    emulator.create(workspace("pr-10-rds", "pr-10", finalizers=[]))
    assert run.next_change() == "pr-10"
    emulator.patch(WORKSPACE, "pr-10-rds", {"metadata": {"labels": {"envbot.io/environment": None}}})
    assert run.next_change() == "pr-10"  # the label taken off: the object left its environment
    emulator.delete(WORKSPACE, "pr-10-rds")  # no label any more: ignored

    emulator.create(workspace("pr-7-cache", "pr-7", namespace="team-a", finalizers=[]))
    assert run.next_change() == "pr-7"
    emulator.create(application("web-pr-9", "pr-9", namespace="apps"))
    emulator.create(application("web-pr-8", "pr-8"))
    assert run.next_change() == "pr-8"
    assert run.changes_so_far() == []
    assert run.restarts.empty() and run.sleeps.empty()

    [watch] = emulator.requests(WORKSPACE, kmock.action.WATCH)
    assert watch.params == {
        "watch": "true",
        "labelSelector": "envbot.io/environment",
        "resourceVersion": "4711",  # the list's
        "allowWatchBookmarks": "true",
        "timeoutSeconds": "5",
    }
    [apps] = emulator.requests(APPLICATION, kmock.action.WATCH)
    assert apps.url.path == "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
    assert kube.api_calls == {f"{verb} {kind.resource}": 1 for verb in ("list", "watch") for kind in KINDS}


def test_a_stream_the_server_closes_is_resumed_from_the_last_bookmark_without_a_list(
    emulator: Emulator, watching: Callable[..., Run]
) -> None:
    emulator.add(workspace("pr-1-rds", "pr-1"))
    emulator.script_watch(
        WORKSPACE, (watch_event("MODIFIED", workspace("pr-1-rds", "pr-1"), "4750"), bookmark(WORKSPACE, "4800"))
    )
    run = watching()
    run.wait_ready(*KINDS)
    assert run.next_change() == "pr-1"  # listed
    assert run.next_change() == "pr-1"  # the event
    assert run.next_restart() == (WORKSPACE, "closed")
    assert run.pauses(WORKSPACE, 1) == [1.0]  # before its term: a short pause (the stream was healthy)
    emulator.wait_watching(WORKSPACE)
    emulator.create(workspace("pr-2-rds", "pr-2", finalizers=[]))
    assert run.next_change() == "pr-2"

    first, second = emulator.requests(WORKSPACE, kmock.action.WATCH)
    assert (first.params["resourceVersion"], second.params["resourceVersion"]) == ("4711", "4800")
    assert len(emulator.requests(WORKSPACE)) == 1  # resumed, not listed again
    assert run.changes_so_far() == [] and run.restarts.empty()


def test_a_stream_that_ran_its_term_is_resumed_at_once(emulator: Emulator, watching: Callable[..., Run]) -> None:
    emulator.script_watch(WORKSPACE, (bookmark(WORKSPACE, "4801"),))
    run = watching(clock=itertools.count(0.0, 100.0).__next__)  # every stream outlives its 5 s
    run.wait_ready(*KINDS)
    assert run.next_restart() == (WORKSPACE, "timeout")
    emulator.wait_watching(WORKSPACE)
    assert [r.params["resourceVersion"] for r in emulator.requests(WORKSPACE, kmock.action.WATCH)] == ["4711", "4801"]
    assert run.sleeps.empty()  # no pause
    assert len(emulator.requests(WORKSPACE)) == 1


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((expired(),), id="error-event-in-the-stream"),
        pytest.param(Fault(410, "Expired", "too old resource version: 4711 (4790)"), id="http-410"),
    ],
)
def test_410_gone_lists_again_and_reports_every_environment(
    emulator: Emulator, watching: Callable[..., Run], answer: Any
) -> None:
    emulator.add(workspace("pr-1-rds", "pr-1"), workspace("pr-2-rds", "pr-2"))

    def compacted() -> Any:
        """While the watch was away, pr-2's Workspace went and pr-3's came; the events are lost to compaction."""
        emulator.remove(WORKSPACE, "pr-2-rds")
        emulator.add(workspace("pr-3-rds", "pr-3"))
        return answer

    emulator.script_watch(WORKSPACE, compacted)
    run = watching()
    run.wait_ready(*KINDS)
    assert run.next_restart() == (WORKSPACE, "gone")
    emulator.wait_watching(WORKSPACE)
    assert run.changes_so_far() == ["pr-1", "pr-2", "pr-1", "pr-2", "pr-3"]  # pr-2 vanished: reported too
    assert len(emulator.requests(WORKSPACE)) == 2
    assert [r.params["resourceVersion"] for r in emulator.requests(WORKSPACE, kmock.action.WATCH)] == ["4711"] * 2
    assert run.sleeps.empty()  # a re-list needs no pause
    emulator.create(workspace("pr-4-rds", "pr-4", finalizers=[]))
    assert run.next_change() == "pr-4"


def test_410_again_straight_after_a_list_slows_down(emulator: Emulator, watching: Callable[..., Run]) -> None:
    emulator.script_watch(WORKSPACE, (expired(),), (expired(),), (expired(),))
    run = watching()
    assert [run.next_restart() for _ in range(3)] == [(WORKSPACE, "gone")] * 3
    assert run.pauses(WORKSPACE, 2) == [1.0, 2.0]  # the second and third in a row, with nothing between
    emulator.wait_watching(WORKSPACE)
    assert len(emulator.requests(WORKSPACE)) == 4


def test_errors_back_off_growing_to_the_bound_and_a_healthy_watch_resets_it(
    emulator: Emulator, watching: Callable[..., Run], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.cluster")
    secret_module = 'output "x" { value = 1 }'  # inside every Workspace's spec: never logged
    emulator.script_watch(
        WORKSPACE,
        *(Fault(500, "InternalError", "etcdserver: request timed out") for _ in range(4)),
        (watch_event("MODIFIED", workspace("pr-1-rds", "pr-1"), "4720"),),
        Fault(429, "TooManyRequests", "too many requests"),
        Fault(503, "ServiceUnavailable", "unable to handle the request"),
    )
    run = watching()
    run.wait_ready(*KINDS)
    # four 500s, growing to the bound; a healthy stream cut short starts again from the first step; 429, 503
    assert run.pauses(WORKSPACE, 7) == [1.0, 2.0, 4.0, 4.0, 1.0, 2.0, 4.0]
    emulator.wait_watching(WORKSPACE)
    restarts = [run.next_restart() for _ in range(7)]
    assert restarts == [(WORKSPACE, "error")] * 4 + [(WORKSPACE, "closed")] + [(WORKSPACE, "error")] * 2
    versions = [r.params["resourceVersion"] for r in emulator.requests(WORKSPACE, kmock.action.WATCH)]
    assert versions == ["4711"] * 5 + ["4720"] * 3  # resumed each time from the last version seen
    assert len(emulator.requests(WORKSPACE)) == 1
    assert run.next_change() == "pr-1"  # the healthy stream's event
    emulator.create(workspace("pr-2-rds", "pr-2", finalizers=[]))
    assert run.next_change() == "pr-2"
    assert "500 Internal Server Error" in caplog.text and "could not watch workspaces.tf.upbound.io" in caplog.text
    assert secret_module not in caplog.text


def test_a_failing_list_backs_off_and_becomes_ready_once_it_answers(
    emulator: Emulator, watching: Callable[..., Run]
) -> None:
    emulator.add(application("web", "pr-1"))
    emulator.fail(APPLICATION, Fault(500, "InternalError", "etcdserver: leader changed", times=2))
    run = watching()
    run.wait_ready(*KINDS)
    assert run.pauses(APPLICATION, 2) == [1.0, 2.0]
    assert [run.next_restart(), run.next_restart()] == [(APPLICATION, "error")] * 2
    assert run.next_change() == "pr-1"
    assert run.sleeps.empty() and run.restarts.empty()


def test_an_unreachable_api_server_backs_off_to_the_bound_on_every_kind(
    tmp_path: Path, watching: Callable[..., Run]
) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    with KubeCluster.from_kubeconfig(config, connect_retries=0) as unreachable:
        run = watching(unreachable, sleep_limit=5)
        for kind in KINDS:
            assert run.pauses(kind, 5) == [1.0, 2.0, 4.0, 4.0, 4.0]
        assert run.ready.empty()
        run.finish()


def test_403_is_permanent_for_that_kind_and_never_ends_the_watch(
    emulator: Emulator, watching: Callable[..., Run]
) -> None:
    emulator.add(workspace("pr-1-rds", "pr-1"))
    emulator.fail(APPLICATION, Fault(403, "Forbidden", "cannot list applications in the namespace argocd", times=None))
    emulator.script_watch(WORKSPACE, Fault(403, "Forbidden", "cannot watch resource workspaces"))
    run = watching(application_namespace="argocd", sleep_limit=3)
    run.wait_ready(WORKSPACE, NAMESPACED_WORKSPACE)
    assert run.pauses(APPLICATION, 3) == [4.0, 4.0, 4.0]  # at the maximum from the first
    assert run.pauses(WORKSPACE, 1) == [4.0]
    emulator.wait_watching(WORKSPACE)  # the grant came back: watching again
    restarts = [run.next_restart() for _ in range(4)]
    assert sorted(restarts, key=str) == sorted([(APPLICATION, "error")] * 3 + [(WORKSPACE, "error")], key=str)
    assert run.ready.empty()  # Applications never listed


def test_an_unserved_optional_kind_is_ready_empty_and_checked_again(
    emulator: Emulator, watching: Callable[..., Run]
) -> None:
    not_found = Fault(404, "NotFound", "the server could not find the requested resource", times=None)
    emulator.fail(NAMESPACED_WORKSPACE, not_found)
    run = watching(sleep_limit=2)
    run.wait_ready(*KINDS)
    assert run.pauses(NAMESPACED_WORKSPACE, 2) == [4.0, 4.0]
    assert len(emulator.requests(NAMESPACED_WORKSPACE)) == 2
    assert emulator.requests(NAMESPACED_WORKSPACE, kmock.action.WATCH) == []
    assert run.restarts.empty()


def test_argo_cd_not_installed_is_an_error_at_the_maximum(emulator: Emulator, watching: Callable[..., Run]) -> None:
    emulator.fail(APPLICATION, Fault(404, "NotFound", "the server could not find the requested resource", times=None))
    run = watching(sleep_limit=2)
    run.wait_ready(WORKSPACE, NAMESPACED_WORKSPACE)
    assert run.pauses(APPLICATION, 2) == [4.0, 4.0]
    assert [run.next_restart(), run.next_restart()] == [(APPLICATION, "error")] * 2
    assert run.ready.empty()


def test_a_failing_callback_lists_again_instead_of_ending_the_thread(
    emulator: Emulator, watching: Callable[..., Run]
) -> None:
    emulator.add(workspace("pr-1-rds", "pr-1"))
    seen: queue.Queue[str] = queue.Queue()
    failed = threading.Event()

    def on_change(environment: str) -> None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("the agent's queue is full")
        seen.put(environment)

    run = watching(on_change=on_change)
    assert run.next_restart() == (WORKSPACE, "error")
    assert run.pauses(WORKSPACE, 1) == [1.0]
    assert seen.get(timeout=GUARD) == "pr-1"  # listed again, reported again
    run.wait_ready(*KINDS)


def test_stop_ends_live_watches_at_once(emulator: Emulator, watching: Callable[..., Run]) -> None:
    run = watching()
    run.wait_ready(*KINDS)
    for kind in KINDS:
        emulator.wait_watching(kind)  # three streams that the emulator never ends
    run.finish()


def test_stop_ends_a_pause_at_once(emulator: Emulator, kube: KubeCluster) -> None:
    emulator.fail(APPLICATION, Fault(500, "InternalError", "etcdserver: leader changed", times=None))
    stop = threading.Event()
    restarted: queue.Queue[tuple[Kind, str]] = queue.Queue()
    backoff = Backoff(initial=3600.0, maximum=3600.0)  # the default sleep: a wait that stop ends
    thread = threading.Thread(
        target=kube.watch_environments,
        args=(lambda _: None, stop),
        kwargs={"on_restart": lambda kind, reason: restarted.put((kind, reason)), "backoff": backoff},
        daemon=True,
    )
    thread.start()
    assert restarted.get(timeout=GUARD) == (APPLICATION, "error")
    stop.set()
    thread.join(GUARD)
    assert not thread.is_alive()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("envbot-watch-")]


def test_backoff_doubles_to_its_bound_with_jitter_that_only_shortens() -> None:
    assert [Backoff(random=lambda: 0.0).delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    jittered = Backoff(jitter=0.2, random=lambda: 0.5)
    assert [jittered.delay(n) for n in (1, 2, 6)] == [0.9, 1.8, 27.0]
    assert Backoff(random=lambda: 0.0).delay(10_000) == 30  # no overflow
    for bad in ({"initial": 0}, {"initial": 5, "maximum": 1}, {"multiplier": 0.5}, {"jitter": 1.0}):
        with pytest.raises(ValueError, match="backoff"):
            Backoff(**bad)
