"""Builds the Kubernetes objects envbot owns: Crossplane Workspaces, and the labels on every object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.catalog.model import Catalog, ParameterType, TerraformSource
from bot.documents import show
from bot.environment.model import CATALOG_LABEL, ENVIRONMENT_LABEL, Environment, SecretRef
from bot.environment.record import RecordedIntent
from bot.errors import EnvironmentSpecError, TemplateRenderError
from bot.names import (
    LABEL_RULE,
    MAX_SUBDOMAIN_LENGTH,
    SUBDOMAIN_RULE,
    is_dns1123_label,
    is_dns1123_subdomain,
)
from bot.render.settings import RenderSettings, object_name

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "envbot"
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# Kinds that live outside namespaces; envbot never gives them one.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ClusterSecretStore",
        "ClusterExternalSecret",
        "ClusterIssuer",
    }
)
# Kinds whose name must be a DNS-1123 label (it becomes a DNS name or a label value); any other name a subdomain.
LABEL_NAMED_KINDS = frozenset({"Application", "Namespace", "Service"})
# Kinds whose too-long name envbot shortens (nothing refers to an Argo CD Application by name); others are refused.
SHORTENED_KINDS = frozenset({"Application"})
# Kinds Kubernetes names by a path segment (``system:metrics-reader``): anything but '/', '%', '.' and '..'.
PATH_SEGMENT_NAMED_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def envbot_labels(environment: str, catalog: str) -> dict[str, str]:
    return {ENVIRONMENT_LABEL: environment, CATALOG_LABEL: catalog, MANAGED_BY_LABEL: MANAGED_BY}


def workspace_name(environment: str, catalog: str) -> str:
    return object_name(environment, catalog)


def connection_secret_name(environment: str, catalog: str) -> str:
    return object_name(environment, catalog, "connection")


def _secret_env(
    variable: str, ref: SecretRef, settings: RenderSettings, workspace_namespace: str | None, where: str
) -> dict[str, Any]:
    """``env`` entry of a secret variable. A cluster-scoped Workspace names the Secret's namespace; a namespaced
    one (tf.m.upbound.io) has no such field and reads Secrets of its own namespace only."""
    namespace, _, name = ref.path.rpartition("/")
    key_ref: dict[str, Any] = {"name": name, "key": ref.key}
    if workspace_namespace is None:
        key_ref["namespace"] = namespace or settings.secrets_namespace
    elif namespace and namespace != workspace_namespace:
        raise EnvironmentSpecError(
            f"{where}: a {settings.workspace_api.value} Workspace reads Secrets from its own namespace "
            f"{workspace_namespace} only, but the reference names namespace {namespace}"
        )
    return {"name": f"TF_VAR_{variable}", "secretKeyRef": key_ref}


def build_workspace(
    environment: Environment,
    catalog: Catalog,
    values: Mapping[str, Any],
    settings: RenderSettings,
) -> dict[str, Any]:
    """The Workspace that runs a catalog's Terraform with its parameters; ``values`` must be fully resolved."""
    assert catalog.terraform is not None, "only iac and hybrid catalogs have a Workspace"
    module = catalog.terraform
    name = workspace_name(environment.name, catalog.name)
    metadata: dict[str, Any] = {"name": name}
    if settings.workspace_api.namespaced:
        metadata["namespace"] = settings.workspace_namespace or environment.namespace
    metadata["labels"] = envbot_labels(environment.name, catalog.name)
    if catalog.version:
        metadata["annotations"] = {"envbot.io/catalog-version": catalog.version}

    string_vars: list[dict[str, str]] = []
    typed_vars: dict[str, Any] = {}
    secret_env: list[dict[str, Any]] = []
    for parameter_name in sorted(catalog.parameters):
        parameter = catalog.parameters[parameter_name]
        variable = parameter.terraform_variable
        if variable is None or parameter_name not in values:
            continue
        value = values[parameter_name]
        if parameter.type is ParameterType.SECRET:
            if isinstance(value, SecretRef):
                where = f"environment {environment.name}: catalog {catalog.name}: parameter {parameter_name}"
                secret_env.append(_secret_env(variable, value, settings, metadata.get("namespace"), where))
        elif value is None:
            continue
        elif isinstance(value, str):
            string_vars.append({"key": variable, "value": value})
        else:
            typed_vars[variable] = value
    if module.tags_variable:
        typed_vars[module.tags_variable] = {
            ENVIRONMENT_LABEL: environment.name,
            CATALOG_LABEL: catalog.name,
            MANAGED_BY_LABEL: MANAGED_BY,
        }

    for_provider: dict[str, Any] = {}
    if module.source is TerraformSource.INLINE:
        for_provider["source"] = "Inline"
        for_provider["module"] = module.inline_source()
    else:
        for_provider["source"] = "Remote"
        for_provider["module"] = module.remote_module
    if string_vars:
        for_provider["vars"] = string_vars
    if typed_vars:
        for_provider["varmap"] = dict(sorted(typed_vars.items()))
    if secret_env:
        for_provider["env"] = secret_env

    provider_config: dict[str, Any] = {"name": settings.provider_config}
    if settings.workspace_api.namespaced:
        provider_config = {"kind": settings.provider_config_kind, "name": settings.provider_config}
    spec: dict[str, Any] = {"providerConfigRef": provider_config, "forProvider": for_provider}
    if catalog.sensitive_outputs:
        secret_ref = {"name": connection_secret_name(environment.name, catalog.name)}
        if not settings.workspace_api.namespaced:
            secret_ref["namespace"] = settings.connection_secret_namespace
        spec["writeConnectionSecretToRef"] = secret_ref
    return {
        "apiVersion": settings.workspace_api.value,
        "kind": "Workspace",
        "metadata": metadata,
        "spec": spec,
    }


def stamp_object(document: Any, labels: Mapping[str, str], *, namespace: str | None, where: str) -> dict[str, Any]:
    """Check a rendered object's shape and give it envbot's labels (and a namespace when it has none)."""
    if not isinstance(document, dict):
        raise TemplateRenderError(f"{where}: every document must be a Kubernetes object (a mapping)")
    for field in ("apiVersion", "kind"):
        if not isinstance(document.get(field), str) or not document[field]:
            raise TemplateRenderError(f"{where}: an object has no {field}")
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise TemplateRenderError(f"{where}: a {document['kind']} has no metadata.name")
    kind = document["kind"]
    name = checked_object_name(kind, metadata["name"], where)
    if "namespace" in metadata and not is_dns1123_label(metadata["namespace"]):
        raise TemplateRenderError(
            f"{where}: {kind} {show(name)}: metadata.namespace {show(metadata['namespace'])} is not {LABEL_RULE}"
        )
    existing = metadata.get("labels") or {}
    if not isinstance(existing, dict):
        raise TemplateRenderError(f"{where}: {kind} {show(name)}: metadata.labels is not a mapping")
    stamped_metadata = {**metadata, "name": name}
    stamped_metadata["labels"] = {**{str(k): str(v) for k, v in existing.items()}, **labels}
    if namespace is not None and "namespace" not in metadata and kind not in CLUSTER_SCOPED_KINDS:
        stamped_metadata = {"name": name, "namespace": namespace, **stamped_metadata}
    stamped = dict(document)
    stamped["metadata"] = stamped_metadata
    return stamped


def checked_object_name(kind: str, name: str, where: str) -> str:
    """The name a rendered object gets: as written when Kubernetes accepts it for its kind; a too-long Application
    name shortened like a Workspace's (readable prefix, stable hash); any other bad name a ``TemplateRenderError``."""
    if kind in PATH_SEGMENT_NAMED_KINDS:
        if name not in (".", "..") and not any(c in name for c in "/%") and name.isprintable():
            return name
        rule = "a path segment (no '/', '%' or control characters, not '.' or '..')"
    elif kind not in LABEL_NAMED_KINDS:
        if is_dns1123_subdomain(name):
            return name
        rule = SUBDOMAIN_RULE
    else:
        if is_dns1123_label(name):
            return name
        if kind in SHORTENED_KINDS and is_dns1123_label(name, max_length=MAX_SUBDOMAIN_LENGTH):
            return object_name(name)
        rule = LABEL_RULE
    raise TemplateRenderError(f"{where}: {kind} {show(name)}: metadata.name is not {rule}")


def is_application(document: Mapping[str, Any]) -> bool:
    api_version = document.get("apiVersion")
    return (
        isinstance(api_version, str)
        and api_version.startswith("argoproj.io/")
        and document.get("kind") in ("Application", "ApplicationSet")
    )


def with_argocd_finalizer(application: dict[str, Any]) -> dict[str, Any]:
    """Argo CD deletes an Application's resources only when it carries the resources finalizer."""
    metadata = dict(application["metadata"])
    finalizers = list(metadata.get("finalizers") or [])
    if application.get("kind") == "Application" and ARGOCD_FINALIZER not in finalizers:
        finalizers.append(ARGOCD_FINALIZER)
        metadata["finalizers"] = finalizers
    return {**application, "metadata": metadata}


RETRY_ANNOTATION = "envbot.io/retry"


def stamp_retry(document: dict[str, Any], retry: RecordedIntent | None) -> dict[str, Any]:
    """Annotate an object with the retry count, so a retry changes its generation and the controller re-runs it."""
    if retry is None:
        return document
    metadata = dict(document["metadata"])
    metadata["annotations"] = {**(metadata.get("annotations") or {}), RETRY_ANNOTATION: str(retry.count)}
    return {**document, "metadata": metadata}
