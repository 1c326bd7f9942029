"""Text that is not envbot's own (a Terraform error, a branch name, a command line, a dispatch input) reaches the
sticky comment, the job summary, the commit status and the job log as data: readable, never markup or a command.

The markdown is parsed with markdown-it (CommonMark with GFM tables, as GitHub renders it) and every token is
checked; the log is checked line by line as the Actions runner reads it (``::cmd::`` after leading blanks,
``##[cmd]`` anywhere in a line).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot.cli import main
from bot.reconcile.model import Phase
from tests.action.support import TOKEN, ActionWorld, make_world
from tests.webhooks import payload

REPO = "acme/shop"
PR = 42
ENV = "feature-login"
USER = "nadia"
COMMENT = "issue_comment/created-on-pull-request"

HOSTILE_MESSAGE = "\n".join(
    [
        "@acme/platform-admins Error: creating RDS instance: quota exceeded",
        "### Approved by @acme/platform-admins",
        "[Re-run the deployment](https://evil.example/phish) ![pixel](https://evil.example/p.png)",
        "<img src=https://evil.example/x.png> <a href='https://evil.example'>docs</a> <!-- envbot:status:other -->",
        "| forged | cell | https://evil.example/bare www.evil.example **bold** `tick` ``` fence",
        "  ::stop-commands::envbot-paused",
        "::error title=Approved::all checks passed",
        "##[add-mask]quota \r::set-output name=phase::Ready",
        "> quoted\t# heading\u2028::warning::after a line separator",
    ]
)
"""A Terraform error written by someone who can make a module fail: every kind of markup and workflow command."""
READABLE = ["quota exceeded", "Approved by", "platform-admins", "Re-run the deployment", "evil.example/phish", "forged"]
"""Words of the message that must still be there for a person to read."""

MARKDOWN = MarkdownIt("commonmark").enable("table")
OWN_HTML = re.compile(r"<sub>|</sub>|<br>|<!-- envbot:(status|reply):[\w.:/-]+ -->\n?")
"""The only HTML envbot writes itself: the footer, line breaks between pull requests, the hidden marker."""
LIVE_IN_TEXT = re.compile(r"@[A-Za-z0-9]|https?://|www\.")
"""In text outside code, GitHub makes these a mention or a link."""
JOINERS = re.compile("[\u200d\u2060]")
PHASES = {phase.value for phase in Phase}


def markup_problems(markdown: str, own_headings: int) -> list[str]:
    """Everything in ``markdown`` that GitHub would render as markup beyond envbot's own: its ``own_headings``
    headings, its tables, a phase in bold, its footer and marker."""
    problems: list[str] = []
    tokens = MARKDOWN.parse(markdown)
    headings = sum(1 for t in tokens if t.type == "heading_open")
    if headings != own_headings:
        problems.append(f"{headings} headings, envbot writes {own_headings}")
    problems += [f"block {t.type}" for t in tokens if t.type in ("blockquote_open", "fence", "code_block", "hr")]
    problems += [f"html {t.content!r}" for t in tokens if t.type == "html_block" and not OWN_HTML.fullmatch(t.content)]
    for token in tokens:
        children = token.children or []
        for index, child in enumerate(children):
            problems += _inline_problems(child, children[index + 1 : index + 2])
    problems += _table_problems(markdown)
    problems += [f"{s!r} written out" for s in ("@acme/platform-admins", "](", "<img") if s in markdown]
    return problems


def _inline_problems(token: Token, following: list[Token]) -> list[str]:
    if token.type in ("link_open", "image"):
        return [f"inline {token.type}"]
    if token.type in ("em_open", "strong_open") and not (following and following[0].content in PHASES):
        return [f"inline {token.type}"]
    if token.type == "html_inline" and not OWN_HTML.fullmatch(token.content):
        return [f"inline html {token.content!r}"]
    if token.type == "text" and LIVE_IN_TEXT.search(token.content):
        return [f"live text {token.content!r}"]
    return []


def _table_problems(markdown: str) -> list[str]:
    """Rows with more or fewer cells than their table's header: a pipe in the data ended a cell."""
    problems: list[str] = []
    header: int | None = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        header = cells if header is None else header
        if cells != header:
            problems.append(f"a row with {cells - 1} cells under {header - 1}: {line[:60]!r}")
    return problems


def rendered_text(markdown: str) -> str:
    """What a reader sees: the text and code of every inline token, invisible joiners dropped."""
    parts = [c.content for t in MARKDOWN.parse(markdown) for c in t.children or [] if c.type in ("text", "code_inline")]
    return JOINERS.sub("", " ".join(parts))


def command_problems(log: list[str], own_commands: int) -> list[str]:
    """Lines of the log the runner would take as a workflow command, beyond envbot's own annotations."""
    problems: list[str] = []
    commands = 0
    for entry in log:
        for line in re.split(r"\r\n?|\n", entry):
            if "##[" in line:
                problems.append(f"##[ in {line!r}")
            if line.lstrip().startswith("::"):
                if line.startswith("::error title=envbot%3A ") and entry == line:
                    commands += 1
                else:
                    problems.append(f"command line {line!r}")
    if commands != own_commands:
        problems.append(f"{commands} annotations, envbot writes {own_commands}")
    return problems


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ActionWorld]:
    with contextmanager(make_world)(tmp_path, REPO, extra={"timeouts": {"failureGrace": "0s"}}) as opened:
        opened.add_pull_request(PR, ENV)
        opened.fake.grant(USER, "write")
        opened.cluster_delay = dt.timedelta(0)
        yield opened


def test_a_hostile_terraform_message_is_data_in_the_comment_summary_status_and_log(world: ActionWorld) -> None:
    world.fail_workspaces = {f"{ENV}-rds-postgres": HOSTILE_MESSAGE}

    assert world.handle("issue_comment", payload(COMMENT, comment__body="/provision")) == 1, world.logs

    (sticky,) = world.comments(PR)
    assert markup_problems(sticky, own_headings=1) == []
    assert all(word in rendered_text(sticky) for word in READABLE), rendered_text(sticky)
    summary = world.summary()
    assert markup_problems(summary, own_headings=1) == []
    assert all(word in rendered_text(summary) for word in READABLE), rendered_text(summary)

    status = world.statuses(world.fake.pulls[PR]["head_sha"])[f"envbot/{ENV}"]
    description = status["description"]
    assert status["state"] == "failure" and description.startswith("Failed: ")
    assert len(description) <= 140 and not re.search(r"[\r\n\t\u2028]", description)
    assert not re.search(r"@[A-Za-z0-9]", description)

    assert command_problems(world.logs, own_commands=1) == []
    log = "\n".join(world.logs)
    assert all(JOINERS.sub("", word) in JOINERS.sub("", log) for word in [*READABLE, "stop-commands", "add-mask"])
    annotation = world.logs[-1]
    assert annotation.startswith(f"::error title=envbot%3A {ENV} failed::") and "quota exceeded%0A" in annotation


def test_a_branch_name_with_markdown_is_data(world: ActionWorld) -> None:
    branch = "feature/@acme/platform-admins-<img>-](x)-#1-**b**-|p|-`c`-!x"  # a valid git branch name
    head = world.add_branch(branch)

    assert world.handle("create", payload("create/branch", ref=branch)) == 0, world.logs

    (name,) = {path.split("/")[2] for path in world.gitops_files("platform")}
    assert re.fullmatch(r"feature-acme-platform-admins-img-x-1-b-p-c-x-[0-9a-f]{8}", name)
    summary = world.summary()
    assert markup_problems(summary, own_headings=1) == [] and name in rendered_text(summary)
    assert not re.search(r"@[A-Za-z0-9]", world.statuses(head)[f"envbot/{name}"]["description"])
    assert world.logs[0] == f"envbot: provisioning {name} (branch {branch} created)"  # git refs hold no command
    assert command_problems(world.logs, own_commands=0) == []


def test_a_command_line_in_a_dry_run_log_is_not_a_workflow_command(world: ActionWorld) -> None:
    body = "/provision ##[stop-commands]envbot-paused"

    assert world.handle("issue_comment", payload(COMMENT, comment__body=body), dry_run=True) == 0

    assert command_problems(world.logs, own_commands=0) == []
    assert "stop-commands]envbot-paused" in world.logs[-1] and "neither a catalog name" in world.logs[-1]


def test_a_dispatch_input_in_an_error_line_is_not_a_workflow_command(
    world: ActionWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = payload("workflow_dispatch/provision")
    document["inputs"].update(action="destroy", environment="x ##[stop-commands]envbot-paused")
    event = world.event_file(document)
    monkeypatch.setenv("ENVBOT_SOURCE_TOKEN", TOKEN)
    argv = ["handle-event", "--event-name", "workflow_dispatch", "--event-path", str(event)]

    assert main([*argv, "--config", str(world.config_path)], timebase=world.clock.timebase) == 1

    out, err = capsys.readouterr()
    assert err.startswith("error: workflow_dispatch input environment: ") and "stop-commands]envbot-paused" in err
    assert command_problems([out, err], own_commands=0) == []
    assert json.loads(event.read_text(encoding="utf-8"))["inputs"]["environment"].endswith("envbot-paused")
