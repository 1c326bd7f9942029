"""KubeCluster on the official client against kmock's KubernetesEmulator on 127.0.0.1: lists, pages, faults."""

from __future__ import annotations

import time
from pathlib import Path

import kmock
import pytest

from bot.cluster import (
    APPLICATION,
    NAMESPACED_WORKSPACE,
    WORKSPACE,
    Cluster,
    ClusterConfigError,
    ClusterForbiddenError,
    ClusterRequestError,
    ClusterUnavailableError,
    KindNotServedError,
    KubeCluster,
    observe,
)
from bot.errors import EnvbotError, PermanentError, TransientError
from bot.reconcile.verdicts import WorkspaceState, workspace_verdict

from .cluster_support import NOW, Emulator, Fault, application, free_port, workspace, write_kubeconfig


def seed_one_environment(emulator: Emulator) -> None:
    emulator.add(
        workspace("pr-42-rds", "pr-42", generation=2, observed_generation=2),
        workspace("pr-7-rds", "pr-7"),
        workspace("hand-made", None),
        workspace("pr-42-cache", "pr-42", namespace="team-a"),
        application("web", "pr-42"),
        application("web-pr-7", "pr-7", namespace="apps"),
        application("platform", None),
    )


def test_lists_every_environment_with_one_labelled_call(kube: KubeCluster, emulator: Emulator) -> None:
    seed_one_environment(emulator)
    assert isinstance(kube, Cluster)
    found = kube.list(WORKSPACE)
    assert [o.name for o in found] == ["pr-42-rds", "pr-7-rds"]  # the unlabelled one is filtered server-side
    assert found[0].generation == 2
    assert workspace_verdict(found[0], NOW).state is WorkspaceState.AVAILABLE
    [request] = emulator.requests(WORKSPACE)
    assert request.params["labelSelector"] == "envbot.io/environment"
    assert request.params["limit"] == "500"
    assert request.headers["Authorization"] == "Bearer test-token-not-secret"  # the kubeconfig's user
    assert request.url.path == "/apis/tf.upbound.io/v1beta1/workspaces"
    assert kube.api_calls == {"list workspaces.tf.upbound.io": 1}


def test_namespaced_kinds_are_listed_across_namespaces_or_in_one(kube: KubeCluster, emulator: Emulator) -> None:
    seed_one_environment(emulator)
    assert [(o.namespace, o.name) for o in kube.list(NAMESPACED_WORKSPACE)] == [("team-a", "pr-42-cache")]
    assert [(o.namespace, o.name) for o in kube.list(APPLICATION)] == [("apps", "web-pr-7"), ("argocd", "web")]
    assert [o.name for o in kube.list(APPLICATION, namespace="argocd")] == ["web"]
    paths = [r.url.path for r in emulator.requests(APPLICATION)]
    assert paths == [
        "/apis/argoproj.io/v1alpha1/applications",
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications",
    ]


def test_pagination_follows_continue_tokens(kubeconfig: Path, emulator: Emulator) -> None:
    emulator.add(*(workspace(f"pr-{i}-rds", f"pr-{i}") for i in range(5)))
    with KubeCluster.from_kubeconfig(kubeconfig, page_size=2) as kube:
        names = [o.name for o in kube.list(WORKSPACE)]
    assert names == [f"pr-{i}-rds" for i in range(5)]
    requests = emulator.requests(WORKSPACE)
    assert [r.params.get("continue") for r in requests] == [None, "2", "4"]
    assert all(r.params["limit"] == "2" for r in requests)
    assert kube.api_calls == {"list workspaces.tf.upbound.io": 3}


def test_an_expired_continue_token_restarts_the_list_once(kubeconfig: Path, emulator: Emulator) -> None:
    emulator.add(*(workspace(f"pr-{i}-rds", f"pr-{i}") for i in range(3)))
    emulator.fail(WORKSPACE, Fault(410, "Expired", "The provided continue parameter is too old", on_continue_only=True))
    with KubeCluster.from_kubeconfig(kubeconfig, page_size=2) as kube:
        assert len(kube.list(WORKSPACE)) == 3
    assert [r.params.get("continue") for r in emulator.requests(WORKSPACE)] == [None, "2", None, "2"]


def test_a_continue_token_expiring_twice_is_transient(kubeconfig: Path, emulator: Emulator) -> None:
    emulator.add(*(workspace(f"pr-{i}-rds", f"pr-{i}") for i in range(3)))
    emulator.fail(WORKSPACE, Fault(410, "Expired", "too old", on_continue_only=True, times=2))
    with (
        KubeCluster.from_kubeconfig(kubeconfig, page_size=2) as kube,
        pytest.raises(ClusterUnavailableError, match="410 Expired twice"),
    ):
        kube.list(WORKSPACE)


FORBIDDEN = (
    'workspaces.tf.upbound.io is forbidden: User "system:serviceaccount:envbot:envbot" cannot list resource '
    '"workspaces" in API group "tf.upbound.io" at the cluster scope'
)


@pytest.mark.parametrize(
    ("fault", "error", "base", "phrases"),
    [
        pytest.param(
            Fault(500, "InternalError", "etcdserver: request timed out"),
            ClusterUnavailableError,
            TransientError,
            ["500 Internal Server Error", "etcdserver: request timed out"],
            id="500",
        ),
        pytest.param(
            Fault(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
            ClusterUnavailableError,
            TransientError,
            ["503", "unable to handle the request"],
            id="503",
        ),
        pytest.param(
            Fault(429, "TooManyRequests", "too many requests"),
            ClusterUnavailableError,
            TransientError,
            ["429 Too Many Requests"],
            id="429",
        ),
        pytest.param(
            Fault(403, "Forbidden", FORBIDDEN),
            ClusterForbiddenError,
            PermanentError,
            [
                "403 Forbidden",
                "verb 'list'",
                "resource 'workspaces'",
                "API group 'tf.upbound.io'",
                "ClusterRole",
                "system:serviceaccount:envbot:envbot",
            ],
            id="403-names-the-missing-permission",
        ),
        pytest.param(
            Fault(401, "Unauthorized", "Unauthorized"),
            ClusterForbiddenError,
            PermanentError,
            ["401 Unauthorized", "credentials from kubeconfig", "rejected"],
            id="401",
        ),
        pytest.param(
            Fault(404, "NotFound", "the server could not find the requested resource"),
            KindNotServedError,
            PermanentError,
            ["does not serve workspaces.tf.upbound.io/v1beta1", "CRD installed"],
            id="404-kind-not-served",
        ),
        pytest.param(
            Fault(400, "BadRequest", "unable to parse requirement"),
            ClusterRequestError,
            PermanentError,
            ["400", "unable to parse requirement"],
            id="400",
        ),
    ],
)
def test_api_faults_become_typed_errors(
    kube: KubeCluster,
    emulator: Emulator,
    fault: Fault,
    error: type[EnvbotError],
    base: type[EnvbotError],
    phrases: list[str],
) -> None:
    emulator.fail(WORKSPACE, fault)
    with pytest.raises(error) as caught:
        kube.list(WORKSPACE)
    assert isinstance(caught.value, base)
    message = str(caught.value)
    assert message.startswith(f"Kubernetes API at {emulator.url}: could not list workspaces.tf.upbound.io")
    assert "\n" not in message and "Traceback" not in message
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no ApiException leaks out
    assert kube.api_calls == {"list workspaces.tf.upbound.io": 1}
    # The fault was one-off: the next reconcile simply works.
    assert kube.list(WORKSPACE) == ()


def test_403_on_one_namespace_asks_for_a_role_there(kube: KubeCluster, emulator: Emulator) -> None:
    emulator.fail(APPLICATION, Fault(403, "Forbidden", "cannot list applications in the namespace argocd"))
    with pytest.raises(ClusterForbiddenError, match="a Role in namespace 'argocd'"):
        kube.list(APPLICATION, namespace="argocd")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"<html>Sign in to the proxy</html>", "text/html", id="html-page"),
        pytest.param(b"{not json", "application/json", id="broken-json"),
    ],
)
def test_an_answer_that_is_not_kubernetes_json_is_transient(
    kube: KubeCluster, emulator: Emulator, body: bytes, content_type: str
) -> None:
    res = kmock.resource("argoproj.io", "v1alpha1", "applications")
    garbage = kmock.Response(status=200, payload=body, headers={"Content-Type": content_type})
    (emulator.handler[kmock.action.LIST, res] ** 1) << garbage
    with pytest.raises(ClusterUnavailableError, match="the answer is not a JSON object"):
        kube.list(APPLICATION)


def test_a_timeout_is_transient_and_bounded(kubeconfig: Path, emulator: Emulator) -> None:
    emulator.fail(WORKSPACE, Fault(delay=0.6))
    with (
        KubeCluster.from_kubeconfig(kubeconfig, request_timeout=(1.0, 0.15)) as kube,
        pytest.raises(ClusterUnavailableError, match=r"no answer within \(1.0, 0.15\)s") as caught,
    ):
        kube.list(WORKSPACE)
    # Read timeouts are not retried here (the next reconcile is the retry): the server saw one request.
    assert len(emulator.requests(WORKSPACE)) == 1
    assert isinstance(caught.value, TransientError)


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{free_port()}")
    with (
        KubeCluster.from_kubeconfig(config, connect_retries=1) as kube,
        pytest.raises(ClusterUnavailableError, match="cannot connect") as caught,
    ):
        kube.list(APPLICATION)
    assert isinstance(caught.value, TransientError)
    assert kube.api_calls == {"list applications.argoproj.io": 1}  # one logical call, retried by urllib3


def test_a_malformed_selector_is_refused_before_any_call(kube: KubeCluster) -> None:
    with pytest.raises(ClusterConfigError, match="not a valid label key"):
        kube.list(WORKSPACE, "bad key!")
    assert kube.total_api_calls == 0


def test_observe_records_an_unserved_optional_kind(kube: KubeCluster, emulator: Emulator) -> None:
    seed_one_environment(emulator)
    emulator.fail(NAMESPACED_WORKSPACE, Fault(404, "NotFound", "the server could not find the requested resource"))
    snapshot = observe(kube, application_namespace="argocd")
    assert snapshot.unserved_kinds == ("workspaces.tf.m.upbound.io",)
    assert snapshot.environments == ("pr-42", "pr-7")
    assert [o.name for o in snapshot.workspaces_of("pr-42")] == ["pr-42-rds"]
    assert [o.name for o in snapshot.applications_of("pr-42")] == ["web"]
    assert snapshot.applications_of("pr-7") == ()  # its app lives outside argocd


def test_observe_fails_when_argo_cd_is_not_installed(kube: KubeCluster, emulator: Emulator) -> None:
    emulator.fail(APPLICATION, Fault(404, "NotFound", "the server could not find the requested resource"))
    with pytest.raises(KindNotServedError, match=r"applications\.argoproj\.io"):
        observe(kube)


@pytest.mark.parametrize(("page_size", "expected_calls"), [(500, 3), (100, 10)])
def test_two_hundred_environments_cost_one_list_per_kind_plus_pages(
    kubeconfig: Path, emulator: Emulator, page_size: int, expected_calls: int
) -> None:
    """200 environments x (2 Workspaces + 1 namespaced Workspace + 2 Applications), plus unlabelled noise."""
    for i in range(200):
        env = f"pr-{i:03d}"
        emulator.add(
            workspace(f"{env}-rds", env, generation=2, observed_generation=2),
            workspace(f"{env}-s3", env),
            workspace(f"{env}-cache", env, namespace="team-a"),
            application(f"{env}-web", env),
            application(f"{env}-worker", env),
        )
    emulator.add(
        *(workspace(f"manual-{i}", None) for i in range(25)), *(application(f"ops-{i}", None) for i in range(25))
    )

    with KubeCluster.from_kubeconfig(kubeconfig, page_size=page_size) as kube:
        started = time.monotonic()
        snapshot = observe(kube)
        elapsed = time.monotonic() - started

    assert len(snapshot.environments) == 200
    assert all(len(snapshot.workspaces_of(env)) == 3 for env in snapshot.environments)
    assert all(len(snapshot.applications_of(env)) == 2 for env in snapshot.environments)
    pages = {
        kind.resource: -(-count // page_size)
        for kind, count in ((WORKSPACE, 400), (NAMESPACED_WORKSPACE, 200), (APPLICATION, 400))
    }
    assert kube.api_calls == {f"list {resource}": n for resource, n in pages.items()}
    assert kube.total_api_calls == expected_calls  # one per kind (+ pages), never one per environment (600)
    assert len(emulator.requests()) == expected_calls  # the server saw exactly what the client counted
    print(f"\n200 environments, page size {page_size}: {kube.total_api_calls} API calls in {elapsed:.2f}s")


def test_kubeconfig_problems_are_one_line_user_errors(tmp_path: Path, emulator: Emulator) -> None:
    with pytest.raises(ClusterConfigError, match="no such file"):
        KubeCluster.from_kubeconfig(tmp_path / "missing")
    config = write_kubeconfig(tmp_path / "kubeconfig", emulator.url)
    with pytest.raises(ClusterConfigError, match=r"context 'prod'.*prod"):
        KubeCluster.from_kubeconfig(config, "prod")
    broken = tmp_path / "broken"
    broken.write_text("clusters: [", encoding="utf-8")
    with pytest.raises(ClusterConfigError, match="broken"):
        KubeCluster.from_kubeconfig(broken)


def test_kubeconfig_from_the_environment(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_kubeconfig(tmp_path / "kubeconfig", emulator.url)
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with KubeCluster.connect() as kube:
        assert kube.host == emulator.url
        assert kube.list(WORKSPACE) == ()


def test_in_cluster_config(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("in-cluster-token", encoding="utf-8")
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with KubeCluster.in_cluster(environ=env, token_path=token, ca_path=ca) as kube:
        assert kube.host == "https://10.96.0.1:443"
        assert kube.origin == "in-cluster service account"
    with pytest.raises(ClusterConfigError, match="in-cluster Kubernetes config"):
        KubeCluster.in_cluster(environ={}, token_path=token, ca_path=ca)
    with pytest.raises(ClusterConfigError, match="in-cluster Kubernetes config"):
        KubeCluster.in_cluster(environ=env, token_path=tmp_path / "none", ca_path=ca)
