"""``envbot handle-event`` as the Action runs it, against fake GitHub behind one API base URL: an outage past the
retry budget is one ``error: ... (a temporary fault; try again later)`` line and exit status 75 (EX_TEMPFAIL, not
the 1 of bad input), and re-running the job converges."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.cli import main
from bot.forge.github import GitHubForge
from bot.forge.retry import RetryPolicy
from tests.faults.github import Fault, server_error, too_many_requests
from tests.faults.world import APPS, PLATFORM, TOKEN, World, comment_payload, write_config


@pytest.mark.parametrize(
    ("repo", "fault", "stderr"),
    [
        pytest.param(
            "source",
            server_error(503, times=99),
            "error: GitHub GET acme/shop/collaborators/nadia/permission failed: "
            "503 Service Unavailable (a temporary fault; try again later)\n",
            id="503",
        ),
        pytest.param(
            "platform",
            too_many_requests(3600, "pulls/create"),
            "error: GitHub POST acme/gitops-platform/pulls: asked to wait 3600s before retrying, more than the 20s "
            "left of this request's retry budget (a temporary fault; try again later)\n",
            id="429-retry-after-an-hour",
        ),
    ],
)
def test_handle_event_says_try_again_later_and_a_rerun_converges(
    make_world: Callable[..., World],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    repo: str,
    fault: Fault,
    stderr: str,
) -> None:
    world = make_world(shared_base_url=True)
    config = write_config(world.root, api_url=world.platform.base_url)
    event = world.root / "event.json"
    event.write_text(json.dumps(comment_payload("/provision")), encoding="utf-8")
    for name in ("ENVBOT_GITOPS_TOKEN", "ENVBOT_SOURCE_TOKEN"):
        monkeypatch.setenv(name, TOKEN)
    for name in ("GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    # The production clients, with waits recorded instead of slept and no spacing between writes.
    monkeypatch.setitem(GitHubForge.__init__.__kwdefaults__, "retry", RetryPolicy(sleep=world.sleeps))
    monkeypatch.setitem(GitHubForge.__init__.__kwdefaults__, "seconds_between_writes", None)
    argv = ["handle-event", "--event-name", "issue_comment", "--event-path", str(event), "--config", str(config)]
    getattr(world, repo).inject(fault)

    assert main(argv, timebase=world.clock.timebase) == 75
    assert capsys.readouterr().err == stderr
    assert world.sleeps.total <= RetryPolicy().max_total_wait

    for fake in world.fakes:
        fake.clear_faults()
    assert main(argv, timebase=world.clock.timebase) == 0, capsys.readouterr()
    assert capsys.readouterr().err == ""
    assert [(r, state) for r, _, state in world.platform.pull_summary()] == [
        ("envbot/feature-login/infrastructure", "merged")
    ]
    assert [(r, state) for r, _, state in world.apps.pull_summary()] == [("envbot/feature-login/applications", "open")]
    assert len(world.sticky_comments()) == 1
    assert {world.platform.repository, world.apps.repository} == {PLATFORM, APPS}


def test_provision_through_an_outage_exits_75_before_writing_anything(
    make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = make_world(shared_base_url=True)
    config = write_config(world.root, api_url=world.platform.base_url)
    monkeypatch.setenv("ENVBOT_GITOPS_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setitem(GitHubForge.__init__.__kwdefaults__, "retry", RetryPolicy(sleep=world.sleeps))
    monkeypatch.setitem(GitHubForge.__init__.__kwdefaults__, "seconds_between_writes", None)
    world.apps.inject(server_error(503, times=99))
    argv = ["provision", str(world.root / "envs" / "feature.yaml"), "--config", str(config)]

    assert main(argv, timebase=world.clock.timebase) == 75
    err = capsys.readouterr().err
    assert err.startswith(f"error: GitHub GET {APPS}/"), err
    assert err.endswith(" failed: 503 Service Unavailable (a temporary fault; try again later)\n"), err
    assert world.platform.pull_summary() == []  # the apps repository is checked before the platform is written
