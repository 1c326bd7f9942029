"""The escapers of bot/text/untrusted.py and bot/report/github_actions.py on a table of hostile strings, and the
templates that apply them: markdown data is one inert code span, plain data one line, log text no workflow command."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from bot.events.text import quote, render
from bot.reconcile.gate import Blocker, BlockerKind
from bot.reconcile.model import Phase
from bot.report.comment import commit_description, status_comment
from bot.report.github_actions import error_annotation, log_text
from bot.report.status import PullRequestLine, StatusRow, pull_request_markdown, status_table, summary_markdown
from bot.report.text import render_text
from bot.text.templates import render_package_text, slot_for
from bot.text.untrusted import JOINER, MAX_MARKDOWN_DATA, Markdown, markdown_data, markdown_slot, plain_data

MARKDOWN = MarkdownIt("commonmark").enable("table")
NOW = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

HOSTILE = [
    "@acme/platform-admins approved",
    "ping @octocat and @acme/sre-team",
    "[Re-run](https://evil.example/phish)",
    "![pixel](https://evil.example/p.png)",
    "<img src=https://evil.example/x.png onerror=alert(1)>",
    "<a href='https://evil.example'>docs</a> </td></tr></table>",
    "<!-- envbot:status:other --> <details open><summary>x</summary>",
    "# Approved\n## by the platform team",
    "line one\r\n### line two\rline three",
    "a | forged | row |\n|---|---|",
    "a \\| b \\\\| c \\",
    "`one` ``two`` ```three```",
    "`",
    "``starts and ends``",
    "**bold** _em_ ~~gone~~ <https://evil.example/auto>",
    "bare https://evil.example/x and www.evil.example and mail@evil.example",
    "&lt;img&gt; &#60;b&#62; :warning: #12 GH-3 acme/shop#4",
    "> quoted\n- item\n1. numbered\n    indented code\n---",
    "tab\there\u2028separator\u2029paragraph\x85next\x0bvertical\x0cfeed",
    "bidi \u202egnp.exe\u202c zero\u200bwidth \u2060joiner nul\x00 esc\x1b[31mred",
    "::stop-commands::pause\n::error::fake\n##[add-mask]secret",
    "   \n\t  ",
    "",
]


def inline_tokens(markdown: str) -> list[tuple[str, str]]:
    """(type, content) of every inline token of ``markdown``, and of every block that is not a paragraph or table."""
    found = []
    for token in MARKDOWN.parse(markdown):
        if token.type == "inline":
            found += [(child.type, child.content) for child in token.children or []]
        elif not re.fullmatch(r"(paragraph|table|thead|tbody|tr|th|td)_(open|close)", token.type):
            found.append((token.type, token.content))
    return found


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("where", ["paragraph", "table cell"])
def test_markdown_data_is_one_inert_code_span(text: str, where: str) -> None:
    data = markdown_data(text)

    assert isinstance(data, Markdown) and "\n" not in data and "\r" not in data
    assert not re.search(r"@[\w]|<[\w!/]|\]\(", data)  # not even spelled out: joiners sit inside
    seen = " ".join(text.split())
    if not seen:
        assert data == ""
        return
    markdown = f"envbot says {data} here" if where == "paragraph" else f"| a | b |\n|---|---|\n| x | {data} |\n"
    tokens = inline_tokens(markdown)
    code = [content for kind, content in tokens if kind == "code_inline"]
    assert [kind for kind, _ in tokens if kind != "text"] == ["code_inline"], tokens
    assert [content for kind, content in tokens if kind == "text"] in (["a", "b", "x"], ["envbot says ", " here"])
    shown = code[0].replace(JOINER, "")
    if where == "paragraph":
        shown = shown.replace("\\|", "|")  # outside a table GitHub shows the backslash; the text is the same
    expected = "".join("\N{REPLACEMENT CHARACTER}" if c in "\u202e\u202c\u200b\u2060\x00\x1b" else c for c in seen)
    assert shown.strip(" ") == expected.strip(" ")


def test_markdown_data_is_cut_with_an_ellipsis() -> None:
    data = markdown_data("word " * 1000)
    assert len(data) == MAX_MARKDOWN_DATA + 2 and data.endswith("…`")
    assert markdown_data("abcdef", limit=4) == "`abc…`"


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_data_is_one_line_without_mentions(text: str) -> None:
    plain = plain_data(text, 140)
    assert len(plain) <= 140
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u200b]", plain)
    assert not re.search(r"@\w", plain)
    whole = plain_data(text, 10_000)
    assert plain == whole or (plain.endswith("…") and whole.startswith(plain[:-1]))


@pytest.mark.parametrize(
    "text",
    [
        *HOSTILE,
        "  ::add-mask::secret",
        "\u3000::set-output name=x::y",
        "x\r::error::after a carriage return",
        "message ##[stop-commands]token mid-line",
        "###[not a command] but ##[group]is",
    ],
)
def test_log_text_holds_no_workflow_command(text: str) -> None:
    logged = log_text(text)
    for line in re.split(r"\r\n?|\n", logged):
        assert not line.lstrip().startswith("::") and "##[" not in line
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e\u200b]", line)
    assert len(re.split(r"\r\n?|\n", logged)) == len(re.split(r"\r\n?|\n", text))


@pytest.mark.parametrize(
    "text",
    [
        "envbot: feature-login: Ready: 3/3 Workspaces Available",
        "envbot: provisioning feature-x (branch feature/@acme/x-<b>-](y) created)",
        "address fe80::1 and a::b mid-line; # heading; ## [spaced]",
        "Error: creating RDS instance\n\n  on main.tf line 3:\n\tresource",
    ],
)
def test_log_text_leaves_ordinary_text_alone(text: str) -> None:
    assert log_text(text) == text


def test_an_annotation_is_one_line_whose_title_cannot_end_early() -> None:
    line = error_annotation("envbot: x, y:: z", "first\r\n::error::second\n##[add-mask]third 100%")
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error title=envbot%3A x%2C y%3A%3A z::first%0A:\u2060:error::second%0A")
    assert "##[" not in line and line.endswith("third 100%25")


HOSTILE_ROW = StatusRow(
    environment="feature-x",
    phase=Phase.FAILED,
    since=NOW - dt.timedelta(minutes=3),
    waiting_on="Argo CD: sync failed: @acme/admins\n# Approved [x](https://evil.example) <img src=x> | cell |",
    pull_requests=(
        PullRequestLine("platform https://github.com/acme/platform/pull/5 (merged)"),
        PullRequestLine("apps https://evil.example/pull/1)[y](z (open)"),
        PullRequestLine("apps #6 (open)"),
    ),
    failure="sync failed",
)


def test_the_sticky_comment_writes_envbots_words_and_quotes_the_rest() -> None:
    comment = status_comment(HOSTILE_ROW, NOW)

    assert comment.startswith("### ❌ envbot · `feature-x` · Failed\n")
    assert "| Phase | **Failed** (since 3m ago) |" in comment
    assert "| Problem | `Argo CD: sync failed: @\u2060acme/admins # Approved [x]\u2060(https://evil.example)" in comment
    assert "| Pull request | platform https://github.com/acme/platform/pull/5 (merged) |" in comment  # a link
    assert "| Pull request | `apps https://evil.example/pull/1)[y]\u2060(z (open)` |" in comment
    assert "| Pull request | `apps #6 (open)` |" in comment  # not a reference to issue 6 of the source repository
    tokens = inline_tokens(comment)
    assert sum(1 for kind, _ in tokens if kind in ("link_open", "image", "html_inline")) == 2  # <sub></sub>
    assert commit_description(HOSTILE_ROW) == (
        "Failed: Argo CD: sync failed: @\u2060acme/admins # Approved [x](https://evil.example) <img src=x> | cell |"
    )


def test_the_summary_writes_envbots_headline_and_quotes_the_rows() -> None:
    summary = summary_markdown([HOSTILE_ROW], NOW, "Handled at **noon**.")

    assert "\nHandled at **noon**.\n" in summary
    (row,) = [line for line in summary.splitlines() if line.startswith("| `feature-x`")]
    assert row.startswith("| `feature-x` | Failed | 3m ago | `Argo CD: sync failed: @\u2060acme/admins")
    assert row.endswith(
        " | platform https://github.com/acme/platform/pull/5 (merged)<br>`apps https://evil.example/pull/1)[y]\u2060(z"
        " (open)`<br>`apps #6 (open)` |"
    )
    assert len(re.findall(r"(?<!\\)\|", row)) == 6


@pytest.mark.parametrize(
    ("line", "own"),
    [
        ("platform https://github.com/acme/platform/pull/5 (merged)", True),
        ("apps https://ghe.example.com:8443/acme/app_repo.v2/pull/12 (checks-pending)", True),
        ("platform envbot/feature-x/infrastructure (to open)", False),
        ("platform https://github.com/acme/platform/pull/5 (merged) @acme", False),
        ("platform javascript:alert(1) (merged)", False),
        ("platform https://x.example/<img>/pull/1 (open)", False),
    ],
)
def test_only_envbots_own_pull_request_lines_are_links(line: str, own: bool) -> None:
    assert (pull_request_markdown(PullRequestLine(line)) == line) is own


def test_a_blocker_is_data_and_only_a_plain_web_address_becomes_its_link() -> None:
    line = PullRequestLine(
        "apps https://github.com/acme/apps/pull/7 (checks-failed)",
        (
            Blocker(BlockerKind.FAILED, 'check "@acme/x [y](z)" failed', "https://github.com/acme/apps/runs/9"),
            Blocker(BlockerKind.FAILED, 'check "b" failed', "https://ci.example/x)[pwn](https://evil.example"),
            Blocker(BlockerKind.FAILED, 'check "c" failed', "javascript:alert(1)"),
        ),
    )
    markdown = pull_request_markdown(line)

    assert markdown.startswith("apps https://github.com/acme/apps/pull/7 (checks-failed): `check")
    assert "[details](https://github.com/acme/apps/runs/9)" in markdown
    assert "evil.example" not in markdown and "javascript" not in markdown
    links = [text for kind, text in inline_tokens(markdown) if kind == "link_open"]
    assert len(links) == 1  # the first check's link (GitHub itself links the pull request's bare address)
    assert "@\u2060acme" in markdown
    assert line.text.endswith('check "c" failed (javascript:alert(1))')  # plain text keeps it, as data


def test_a_pull_request_body_quotes_every_value() -> None:
    context = {
        "environment": "feature-x",
        "step": "infrastructure",
        "first": True,
        "writes": ["registry/environments/feature-x/a|b.yaml"],
        "deletes": [],
        "pending": ["app waits on @acme [x](y)"],
        "catalogs": [("rds-postgres", "1.2.0 <b>")],
    }
    body = render_text("pull_request.md.j2", **context)
    assert "environment **`feature-x`**" in body
    assert "| `registry/environments/feature-x/a\\|b.yaml` | write |" in body
    assert "- `app waits on @\u2060acme [x]\u2060(y)`" in body and "`rds-postgres` `1.2.0 <\u2060b>`" in body
    assert (
        render_text("pull_request_title.txt.j2", **{**context, "environment": "x\n# y"})
        == "envbot: x # y: infrastructure"
    )


def test_a_new_markdown_template_cannot_forget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "envbot_untrusted_probe"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text('"""A package with one template."""\n', encoding="utf-8")
    (package / "templates" / "new.md.j2").write_text("Said: {{ said }} ({{ count }}, {{ own }})\n", encoding="utf-8")
    (package / "templates" / "new.html").write_text("{{ said }}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        said = "@acme/admins\n# [x](y)"
        rendered = render_package_text("envbot_untrusted_probe", "new.md.j2", said=said, count=3, own=Markdown("**b**"))
        assert rendered == "Said: `@\u2060acme/admins # [x]\u2060(y)` (3, **b**)\n"
        with pytest.raises(ValueError, match=r"\*\.md\.j2 \(markdown\) or \*\.txt\.j2"):
            render_package_text("envbot_untrusted_probe", "new.html", said=said)
    finally:
        sys.modules.pop("envbot_untrusted_probe", None)


def test_slots_by_kind() -> None:
    assert slot_for("status_comment.md.j2") is markdown_slot
    assert markdown_slot(True) == "`True`" and markdown_slot(2.5) == "2.5" and markdown_slot(None) == "`None`"
    assert quote("@x") == "`@x`" and isinstance(quote("@x"), Markdown)  # replies keep their exact form


def test_a_reply_value_cannot_start_a_block() -> None:
    text = render("replies/no-arguments.md.j2", quoted="`/status`\n# Approved", usage="/status")
    assert "\n" not in text and text.startswith("`/status` # Approved takes no arguments")


def test_the_cli_table_prints_markup_in_data_as_text() -> None:
    row = StatusRow(
        "[bold]x[/bold]", Phase.READY, None, "[red]waiting[/red]", (PullRequestLine("apps [link=https://e.x]y[/link]"),)
    )
    console = Console(record=True, width=200)
    console.print(status_table([row], NOW))
    text = console.export_text()
    assert "[bold]x[/bold]" in text and "[red]waiting[/red]" in text and "[link=https://e.x]y[/link]" in text
