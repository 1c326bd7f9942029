"""deploy/, the agent's kustomize base: valid Kubernetes objects, least privilege, locked down; what bootstrap writes."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from jsonschema import Draft202012Validator
from kube_schemas import upstream_kind
from project_paths import PROJECT_ROOT

from bot import yamldoc
from bot.cli import main
from bot.cluster.model import KNOWN_KINDS
from bot.config import parse_config
from bot.render.bootstrap import render_agent
from tests.deploy.kustomize import DEPLOY, KUSTOMIZATION, build, by_kind, read_base, split_image

KUBERNETES_VERSIONS = ("1.27.0", kubernetes_validate.utils.latest_version())
"""The oldest Kubernetes the base is checked against, and the newest whose schemas kubernetes-validate ships."""
READ_VERBS = {"get", "list", "watch"}
PLATFORM = ("--platform-repo", "https://git.example/p.git", "--app-repo", "https://git.example/a.git")


@functools.cache
def base() -> dict[str, str]:
    return read_base()


def built(**options: Any) -> dict[str, dict[str, Any]]:
    """The objects the base builds to, after bootstrap set ``image`` / ``namespace`` when given."""
    sources = base()
    if options:
        sources = {file.path.removeprefix("agent/"): file.content for file in render_agent(sources, **options)}
    return by_kind(build(sources))


def pod(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = objects["Deployment"]["spec"]["template"]["spec"]
    return spec


def agent_container(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (container,) = pod(objects)["containers"]
    return dict(container)


# -- the base and the schemas -----------------------------------------------------------------------------------


def test_the_kustomization_lists_every_file_of_the_base_and_nothing_else() -> None:
    kustomization = yaml.safe_load(base()[KUSTOMIZATION])
    assert sorted(kustomization["resources"]) == sorted(name for name in base() if name != KUSTOMIZATION)
    assert set(kustomization) == {"apiVersion", "kind", "namespace", "resources", "images"}, "no generators"
    assert [doc["kind"] for doc in build(base())] == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
    ]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("options", [{}, {"image": "ghcr.io/acme/envbot:0.1.0", "namespace": "platform-bots"}])
def test_every_object_validates_against_the_kubernetes_schemas(version: str, options: dict[str, str]) -> None:
    """Strictly: a field the schema does not name is an error, as kubectl's server-side validation says."""
    for obj in built(**options).values():
        kubernetes_validate.validate(obj, version, strict=True)


def test_the_validation_refuses_a_misspelt_field() -> None:
    deployment = built()["Deployment"]
    deployment["spec"]["replica"] = 1
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("name", sorted(read_base()))
def test_every_file_reads_the_same_as_yaml_1_1_and_1_2(name: str) -> None:
    """kubectl reads YAML 1.1 (0440 is octal, yes is true), envbot 1.2: the base uses nothing they read apart."""
    assert list(yaml.safe_load_all(base()[name])) == yamldoc.load_all(base()[name])


def test_every_namespaced_object_names_the_namespace_it_ships_in() -> None:
    """So that the files read alone say where they go, as the kustomization does."""
    namespace = yaml.safe_load(base()[KUSTOMIZATION])["namespace"]
    for name, text in base().items():
        for doc in yaml.safe_load_all(text) if name != KUSTOMIZATION else ():
            if doc["kind"] == "Namespace":
                assert doc["metadata"]["name"] == namespace
            elif not doc["kind"].startswith("Cluster"):
                assert doc["metadata"]["namespace"] == namespace, name


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize(
    "options", [{}, {"image": "registry.example:5000/envbot@sha256:" + "a" * 64, "namespace": "x"}]
)
def test_the_harness_builds_what_kubectl_kustomize_builds(tmp_path: Path, options: dict[str, str]) -> None:
    """tests/deploy/kustomize.py, checked against the real kustomize wherever kubectl is installed."""
    for file in render_agent(base(), **options):
        (tmp_path / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file.path).write_text(file.content, encoding="utf-8")
    completed = subprocess.run(
        ["kubectl", "kustomize", str(tmp_path / "agent")], capture_output=True, text=True, check=True, timeout=60
    )
    assert by_kind(list(yaml.safe_load_all(completed.stdout))) == built(**options)


# -- least privilege ------------------------------------------------------------------------------------------


def granted(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Every (API group, resource, verb) a role's rules grant, refusing what a plain triple cannot say."""
    triples = set()
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, f"no resourceNames or nonResourceURLs: {rule}"
        triples |= {(g, r, v) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    return triples


def test_the_cluster_role_reads_the_three_kinds_and_nothing_else() -> None:
    kinds = {("tf.upbound.io", "workspaces"), ("tf.m.upbound.io", "workspaces"), ("argoproj.io", "applications")}
    expected = {(group, resource, verb) for group, resource in kinds for verb in READ_VERBS}
    assert granted(built()["ClusterRole"]) == expected
    assert {(kind.group, kind.plural) for kind in KNOWN_KINDS} == kinds, "the kinds bot/cluster/ reads"


def test_the_agent_reads_no_secret_so_no_role_grants_one() -> None:
    """Sensitive outputs are referenced by their connection Secret's name (bot/cluster/outputs.py), never read."""
    sources = {path: path.read_text(encoding="utf-8") for path in sorted((PROJECT_ROOT / "bot").rglob("*.py"))}
    readers = [path.name for path, text in sources.items() if "CoreV1Api" in text or "namespaced_secret" in text]
    assert readers == [], "envbot reads Secrets now: grant it in deploy/ (a Role in their namespace) and say why"
    assert {kind for kind in built() if kind in {"Role", "RoleBinding", "Secret"}} == set()


@pytest.mark.parametrize("namespace", [None, "platform-bots"])
def test_the_binding_grants_the_role_to_the_agents_service_account(namespace: str | None) -> None:
    objects = built(namespace=namespace) if namespace else built()
    binding, account = objects["ClusterRoleBinding"], objects["ServiceAccount"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": objects["ClusterRole"]["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]
    assert account["metadata"]["namespace"] == objects["Namespace"]["metadata"]["name"] == (namespace or "envbot")
    assert pod(objects)["serviceAccountName"] == account["metadata"]["name"]


@pytest.mark.conformance
def test_the_cluster_role_names_the_kinds_as_their_upstream_crds_do() -> None:
    """Group and plural from the upstream CustomResourceDefinitions: a typo would grant nothing, silently."""
    crds = [upstream_kind(key) for key in (("tf.upbound.io", "Workspace"), ("tf.m.upbound.io", "Workspace"))]
    crds.append(upstream_kind(("argoproj.io", "Application")))
    expected = {(crd.group, crd.plural, verb) for crd in crds for verb in READ_VERBS}
    assert granted(built()["ClusterRole"]) == expected


# -- the pod ----------------------------------------------------------------------------------------------------

RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_problems(spec: dict[str, Any]) -> list[str]:
    """Where a pod spec breaks the "restricted" Pod Security Standard (which the Namespace enforces)."""
    problems = [f"spec.{key}" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    problems += [f"volume {v['name']}" for v in spec.get("volumes", ()) if not set(v) - {"name"} <= RESTRICTED_VOLUMES]
    pod_context = spec.get("securityContext", {})
    for container in [*spec.get("initContainers", ()), *spec["containers"]]:
        context = {**pod_context, **container.get("securityContext", {})}
        name = container["name"]
        checks = {
            "runAsNonRoot": context.get("runAsNonRoot") is True,
            "runAsUser": isinstance(context.get("runAsUser"), int) and context["runAsUser"] > 0,
            "allowPrivilegeEscalation": context.get("allowPrivilegeEscalation") is False,
            "privileged": not context.get("privileged"),
            "seccompProfile": context.get("seccompProfile", {}).get("type") in {"RuntimeDefault", "Localhost"},
            "capabilities.drop": "ALL" in context.get("capabilities", {}).get("drop", ()),
            "capabilities.add": set(context.get("capabilities", {}).get("add", ())) <= {"NET_BIND_SERVICE"},
            "readOnlyRootFilesystem": context.get("readOnlyRootFilesystem") is True,
            "hostPort": not any(port.get("hostPort") for port in container.get("ports", ())),
        }
        problems += [f"{name}: {check}" for check, ok in checks.items() if not ok]
    return problems


def test_the_agent_pod_meets_the_restricted_pod_security_standard_its_namespace_enforces() -> None:
    objects = built()
    assert objects["Namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert restricted_problems(pod(objects)) == []
    assert pod(objects)["automountServiceAccountToken"] is True, "the agent reads the cluster with its token"


def test_the_lockdown_check_sees_each_breach() -> None:
    spec = pod(built())
    spec["hostNetwork"] = True
    spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    del spec["securityContext"]["runAsNonRoot"]
    context = spec["containers"][0]["securityContext"]
    context.update(runAsNonRoot=False, readOnlyRootFilesystem=False, capabilities={"add": ["SYS_ADMIN"]})
    assert restricted_problems(spec) == [
        "spec.hostNetwork",
        "volume host",
        "agent: runAsNonRoot",
        "agent: capabilities.drop",
        "agent: capabilities.add",
        "agent: readOnlyRootFilesystem",
    ]


def test_the_only_writable_place_is_an_empty_dir_at_tmp() -> None:
    objects = built()
    volumes = {volume["name"]: volume for volume in pod(objects)["volumes"]}
    mounts = {mount["mountPath"]: mount for mount in agent_container(objects)["volumeMounts"]}
    writable = [path for path, mount in mounts.items() if not mount.get("readOnly")]
    assert writable == ["/tmp"] and "emptyDir" in volumes[mounts["/tmp"]["name"]]


def test_one_agent_replaced_by_recreate_with_probes_and_resources() -> None:
    objects = built()
    deployment, container = objects["Deployment"], agent_container(objects)
    assert (deployment["spec"]["replicas"], deployment["spec"]["strategy"]) == (1, {"type": "Recreate"})
    assert container["args"] == ["agent", "--config", "/etc/envbot/envbot.yaml", "--log-format", "json"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    probes = {name: container[name]["httpGet"] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes == {
        "startupProbe": {"path": "/healthz", "port": "http"},
        "livenessProbe": {"path": "/healthz", "port": "http"},
        "readinessProbe": {"path": "/readyz", "port": "http"},
    }
    assert "http" in ports
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"} and "memory" in resources["limits"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_service_serves_the_pods_metrics_port() -> None:
    objects = built()
    service, container = objects["Service"], agent_container(objects)
    (port,) = service["spec"]["ports"]
    (container_port,) = container["ports"]
    assert (port["name"], port["targetPort"]) == ("http", "http") == (container_port["name"], "http")
    assert (
        service["spec"]["selector"].items() <= objects["Deployment"]["spec"]["template"]["metadata"]["labels"].items()
    )
    annotations = service["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(container_port["containerPort"]),
        "prometheus.io/path": "/metrics",
    }


def test_secrets_are_references_never_values() -> None:
    objects = built()
    container = agent_container(objects)
    (token,) = [variable for variable in container["env"] if variable["name"] == "ENVBOT_GITOPS_TOKEN"]
    assert token == {
        "name": "ENVBOT_GITOPS_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "envbot-github-token", "key": "token", "optional": True}},
    }
    volumes = {volume["name"]: volume for volume in pod(objects)["volumes"]}
    assert volumes["github-app"]["secret"] == {
        "secretName": "envbot-github-app",
        "optional": True,
        "defaultMode": 0o440,
        "items": [{"key": "private-key.pem", "path": "private-key.pem"}],
    }
    assert "Secret" not in objects
    assert all(
        not variable["name"].endswith(("TOKEN", "KEY", "PASSWORD")) or "value" not in variable
        for variable in container["env"]
    )


# -- the configuration it mounts ---------------------------------------------------------------------------------


def test_the_config_map_is_an_agent_configuration_that_fits_the_pod() -> None:
    objects = built()
    text = objects["ConfigMap"]["data"]["envbot.yaml"]
    config = parse_config(text, "configmap.yaml#envbot.yaml")
    assert config.agent.listen.endswith(":8080") and config.github_app is not None
    schema = json.loads((PROJECT_ROOT / "bot" / "schemas" / "envbot.schema.json").read_text(encoding="utf-8"))
    assert [error.message for error in Draft202012Validator(schema).iter_errors(yamldoc.load_one(text))] == []
    container, volumes = agent_container(objects), {volume["name"]: volume for volume in pod(objects)["volumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert volumes["config"]["configMap"]["name"] == objects["ConfigMap"]["metadata"]["name"]
    assert container["args"][container["args"].index("--config") + 1] == f"{mounts['config']}/envbot.yaml"
    (key,) = volumes["github-app"]["secret"]["items"]
    assert config.github_app.private_key_file == f"{mounts['github-app']}/{key['path']}"
    port = int(config.agent.listen.rpartition(":")[2])
    assert [p["containerPort"] for p in container["ports"]] == [port]


# -- what envbot bootstrap --agent writes ----------------------------------------------------------------------


def agent_tree(out_dir: Path) -> dict[str, str]:
    folder = out_dir / "platform" / "agent"
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir())}


def test_the_kustomization_is_in_the_form_bootstrap_writes() -> None:
    """bootstrap rewrites the kustomization: with no option given, it writes it back byte for byte."""
    text = base()[KUSTOMIZATION]
    assert yamldoc.dump_document(yamldoc.load_one(text)) == text


def test_bootstrap_agent_writes_the_deploy_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bootstrap", *PLATFORM, "--out", str(tmp_path), "--agent"]) == 0
    out = capsys.readouterr().out
    assert agent_tree(tmp_path) == base()
    assert f"wrote {tmp_path.as_posix()}/platform/agent/deployment.yaml" in out.splitlines()
    assert out.splitlines()[-1] == (
        "the agent's image is a placeholder: set --agent-image, or images: in its kustomization.yaml"
    )
    assert {path.name for path in (tmp_path / "platform" / "bootstrap").iterdir()} == {"envbot-infrastructure.yaml"}


def test_bootstrap_without_agent_writes_no_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bootstrap", *PLATFORM, "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "platform" / "agent").exists() and "platform/agent" not in capsys.readouterr().out


def test_bootstrap_sets_the_agents_image_and_namespace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = "ghcr.io/acme/envbot:0.1.0@sha256:" + "b" * 64
    argv = ["bootstrap", *PLATFORM, "--out", str(tmp_path), "--agent", "--agent-image", image]
    assert main([*argv, "--agent-namespace", "platform-bots"]) == 0
    assert "placeholder" not in capsys.readouterr().out
    written = agent_tree(tmp_path)
    assert {name: text for name, text in written.items() if name != KUSTOMIZATION} == {
        name: text for name, text in base().items() if name != KUSTOMIZATION
    }
    objects = by_kind(build(written))
    assert agent_container(objects)["image"] == image
    assert {obj["metadata"].get("namespace") for obj in objects.values()} == {None, "platform-bots"}
    assert objects["Namespace"]["metadata"]["name"] == "platform-bots"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--agent-image", "ghcr.io/acme/envbot", "error: agent image 'ghcr.io/acme/envbot' is not an image reference"),
        ("--agent-image", "ghcr.io/Acme/envbot:1", "error: agent image 'ghcr.io/Acme/envbot:1' is not an image"),
        ("--agent-image", "envbot:1 --privileged", "error: agent image 'envbot:1 --privileged' is not an image"),
        ("--agent-namespace", "Envbot", "error: agent namespace: 'Envbot' is not a DNS-1123 label"),
    ],
)
def test_bootstrap_refuses_a_bad_image_or_namespace_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    assert main(["bootstrap", *PLATFORM, "--out", str(tmp_path / "out"), "--agent", option, value]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(message) and captured.err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_bootstrap_refuses_agent_options_without_agent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bootstrap", *PLATFORM, "--out", str(tmp_path / "out"), "--agent-namespace", "bots"]) == 1
    assert capsys.readouterr().err == "error: --agent-image and --agent-namespace go with --agent\n"


def test_the_image_reference_split_follows_kustomize() -> None:
    assert split_image("registry.example:5000/envbot") == ("registry.example:5000/envbot", "", "")
    assert split_image("ghcr.io/acme/envbot:1.2@sha256:ab") == ("ghcr.io/acme/envbot", "1.2", "sha256:ab")


def test_deploy_is_the_package_data_of_bot() -> None:
    """One source: deploy/ at the top is bot/deploy/, which ships in the package for bootstrap to read."""
    assert DEPLOY.is_symlink() and DEPLOY.resolve() == (PROJECT_ROOT / "bot" / "deploy").resolve()
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    assert all(any(fnmatch(f"deploy/{name}", glob) for glob in globs) for name in base())
    assert "kubernetes-validate" in " ".join(pyproject["project"]["optional-dependencies"]["test"])


def test_the_install_docs_name_what_the_base_holds() -> None:
    """docs/agent.md#install says what the RBAC allows, which Secrets to create and where the key goes."""
    docs = (PROJECT_ROOT / "docs" / "agent.md").read_text(encoding="utf-8")
    objects = built()
    resources = {f"`{resource}.{group}`" for group, resource, _ in granted(objects["ClusterRole"])}
    secrets = {volume["secret"]["secretName"] for volume in pod(objects)["volumes"] if "secret" in volume}
    secrets |= {v["valueFrom"]["secretKeyRef"]["name"] for v in agent_container(objects)["env"] if "valueFrom" in v}
    config = parse_config(objects["ConfigMap"]["data"]["envbot.yaml"], "envbot.yaml")
    assert config.github_app is not None
    named = [*resources, *sorted(secrets), config.github_app.private_key_file, "strategy: Recreate", "kubectl apply -k"]
    assert [name for name in named if name not in docs] == []
