"""Parses catalog folders, given as the text of their files, into checked ``Catalog`` objects (pure: no I/O)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from bot import yamldoc
from bot.catalog import konstruct
from bot.catalog.model import (
    API_VERSION,
    CAMEL_CASE_NAME,
    TERRAFORM_SECRET_BACKEND,
    Catalog,
    CatalogSet,
    CatalogType,
    Output,
    Parameter,
    ParameterType,
    SecretDefaults,
    Template,
    TerraformModule,
    TerraformSource,
    camel_case,
    snake_case,
)
from bot.catalog.templating import check_template_syntax
from bot.catalog.terraform import TerraformOutput, TerraformParseError, TerraformVariable, parse_module
from bot.catalog.values import problem_with_value
from bot.documents import Node, Problems, describe_type
from bot.errors import CatalogError
from bot.names import label_problem

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")

_CATALOG_KEYS = (
    "apiVersion",
    "kind",
    "name",
    "type",
    "description",
    "version",
    "parameters",
    "outputs",
    "terraform",
    "templates",
)
_PARAMETER_KEYS = (
    "type",
    "description",
    "required",
    "default",
    "options",
    "pattern",
    "minimum",
    "maximum",
    "terraformVariable",
    "secret",
)
_OUTPUT_KEYS = ("description", "sensitive", "example", "terraformOutput")
_TERRAFORM_KEYS = ("source", "module", "tagsVariable")
_SECRET_KEYS = ("backend", "env", "key", "path")
_TF_SCALAR_TYPES = {
    "string": ParameterType.STRING,
    "number": ParameterType.NUMBER,
    "bool": ParameterType.BOOLEAN,
}
_CAMEL_CASE_RULE = "names are camelCase: a lowercase letter, then letters and digits"


@dataclass(frozen=True)
class CatalogFiles:
    """The raw files of one catalog folder: relative POSIX path → text."""

    name: str
    root: str
    files: Mapping[str, str]


def parse_catalogs(folders: Iterable[CatalogFiles]) -> CatalogSet:
    """Check and build every catalog; all problems of all catalogs are raised together."""
    catalogs: dict[str, Catalog] = {}
    problems: list[str] = []
    for raw in folders:
        try:
            catalog = parse_catalog(raw)
        except CatalogError as exc:
            problems.extend(exc.problems)
            continue
        catalogs[catalog.name] = catalog
    if problems:
        raise CatalogError(problems)
    return CatalogSet(catalogs)


def _digest(files: Mapping[str, str]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(files):
        data = files[name].encode()
        hasher.update(f"{name}\0{len(data)}\0".encode())
        hasher.update(data)
    return hasher.hexdigest()


def parse_catalog(raw: CatalogFiles) -> Catalog:
    """Check and build one catalog from its files."""
    source = f"{raw.root}/catalog.yaml"
    if "catalog.yaml" not in raw.files:
        raise CatalogError(f"{source}: file not found")
    try:
        document = yamldoc.load_one(raw.files["catalog.yaml"])
    except yamldoc.YamlError as exc:
        raise CatalogError(f"{source}: {exc}") from None
    if document is not None and not isinstance(document, dict):
        raise CatalogError(f"{source}: must be a mapping, got {describe_type(document)}")
    body = Node(document, source).mapping(_CATALOG_KEYS)
    body["apiVersion"].choice((API_VERSION,), API_VERSION)
    body["kind"].choice(("Catalog",), "Catalog")
    name = _catalog_name(body["name"], raw.name)
    catalog_type = body["type"].choice(CatalogType, required=True)
    if catalog_type is None:
        raise CatalogError(body.problems.lines)
    description = body["description"].string("")
    version = _version(body["version"])
    terraform = body["terraform"].mapping(_TERRAFORM_KEYS) if catalog_type.has_terraform else body["terraform"]
    tags_variable = _tags_variable(terraform) if catalog_type.has_terraform else None

    tf_variables, tf_outputs, tf_creates = _read_terraform(raw, catalog_type, body.problems)
    parameters = _parameters(raw, body, catalog_type, tf_variables, tags_variable)
    outputs = _outputs(body, catalog_type, tf_outputs)
    terraform_module = _terraform(
        raw, body, terraform, catalog_type, parameters, tf_variables, tf_creates, tags_variable
    )
    _check_secret_backends(parameters, body["parameters"])
    templates = _templates(raw, body["templates"], catalog_type)
    values = _values_document(raw, body.problems)

    body.problems.raise_if_any(CatalogError)
    return Catalog(
        name=name,
        type=catalog_type,
        description=description.strip(),
        version=version,
        parameters=parameters,
        outputs=outputs,
        terraform=terraform_module,
        templates=templates,
        values=values,
        digest=_digest(raw.files),
    )


def _catalog_name(node: Node, folder: str) -> str:
    """``name`` (default: the folder's), a DNS-1123 label and the folder's name."""
    name = node.string(folder)
    problem = label_problem(name)
    if problem is not None:
        node.problem(problem)
    elif name != folder:
        node.problem(f"{name!r} differs from the folder name {folder!r}")
    return name


def _version(node: Node) -> str:
    """``version``: text, though an unquoted 1.2 (a number) is taken as written."""
    if not node.given:
        return ""
    if isinstance(node.value, bool) or not isinstance(node.value, str | int | float):
        node.problem(f"must be a string, got {node.kind}")
        return ""
    return str(node.value)


def _read_terraform(
    raw: CatalogFiles, catalog_type: CatalogType, problems: Problems
) -> tuple[dict[str, TerraformVariable] | None, dict[str, TerraformOutput] | None, bool | None]:
    """Variables and outputs of the catalog's own ``.tf`` files (None without any), and whether they declare
    something for Terraform to create (None when unknown: a file is not valid HCL)."""
    tf_files = sorted(name for name in raw.files if name.endswith(".tf") and "/" not in name)
    if not catalog_type.has_terraform:
        return None, None, None
    if not tf_files:
        return None, None, None
    variables: dict[str, TerraformVariable] = {}
    outputs: dict[str, TerraformOutput] = {}
    creates: bool | None = False
    for file in tf_files:
        try:
            file_variables, file_outputs, file_creates = parse_module(raw.files[file])
        except TerraformParseError as exc:
            problems.add(f"{raw.root}/{file}", "", f"is not valid HCL: {exc}")
            creates = None
            continue
        variables.update((v.name, v) for v in file_variables)
        outputs.update((o.name, o) for o in file_outputs)
        if creates is not None:
            creates = creates or file_creates
    return variables, outputs, creates


def _parameters(
    raw: CatalogFiles,
    body: Node,
    catalog_type: CatalogType,
    tf_variables: dict[str, TerraformVariable] | None,
    tags_variable: str | None,
) -> dict[str, Parameter]:
    """Those ``catalog.yaml`` declares, else the annotations of ``values.yaml``, else the variables of the module."""
    declared = body["parameters"].mapping().entries()
    if declared:
        found = (_parameter(name, spec, catalog_type) for name, spec in declared)
        return {parameter.name: parameter for parameter in found if parameter is not None}
    if "values.yaml" in raw.files and catalog_type.has_templates:
        return _parameters_from_values(raw.files["values.yaml"], f"{raw.root}/values.yaml", body.problems)
    if catalog_type.has_terraform and tf_variables is not None:
        return _parameters_from_variables(tf_variables, tags_variable, f"{raw.root}/variables.tf", body.problems)
    return {}


def _parameter(name: str, node: Node, catalog_type: CatalogType) -> Parameter | None:
    if not CAMEL_CASE_NAME.match(name):
        node.problem(f"parameter {_CAMEL_CASE_RULE}")
        return None
    spec = node.mapping(_PARAMETER_KEYS)
    before = len(spec.problems)
    kind = spec["type"].choice(ParameterType, ParameterType.STRING)
    if len(spec.problems) != before:
        return None  # checked as another type, its other fields would only mislead
    secret = _secret_defaults(spec["secret"])
    if secret is not None and kind is not ParameterType.SECRET:
        spec["secret"].problem("only parameters of type secret take secret defaults")
    terraform_variable = spec["terraformVariable"].string()
    if terraform_variable is None and catalog_type.has_terraform:
        terraform_variable = snake_case(name)
    return _checked_parameter(
        name,
        kind,
        spec,
        default=spec["default"].value,
        has_default=spec["default"].present,
        terraform_variable=terraform_variable,
        secret=secret or SecretDefaults(),
    )


def _secret_defaults(node: Node) -> SecretDefaults | None:
    if not node.given:
        return None
    secret = node.mapping(_SECRET_KEYS)
    return SecretDefaults(**{key: secret[key].string() for key in _SECRET_KEYS})


def _checked_parameter(
    name: str,
    kind: ParameterType,
    spec: Node,
    *,
    default: Any,
    has_default: bool,
    terraform_variable: str | None,
    secret: SecretDefaults,
) -> Parameter | None:
    """The parameter ``spec`` declares (its description, required, options, pattern and limits), or None after
    noting what is wrong with it; shared by ``catalog.yaml``, ``values.yaml`` annotations and ``variables.tf``."""
    before = len(spec.problems)
    description = spec["description"].string("")
    required = spec["required"].boolean(False)
    if required and has_default:
        spec.problem("a required parameter cannot have a default")
    options = _options(spec["options"], kind)
    pattern = _pattern(spec["pattern"], kind)
    minimum, maximum = _limit(spec["minimum"], kind), _limit(spec["maximum"], kind)
    if minimum is not None and maximum is not None and minimum > maximum:
        spec.problem(f"minimum {minimum} is greater than maximum {maximum}")
    if kind is ParameterType.SECRET and has_default:
        spec["default"].problem("a secret parameter takes no default value (use secret: defaults)")
    if len(spec.problems) != before:
        return None
    parameter = Parameter(
        name=name,
        type=kind,
        description=description.strip(),
        required=required,
        default=default,
        has_default=has_default,
        options=options,
        pattern=pattern,
        minimum=minimum,
        maximum=maximum,
        terraform_variable=terraform_variable,
        secret=secret,
    )
    if has_default and kind is not ParameterType.SECRET and default is not None:
        problem = problem_with_value(parameter, default)
        if problem:
            spec["default"].problem(problem)
            return None
    return parameter


def _options(node: Node, kind: ParameterType) -> tuple[Any, ...]:
    options = node.value
    if kind is not ParameterType.ENUM:
        if node.given:
            node.problem("only enum parameters take options")
    elif not isinstance(options, list) or not options:
        node.problem("an enum parameter needs a non-empty list of options")
    elif any(isinstance(option, dict | list) or option is None for option in options):
        node.problem("options must be plain values (strings, numbers, booleans)")
    elif len({repr(option) for option in options}) != len(options):
        node.problem("options must not repeat")
    else:
        return tuple(options)
    return ()


def _pattern(node: Node, kind: ParameterType) -> str | None:
    if node.given and kind is not ParameterType.STRING:
        node.problem("only string parameters take a pattern")
        return None
    pattern = node.string()
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            node.problem(f"is not a valid regular expression: {exc}")
    return pattern


def _limit(node: Node, kind: ParameterType) -> int | float | None:
    if not node.given:
        return None
    if kind not in (ParameterType.INTEGER, ParameterType.NUMBER):
        node.problem("only integer and number parameters take limits")
    elif isinstance(node.value, bool) or not isinstance(node.value, int | float):
        node.problem(f"must be a number, got {node.kind}")
    else:
        return node.value
    return None


def _parameters_from_values(text: str, source: str, problems: Problems) -> dict[str, Parameter]:
    """Konstruct's ``# @input.*`` annotations; each annotated key is a node at ``line N (its.path)``."""
    try:
        annotations = konstruct.read_annotations(text)
        document = yamldoc.load_one(text, yamldoc.Schema.KUBERNETES)
    except (konstruct.AnnotationError, yamldoc.YamlError) as exc:
        problems.add(source, "", str(exc))
        return {}
    parameters: dict[str, Parameter] = {}
    for annotation in annotations:
        name = annotation.path[-1]
        fields = dict(annotation.fields)
        where = f"line {annotation.line} ({'.'.join(annotation.path)})"
        spec = Node(fields, source, where, problems)
        if not CAMEL_CASE_NAME.match(name):
            spec.problem(f"parameter {_CAMEL_CASE_RULE}")
            continue
        if name in parameters:
            spec.problem(f"a second annotated key named {name!r}")
            continue
        is_secret = any(key.startswith("secret") for key in fields)
        type_text = "secret" if is_secret else fields.get("type", "string")
        kind = Node(type_text, source, f"{where}: @input.type", problems).choice(ParameterType)
        if kind is None:
            continue
        exists, current = konstruct.value_at(document, annotation.path)
        has_default = "default" in fields or (exists and current not in (None, "") and not is_secret)
        parameter = _checked_parameter(
            name,
            kind,
            spec,
            default=fields.get("default", current) if has_default else None,
            has_default=has_default and not fields.get("required", False),
            terraform_variable=None,
            secret=SecretDefaults(
                backend=_str_or_none(fields.get("secretBackend")),
                path=_str_or_none(fields.get("secretPath")),
                key=_str_or_none(fields.get("secretKey")),
                env=_str_or_none(fields.get("secretEnv")),
            ),
        )
        if parameter is not None:
            parameters[name] = replace(parameter, values_path=annotation.path)
    return parameters


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _parameters_from_variables(
    variables: dict[str, TerraformVariable], tags_variable: str | None, source: str, problems: Problems
) -> dict[str, Parameter]:
    """The module's variables of a scalar type (the tags variable aside); each a node at ``variable 'name'``."""
    parameters: dict[str, Parameter] = {}
    for variable in variables.values():
        if variable.name == tags_variable:
            continue
        spec = Node(
            {"description": variable.description, "required": not variable.has_default},
            source,
            f"variable {variable.name!r}",
            problems,
        )
        type_text = (variable.type or "string").replace(" ", "")
        kind = _TF_SCALAR_TYPES.get(type_text)
        if variable.sensitive and kind is ParameterType.STRING:
            kind = ParameterType.SECRET
        if kind is None:
            if not variable.has_default:
                spec.problem(
                    f"has type {variable.type}, which envbot cannot take as a parameter; give it a default "
                    "or declare parameters in catalog.yaml"
                )
            continue
        name = camel_case(variable.name)
        if not CAMEL_CASE_NAME.match(name):
            spec.problem(f"its name does not make a camelCase parameter name ({name!r})")
            continue
        is_secret = kind is ParameterType.SECRET
        parameter = _checked_parameter(
            name,
            kind,
            spec,
            default=None if is_secret else variable.default,
            has_default=variable.has_default and not is_secret,
            terraform_variable=variable.name,
            secret=SecretDefaults(backend=TERRAFORM_SECRET_BACKEND) if is_secret else SecretDefaults(),
        )
        if parameter is not None:
            parameters[name] = parameter
    return parameters


def _outputs(body: Node, catalog_type: CatalogType, tf_outputs: dict[str, TerraformOutput] | None) -> dict[str, Output]:
    """Those ``catalog.yaml`` declares, else every output of ``outputs.tf``."""
    declared = body["outputs"].mapping().entries()
    if declared and not catalog_type.has_terraform:
        body["outputs"].problem("only iac and hybrid catalogs have Terraform outputs")
        return {}
    if not declared and tf_outputs:
        from_terraform = {
            camel_case(o.name): {"sensitive": o.sensitive, "terraformOutput": o.name, "description": o.description}
            for o in tf_outputs.values()
        }
        declared = replace(body["outputs"], value=from_terraform).entries()
    outputs: dict[str, Output] = {}
    for name, node in declared:
        if not CAMEL_CASE_NAME.match(name):
            node.problem(f"output {_CAMEL_CASE_RULE}")
            continue
        spec = node.mapping(_OUTPUT_KEYS)
        before = len(spec.problems)
        sensitive = spec["sensitive"].boolean(False)
        terraform_output = spec["terraformOutput"].string(snake_case(name))
        if len(spec.problems) != before:
            continue
        if sensitive and spec["example"].present:
            spec["example"].problem("a sensitive output carries no example value")
        declared_tf = tf_outputs.get(terraform_output) if tf_outputs is not None else None
        if tf_outputs is not None and declared_tf is None:
            spec.problem(f"outputs.tf declares no output {terraform_output!r}")
        elif declared_tf is not None and declared_tf.sensitive and not sensitive:
            spec["sensitive"].problem(f"Terraform marks {terraform_output!r} sensitive; declare it sensitive")
        description = spec["description"]
        outputs[name] = Output(
            name=name,
            sensitive=sensitive,
            description=str(description.value).strip() if description.given else "",
            example=spec["example"].value,
            terraform_output=terraform_output,
        )
    return outputs


def _tags_variable(terraform: Node) -> str | None:
    """``terraform.tagsVariable``: the variable that receives the labels as tags; ``null`` for none."""
    tags = terraform["tagsVariable"]
    return tags.string() if tags.present else "tags"


def _terraform(
    raw: CatalogFiles,
    body: Node,
    section: Node,
    catalog_type: CatalogType,
    parameters: dict[str, Parameter],
    tf_variables: dict[str, TerraformVariable] | None,
    tf_creates: bool | None,
    tags_variable: str | None,
) -> TerraformModule | None:
    if not catalog_type.has_terraform:
        if section.given:
            section.problem("only iac and hybrid catalogs have a Terraform module")
        return None
    before = len(section.problems)
    source = section["source"].choice(TerraformSource, TerraformSource.INLINE)
    if len(section.problems) != before:
        return None
    module = section["module"]
    inline_files: tuple[tuple[str, str], ...] = ()
    if source is TerraformSource.REMOTE:
        if not isinstance(module.value, str) or not module.value.strip():
            module.problem("a remote module needs its address (for example git::https://...)")
    else:
        if module.given:
            module.problem("only a remote source takes a module address")
        if tf_variables is None:
            article = "an" if catalog_type is CatalogType.IAC else "a"
            section.problem(
                f"{article} {catalog_type} catalog needs a Terraform module: main.tf, variables.tf and outputs.tf "
                "beside catalog.yaml (source: inline, the default), or source: remote with its module address",
            )
        elif tf_creates is False:
            section.problem(
                "the module's .tf files declare no resource, module or data block: Terraform would create nothing"
            )
        inline_files = tuple(
            (name, raw.files[name]) for name in sorted(raw.files) if name.endswith(".tf") and "/" not in name
        )
    declared = frozenset(tf_variables) if tf_variables is not None else frozenset()
    if tf_variables is not None:
        for parameter in list(parameters.values()):
            variable = parameter.terraform_variable
            if not variable or variable in tf_variables:
                continue
            implied = variable == snake_case(parameter.name)
            if catalog_type is CatalogType.HYBRID and implied:
                # In a hybrid catalog a parameter Terraform does not declare belongs to the templates alone.
                parameters[parameter.name] = replace(parameter, terraform_variable=None)
                continue
            body["parameters"][parameter.name].problem(f"variables.tf declares no variable {variable!r}")
        if tags_variable is not None and tags_variable not in tf_variables:
            tags_variable = None
    return TerraformModule(
        source=source,
        inline_files=inline_files,
        remote_module=module.value if source is TerraformSource.REMOTE else None,
        tags_variable=tags_variable,
        declared_variables=declared,
    )


def _check_secret_backends(parameters: Mapping[str, Parameter], declared: Node) -> None:
    """A secret's default backend must be one envbot can render: a label for templates, kubernetes for Terraform."""
    for parameter in parameters.values():
        backend = parameter.secret.backend
        if parameter.type is not ParameterType.SECRET or backend is None:
            continue
        at = declared[parameter.name]["secret"]["backend"]
        problem = label_problem(backend)
        if problem is not None:
            at.problem(f"{problem}, so no reference can use it; name one such as vault or kubernetes")
        elif parameter.terraform_variable is not None and backend != TERRAFORM_SECRET_BACKEND:
            at.problem(
                f"{backend!r} cannot reach Terraform: a Workspace reads secret variables (TF_VAR_"
                f"{parameter.terraform_variable}) from a Kubernetes Secret, so the backend is "
                f"{TERRAFORM_SECRET_BACKEND}",
            )


def _templates(raw: CatalogFiles, folder_node: Node, catalog_type: CatalogType) -> tuple[Template, ...]:
    folder = folder_node.string("templates")
    if folder.startswith("/") or ".." in PurePosixPath(folder).parts:
        folder_node.problem("must be a folder inside the catalog")
        return ()
    prefix = folder.rstrip("/") + "/"
    names = sorted(name for name in raw.files if name.startswith(prefix) and name.endswith(TEMPLATE_SUFFIXES))
    problems = folder_node.problems
    if not catalog_type.has_templates:
        if names:
            problems.add(
                f"{raw.root}/{prefix}", "", "an iac catalog has no templates; make it hybrid to deploy applications"
            )
        return ()
    if not names:
        problems.add(
            f"{raw.root}/{prefix}", "", "no *.yaml templates found; a yaml or hybrid catalog needs at least one"
        )
    for name in names:
        syntax_problem = check_template_syntax(raw.files[name], name)
        if syntax_problem:
            problems.add(f"{raw.root}/{name}", "", syntax_problem)
    return tuple(Template(path=name, source=raw.files[name]) for name in names)


def _values_document(raw: CatalogFiles, problems: Problems) -> dict[str, Any] | None:
    if "values.yaml" not in raw.files:
        return None
    source = f"{raw.root}/values.yaml"
    try:
        document = yamldoc.load_one(raw.files["values.yaml"], yamldoc.Schema.KUBERNETES)
    except yamldoc.YamlError as exc:
        problems.add(source, "", str(exc))
        return None
    if document is None:
        return {}
    if not isinstance(document, dict):
        problems.add(source, "", f"must be a mapping, got {describe_type(document)}")
        return None
    return document
