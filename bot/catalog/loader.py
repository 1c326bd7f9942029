"""Reads catalog folders (a thin I/O shell) and parses them into checked ``Catalog`` objects (pure)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
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
from bot.catalog.values import describe_type, problem_with_value
from bot.errors import CatalogError
from bot.names import MAX_LABEL_LENGTH, is_dns1123_label

MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 500
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".yaml.j2", ".yml.j2")

_CATALOG_KEYS = frozenset(
    {
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
    }
)
_PARAMETER_KEYS = frozenset(
    {
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
    }
)
_OUTPUT_KEYS = frozenset({"description", "sensitive", "example", "terraformOutput"})
_TERRAFORM_KEYS = frozenset({"source", "module", "tagsVariable"})
_SECRET_KEYS = frozenset({"backend", "path", "key", "env"})
_TF_SCALAR_TYPES = {
    "string": ParameterType.STRING,
    "number": ParameterType.NUMBER,
    "bool": ParameterType.BOOLEAN,
}


@dataclass(frozen=True)
class CatalogFiles:
    """The raw files of one catalog folder: relative POSIX path → text."""

    name: str
    root: str
    files: Mapping[str, str]


@dataclass
class _Problems:
    """Collects every problem of one catalog so they are reported at once."""

    root: str
    lines: list[str] = field(default_factory=list)

    def add(self, file: str, where: str, message: str) -> None:
        location = f"{self.root}/{file}"
        self.lines.append(f"{location}: {where}: {message}" if where else f"{location}: {message}")


def read_catalog_folder(folder: Path) -> CatalogFiles:
    """Read every regular file of a catalog folder, refusing links that leave it and oversized files."""
    root = folder.resolve()
    shown = folder.as_posix()
    problems: list[str] = []
    files: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in PurePosixPath(relative).parts):
            continue
        if path.is_symlink():
            target = path.resolve()
            if not target.is_relative_to(root):
                problems.append(f"{shown}/{relative}: is a symbolic link pointing outside the catalog folder")
                continue
        if not path.is_file():
            continue
        if len(files) >= MAX_FILES:
            problems.append(f"{shown}: holds more than {MAX_FILES} files")
            break
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(f"{shown}/{relative}: is {size} bytes; catalog files may be at most {MAX_FILE_BYTES}")
            continue
        try:
            files[relative] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            if relative == "catalog.yaml" or relative.endswith((".tf", *TEMPLATE_SUFFIXES)):
                problems.append(f"{shown}/{relative}: is not UTF-8 text")
    if problems:
        raise CatalogError(problems)
    return CatalogFiles(name=folder.name, root=shown, files=files)


def load_catalogs(catalogs_dir: Path) -> CatalogSet:
    """Load every catalog under ``catalogs_dir``; all problems of all catalogs are raised together."""
    if not catalogs_dir.is_dir():
        raise CatalogError(f"{catalogs_dir.as_posix()}: catalogs folder not found")
    catalogs: dict[str, Catalog] = {}
    problems: list[str] = []
    root = catalogs_dir.resolve()
    for folder in sorted(p for p in catalogs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.is_symlink() and not folder.resolve().is_relative_to(root):
            problems.append(f"{folder.as_posix()}: is a symbolic link pointing outside the catalogs folder")
            continue
        try:
            catalog = parse_catalog(read_catalog_folder(folder))
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


def _as_mapping(value: Any, problems: _Problems, file: str, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(file, where, f"must be a mapping, got {describe_type(value)}")
        return {}
    return value


def _unknown_keys(body: dict[str, Any], known: frozenset[str], problems: _Problems, file: str, where: str) -> None:
    for key in body:
        if key not in known:
            prefix = f"{where}." if where else ""
            problems.add(file, f"{prefix}{key}", f"unknown field (known: {', '.join(sorted(known))})")


def parse_catalog(raw: CatalogFiles) -> Catalog:
    """Check and build one catalog from its files. Pure: no I/O."""
    problems = _Problems(raw.root)
    if "catalog.yaml" not in raw.files:
        raise CatalogError(f"{raw.root}/catalog.yaml: file not found")
    try:
        document = yamldoc.load_one(raw.files["catalog.yaml"])
    except yamldoc.YamlError as exc:
        raise CatalogError(f"{raw.root}/catalog.yaml: {exc}") from None
    body = _as_mapping(document, problems, "catalog.yaml", "")
    if problems.lines:
        raise CatalogError(problems.lines)
    _unknown_keys(body, _CATALOG_KEYS, problems, "catalog.yaml", "")
    if body.get("apiVersion", API_VERSION) != API_VERSION:
        problems.add("catalog.yaml", "apiVersion", f"must be {API_VERSION}, got {body.get('apiVersion')!r}")
    if body.get("kind", "Catalog") != "Catalog":
        problems.add("catalog.yaml", "kind", f"must be Catalog, got {body.get('kind')!r}")

    name = body.get("name", raw.name)
    if not is_dns1123_label(name):
        problems.add(
            "catalog.yaml",
            "name",
            f"{name!r} is not a DNS-1123 label (lowercase letters, digits and '-', at most {MAX_LABEL_LENGTH})",
        )
    elif name != raw.name:
        problems.add("catalog.yaml", "name", f"{name!r} differs from the folder name {raw.name!r}")

    try:
        catalog_type = CatalogType(str(body.get("type")))
    except ValueError:
        problems.add("catalog.yaml", "type", f"must be one of iac, yaml, hybrid; got {body.get('type')!r}")
        raise CatalogError(problems.lines) from None

    description = body.get("description", "")
    if not isinstance(description, str):
        problems.add("catalog.yaml", "description", f"must be a string, got {describe_type(description)}")
        description = ""
    version = body.get("version", "")
    if not isinstance(version, str | int | float) or isinstance(version, bool):
        problems.add("catalog.yaml", "version", f"must be a string, got {describe_type(version)}")
        version = ""

    tf_variables, tf_outputs, tf_creates = _read_terraform(raw, catalog_type, problems)
    parameters = _parameters(raw, body, catalog_type, tf_variables, problems)
    outputs = _outputs(body, catalog_type, tf_outputs, problems)
    terraform = _terraform(raw, body, catalog_type, parameters, tf_variables, tf_creates, problems)
    _check_secret_backends(parameters, problems)
    templates = _templates(raw, body, catalog_type, problems)
    values = _values_document(raw, problems)

    if problems.lines:
        raise CatalogError(problems.lines)
    return Catalog(
        name=str(name),
        type=catalog_type,
        description=description.strip(),
        version=str(version),
        parameters=parameters,
        outputs=outputs,
        terraform=terraform,
        templates=templates,
        values=values,
        digest=_digest(raw.files),
    )


def _read_terraform(
    raw: CatalogFiles, catalog_type: CatalogType, problems: _Problems
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
            problems.add(file, "", f"is not valid HCL: {exc}")
            creates = None
            continue
        variables.update((v.name, v) for v in file_variables)
        outputs.update((o.name, o) for o in file_outputs)
        if creates is not None:
            creates = creates or file_creates
    return variables, outputs, creates


def _parameters(
    raw: CatalogFiles,
    body: dict[str, Any],
    catalog_type: CatalogType,
    tf_variables: dict[str, TerraformVariable] | None,
    problems: _Problems,
) -> dict[str, Parameter]:
    declared = _as_mapping(body.get("parameters"), problems, "catalog.yaml", "parameters")
    if declared:
        return {
            param.name: param
            for key, spec in declared.items()
            if (param := _parameter(str(key), spec, catalog_type, problems)) is not None
        }
    if "values.yaml" in raw.files and catalog_type.has_templates:
        return _parameters_from_values(raw.files["values.yaml"], problems)
    if catalog_type.has_terraform and tf_variables is not None:
        tags_variable = _terraform_section(body).get("tagsVariable", "tags")
        return _parameters_from_variables(tf_variables, tags_variable, problems)
    return {}


def _parameter(name: str, spec: Any, catalog_type: CatalogType, problems: _Problems) -> Parameter | None:
    file = "catalog.yaml"
    where = f"parameters.{name}"
    if not CAMEL_CASE_NAME.match(name):
        problems.add(file, where, "parameter names are camelCase: a lowercase letter, then letters and digits")
        return None
    spec = _as_mapping(spec, problems, file, where)
    _unknown_keys(spec, _PARAMETER_KEYS, problems, file, where)
    try:
        kind = ParameterType(spec.get("type", "string"))
    except ValueError:
        known = ", ".join(t.value for t in ParameterType)
        problems.add(file, f"{where}.type", f"must be one of {known}; got {spec.get('type')!r}")
        return None
    secret = _secret_defaults(spec.get("secret"), problems, file, f"{where}.secret")
    if secret is not None and kind is not ParameterType.SECRET:
        problems.add(file, f"{where}.secret", "only parameters of type secret take secret defaults")
    terraform_variable = spec.get("terraformVariable")
    if terraform_variable is not None and not isinstance(terraform_variable, str):
        problems.add(file, f"{where}.terraformVariable", "must be a string")
        terraform_variable = None
    if terraform_variable is None and catalog_type.has_terraform:
        terraform_variable = snake_case(name)
    return _checked_parameter(
        name=name,
        kind=kind,
        description=spec.get("description", ""),
        required=spec.get("required", False),
        default=spec.get("default"),
        has_default="default" in spec,
        options=spec.get("options"),
        pattern=spec.get("pattern"),
        minimum=spec.get("minimum"),
        maximum=spec.get("maximum"),
        terraform_variable=terraform_variable,
        secret=secret or SecretDefaults(),
        problems=problems,
        file=file,
        where=where,
    )


def _secret_defaults(value: Any, problems: _Problems, file: str, where: str) -> SecretDefaults | None:
    if value is None:
        return None
    body = _as_mapping(value, problems, file, where)
    _unknown_keys(body, _SECRET_KEYS, problems, file, where)
    fields: dict[str, str | None] = {}
    for key in sorted(_SECRET_KEYS):
        item = body.get(key)
        if item is not None and not isinstance(item, str):
            problems.add(file, f"{where}.{key}", f"must be a string, got {describe_type(item)}")
            item = None
        fields[key] = item
    return SecretDefaults(**fields)


def _checked_parameter(
    *,
    name: str,
    kind: ParameterType,
    description: Any,
    required: Any,
    default: Any,
    has_default: bool,
    options: Any,
    pattern: Any,
    minimum: Any,
    maximum: Any,
    terraform_variable: str | None,
    secret: SecretDefaults,
    problems: _Problems,
    file: str,
    where: str,
) -> Parameter | None:
    before = len(problems.lines)
    if not isinstance(description, str):
        problems.add(file, f"{where}.description", f"must be a string, got {describe_type(description)}")
    if not isinstance(required, bool):
        problems.add(file, f"{where}.required", f"must be true or false, got {describe_type(required)}")
    if required is True and has_default:
        problems.add(file, where, "a required parameter cannot have a default")
    option_values: tuple[Any, ...] = ()
    if kind is ParameterType.ENUM:
        if not isinstance(options, list) or not options:
            problems.add(file, f"{where}.options", "an enum parameter needs a non-empty list of options")
        elif any(isinstance(o, dict | list) or o is None for o in options):
            problems.add(file, f"{where}.options", "options must be plain values (strings, numbers, booleans)")
        elif len({repr(o) for o in options}) != len(options):
            problems.add(file, f"{where}.options", "options must not repeat")
        else:
            option_values = tuple(options)
    elif options is not None:
        problems.add(file, f"{where}.options", "only enum parameters take options")
    if pattern is not None:
        if kind is not ParameterType.STRING:
            problems.add(file, f"{where}.pattern", "only string parameters take a pattern")
        elif not isinstance(pattern, str):
            problems.add(file, f"{where}.pattern", f"must be a string, got {describe_type(pattern)}")
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.add(file, f"{where}.pattern", f"is not a valid regular expression: {exc}")
    for limit_name, limit in (("minimum", minimum), ("maximum", maximum)):
        if limit is None:
            continue
        if kind not in (ParameterType.INTEGER, ParameterType.NUMBER):
            problems.add(file, f"{where}.{limit_name}", "only integer and number parameters take limits")
        elif isinstance(limit, bool) or not isinstance(limit, int | float):
            problems.add(file, f"{where}.{limit_name}", f"must be a number, got {describe_type(limit)}")
    if (
        isinstance(minimum, int | float)
        and isinstance(maximum, int | float)
        and not isinstance(minimum, bool)
        and not isinstance(maximum, bool)
        and minimum > maximum
    ):
        problems.add(file, where, f"minimum {minimum} is greater than maximum {maximum}")
    if kind is ParameterType.SECRET and has_default:
        problems.add(file, f"{where}.default", "a secret parameter takes no default value (use secret: defaults)")
    if len(problems.lines) != before:
        return None
    parameter = Parameter(
        name=name,
        type=kind,
        description=str(description).strip(),
        required=bool(required),
        default=default,
        has_default=has_default,
        options=option_values,
        pattern=pattern,
        minimum=minimum,
        maximum=maximum,
        terraform_variable=terraform_variable,
        secret=secret,
    )
    if has_default and kind is not ParameterType.SECRET and default is not None:
        problem = problem_with_value(parameter, default)
        if problem:
            problems.add(file, f"{where}.default", problem)
            return None
    return parameter


def _parameters_from_values(text: str, problems: _Problems) -> dict[str, Parameter]:
    file = "values.yaml"
    try:
        annotations = konstruct.read_annotations(text)
        document = yamldoc.load_one(text, yamldoc.Schema.KUBERNETES)
    except (konstruct.AnnotationError, yamldoc.YamlError) as exc:
        problems.add(file, "", str(exc))
        return {}
    parameters: dict[str, Parameter] = {}
    for annotation in annotations:
        name = annotation.path[-1]
        where = f"line {annotation.line} ({'.'.join(annotation.path)})"
        if not CAMEL_CASE_NAME.match(name):
            problems.add(file, where, "parameter names are camelCase: a lowercase letter, then letters and digits")
            continue
        if name in parameters:
            problems.add(file, where, f"a second annotated key named {name!r}")
            continue
        fields = dict(annotation.fields)
        is_secret = any(key.startswith("secret") for key in fields)
        kind_text = "secret" if is_secret else fields.get("type", "string")
        try:
            kind = ParameterType(kind_text)
        except ValueError:
            known = ", ".join(t.value for t in ParameterType)
            problems.add(file, f"{where}: @input.type", f"must be one of {known}; got {kind_text!r}")
            continue
        exists, current = konstruct.value_at(document, annotation.path)
        has_default = "default" in fields or (exists and current not in (None, "") and not is_secret)
        default = fields.get("default", current)
        secret = SecretDefaults(
            backend=_str_or_none(fields.get("secretBackend")),
            path=_str_or_none(fields.get("secretPath")),
            key=_str_or_none(fields.get("secretKey")),
            env=_str_or_none(fields.get("secretEnv")),
        )
        parameter = _checked_parameter(
            name=name,
            kind=kind,
            description=fields.get("description", ""),
            required=fields.get("required", False),
            default=default if has_default else None,
            has_default=has_default and not fields.get("required", False),
            options=fields.get("options"),
            pattern=None,
            minimum=None,
            maximum=None,
            terraform_variable=None,
            secret=secret,
            problems=problems,
            file=file,
            where=where,
        )
        if parameter is not None:
            parameters[name] = _with_values_path(parameter, annotation.path)
    return parameters


def _with_values_path(parameter: Parameter, path: tuple[str, ...]) -> Parameter:
    return replace(parameter, values_path=path)


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _parameters_from_variables(
    variables: dict[str, TerraformVariable], tags_variable: Any, problems: _Problems
) -> dict[str, Parameter]:
    parameters: dict[str, Parameter] = {}
    for variable in variables.values():
        if variable.name == tags_variable:
            continue
        where = f"variable {variable.name!r}"
        type_text = (variable.type or "string").replace(" ", "")
        kind = _TF_SCALAR_TYPES.get(type_text)
        if variable.sensitive and kind is ParameterType.STRING:
            kind = ParameterType.SECRET
        if kind is None:
            if not variable.has_default:
                problems.add(
                    "variables.tf",
                    where,
                    f"has type {variable.type}, which envbot cannot take as a parameter; give it a default "
                    "or declare parameters in catalog.yaml",
                )
            continue
        name = camel_case(variable.name)
        if not CAMEL_CASE_NAME.match(name):
            problems.add("variables.tf", where, f"its name does not make a camelCase parameter name ({name!r})")
            continue
        parameter = _checked_parameter(
            name=name,
            kind=kind,
            description=variable.description,
            required=not variable.has_default,
            default=variable.default if kind is not ParameterType.SECRET else None,
            has_default=variable.has_default and kind is not ParameterType.SECRET,
            options=None,
            pattern=None,
            minimum=None,
            maximum=None,
            terraform_variable=variable.name,
            secret=SecretDefaults(backend=TERRAFORM_SECRET_BACKEND)
            if kind is ParameterType.SECRET
            else SecretDefaults(),
            problems=problems,
            file="variables.tf",
            where=where,
        )
        if parameter is not None:
            parameters[name] = parameter
    return parameters


def _outputs(
    body: dict[str, Any],
    catalog_type: CatalogType,
    tf_outputs: dict[str, TerraformOutput] | None,
    problems: _Problems,
) -> dict[str, Output]:
    file = "catalog.yaml"
    declared = _as_mapping(body.get("outputs"), problems, file, "outputs")
    if declared and not catalog_type.has_terraform:
        problems.add(file, "outputs", "only iac and hybrid catalogs have Terraform outputs")
        return {}
    if not declared and tf_outputs:
        declared = {
            camel_case(o.name): {"sensitive": o.sensitive, "terraformOutput": o.name} for o in tf_outputs.values()
        }
        declared = {k: v | {"description": tf_outputs[v["terraformOutput"]].description} for k, v in declared.items()}
    outputs: dict[str, Output] = {}
    for key, spec in declared.items():
        name = str(key)
        where = f"outputs.{name}"
        if not CAMEL_CASE_NAME.match(name):
            problems.add(file, where, "output names are camelCase: a lowercase letter, then letters and digits")
            continue
        spec = _as_mapping(spec, problems, file, where)
        _unknown_keys(spec, _OUTPUT_KEYS, problems, file, where)
        sensitive = spec.get("sensitive", False)
        if not isinstance(sensitive, bool):
            problems.add(file, f"{where}.sensitive", f"must be true or false, got {describe_type(sensitive)}")
            continue
        if sensitive and "example" in spec:
            problems.add(file, f"{where}.example", "a sensitive output carries no example value")
        terraform_output = spec.get("terraformOutput", snake_case(name))
        if not isinstance(terraform_output, str):
            problems.add(file, f"{where}.terraformOutput", "must be a string")
            continue
        if tf_outputs is not None:
            declared_tf = tf_outputs.get(terraform_output)
            if declared_tf is None:
                problems.add(file, where, f"outputs.tf declares no output {terraform_output!r}")
            elif declared_tf.sensitive and not sensitive:
                problems.add(
                    file,
                    f"{where}.sensitive",
                    f"Terraform marks {terraform_output!r} sensitive; declare it sensitive",
                )
        description = spec.get("description", "")
        outputs[name] = Output(
            name=name,
            sensitive=sensitive,
            description=str(description).strip(),
            example=spec.get("example"),
            terraform_output=terraform_output,
        )
    return outputs


def _terraform_section(body: dict[str, Any]) -> dict[str, Any]:
    section = body.get("terraform")
    return section if isinstance(section, dict) else {}


def _terraform(
    raw: CatalogFiles,
    body: dict[str, Any],
    catalog_type: CatalogType,
    parameters: dict[str, Parameter],
    tf_variables: dict[str, TerraformVariable] | None,
    tf_creates: bool | None,
    problems: _Problems,
) -> TerraformModule | None:
    file = "catalog.yaml"
    if not catalog_type.has_terraform:
        if "terraform" in body:
            problems.add(file, "terraform", "only iac and hybrid catalogs have a Terraform module")
        return None
    section = _as_mapping(body.get("terraform"), problems, file, "terraform")
    _unknown_keys(section, _TERRAFORM_KEYS, problems, file, "terraform")
    try:
        source = TerraformSource(section.get("source", "inline"))
    except ValueError:
        problems.add(file, "terraform.source", f"must be inline or remote; got {section.get('source')!r}")
        return None
    tags_variable = section.get("tagsVariable", "tags")
    if tags_variable is not None and not isinstance(tags_variable, str):
        problems.add(file, "terraform.tagsVariable", "must be a string")
        tags_variable = None
    remote_module = section.get("module")
    inline_files: tuple[tuple[str, str], ...] = ()
    if source is TerraformSource.REMOTE:
        if not isinstance(remote_module, str) or not remote_module.strip():
            problems.add(file, "terraform.module", "a remote module needs its address (for example git::https://...)")
    else:
        if remote_module is not None:
            problems.add(file, "terraform.module", "only a remote source takes a module address")
        if tf_variables is None:
            article = "an" if catalog_type is CatalogType.IAC else "a"
            problems.add(
                file,
                "terraform",
                f"{article} {catalog_type} catalog needs a Terraform module: main.tf, variables.tf and outputs.tf "
                "beside catalog.yaml (source: inline, the default), or source: remote with its module address",
            )
        elif tf_creates is False:
            problems.add(
                file,
                "terraform",
                "the module's .tf files declare no resource, module or data block: Terraform would create nothing",
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
            problems.add(file, f"parameters.{parameter.name}", f"variables.tf declares no variable {variable!r}")
        if tags_variable is not None and tags_variable not in tf_variables:
            tags_variable = None
    return TerraformModule(
        source=source,
        inline_files=inline_files,
        remote_module=remote_module if source is TerraformSource.REMOTE else None,
        tags_variable=tags_variable,
        declared_variables=declared,
    )


def _check_secret_backends(parameters: Mapping[str, Parameter], problems: _Problems) -> None:
    """A secret's default backend must be one envbot can render: a label for templates, kubernetes for Terraform."""
    for parameter in parameters.values():
        backend = parameter.secret.backend
        if parameter.type is not ParameterType.SECRET or backend is None:
            continue
        where = f"parameters.{parameter.name}.secret.backend"
        if not is_dns1123_label(backend):
            problems.add(
                "catalog.yaml",
                where,
                f"{backend!r} is not a DNS-1123 label, so no reference can use it (for example vault or kubernetes)",
            )
        elif parameter.terraform_variable is not None and backend != TERRAFORM_SECRET_BACKEND:
            problems.add(
                "catalog.yaml",
                where,
                f"{backend!r} cannot reach Terraform: a Workspace reads secret variables (TF_VAR_"
                f"{parameter.terraform_variable}) from a Kubernetes Secret, so the backend is "
                f"{TERRAFORM_SECRET_BACKEND}",
            )


def _templates(
    raw: CatalogFiles, body: dict[str, Any], catalog_type: CatalogType, problems: _Problems
) -> tuple[Template, ...]:
    folder = body.get("templates", "templates")
    if not isinstance(folder, str) or folder.startswith("/") or ".." in PurePosixPath(folder).parts:
        problems.add("catalog.yaml", "templates", "must be a folder inside the catalog")
        return ()
    prefix = folder.rstrip("/") + "/"
    names = sorted(name for name in raw.files if name.startswith(prefix) and name.endswith(TEMPLATE_SUFFIXES))
    if not catalog_type.has_templates:
        if names:
            problems.add(prefix, "", "an iac catalog has no templates; make it hybrid to deploy applications")
        return ()
    if not names:
        problems.add(prefix, "", "no *.yaml templates found; a yaml or hybrid catalog needs at least one")
    for name in names:
        syntax_problem = check_template_syntax(raw.files[name], name)
        if syntax_problem:
            problems.add(name, "", syntax_problem)
    return tuple(Template(path=name, source=raw.files[name]) for name in names)


def _values_document(raw: CatalogFiles, problems: _Problems) -> dict[str, Any] | None:
    if "values.yaml" not in raw.files:
        return None
    try:
        document = yamldoc.load_one(raw.files["values.yaml"], yamldoc.Schema.KUBERNETES)
    except yamldoc.YamlError as exc:
        problems.add("values.yaml", "", str(exc))
        return None
    if document is None:
        return {}
    if not isinstance(document, dict):
        problems.add("values.yaml", "", f"must be a mapping, got {describe_type(document)}")
        return None
    return document
