"""Following the labelled Workspaces and Applications: per kind, list once, then watch from that resourceVersion."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.clock import Sleep
from bot.cluster.errors import KindNotServedError
from bot.cluster.model import ENVIRONMENT_LABEL, Kind
from bot.errors import EnvbotError, PermanentError

if TYPE_CHECKING:
    from bot.cluster.kube import KubeCluster

log = logging.getLogger(__name__)

RestartReason = Literal["gone", "error", "timeout", "closed"]
"""Why a watch started again: ``gone`` (410, re-listed), ``error`` (a failed call), ``timeout`` (the stream ran
its term, or a silent connection was given up), ``closed`` (the stream ended before its term)."""

OnChange = Callable[[str], None]
OnReady = Callable[[Kind], None]
OnRestart = Callable[[Kind, str], None]

WATCH_TIMEOUT = 5
"""Seconds the API server keeps one watch open (``timeoutSeconds``); it is then resumed from where it was."""
SILENCE_GRACE = 10.0
"""Seconds past ``WATCH_TIMEOUT`` after which a watch connection that sent nothing counts as dead."""
SHUTDOWN_GRACE = 10.0
"""Seconds ``watch_environments`` waits for its threads once ``stop`` is set (a list in flight may take longer)."""
_EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED"})


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ``initial`` seconds after the first failure, times ``multiplier`` after each
    further one, never more than ``maximum``; each pause is shortened by up to ``jitter`` (a fraction) at random."""

    initial: float = 1.0
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.2
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    """A number in [0, 1) per pause; tests pass a constant."""

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.multiplier < 1 or not 0 <= self.jitter < 1:
            raise ValueError("backoff: need 0 < initial <= maximum, multiplier >= 1 and 0 <= jitter < 1")

    def delay(self, failures: int) -> float:
        """The pause after ``failures`` failures in a row (1 for the first)."""
        steps = min(max(failures, 1) - 1, 64)  # 2**64 seconds is past any maximum, and no float overflow
        return min(self.maximum, self.initial * self.multiplier**steps) * (1 - self.jitter * self.random())


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True)
class WatchTarget:
    """One kind to follow: in one namespace or all of them; ``optional`` kinds may be missing from the API."""

    kind: Kind
    namespace: str | None = None
    optional: bool = False


class _GoneError(Exception):
    """The watch's resourceVersion is too old (410): list again."""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class _KindWatch:
    """One kind's loop, in its own thread: list, report, watch, report each change, start again on trouble."""

    def __init__(
        self,
        cluster: KubeCluster,
        target: WatchTarget,
        halt: threading.Event,
        *,
        on_change: OnChange,
        on_ready: OnReady | None,
        on_restart: OnRestart | None,
        sleep: Sleep | None,
        backoff: Backoff,
        clock: Callable[[], float],
        timeout: int,
    ) -> None:
        self.cluster = cluster
        self.target = target
        self.kind = target.kind
        self.halt = halt
        self.on_change = on_change
        self.on_ready = on_ready
        self.on_restart = on_restart
        self.sleep = sleep
        self.backoff = backoff
        self.clock = clock
        self.timeout = timeout
        self.version: str | None = None
        """The last resourceVersion seen (list, event or bookmark); ``None``: list again."""
        self.index: dict[tuple[str | None, str], str] = {}
        """Each labelled object's environment, by (namespace, name), as last seen."""
        self.failures = 0
        self.gone_in_a_row = 0
        self.ready = False
        self.problem: str | None = None
        """The last problem logged, so that a lasting one is logged once."""
        self._watch: Any = None

    # -- the loop ------------------------------------------------------------------------------------------

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                if self.version is None:
                    self._relist()
                else:
                    self._restart(self._follow())
            except _GoneError:
                self.version = None
                self.gone_in_a_row += 1
                self._restart("gone", pause=self.gone_in_a_row > 1)  # twice without a healthy stream: slow down
            except EnvbotError as exc:
                if self.halt.is_set():
                    break
                self._tell(str(exc))
                self._restart("error", permanent=isinstance(exc, PermanentError))
            except Exception as exc:  # a bug, or on_change failed: start over from a fresh list
                if self.halt.is_set():
                    break
                self._tell(f"unexpected {type(exc).__name__}; listing again", logging.ERROR)
                self.version = None
                self._restart("error")

    def interrupt(self) -> None:
        """Unblock a stream waiting for its next line (from another thread)."""
        watch = self._watch
        if watch is not None:
            watch.stop()

    def _restart(self, reason: RestartReason, *, pause: bool = True, permanent: bool = False) -> None:
        if self.halt.is_set():
            return
        if self.on_restart is not None:
            self.on_restart(self.kind, reason)
        if reason == "timeout":  # the stream ran its term: resume at once
            return
        if pause:
            self.failures += 1
            self._pause(self.backoff.maximum if permanent else self.backoff.delay(self.failures))

    def _pause(self, seconds: float) -> None:
        if self.sleep is None:
            self.halt.wait(seconds)
        else:
            self.sleep(seconds)

    def _healthy(self) -> None:
        self.failures = 0
        self.gone_in_a_row = 0
        self.problem = None

    def _tell(self, problem: str, level: int = logging.WARNING) -> None:
        """Log a problem once, not again each time round while it lasts (a 403 is retried for as long)."""
        log.log(level if problem != self.problem else logging.DEBUG, "watch %s: %s", self.kind.resource, problem)
        self.problem = problem

    # -- list ----------------------------------------------------------------------------------------------

    def _relist(self) -> None:
        try:
            objects, version = self.cluster._snapshot(self.kind, ENVIRONMENT_LABEL, self.target.namespace)
        except KindNotServedError:
            if not self.target.optional:
                raise
            self._report_list({})
            self._tell(f"not served; checking again every {self.backoff.maximum:g}s", logging.INFO)
            self._pause(self.backoff.maximum)
            return
        self.problem = None
        self._report_list({(o.namespace, o.name): env for o in objects if (env := o.environment)})
        self.version = version or ""  # none given: watch from now (the server first sends every object)

    def _report_list(self, index: dict[tuple[str | None, str], str]) -> None:
        if self.halt.is_set():
            return
        changed = sorted(set(index.values()) | set(self.index.values()))  # listed now, or vanished since
        self.index = index
        for environment in changed:
            self.on_change(environment)
        if not self.ready:
            self.ready = True
            if self.on_ready is not None:
                self.on_ready(self.kind)

    # -- watch ---------------------------------------------------------------------------------------------

    def _follow(self) -> RestartReason:
        """One watch request from ``self.version``; how it ended, or ``_GoneError`` / an ``EnvbotError``."""
        from kubernetes import watch
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, ReadTimeoutError

        func, args, what = self.cluster._watch_request(self.kind, self.target.namespace)
        request_timeout = (self.cluster.connect_timeout, self.timeout + SILENCE_GRACE)
        options: dict[str, Any] = {
            "label_selector": ENVIRONMENT_LABEL,
            "allow_watch_bookmarks": True,
            "timeout_seconds": self.timeout,
            "_request_timeout": request_timeout,
        }
        if self.version:
            options["resource_version"] = self.version
        watch_class: Any = watch.Watch  # untyped in the client
        self._watch = watch_class()
        started = self.clock()
        try:
            for event in self._watch.stream(func, *args, **options):
                if self.halt.is_set():
                    return "closed"
                if isinstance(event, Mapping):
                    self._healthy()
                    self._apply(event)
        except ApiException as exc:
            if self.halt.is_set():
                return "closed"
            if exc.status == 410:  # as the HTTP status, or as an ERROR event in the stream
                raise _GoneError from None
            raise self.cluster._api_error(
                exc.status or 0, exc.reason, exc.body, "watch", self.kind, self.target.namespace, what
            ) from None
        except ReadTimeoutError:
            self._healthy()  # connected, then silent past the server's own timeout: the connection is gone
            return "timeout"
        except MaxRetryError as exc:  # could not connect (or no answer to the request)
            raise self.cluster._connection_error(exc, what, request_timeout) from None
        except (HTTPError, OSError):
            return "closed"  # reset or cut off mid-stream
        finally:
            self._watch = None
        if self.clock() - started >= self.timeout:
            self._healthy()
            return "timeout"
        return "closed"

    def _apply(self, event: Mapping[str, Any]) -> None:
        raw = event.get("raw_object")
        meta = raw.get("metadata") if isinstance(raw, Mapping) else None
        if not isinstance(meta, Mapping):
            return
        self.version = _text(meta.get("resourceVersion")) or self.version  # bookmarks carry only this
        kind = event.get("type")
        if kind not in _EVENT_TYPES:
            return
        labels = meta.get("labels")
        environment = _text(labels.get(ENVIRONMENT_LABEL)) if isinstance(labels, Mapping) else None
        key = (_text(meta.get("namespace")) if self.kind.namespaced else None, str(meta.get("name") or ""))
        if kind == "DELETED" or environment is None:
            previous = self.index.pop(key, None)  # a label taken off is the object leaving its environment
        else:
            previous = self.index.get(key)
            self.index[key] = environment
        for name in dict.fromkeys(n for n in (environment, previous) if n):
            self.on_change(name)


def watch_kinds(
    cluster: KubeCluster,
    targets: Iterable[WatchTarget],
    on_change: OnChange,
    stop: threading.Event,
    *,
    on_ready: OnReady | None = None,
    on_restart: OnRestart | None = None,
    sleep: Sleep | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    clock: Callable[[], float] = time.monotonic,
    timeout: int = WATCH_TIMEOUT,
) -> None:
    """Follow each target in a thread of its own (``envbot-watch-<resource>``) until ``stop`` is set; see
    ``KubeCluster.watch_environments``."""
    halt = threading.Event()
    watchers = [
        _KindWatch(
            cluster,
            target,
            halt,
            on_change=on_change,
            on_ready=on_ready,
            on_restart=on_restart,
            sleep=sleep,
            backoff=backoff,
            clock=clock,
            timeout=timeout,
        )
        for target in targets
    ]
    threads = [threading.Thread(target=w.run, name=f"envbot-watch-{w.kind.resource}", daemon=True) for w in watchers]
    for thread in threads:
        thread.start()
    try:
        stop.wait()
    finally:
        halt.set()
        deadline = time.monotonic() + SHUTDOWN_GRACE
        for watcher, thread in zip(watchers, threads, strict=True):
            while thread.is_alive() and time.monotonic() < deadline:
                watcher.interrupt()  # again each time round: the stream may have started after the last one
                thread.join(0.1)
