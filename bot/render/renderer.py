"""The renderer: (bound environment, known outputs, settings) → the files of both GitOps repositories. Pure."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import yamldoc
from bot.catalog import konstruct
from bot.catalog.model import Catalog, CatalogType, ParameterType
from bot.catalog.templating import render_template
from bot.catalog.values import problem_with_value
from bot.environment.model import BoundCatalog, BoundEnvironment, Environment, OutputRef, SecretRef
from bot.environment.record import RecordedIntent, record_text
from bot.errors import UserError
from bot.render.manifests import (
    build_workspace,
    connection_secret_name,
    envbot_labels,
    is_application,
    stamp_object,
    stamp_retry,
    with_argocd_finalizer,
)
from bot.render.settings import RenderSettings
from bot.render.spec_hash import stamp_spec_hash

KnownOutputs = Mapping[str, Mapping[str, Any]]


class Repo(enum.StrEnum):
    """The two GitOps repositories."""

    PLATFORM = "platform"
    APPS = "apps"


@dataclass(frozen=True)
class RenderedFile:
    """One file for one repository."""

    repo: Repo
    path: str
    content: str
    catalog: str | None


@dataclass(frozen=True)
class Pending:
    """A part of a catalog that cannot be rendered yet because it waits on a Terraform output."""

    catalog: str
    part: str  # "infrastructure" or "applications"
    waits_on: OutputRef
    parameter: str | None

    def __str__(self) -> str:
        what = f"parameter {self.parameter}" if self.parameter else "its templates"
        return f"{self.catalog} {self.part}: {what} waits on output {self.waits_on}"


@dataclass(frozen=True)
class RenderResult:
    """Everything one render produced: files per repository, and what still waits on outputs."""

    platform: tuple[RenderedFile, ...]
    apps: tuple[RenderedFile, ...]
    pending: tuple[Pending, ...]

    def files(self, repo: Repo) -> dict[str, str]:
        chosen = self.platform if repo is Repo.PLATFORM else self.apps
        return {f.path: f.content for f in chosen}


def render_environment(
    bound: BoundEnvironment,
    known_outputs: KnownOutputs | None = None,
    settings: RenderSettings | None = None,
    *,
    deletion: RecordedIntent | None = None,
    retry: RecordedIntent | None = None,
) -> RenderResult:
    """Render both repositories' files. Parts that wait on unknown outputs are left out and reported pending.

    ``deletion`` and ``retry`` are the intents kept in the record; a retry also stamps every Workspace and
    Application with its count, so the controllers see a new generation and try again.
    """
    settings = settings or RenderSettings()
    outputs = _checked_outputs(bound, known_outputs or {})
    environment = bound.environment
    layout = settings.layout
    platform: list[RenderedFile] = [
        RenderedFile(
            Repo.PLATFORM,
            layout.record_path(environment.name),
            record_text(bound, deletion=deletion, retry=retry),
            None,
        )
    ]
    apps: list[RenderedFile] = []
    pending: list[Pending] = []
    for item in bound.catalogs:
        catalog = item.catalog
        if catalog.type.has_terraform:
            values, waiting = _resolve(environment.name, item, outputs, terraform_only=True)
            if waiting:
                pending.extend(Pending(catalog.name, "infrastructure", ref, p) for p, ref in waiting)
            else:
                workspace = stamp_spec_hash(stamp_retry(build_workspace(environment, catalog, values, settings), retry))
                platform.append(
                    RenderedFile(
                        Repo.PLATFORM,
                        layout.infrastructure_path(environment.name, catalog.name),
                        yamldoc.dump_document(workspace),
                        catalog.name,
                    )
                )
        if catalog.type.has_templates:
            values, waiting = _resolve(environment.name, item, outputs, terraform_only=False)
            own_outputs: dict[str, Any] = {}
            if catalog.type is CatalogType.HYBRID:
                for output in catalog.outputs.values():
                    if output.sensitive:
                        continue
                    if output.name in outputs.get(catalog.name, {}):
                        own_outputs[output.name] = outputs[catalog.name][output.name]
                    else:
                        waiting.append((None, OutputRef(catalog.name, output.name)))
            if waiting:
                pending.extend(Pending(catalog.name, "applications", ref, p) for p, ref in waiting)
                continue
            apps.extend(_render_templates(environment, catalog, values, own_outputs, settings, retry))
    return RenderResult(platform=tuple(platform), apps=tuple(apps), pending=tuple(pending))


def _checked_outputs(bound: BoundEnvironment, known: KnownOutputs) -> dict[str, dict[str, Any]]:
    """Keep the outputs of this environment's catalogs; refuse sensitive ones without echoing them."""
    problems: list[str] = []
    checked: dict[str, dict[str, Any]] = {}
    catalogs = {item.name: item.catalog for item in bound.catalogs}
    for catalog_name, values in known.items():
        catalog = catalogs.get(catalog_name)
        if catalog is None or not isinstance(values, Mapping):
            continue
        for output_name, value in values.items():
            output = catalog.outputs.get(output_name)
            if output is None:
                continue
            if output.sensitive:
                problems.append(
                    f"outputs: {catalog_name}.{output_name} is sensitive; envbot never reads sensitive outputs"
                )
                continue
            checked.setdefault(catalog_name, {})[output_name] = value
    if problems:
        raise UserError(problems)
    return checked


def _output_value_for(parameter_type: ParameterType, value: Any) -> Any:
    """Terraform hands out numbers and booleans where a string parameter may want text."""
    if parameter_type is ParameterType.STRING and isinstance(value, bool):
        return "true" if value else "false"
    if parameter_type is ParameterType.STRING and isinstance(value, int | float):
        return str(value)
    return value


def _resolve(
    environment: str, item: BoundCatalog, outputs: Mapping[str, Mapping[str, Any]], *, terraform_only: bool
) -> tuple[dict[str, Any], list[tuple[str | None, OutputRef]]]:
    values: dict[str, Any] = {}
    waiting: list[tuple[str | None, OutputRef]] = []
    for name, value in item.values.items():
        parameter = item.catalog.parameters[name]
        if terraform_only and parameter.terraform_variable is None:
            continue
        if not isinstance(value, OutputRef):
            values[name] = value
            continue
        known = outputs.get(value.catalog, {})
        if value.output not in known:
            waiting.append((name, value))
            continue
        resolved = _output_value_for(parameter.type, known[value.output])
        problem = problem_with_value(parameter, resolved)
        if problem:
            raise UserError(
                f"environment {environment}: catalog {item.name}: parameter {name}: output {value} {problem}"
            )
        values[name] = resolved
    return values, waiting


def _template_params(catalog: Catalog, values: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name in catalog.parameters:
        value = values.get(name)
        if isinstance(value, SecretRef):
            params[name] = {"backend": value.backend, "path": value.path, "key": value.key, "env": value.env}
        else:
            params[name] = value
    return params


def _render_templates(
    environment: Environment,
    catalog: Catalog,
    values: Mapping[str, Any],
    own_outputs: Mapping[str, Any],
    settings: RenderSettings,
    retry: RecordedIntent | None,
) -> list[RenderedFile]:
    labels = envbot_labels(environment.name, catalog.name)
    params = _template_params(catalog, values)
    context: dict[str, Any] = {
        "environment": {
            "name": environment.name,
            "namespace": environment.namespace,
            "type": environment.type.value,
            "description": environment.description,
            "cluster": environment.cluster,
            "owner": environment.owner or "",
        },
        "catalog": {"name": catalog.name, "version": catalog.version},
        "params": params,
        "labels": labels,
    }
    if catalog.type is CatalogType.HYBRID:
        context["outputs"] = dict(own_outputs)
        if catalog.sensitive_outputs:
            context["connectionSecret"] = {
                "name": connection_secret_name(environment.name, catalog.name),
                "namespace": settings.connection_secret_namespace,
            }
    if catalog.values is not None:
        assignments = {p.values_path: params[p.name] for p in catalog.parameters.values() if p.values_path}
        context["values"] = konstruct.with_values(catalog.values, assignments)

    applications: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for template in catalog.templates:
        where = f"catalogs/{catalog.name}/{template.path}"
        for document in render_template(template.source, where, context):
            if isinstance(document, dict) and is_application(document):
                stamped = stamp_object(document, labels, namespace=settings.argocd_namespace, where=where)
                applications.append(stamp_spec_hash(stamp_retry(with_argocd_finalizer(stamped), retry)))
            else:
                others.append(stamp_object(document, labels, namespace=environment.namespace, where=where))
    layout = settings.layout
    files: list[RenderedFile] = []
    if applications:
        files.append(
            RenderedFile(
                Repo.APPS,
                layout.applications_path(environment.name, environment.cluster, catalog.name),
                yamldoc.dump_documents(applications),
                catalog.name,
            )
        )
    if others:
        files.append(
            RenderedFile(
                Repo.APPS,
                layout.manifests_path(environment.name, environment.cluster, catalog.name),
                yamldoc.dump_documents(others),
                catalog.name,
            )
        )
    return files
