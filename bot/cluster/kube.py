"""``KubeCluster``: the Cluster and WatchableCluster protocols on the official kubernetes client (imported lazily)."""

from __future__ import annotations

import collections
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import yaml

from bot.clock import Sleep
from bot.cluster.errors import (
    ClusterConfigError,
    ClusterForbiddenError,
    ClusterRequestError,
    ClusterUnavailableError,
    KindNotServedError,
)
from bot.cluster.model import (
    APPLICATION,
    ENVIRONMENT_LABEL,
    NAMESPACED_WORKSPACE,
    WORKSPACE_KINDS,
    Kind,
    ObservedObject,
    observe_raw,
)
from bot.cluster.selectors import parse_selector
from bot.cluster.watch import (
    DEFAULT_BACKOFF,
    WATCH_TIMEOUT,
    Backoff,
    OnChange,
    OnReady,
    OnRestart,
    WatchTarget,
    watch_kinds,
)
from bot.errors import EnvbotError

DEFAULT_PAGE_SIZE = 500
DEFAULT_TIMEOUT = (5.0, 30.0)
"""Seconds to connect and to read one answer."""


class _ContinueExpiredError(Exception):
    """A ``continue`` token expired (410) in the middle of a paginated list."""


def _status_message(body: object) -> str:
    """The ``message`` of a Kubernetes ``Status`` body, or the body's first line."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip().splitlines()[0][:300]
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


def _scope(kind: Kind, namespace: str | None) -> str:
    if not kind.namespaced:
        return "(cluster-scoped)"
    return f"in namespace {namespace!r}" if namespace else "across all namespaces"


class KubeCluster:
    """Reads Workspaces and Applications through ``CustomObjectsApi``; counts every API call it makes."""

    def __init__(
        self,
        configuration: Any,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        request_timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        connect_retries: int = 2,
        origin: str = "",
    ) -> None:
        """Wrap a ``kubernetes.client.Configuration``; prefer :meth:`from_kubeconfig` / :meth:`in_cluster`."""
        import urllib3
        from kubernetes import client

        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        # Only connection attempts are retried here: a read timeout or a 5xx becomes a TransientError at
        # once, and the level-triggered reconcile is the retry.
        configuration.retries = urllib3.Retry(
            total=connect_retries,
            connect=connect_retries,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.1,
            raise_on_status=False,
        )
        self._api_client = client.ApiClient(configuration)
        self._api = client.CustomObjectsApi(self._api_client)
        self.host: str = str(configuration.host)
        self.origin = origin or self.host
        self.page_size = page_size
        self.request_timeout = request_timeout
        self.api_calls: collections.Counter[str] = collections.Counter()
        """Calls made so far, keyed like ``"list workspaces.tf.upbound.io"`` (and ``"watch ..."``)."""
        self._count_lock = threading.Lock()  # the watch threads count too

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | Path | None = None,
        context: str | None = None,
        **options: Any,
    ) -> KubeCluster:
        """Use a kubeconfig file (default: ``$KUBECONFIG`` or ``~/.kube/config``) and one of its contexts."""
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        load_kube_config: Any = config.load_kube_config  # the client's config helpers are untyped

        if path is None:
            path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
        file = Path(path).expanduser()
        where = f"kubeconfig {file}" + (f" (context {context!r})" if context else "")
        if not file.is_file():
            raise ClusterConfigError(f"{where}: no such file; name another kubeconfig or set KUBECONFIG")
        configuration = client.Configuration()
        try:
            load_kube_config(
                config_file=str(file),
                context=context,
                client_configuration=configuration,
                persist_config=False,
            )
        except ConfigException as exc:
            raise ClusterConfigError(f"{where}: {exc}") from None
        except (yaml.YAMLError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # A malformed but parseable document surfaces as a Key/Type/AttributeError inside the loader.
            raise ClusterConfigError(f"{where} is not a usable kubeconfig: {exc}") from None
        return cls(configuration, origin=where, **options)

    @classmethod
    def in_cluster(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        token_path: str | Path | None = None,
        ca_path: str | Path | None = None,
        **options: Any,
    ) -> KubeCluster:
        """Use the pod's service account (``KUBERNETES_SERVICE_HOST`` and the mounted token and CA)."""
        from kubernetes import client
        from kubernetes.config import incluster_config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        loader_class: Any = incluster_config.InClusterConfigLoader  # untyped in the client
        loader = loader_class(
            token_filename=str(token_path or incluster_config.SERVICE_TOKEN_FILENAME),
            cert_filename=str(ca_path or incluster_config.SERVICE_CERT_FILENAME),
            environ=dict(os.environ if environ is None else environ),
        )
        try:
            loader.load_and_set(configuration)
        except ConfigException as exc:
            raise ClusterConfigError(f"in-cluster Kubernetes config: {exc}") from None
        return cls(configuration, origin="in-cluster service account", **options)

    @classmethod
    def connect(cls, kubeconfig: str | Path | None = None, context: str | None = None, **options: Any) -> KubeCluster:
        """A kubeconfig when one is named (or no pod environment exists), otherwise the in-cluster config."""
        if kubeconfig is None and context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            return cls.in_cluster(**options)
        return cls.from_kubeconfig(kubeconfig, context, **options)

    # -- the Cluster protocol ------------------------------------------------------------------------------

    def list(
        self, kind: Kind, selector: str = ENVIRONMENT_LABEL, namespace: str | None = None
    ) -> tuple[ObservedObject, ...]:
        return self._snapshot(kind, selector, namespace)[0]

    # -- the WatchableCluster protocol ---------------------------------------------------------------------

    def watch_environments(
        self,
        on_change: OnChange,
        stop: threading.Event,
        *,
        on_ready: OnReady | None = None,
        on_restart: OnRestart | None = None,
        sleep: Sleep | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        application_namespace: str | None = None,
        watch_timeout: int = WATCH_TIMEOUT,
    ) -> None:
        """Report each environment whose Workspaces or Applications change, until ``stop`` is set.

        One thread per kind (both Workspace kinds, the namespaced one only where served, and Applications in
        ``application_namespace`` or all namespaces) lists with the ``envbot.io/environment`` selector, reports
        every environment listed (and every one gone since the previous list), then watches from the list's
        resourceVersion with bookmarks and a ``watch_timeout``-second server timeout, resuming from the last
        resourceVersion seen. A 410 Gone lists again; other failures start again after a ``backoff`` pause
        (``sleep``; by default a wait that ``stop`` ends), at its maximum for a permanent one (403). Callbacks
        run on the watch threads: ``on_change(environment)``, ``on_ready(kind)`` after a kind's first list,
        ``on_restart(kind, reason)`` with a ``RestartReason``. ``clock`` (monotonic seconds) tells a stream that
        ran its term from one cut short.
        """
        targets = [WatchTarget(kind, optional=kind == NAMESPACED_WORKSPACE) for kind in WORKSPACE_KINDS]
        targets.append(WatchTarget(APPLICATION, application_namespace))
        watch_kinds(
            self,
            targets,
            on_change,
            stop,
            on_ready=on_ready,
            on_restart=on_restart,
            sleep=sleep,
            backoff=backoff,
            clock=clock,
            timeout=watch_timeout,
        )

    # -- internals -----------------------------------------------------------------------------------------

    @property
    def connect_timeout(self) -> float:
        timeout = self.request_timeout
        return timeout[0] if isinstance(timeout, tuple) else timeout

    def _snapshot(
        self, kind: Kind, selector: str, namespace: str | None
    ) -> tuple[tuple[ObservedObject, ...], str | None]:
        """Every matching object and the list's resourceVersion (to watch from)."""
        parse_selector(selector)  # a malformed selector is our mistake, not the API's: fail before calling
        if namespace and not kind.namespaced:
            raise ValueError(f"{kind.resource} is cluster-scoped: list() takes no namespace")
        what = f"list {kind.resource} {_scope(kind, namespace)} with selector {selector!r}"
        try:
            return self._list_pages(kind, selector, namespace, what)
        except _ContinueExpiredError:
            pass  # the snapshot moved on between pages: start again once, from a fresh snapshot
        try:
            return self._list_pages(kind, selector, namespace, what)
        except _ContinueExpiredError:
            raise ClusterUnavailableError(
                f"Kubernetes API at {self.host}: could not {what}: the list changed faster than it could be "
                "paged through (410 Expired twice); try again, or raise the page size"
            ) from None

    def _list_pages(
        self, kind: Kind, selector: str, namespace: str | None, what: str
    ) -> tuple[tuple[ObservedObject, ...], str | None]:
        items: list[ObservedObject] = []
        token: str | None = None
        version: str | None = None
        while True:

            def call(token: str | None = token) -> Any:
                kwargs: dict[str, Any] = {
                    "label_selector": selector,
                    "limit": self.page_size,
                    "_request_timeout": self.request_timeout,
                }
                if token:
                    kwargs["_continue"] = token
                if namespace:
                    return self._api.list_namespaced_custom_object(
                        kind.group, kind.version, namespace, kind.plural, **kwargs
                    )
                return self._api.list_cluster_custom_object(kind.group, kind.version, kind.plural, **kwargs)

            page = self._call("list", kind, namespace, what, call, paging=bool(token))
            raw_items = page.get("items") or []
            if not isinstance(raw_items, list):
                raise ClusterUnavailableError(f"Kubernetes API at {self.host}: {what}: 'items' is not a list")
            items.extend(observe_raw(item, kind) for item in raw_items if isinstance(item, Mapping))
            meta = page.get("metadata")
            meta = meta if isinstance(meta, Mapping) else {}
            if version is None and isinstance(meta.get("resourceVersion"), str):
                version = meta["resourceVersion"]  # every page of one list is of the same snapshot
            token = meta.get("continue")
            if not token:
                return tuple(items), version

    def _watch_request(self, kind: Kind, namespace: str | None) -> tuple[Callable[..., Any], tuple[str, ...], str]:
        """The API method ``kubernetes.watch.Watch.stream`` calls, its arguments, and the words for errors."""
        self._count("watch", kind)
        what = f"watch {kind.resource} {_scope(kind, namespace)} with selector {ENVIRONMENT_LABEL!r}"
        if namespace:
            args = (kind.group, kind.version, namespace, kind.plural)
            return self._api.list_namespaced_custom_object, args, what
        return self._api.list_cluster_custom_object, (kind.group, kind.version, kind.plural), what

    def _count(self, verb: str, kind: Kind) -> None:
        with self._count_lock:
            self.api_calls[f"{verb} {kind.resource}"] += 1

    def _call(
        self,
        verb: str,
        kind: Kind,
        namespace: str | None,
        what: str,
        call: Callable[[], Any],
        *,
        paging: bool = False,
    ) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        self._count(verb, kind)
        try:
            result = call()
        except ApiException as exc:
            if exc.status == 410 and paging:
                raise _ContinueExpiredError from None
            raise self._api_error(exc.status or 0, exc.reason, exc.body, verb, kind, namespace, what) from None
        except (HTTPError, OSError) as exc:
            raise self._connection_error(exc, what) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            result = None  # e.g. a proxy's error page in front of the API server
        if not isinstance(result, Mapping):
            raise ClusterUnavailableError(
                f"Kubernetes API at {self.host}: could not {what}: the answer is not a JSON object"
            )
        return result

    def _connection_error(self, exc: Exception, what: str, timeout: object = None) -> ClusterUnavailableError:
        """A refused, failed or timed-out connection (urllib3's ``HTTPError`` or an ``OSError``), in words."""
        from urllib3.exceptions import MaxRetryError, NewConnectionError, TimeoutError

        reason = exc.reason if isinstance(exc, MaxRetryError) and exc.reason is not None else exc
        if isinstance(reason, TimeoutError) and not isinstance(reason, NewConnectionError):
            detail = f"no answer within {self.request_timeout if timeout is None else timeout}s"
        else:
            detail = f"cannot connect ({type(reason).__name__}: {reason})"
        return ClusterUnavailableError(f"Kubernetes API at {self.host}: could not {what}: {detail}")

    def _api_error(
        self,
        status: int,
        reason: object,
        body: object,
        verb: str,
        kind: Kind,
        namespace: str | None,
        what: str,
    ) -> EnvbotError:
        said = _status_message(body)
        said = f" (API server: {said})" if said else ""
        head = f"Kubernetes API at {self.host}: could not {what}"
        if status == 401:
            return ClusterForbiddenError(
                f"{head}: 401 Unauthorized, the credentials from {self.origin} were rejected "
                f"(expired token or certificate?){said}"
            )
        if status == 403:
            if kind.namespaced and namespace:
                grant = f"a Role in namespace {namespace!r}"
            elif kind.namespaced:
                grant = "a ClusterRole (listing across all namespaces), or name the namespace to list"
            else:
                grant = "a ClusterRole"
            return ClusterForbiddenError(
                f"{head}: 403 Forbidden. envbot needs verb {verb!r} on resource {kind.plural!r} in API group "
                f"{kind.group!r}: add it to {grant} bound to the identity from {self.origin}{said}"
            )
        if status == 404:
            return KindNotServedError(
                f"{head}: the API server does not serve {kind.resource}/{kind.version}; is its CRD installed "
                f"(provider-terraform for Workspaces, Argo CD for Applications)?{said}"
            )
        if status == 429:
            return ClusterUnavailableError(f"{head}: 429 Too Many Requests (rate limited){said}")
        if status == 0 or status >= 500:
            label = f"{status} {reason}" if status else f"{reason}"
            return ClusterUnavailableError(f"{head}: {label}{said}")
        return ClusterRequestError(f"{head}: {status} {reason}{said}")

    @property
    def total_api_calls(self) -> int:
        return sum(self.api_calls.values())

    def close(self) -> None:
        api_client: Any = self._api_client
        api_client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
