"""One rule for YAML's surprises: files people write for envbot are YAML 1.2 core; Kubernetes' own YAML stays 1.1."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from typing import Any

import pytest

from bot import yamldoc
from bot.catalog import parse_catalog
from bot.catalog.loader import CatalogFiles
from bot.catalog.model import CatalogSet
from bot.environment import bind_environment, parse_environment
from bot.errors import EnvironmentSpecError
from bot.render import Repo, render_environment

# (unquoted text, what envbot reads in its own files, what Kubernetes and Helm read)
SCALARS = [
    ("yes", "yes", True),
    ("Yes", "Yes", True),
    ("no", "no", False),
    ("on", "on", True),
    ("off", "off", False),
    ("y", "y", "y"),
    ("true", True, True),
    ("False", False, False),
    ("0x10", 16, 16),
    ("012", 12, 10),
    ("0o12", 10, "0o12"),
    ("1e3", 1000.0, "1e3"),
    ("1.10", 1.1, 1.1),
    ("1_000", "1_000", 1000),
    ("0b101", "0b101", 5),
    ("1:20", "1:20", 80),
    ("-0x10", "-0x10", -16),
    ("+12", 12, 12),
    ("~", None, None),
    ("null", None, None),
    ("", None, None),
    ("2024-01-01", "2024-01-01", dt.date(2024, 1, 1)),
    ("=", "=", None),
]


@pytest.mark.parametrize(("text", "core", "kubernetes"), SCALARS, ids=[t or "empty" for t, _, _ in SCALARS])
def test_unquoted_scalars_by_schema(text: str, core: Any, kubernetes: Any) -> None:
    assert yamldoc.load_one(f"v: {text}\n") == {"v": core}
    assert type(yamldoc.load_one(f"v: {text}\n")["v"]) is type(core)
    if text == "=":  # YAML 1.1's value key has no constructor in a safe loader: refused, never guessed
        with pytest.raises(yamldoc.YamlError):
            yamldoc.load_one(f"v: {text}\n", yamldoc.Schema.KUBERNETES)
        return
    assert yamldoc.load_one(f"v: {text}\n", yamldoc.Schema.KUBERNETES) == {"v": kubernetes}


def test_core_schema_special_floats_merge_keys_and_explicit_tags() -> None:
    document = yamldoc.load_one(
        "a: .inf\nb: -.Inf\nc: .NaN\nbase: &base {k: 1}\nd: {<<: *base, j: 2}\ne: !!str 12\nf: !!int '0x1f'\n"
    )
    assert document["a"] == math.inf and document["b"] == -math.inf and math.isnan(document["c"])
    assert document["d"] == {"k": 1, "j": 2}
    assert (document["e"], document["f"]) == ("12", 31)
    with pytest.raises(yamldoc.YamlError, match="line 1, column 4: not a valid bool value"):
        yamldoc.load_one("v: !!bool yes\n")


def test_envbot_writes_what_both_schemas_read_back_the_same() -> None:
    texts = [text for text, _, _ in SCALARS if text]
    written = yamldoc.dump_document({"values": texts})
    assert yamldoc.load_one(written)["values"] == texts
    assert yamldoc.load_one(written, yamldoc.Schema.KUBERNETES)["values"] == texts


CATALOG = CatalogFiles(
    name="typed",
    root="catalogs/typed",
    files={
        "catalog.yaml": textwrap.dedent(
            """\
            name: typed
            type: yaml
            parameters:
              text: {type: string}
              count: {type: integer}
              ratio: {type: number}
              flag: {type: boolean}
              mode: {type: enum, options: [on, off, "1"]}
            """
        ),
        "templates/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {text: {{ params.text }}}\n",
    },
)
QUOTE = "put it in quotes to keep it text (YAML reads an unquoted number, true, false or null as that type)"

# (parameter, the value as written in the environment file, the value envbot uses or the problem it reports)
PARAMETERS = [
    ("text", "yes", "yes"),
    ("text", "off", "off"),
    ("text", "2024-01-01", "2024-01-01"),
    ("text", "'0x10'", "0x10"),
    ("text", "0x10", f"must be a string, got the integer 16; {QUOTE}"),
    ("text", "012", f"must be a string, got the integer 12; {QUOTE}"),
    ("text", "1e3", f"must be a string, got the number 1000.0; {QUOTE}"),
    ("text", "true", f"must be a string, got the boolean true; {QUOTE}"),
    ("count", "0x10", 16),
    ("count", "012", 12),
    ("count", "0o17", 15),
    ("count", "'12'", "must be an integer, got the string '12'"),
    ("count", "1e3", "must be an integer, got the number 1000.0"),
    ("ratio", "1e3", 1000.0),
    ("ratio", "5", 5),
    ("flag", "true", True),
    (
        "flag",
        "yes",
        "must be true or false, got the string 'yes' (envbot reads YAML 1.2, where only true and false are booleans)",
    ),
    (
        "flag",
        "On",
        "must be true or false, got the string 'On' (envbot reads YAML 1.2, where only true and false are booleans)",
    ),
    ("mode", "on", "on"),
    ("mode", "'1'", "1"),
    ("mode", "1", f"must be one of on, off, 1; got 1; {QUOTE}"),
]


@pytest.mark.parametrize(("parameter", "written", "expected"), PARAMETERS, ids=[f"{p}={w}" for p, w, _ in PARAMETERS])
def test_environment_values_follow_the_one_rule(parameter: str, written: str, expected: Any) -> None:
    catalogs = CatalogSet({"typed": parse_catalog(CATALOG)})
    text = f"kind: Environment\nname: dev\ncatalogs:\n  - name: typed\n    parameters:\n      {parameter}: {written}\n"
    environment = parse_environment(text, "env.yaml")
    if isinstance(expected, str) and expected.startswith("must"):
        with pytest.raises(EnvironmentSpecError) as caught:
            bind_environment(environment, catalogs)
        assert caught.value.problems == (f"environment dev: catalog typed: parameter {parameter}: {expected}",)
    else:
        (bound,) = bind_environment(environment, catalogs).catalogs
        assert bound.values[parameter] == expected
        assert type(bound.values[parameter]) is type(expected)


def test_a_kept_string_reaches_the_manifest_as_that_string() -> None:
    catalogs = CatalogSet({"typed": parse_catalog(CATALOG)})
    text = "kind: Environment\nname: dev\ncatalogs: [{name: typed, parameters: {text: no}}]\n"
    result = render_environment(bind_environment(parse_environment(text, "env.yaml"), catalogs))
    (content,) = result.files(Repo.APPS).values()
    assert yamldoc.load_one(content, yamldoc.Schema.KUBERNETES)["data"] == {"text": "no"}


def test_templates_are_typed_as_kubernetes_reads_them() -> None:
    """A template's own ``enabled: yes`` is what Kubernetes will read: a boolean, written back as ``true``."""
    files = dict(CATALOG.files)
    files["templates/app.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\nimmutable: yes\n"
    catalogs = CatalogSet({"typed": parse_catalog(CatalogFiles("typed", "catalogs/typed", files))})
    text = "kind: Environment\nname: dev\ncatalogs: [{name: typed, parameters: {text: t}}]\n"
    (content,) = (
        render_environment(bind_environment(parse_environment(text, "env.yaml"), catalogs)).files(Repo.APPS).values()
    )
    assert "immutable: true\n" in content
