"""``envbot handle-event`` through the CLI entry point (options and their GITHUB_EVENT_* defaults, the source
token from ENVBOT_SOURCE_TOKEN, the source forge opened for the payload's repository on api.github.com), and the
token never showing up in anything envbot writes."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from tests.action.conftest import OpenWorld
from tests.action.support import TOKEN, ActionWorld
from tests.webhooks import payload, repository_of

CREATE = "create/branch"  # feature-checkout, by nadia
DELETE = "delete/branch"
COMMENT = "issue_comment/created-on-pull-request"  # on #42, by nadia


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch, open_world: OpenWorld) -> ActionWorld:
    """A world for the create payload's repository, and the environment of a GitHub Actions job."""
    world = open_world(repository_of(CREATE))
    world.fake.grant("nadia", "write")
    monkeypatch.setenv("ENVBOT_SOURCE_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_NAME", raising=False)
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(world.root / "summary-cli.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(world.root / "output-cli"))
    return world


def authorizations(world: ActionWorld) -> set[str]:
    assert world.mock is not None
    return {str(call.request.headers.get("Authorization")) for call in world.mock.calls}


def test_handle_event_with_options_then_with_the_github_environment_defaults(
    job: ActionWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = job
    head = world.add_branch("feature-checkout")
    created = world.event_file(payload(CREATE))
    config = str(world.config_path)

    assert (
        main(
            ["handle-event", "--event-name", "create", "--event-path", str(created), "--config", config],
            timebase=world.clock.timebase,
        )
        == 0
    )

    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "envbot: provisioning feature-checkout (branch feature-checkout created)"
    assert err == ""
    assert "registry/environments/feature-checkout/environment.yaml" in world.gitops_files("platform")
    assert world.statuses(head)["envbot/feature-checkout"]["state"] == "pending"  # through api.github.com
    assert authorizations(world) == {f"token {TOKEN}"}  # every request carried ENVBOT_SOURCE_TOKEN

    world.delete_branch("feature-checkout")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "delete")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(world.event_file(payload(DELETE))))

    assert main(["handle-event", "--config", config], timebase=world.clock.timebase) == 0

    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "envbot: destroying feature-checkout: branch feature-checkout was deleted"
    assert out.splitlines()[1].startswith("envbot: feature-checkout: Deleting: ")
    assert err == ""
    summary = (world.root / "summary-cli.md").read_text(encoding="utf-8")
    assert summary.count("## envbot") == 2 and "`feature-checkout` | Deleting" in summary
    assert "phase<<" in (world.root / "output-cli").read_text(encoding="utf-8")
    assert TOKEN not in out + summary


def test_handle_event_without_a_source_token_says_which_variables_to_set(
    job: ActionWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ENVBOT_SOURCE_TOKEN")
    path = job.event_file(payload(CREATE))

    code = main(
        ["handle-event", "--event-name", "create", "--event-path", str(path), "--config", str(job.config_path)],
        timebase=job.clock.timebase,
    )

    assert code == 1
    assert capsys.readouterr().err == (
        "error: no token for the source repository: set ENVBOT_SOURCE_TOKEN or GITHUB_TOKEN, or github.app\n"
    )
    assert job.fake.calls == []


def test_handle_event_of_an_ignored_event_exits_zero_with_one_line(
    job: ActionWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = job.event_file(payload("create/tag"))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "create")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))

    assert main(["handle-event", "--config", str(job.config_path)], timebase=job.clock.timebase) == 0

    assert capsys.readouterr().out == "envbot: nothing to do for TagCreated: tag v1.4.0 created: tags are ignored\n"


def test_the_source_token_never_appears_in_logs_comments_statuses_or_the_summary(open_world: OpenWorld) -> None:
    world = open_world(repository_of(COMMENT))
    world.add_pull_request(42, "feature-login")
    world.fake.grant("nadia", "write")
    for body in ("/provision", "/status", "/help", "/retry", "/frobnicate", "/destroy"):
        assert world.handle("issue_comment", payload(COMMENT, comment__body=body)) == 0, world.logs

    assert authorizations(world) == {f"token {TOKEN}"}  # the token was in use all along
    said = world.everything_said()
    assert world.comments(42) and world.fake.statuses and "## envbot" in said
    assert TOKEN not in said
    assert TOKEN not in json.dumps([call.body for call in world.fake.calls])  # nor in any request body
