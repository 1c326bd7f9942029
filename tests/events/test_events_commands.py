"""Comment commands: the registry and /help, a table of hostile comment bodies, arguments, and typed values."""

from __future__ import annotations

import re

import pytest

from bot.catalog.model import Parameter, ParameterType
from bot.events.commands import REGISTRY
from bot.events.commands.spec import CommandSpec, Registry, Target
from bot.events.comments import (
    MAX_ARGUMENTS,
    MAX_BODY,
    MAX_LINE,
    Command,
    Ignore,
    Reply,
    Setting,
    ValueProblem,
    coerce_value,
    command_lines,
    parse_comment,
)
from bot.events.text import quote
from bot.forge.model import Permission

# -- the registry ------------------------------------------------------------------------------------------------------


def pong(target: Target) -> Reply:
    return Reply(f"pong, {target.commenter}")


def test_registry_names_and_floors() -> None:
    assert REGISTRY.names() == ("provision", "destroy", "status", "retry", "help")
    assert {c.name: c.permission for c in REGISTRY.commands} == {
        "provision": Permission.WRITE,
        "destroy": Permission.WRITE,
        "status": Permission.READ,
        "retry": Permission.WRITE,
        "help": Permission.READ,
    }
    assert CommandSpec("x", "/x", "X.", pong).permission is Permission.WRITE
    for spec in REGISTRY.commands:
        assert spec.usage.startswith(f"/{spec.name}")
        assert "\n" not in spec.help and "|" not in spec.help + spec.usage


def test_required_permission_is_the_higher_of_command_floor_and_configuration() -> None:
    assert REGISTRY.required("help") is Permission.WRITE
    assert REGISTRY.required("help", Permission.READ) is Permission.READ
    assert REGISTRY.required("destroy", Permission.READ) is Permission.WRITE
    assert REGISTRY.required("status", Permission.MAINTAIN) is Permission.MAINTAIN
    assert REGISTRY.required("nope", Permission.TRIAGE) is Permission.TRIAGE


def test_help_is_a_markdown_table_generated_from_the_registry() -> None:
    text = REGISTRY.help_text()
    rows = [line for line in text.splitlines() if line.startswith("| `/")]
    assert len(rows) == len(REGISTRY.commands)
    for spec, row in zip(REGISTRY.commands, rows, strict=True):
        assert row == f"| `{spec.usage}` | {spec.help} | write permission or above |"
    assert "| command | what it does | who may use it |" in text
    lowered = REGISTRY.help_text(minimum=Permission.READ)
    assert "| `/help` | Show this table. | read permission or above |" in lowered
    assert "| `/destroy` |" in lowered and "write permission or above" in lowered


def test_help_follows_a_different_registry() -> None:
    registry = Registry((CommandSpec("ping", "/ping", "Answer pong.", pong, Permission.READ),))
    assert "| `/ping` | Answer pong. | write permission or above |" in registry.help_text()
    assert parse_comment("/ping", registry) == Command("ping", (), "/ping")
    reply = parse_comment("/destroy", registry)
    assert isinstance(reply, Reply) and "`/ping`" in reply.text


# -- where a command counts --------------------------------------------------------------------------------------------

COUNTS = "counts"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/destroy", "destroy"),
        ("/destroy\n", "destroy"),
        ("   /destroy   ", "destroy"),
        ("/DESTROY", "destroy"),
        ("Looks good.\n\n/status\n\nthanks", "status"),
        ("/status\r\n/destroy", "status"),
        ("first line\r/retry", "retry"),
        ("> /destroy\n/status", "status"),
        ("/help\n/destroy", "help"),
        ("```\n/destroy\n```\n/status", "status"),
        ("~~~~\n/destroy\n~~~\n/retry\n~~~~\n/status", "status"),
        ("<!-- a hidden note -->\n/status", "status"),
        ("<!--\n/destroy\n-->\n/status", "status"),
        ("- list\n\n/status", "status"),
        ("/lgtm\n/status", "unknown"),
    ],
)
def test_command_lines_that_count(body: str, expected: str) -> None:
    result = parse_comment(body, REGISTRY)
    if expected == "unknown":
        assert isinstance(result, Reply)
        assert "`/lgtm`" in result.text
    else:
        assert isinstance(result, Command), result
        assert result.name == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "LGTM",
        "please run /destroy",
        "please run `/destroy`",
        "> /destroy",
        ">/destroy",
        "> > /destroy",
        "  > /destroy",
        "- /destroy",
        "* /destroy",
        "1. /destroy",
        "```\n/destroy\n```",
        "```bash\n/destroy\n```",
        "````\n```\n/destroy\n````",
        "~~~\n/destroy\n~~~",
        "```\nunclosed fence\n/destroy",
        "> ```\n> /destroy\n> ```",
        "- ```\n  /destroy\n  ```",
        "    /destroy",
        "\t/destroy",
        "text\n        /destroy",
        "<!--\n/destroy\n-->",
        "intro <!-- hidden\n/destroy\n-->",
        "\uff0fdestroy",  # fullwidth solidus
        "/\uff44estroy",  # fullwidth letter
        "/d\u0435stroy",  # Cyrillic e
        "/destr\u043ey",  # Cyrillic o
        "\u2215destroy",  # division slash
        "\u200b/destroy",  # zero-width space before the slash
        "\u00a0/destroy",  # no-break space is not a space here
        "\ufeff/destroy",  # byte order mark
        "please run\u2028/destroy",  # line separator: not a line break on GitHub
        "please run\u0085/destroy",  # NEL
        "please run\x0b/destroy",  # vertical tab
        "please run\x0c/destroy",  # form feed
        "/destroy\x00",
        "/destroy\u200b",
        "/",
        "/ destroy",
        "//destroy",
        "/usr/bin/env python",
        "/" + "a" * 40,
        "https://example.com/destroy",
        "\\/destroy",
        "**/destroy**",
        "[/destroy](https://example.com)",
    ],
)
def test_bodies_without_a_command(body: str) -> None:
    assert isinstance(parse_comment(body, REGISTRY), Ignore), repr(body)


def test_foreign_commands_are_passed_over_silently() -> None:
    assert isinstance(parse_comment("/lgtm", REGISTRY, foreign={"lgtm"}), Ignore)
    assert isinstance(parse_comment("/LGTM", REGISTRY, foreign={"lgtm"}), Ignore)
    assert parse_comment("/retest\n/status", REGISTRY, foreign={"retest"}) == Command("status", (), "/status")


# -- replies -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            "/build",
            "envbot does not know `/build`. Its commands are `/provision`, `/destroy`, `/status`, `/retry`, `/help`;"
            " comment `/help` for what they do.",
        ),
        ("/destroy now", "`/destroy now` takes no arguments; write `/destroy` alone on its line."),
        ("/status please", "`/status please` takes no arguments"),
        (
            "/provision a=b=c",
            "`a=b=c` is not a usable `key=value` parameter: a value with `=`, spaces or quotes must be one quoted"
            ' string, such as `key="a=b"`. Usage: `/provision [catalog ...] [key=value ...]`.',
        ),
        ("/provision a=", "`a=` is not a usable `key=value` parameter: the value is empty"),
        ("/provision =b", "`=b` is not a usable `key=value` parameter: the key must be"),
        ("/provision 1x=b", "the key must be `param` or `catalog.param`"),
        ("/provision Rds.a=b", "the key must be"),
        ("/provision rds-.a=b", "the key must be"),
        ("/provision a.b.c=d", "the key must be"),
        ("/provision a=x'y'", "must be one quoted string"),
        ("/provision a=x'y", "has a quote that is never closed"),
        ('/provision a="x"y"', "has a quote that is never closed"),
        ('/provision a="x y', "has a quote that is never closed"),
        ("/provision Bad_Catalog", "`Bad_Catalog` is neither a catalog name nor a `key=value` parameter."),
        ("/provision @org/team", "`@org/team` is neither a catalog name"),
        ("/provision rds rds", "`rds` is given more than once in `/provision rds rds`."),
        ("/provision a=1 a=2", "`a` is given more than once"),
        ("/provision a=\x00", "contains control or invisible characters"),
        ("/provision a=b\u202ecba", "contains control or invisible characters"),
        ("/provision a=b\u200bc", "contains control or invisible characters"),
        ("/provision " + "x " * (MAX_ARGUMENTS + 1), f"has {MAX_ARGUMENTS + 1} arguments; at most {MAX_ARGUMENTS}"),
        ("/provision " + "x" * MAX_LINE, f"That command line is {MAX_LINE + 11} characters long"),
    ],
)
def test_malformed_commands_get_one_line_replies(body: str, text: str) -> None:
    result = parse_comment(body, REGISTRY)
    assert isinstance(result, Reply), result
    assert text in result.text
    assert "\n" not in result.text
    assert result.line == body.strip()[: len(result.line)]


@pytest.mark.parametrize(
    "body",
    [
        "/provision @everyone",
        "/provision [x](https://evil.example)",
        "/provision ![x](https://evil.example/pixel.png)",
        "/provision `oops`",
        "/provision " + "`" * 5,
        "/nope @org/everyone",
        "/destroy @octocat",
    ],
)
def test_replies_quote_user_text_only_in_code_spans(body: str) -> None:
    result = parse_comment(body, REGISTRY)
    assert isinstance(result, Reply)
    outside = re.sub(r"(`+)(?:(?!\1).)*?\1", "", result.text)
    assert "@" not in outside and "](" not in outside, result.text


def test_the_first_command_line_wins_even_when_malformed() -> None:
    result = parse_comment("/destroy now\n/status", REGISTRY)
    assert isinstance(result, Reply)
    assert parse_comment("/status\n/destroy now", REGISTRY) == Command("status", (), "/status")


# -- arguments ---------------------------------------------------------------------------------------------------------


def test_provision_arguments() -> None:
    body = "/provision rds-postgres sample-app rds-postgres.allocatedStorage=30 replicas=3 note=\"a b=c\" empty=''"
    result = parse_comment(body, REGISTRY)
    assert isinstance(result, Command)
    assert result.name == "provision"
    assert result.catalogs == ("rds-postgres", "sample-app")
    assert result.settings == (
        Setting("rds-postgres", "allocatedStorage", "30"),
        Setting(None, "replicas", "3"),
        Setting(None, "note", "a b=c"),
        Setting(None, "empty", ""),
    )
    assert result.args == (
        "rds-postgres",
        "sample-app",
        "rds-postgres.allocatedStorage=30",
        "replicas=3",
        'note="a b=c"',
        "empty=''",
    )
    assert str(result.settings[0]) == "rds-postgres.allocatedStorage=30"


def test_provision_without_arguments_and_with_unicode_values() -> None:
    assert parse_comment("/provision", REGISTRY) == Command("provision", (), "/provision")
    result = parse_comment("/provision\tdescription=café", REGISTRY)
    assert isinstance(result, Command)
    assert result.settings == (Setting(None, "description", "café"),)


def test_exactly_the_argument_limit_is_fine() -> None:
    result = parse_comment("/provision " + " ".join(f"c{i}" for i in range(MAX_ARGUMENTS)), REGISTRY)
    assert isinstance(result, Command)
    assert len(result.catalogs) == MAX_ARGUMENTS


# -- hostile sizes stay cheap ------------------------------------------------------------------------------------------


HOSTILE_BODIES = [
    "x" * 10_000_000,
    "\n" * 2_000_000,
    "/" * 1_000_000,
    "/provision " + '"' * 500_000,
    "/provision " + "'a" * 300_000,
    "/provision " + "a=" * 300_000,
    "```\n" * 300_000,
    "<!--" * 500_000,
    "> " * 1_000_000 + "/destroy",
    "- " * 1_000_000 + "```",
    ("a" * 70_000) + "\n/destroy",
]
"""Comment bodies built to be expensive; ``benchmarks/parsing.py`` times the parser on them."""


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_huge_bodies_are_read_only_up_to_the_limit(body: str) -> None:
    """Whatever follows the first MAX_BODY characters changes nothing: the work is bounded by the limit, not the
    body (the time it takes is a benchmark figure, never a test's)."""
    result = parse_comment(body, REGISTRY)
    assert isinstance(result, Ignore | Reply)
    assert result == parse_comment(body[:MAX_BODY], REGISTRY)
    assert parse_comment(body[:MAX_BODY] + "\n/destroy" * 1000, REGISTRY) == result


def test_only_the_first_64k_characters_are_read() -> None:
    assert isinstance(parse_comment(("a" * 70_000) + "\n/destroy", REGISTRY), Ignore)
    assert command_lines("x\n/status") == ["/status"]


@pytest.mark.parametrize("body", [None, 42, b"/destroy", ["/destroy"]])
def test_non_text_bodies_are_ignored(body: object) -> None:
    assert isinstance(parse_comment(body, REGISTRY), Ignore)  # type: ignore[arg-type]


# -- quoting -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("/destroy", "`/destroy`"),
        ("a`b", "``a`b``"),
        ("`x`", "`` `x` ``"),
        ("a\x00b\u202ec", "`a\ufffdb\ufffdc`"),
        ("x" * 100, "`" + "x" * 79 + "…`"),
    ],
)
def test_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted


# -- typed values ------------------------------------------------------------------------------------------------------


def param(kind: ParameterType, **fields: object) -> Parameter:
    return Parameter(name="p", type=kind, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("parameter", "text", "value"),
    [
        (param(ParameterType.STRING), "hello world", "hello world"),
        (param(ParameterType.STRING), "", ""),
        (param(ParameterType.STRING), "true", "true"),
        (param(ParameterType.STRING), "{{ 7*7 }}", "{{ 7*7 }}"),
        (param(ParameterType.STRING, pattern=r"^vpc-[0-9a-f]+$"), "vpc-0abc", "vpc-0abc"),
        (param(ParameterType.INTEGER), "30", 30),
        (param(ParameterType.INTEGER), "-4", -4),
        (param(ParameterType.INTEGER), "+7", 7),
        (param(ParameterType.INTEGER, minimum=20, maximum=1000), "1000", 1000),
        (param(ParameterType.NUMBER), "2.5", 2.5),
        (param(ParameterType.NUMBER), "3", 3),
        (param(ParameterType.NUMBER), "1e3", 1000.0),
        (param(ParameterType.NUMBER), ".5", 0.5),
        (param(ParameterType.BOOLEAN), "true", True),
        (param(ParameterType.BOOLEAN), "False", False),
        (param(ParameterType.ENUM, options=("db.t3.micro", "db.t3.small")), "db.t3.small", "db.t3.small"),
        (param(ParameterType.ENUM, options=(1, 2, 3)), "2", 2),
        (param(ParameterType.ENUM, options=(True, "auto")), "true", True),
    ],
)
def test_coerce_value(parameter: Parameter, text: str, value: object) -> None:
    result = coerce_value(parameter, text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("parameter", "text", "message"),
    [
        (param(ParameterType.SECRET), "hunter2", "is a secret; a comment cannot carry it"),
        (param(ParameterType.INTEGER), "3.5", "must be an integer, got `3.5`"),
        (param(ParameterType.INTEGER), "1_000", "must be an integer"),
        (param(ParameterType.INTEGER), "٣", "must be an integer"),  # Arabic-Indic digit
        (param(ParameterType.INTEGER), "9" * 5000, "must be an integer"),
        (param(ParameterType.INTEGER), "0x10", "must be an integer"),
        (param(ParameterType.INTEGER, minimum=20), "5", "must be at least 20, got 5"),
        (param(ParameterType.INTEGER, maximum=10), "11", "must be at most 10, got 11"),
        (param(ParameterType.NUMBER), "nan", "must be a number"),
        (param(ParameterType.NUMBER), "inf", "must be a number"),
        (param(ParameterType.NUMBER), "1e999", "must be a finite number"),
        (param(ParameterType.NUMBER), "", "must be a number"),
        (param(ParameterType.BOOLEAN), "yes", "must be true or false, got `yes`"),
        (param(ParameterType.BOOLEAN), "1", "must be true or false"),
        (param(ParameterType.ENUM, options=("a", "b")), "c", "must be one of a, b; got `c`"),
        (param(ParameterType.ENUM, options=("a", "b")), "A", "must be one of a, b"),
        (param(ParameterType.STRING, pattern=r"^vpc-[0-9a-f]+$"), "@octocat", "`@octocat` does not match the pattern"),
    ],
)
def test_coerce_value_problems(parameter: Parameter, text: str, message: str) -> None:
    result = coerce_value(parameter, text)
    assert isinstance(result, ValueProblem)
    assert message in result.message
    assert "hunter2" not in result.message
