"""A Provision intent applied to its environment template: name, origin, chosen catalogs and typed parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bot.catalog.model import Catalog, CatalogSet, ParameterType
from bot.environment.bind import check_environment
from bot.environment.model import Environment, Origin
from bot.environment.spec import environment_from_document
from bot.errors import EnvironmentSpecError
from bot.events.comments import Reply, Setting, ValueProblem, coerce_value, reply
from bot.events.intents import Provision
from bot.events.text import quote
from bot.names import did_you_mean

MAX_PROBLEMS_SHOWN: Final = 5


def _origin_document(origin: Origin) -> dict[str, Any]:
    document: dict[str, Any] = {"kind": origin.kind.value}
    if origin.repository:
        document["repository"] = origin.repository
    if origin.branch:
        document["branch"] = origin.branch
    if origin.pull_request:
        document["pullRequest"] = origin.pull_request
    return document


def _targets(setting: Setting, chosen: list[str], catalogs: CatalogSet, problems: list[str]) -> Catalog | None:
    """The one catalog of the environment ``setting`` applies to, or None with the reason added to problems."""
    if setting.catalog is not None:
        if setting.catalog not in chosen:
            problems.append(
                f"{quote(str(setting))}: catalog {setting.catalog} is not part of this environment"
                f" ({', '.join(chosen) or 'none'})"
            )
            return None
        catalog = catalogs.get(setting.catalog)
        if catalog is not None and setting.name not in catalog.parameters:
            problems.append(
                f"{quote(str(setting))}: catalog {catalog.name} has no parameter {setting.name}"
                f"{did_you_mean(setting.name, list(catalog.parameters))}"
            )
            return None
        return catalog
    having = [c for n in chosen if (c := catalogs.get(n)) is not None and setting.name in c.parameters]
    if not having:
        everything = sorted({p for n in chosen if (c := catalogs.get(n)) is not None for p in c.parameters})
        problems.append(
            f"{quote(str(setting))}: no catalog of this environment has a parameter {setting.name}"
            f"{did_you_mean(setting.name, everything)}"
        )
        return None
    if len(having) > 1:
        names = ", ".join(c.name for c in having)
        problems.append(
            f"{quote(str(setting))}: {setting.name} is ambiguous ({names} all have it);"
            f" write {having[0].name}.{setting.name}=..."
        )
        return None
    return having[0]


def build_environment(
    template: Mapping[str, Any], provision: Provision, catalogs: CatalogSet, source: str
) -> Environment | Reply:
    """The environment ``provision`` asks for, from the parsed template document (``yamldoc.load_one``).

    The template's ``name`` may be left out: the intent's name is used, and also becomes the namespace unless
    the template sets one of its own. ``origin`` is the intent's; ``owner`` defaults to who asked. A command's
    catalogs keep only those (in the order given; a catalog the template lacks starts with no parameters), and
    its settings are typed with ``coerce_value`` and applied. Problems the commenter can fix come back as one
    ``Reply``; a broken template raises ``EnvironmentSpecError`` naming ``source``.
    """
    if not isinstance(template, Mapping):
        raise EnvironmentSpecError(f"{source}: an environment template must be a mapping with kind: Environment")
    document: dict[str, Any] = dict(template)
    template_name = document.get("name")
    document["name"] = provision.environment_name
    if document.get("namespace") in (None, template_name):
        document["namespace"] = provision.environment_name
    document["origin"] = _origin_document(provision.origin)
    if document.get("owner") is None and provision.requested_by:
        document["owner"] = provision.requested_by
    entries = document.get("catalogs")
    if not isinstance(entries, list):
        raise EnvironmentSpecError(f"{source}: catalogs: must be a non-empty list of {{name, parameters}}")
    by_name = {e["name"]: e for e in entries if isinstance(e, Mapping) and isinstance(e.get("name"), str)}

    problems: list[str] = []
    if provision.catalogs:
        chosen = list(provision.catalogs)
        for name in chosen:
            if name not in by_name and catalogs.get(name) is None:
                problems.append(
                    f"there is no catalog {name}{did_you_mean(name, list(catalogs.names()))}"
                    f" (known: {', '.join(catalogs.names()) or 'none'})"
                )
    else:
        chosen = list(by_name)
    selected: dict[str, dict[str, Any]] = {}
    for name in chosen:
        entry = by_name.get(name, {"name": name})
        parameters = entry.get("parameters") or {}
        selected[name] = {**entry, "parameters": dict(parameters) if isinstance(parameters, Mapping) else parameters}

    targeted: dict[tuple[str, str], Setting] = {}
    hidden: list[str] = []  # values written for secret parameters: refused, and never repeated in the reply
    for setting in provision.settings:
        catalog = _targets(setting, chosen, catalogs, problems)
        if catalog is None:
            continue
        if catalog.parameters[setting.name].type is ParameterType.SECRET and setting.value:
            hidden.append(setting.value)
        if (catalog.name, setting.name) in targeted:
            problems.append(f"{quote(setting.key)}: {catalog.name}.{setting.name} is set more than once")
            continue
        targeted[catalog.name, setting.name] = setting
        value = coerce_value(catalog.parameters[setting.name], setting.value)
        if isinstance(value, ValueProblem):
            problems.append(f"{catalog.name}.{setting.name} {value.message}")
            continue
        parameters = selected[catalog.name]["parameters"]
        if isinstance(parameters, dict):
            parameters[setting.name] = value
    if problems:
        return _problems_reply(provision, problems, hidden)

    document["catalogs"] = list(selected.values())
    environment = environment_from_document(document, source)
    found, _ = check_environment(environment, catalogs)
    if found:
        return _problems_reply(provision, [str(p) for p in found])
    return environment


def _problems_reply(provision: Provision, problems: list[str], hidden: list[str] | None = None) -> Reply:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    trigger = provision.trigger
    for value in hidden or ():
        trigger = trigger.replace(value, "***")
    what = quote(trigger) if trigger else "This request"
    found = reply("provision-problems", quoted=what, problems=shown, more=len(problems) - len(shown))
    return found
