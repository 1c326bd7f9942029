"""The shared document reader: typed reads at a location path, every problem at once, ``source: path: message``."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest

from bot.documents import Node, Problems, or_list
from bot.errors import UserError


class Colour(enum.StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


def read(document: Any) -> tuple[dict[str, Any], list[str]]:
    """Every read kind once, over a small envbot-like document."""
    root = Node(document, "envbot.yaml").mapping(("name", "colour", "wait", "retries", "strict", "rules", "labels"))
    values = {
        "name": root["name"].label(required=True),
        "colour": root["colour"].choice(Colour, Colour.RED),
        "wait": root["wait"].duration(dt.timedelta(minutes=5)),
        "retries": root["retries"].integer(3, minimum=0, maximum=10),
        "strict": root["strict"].boolean(False),
        "rules": [rule.mapping(("pattern",))["pattern"].string(required=True) for rule in root["rules"].items()],
        "labels": root["labels"].strings(what="a list of label names"),
    }
    return values, root.problems.lines


def test_an_empty_document_takes_every_default_and_misses_only_what_is_required() -> None:
    values, problems = read({})
    assert values == {
        "name": None,
        "colour": Colour.RED,
        "wait": dt.timedelta(minutes=5),
        "retries": 3,
        "strict": False,
        "rules": [],
        "labels": (),
    }
    assert problems == ["envbot.yaml: name: is missing"]


def test_good_values_are_read_as_their_types() -> None:
    values, problems = read(
        {"name": "dev", "colour": "blue", "wait": "90s", "retries": 0, "strict": True, "rules": [{"pattern": "x"}]}
    )
    assert problems == []
    assert (values["colour"], values["wait"], values["retries"], values["strict"]) == (
        Colour.BLUE,
        dt.timedelta(seconds=90),
        0,
        True,
    )
    assert values["rules"] == ["x"]


def test_every_problem_is_found_at_once_each_at_its_path() -> None:
    _, problems = read(
        {
            "nmae": "dev",
            "colour": "purple",
            "wait": "soon",
            "retries": 11,
            "strict": "yes",
            "rules": [{"pattern": "a"}, {"patern": "b"}, "c"],
            "labels": ["ok", ""],
        }
    )
    known = "colour, labels, name, retries, rules, strict, wait"
    assert problems == [
        f"envbot.yaml: nmae: unknown key (did you mean name?) (known: {known})",
        "envbot.yaml: name: is missing",
        "envbot.yaml: colour: must be red, green or blue, got 'purple'",
        "envbot.yaml: wait: 'soon' is not a duration such as 30s, 10m or 2h",
        "envbot.yaml: retries: must be at most 10, got 11",
        "envbot.yaml: strict: must be true or false, got the string 'yes'",
        "envbot.yaml: rules[1].patern: unknown key (did you mean pattern?) (known: pattern)",
        "envbot.yaml: rules[1].pattern: is missing",
        "envbot.yaml: rules[2]: must be a mapping, got the string 'c'",
        "envbot.yaml: labels: must be a list of label names",
    ]


def test_null_is_no_value_and_present_tells_it_from_an_absent_key() -> None:
    node = Node({"default": None}, "catalog.yaml")
    assert (node["default"].present, node["default"].given) == (True, False)
    assert (node["other"].present, node["other"].given) == (False, False)
    values, problems = read({"name": "dev", "colour": None, "strict": None, "rules": None})
    assert (values["colour"], values["strict"], values["rules"]) == (Colour.RED, False, [])
    assert problems == []
    assert read({"name": None})[1] == ["envbot.yaml: name: is missing"]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (5, "must be a string, got the integer 5"),
        (
            "Dev",
            "'Dev' is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter"
            " or digit, at most 63 characters)",
        ),
        ("d" * 64, "is 64 characters long; at most 63 are allowed"),
    ],
)
def test_a_label_read_says_what_is_wrong(value: object, problem: str) -> None:
    assert read({"name": value})[1] == [f"envbot.yaml: name: {problem}"]


def test_string_rules_and_what_is_expected() -> None:
    root = Node({"a": " ", "b": "x\ny", "c": "long", "d": "../x", "e": ["x"]}, "f.yaml")
    assert root["a"].string("keep", non_empty=True) == "keep"
    root["b"].string(one_line=True)
    root["c"].string(max_length=3)
    root["d"].string(valid=lambda text: ".." not in text, what="a folder inside the catalog")
    root["e"].string()
    assert root.problems.lines == [
        "f.yaml: a: must not be empty",
        "f.yaml: b: must be a one-line string",
        "f.yaml: c: is 4 characters long; at most 3 are allowed",
        "f.yaml: d: '../x' is not a folder inside the catalog",
        "f.yaml: e: must be a string, got a list",
    ]


def test_a_document_that_is_no_mapping_is_one_problem_at_the_top() -> None:
    root = Node(["x"], "envbot.yaml").mapping(("a",))
    assert root["a"].string("d") == "d"
    with pytest.raises(UserError) as caught:
        root.problems.raise_if_any()
    assert caught.value.problems == ("envbot.yaml: must be a mapping, got a list",)


def test_problems_of_several_files_collect_in_one_place() -> None:
    problems = Problems()
    Node({"x": 1}, "cat/catalog.yaml", problems=problems)["x"].boolean(False)
    problems.add("cat/values.yaml", "", "must be a mapping, got a list")
    assert len(problems) == 2
    assert problems.lines == [
        "cat/catalog.yaml: x: must be true or false, got the integer 1",
        "cat/values.yaml: must be a mapping, got a list",
    ]
    Problems().raise_if_any()  # nothing to raise


def test_or_list_joins_choices_as_a_sentence() -> None:
    assert [or_list(["a"]), or_list(["a", "b"]), or_list(Colour)] == ["a", "a or b", "red, green or blue"]
