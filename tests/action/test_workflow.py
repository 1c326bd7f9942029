"""The workflow users copy (.github/workflows/envbot.yml): our payloads through its `if:` and concurrency, its tokens."""

from __future__ import annotations

import functools
import itertools
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from project_paths import PROJECT_ROOT

from bot.events.commands import REGISTRY
from bot.events.comments import Command, Ignore, Reply, parse_comment
from bot.events.config import BranchRule, EventsConfig
from bot.events.intents import RunCommand
from bot.events.payloads import parse_event
from bot.events.routing import to_intent
from tests.action.workflow_expressions import Variables, condition, interpolate
from tests.webhooks import event_name_of, payload, scenarios

WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "envbot.yml"
ACTION = PROJECT_ROOT / "action.yml"
ENABLED = {"ENVBOT_ENABLED": "true", "ENVBOT_GITOPS_REPOSITORIES": "gitops-platform,gitops-apps"}
COMMENT = "issue_comment/created-on-pull-request"
LABEL = "pull_request/labeled"
DISPATCH = "workflow_dispatch/reconcile"
SHA_PINNED = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}")
CONFIG = EventsConfig(
    branches=(BranchRule("*", "environments/preview.yaml"),),
    default_template="environments/preview.yaml",
    destroy_on_close_unmerged=True,
)
"""An events config under which every request envbot can act on becomes an intent (no pattern or template missing)."""


@functools.cache
def _document(path: Path) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def workflow() -> dict[Any, Any]:
    return _document(WORKFLOW)


def job() -> dict[str, Any]:
    jobs: dict[str, dict[str, Any]] = workflow()["jobs"]
    assert list(jobs) == ["envbot"], "the tests below read the one envbot job"
    return jobs["envbot"]


def triggers() -> dict[str, Any]:
    """The ``on:`` section (YAML 1.1 reads the bare key ``on`` as ``True``)."""
    document = workflow()
    section: dict[str, Any] = document["on"] if "on" in document else document[True]
    return section


def step(predicate: Callable[[dict[str, Any]], bool]) -> tuple[int, dict[str, Any]]:
    found = [(index, s) for index, s in enumerate(job()["steps"]) if predicate(s)]
    assert len(found) == 1, f"expected one such step, found {len(found)}"
    return found[0]


def token_step() -> tuple[int, dict[str, Any]]:
    return step(lambda s: str(s.get("uses", "")).startswith("actions/create-github-app-token@"))


# -- the contexts GitHub evaluates the job with ------------------------------------------------------------------


def github_context(event_name: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the ``github`` context the workflow reads, filled the way GitHub documents it per event.

    ``GITHUB_REF``: the created branch for ``create``, ``refs/pull/<n>/merge`` for ``pull_request``, the dispatched
    ref for ``workflow_dispatch``, the default branch for ``delete``, ``issue_comment`` and ``schedule``.
    """
    default = f"refs/heads/{event.get('repository', {}).get('default_branch', 'main')}"
    if event_name == "create":
        kind = "tags" if event.get("ref_type") == "tag" else "heads"
        ref = f"refs/{kind}/{event['ref']}"
    elif event_name == "pull_request":
        ref = f"refs/pull/{event['number']}/merge"
    elif event_name == "workflow_dispatch":
        ref = str(event["ref"])
    else:
        ref = default
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/").removeprefix("refs/pull/")
    return {"event_name": event_name, "event": event, "ref": ref, "ref_name": name, "repository": "acme/shop"}


def contexts(event_name: str, event: Mapping[str, Any], variables: Mapping[str, str] = ENABLED) -> dict[str, Any]:
    inputs = event.get("inputs", {}) if event_name == "workflow_dispatch" else {}
    return {"github": github_context(event_name, event), "vars": Variables(variables), "inputs": inputs}


def concurrency() -> dict[str, Any]:
    """The concurrency that applies to the job: its own, else the workflow's."""
    chosen: dict[str, Any] = job().get("concurrency") or workflow()["concurrency"]
    return chosen


def runs(scenario: str, variables: Mapping[str, str] = ENABLED, **changes: Any) -> bool:
    """Whether the job starts for one of our payloads (``changes`` as in ``payload``)."""
    return condition(str(job()["if"]), contexts(event_name_of(scenario), payload(scenario, **changes), variables))


def group(scenario: str, **changes: Any) -> str:
    """The concurrency group the job of one of our payloads waits in."""
    return interpolate(str(concurrency()["group"]), contexts(event_name_of(scenario), payload(scenario, **changes)))


def comment_runs(body: str, **changes: Any) -> bool:
    return runs(COMMENT, comment__body=body, **changes)


def delivered(scenario: str) -> bool:
    """Whether GitHub starts the workflow at all for this payload (its event and action are under ``on:``)."""
    name = event_name_of(scenario)
    if name not in triggers():
        return False
    settings = triggers()[name]
    types = settings.get("types") if isinstance(settings, dict) else None
    return types is None or payload(scenario).get("action") in types


# -- item 2: no command is silently dropped ---------------------------------------------------------------------


def test_concurrency_is_on_the_job_so_a_skipped_run_never_enters_the_group() -> None:
    # A workflow-level group is taken when the run is queued, before any job's `if:`; a job skipped by its `if:`
    # never joins its job-level group. So the only group is the job's.
    assert "concurrency" not in workflow()
    assert "if" in job() and "concurrency" in job()


def test_a_run_in_the_group_is_never_cancelled_and_pending_runs_queue() -> None:
    chosen = concurrency()
    assert chosen["cancel-in-progress"] is False
    # GitHub's default queue keeps one pending run per group and cancels it when another one queues; "max" keeps
    # them all (up to 100), in order.
    assert chosen.get("queue") == "max"


def test_a_comment_and_a_label_on_the_same_pull_request_share_a_group() -> None:
    on_42 = {group(COMMENT), group(LABEL), group("pull_request/closed-merged"), group("pull_request/closed-unmerged")}
    assert len(on_42) == 1
    assert group(COMMENT, issue__number=57) == group("pull_request/closed-merged-from-fork")
    assert group(COMMENT, issue__number=57) not in on_42


def test_two_dispatches_for_different_environments_get_different_groups() -> None:
    checkout = group(DISPATCH, inputs__environment="feature-checkout")
    login = group(DISPATCH, inputs__environment="feature-login")
    assert checkout != login
    assert group(DISPATCH, inputs__action="destroy", inputs__environment="feature-login") == login
    assert group("workflow_dispatch/provision") != group("workflow_dispatch/provision", inputs__branch="other")


def test_everything_at_once_shares_one_group() -> None:
    everything = group("schedule/hourly")
    assert group(DISPATCH) == everything  # reconcile with no environment: every environment
    assert group(DISPATCH, inputs__action="sweep", inputs__environment="feature-login") == everything
    assert group(DISPATCH, inputs__environment="feature-login") != everything


def test_branch_events_are_grouped_by_branch() -> None:
    assert group("create/branch") == group("delete/branch") == group("workflow_dispatch/provision")
    assert group("create/branch") != group("create/branch", ref="feature-other")


def test_groups_of_different_kinds_never_collide() -> None:
    # A pull request #42, a branch named "42" and an environment named "42" are different things.
    number = group(COMMENT)
    assert number != group("create/branch", ref="42")
    assert number != group(DISPATCH, inputs__environment="42")
    assert group("create/branch", ref="42") != group(DISPATCH, inputs__environment="42")


@pytest.mark.parametrize("scenario", scenarios())
def test_every_payload_gets_a_group_of_its_own_kind(scenario: str) -> None:
    if delivered(scenario):
        assert re.fullmatch(r"envbot-(pull-request-\d+|branch-.+|environment-.+|every-environment)", group(scenario))


# -- item 8: every run that needs no work is cheap ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["thanks!", "LGTM, merging after lunch", "Looks good to me 👍", "/lgtm", "/retest", "", "ok\n\nbye"]
)
def test_a_comment_without_a_command_for_envbot_is_skipped(body: str) -> None:
    assert not comment_runs(body)


@pytest.mark.parametrize(
    ("login", "kind"), [("envbot-acme[bot]", "Bot"), ("github-actions[bot]", "Bot"), ("renovate[bot]", "User")]
)
def test_a_bots_comment_is_skipped(login: str, kind: str) -> None:
    assert not comment_runs("/provision", comment__user__login=login, comment__user__type=kind)


def test_a_comment_on_a_plain_issue_is_skipped() -> None:
    assert not runs("issue_comment/created-on-issue")
    assert not runs("issue_comment/created-on-issue", comment__body="/destroy")


@pytest.mark.parametrize(
    "body",
    [
        "/provision",
        "  /destroy",
        "   /status",
        "thanks, ready now\n/destroy",
        "thanks\r\n/retry",
        "one\rtwo\r/help",
        "/PROVISION",
        "/Destroy",
        "/provision app.replicas=2 web",
        "/provision app.replicas=",  # malformed: envbot answers it
        "/destroy now",  # a command that takes no arguments: envbot answers it
    ],
)
def test_every_real_command_runs(body: str) -> None:
    assert comment_runs(body)


def test_the_workflow_names_exactly_the_commands_of_the_registry() -> None:
    named = set(re.findall(r"contains\(github\.event\.comment\.body, '/([A-Za-z]+)'\)", str(job()["if"])))
    assert named == set(REGISTRY.names())


_LINES = {
    "first line": "{}",
    "after a line": "thanks\n{}",
    "after a CRLF line": "thanks\r\n{}",
    "after a CR line": "thanks\r{}",
    "after a quote": "> earlier\n\n{}",
    "then text": "{}\nmore text",
    "fenced": "```\n{}\n```",
    "quoted": "> {}",
}


def _bodies() -> list[str]:
    names = [*REGISTRY.names(), "provison", "lgtm"]
    cases: list[Callable[[str], str]] = [str.lower, str.upper, str.title]
    found = []
    for name, indent, case, suffix, shape in itertools.product(
        names, ["", " ", "  ", "   ", "    ", "\t"], cases, ["", " extra", " app.replicas=2", "\t"], _LINES.values()
    ):
        found.append(shape.format(f"{indent}{case('/' + name)}{suffix}"))
    return found


def _known_command(parsed: Command | Reply | Ignore) -> bool:
    """Whether envbot acts on, or answers, the comment: a command of the registry, well-formed or not."""
    if isinstance(parsed, Command):
        return True
    match = re.match(r"/([A-Za-z][A-Za-z0-9_-]*)", parsed.line) if isinstance(parsed, Reply) else None
    return match is not None and REGISTRY.get(match[1].lower()) is not None


def test_no_comment_envbot_would_act_on_or_answer_is_skipped() -> None:
    # Every command of the registry, at the start of a line after up to three spaces, in any case, with or without
    # arguments, on any line, with any line ending: envbot's own parser says which of these bodies hold a command.
    bodies = _bodies()
    commands = [body for body in bodies if _known_command(parse_comment(body, REGISTRY))]
    assert len(commands) > len(bodies) // 4
    assert [body for body in commands if not comment_runs(body)] == []


# -- what is skipped is only what envbot ignores -----------------------------------------------------------------


def _ignored_by_envbot(scenario: str, **changes: Any) -> bool:
    intent = to_intent(parse_event(event_name_of(scenario), payload(scenario, **changes)), CONFIG)
    if isinstance(intent, RunCommand):
        return not _known_command(intent.command)
    return isinstance(intent, Ignore)


@pytest.mark.parametrize("scenario", scenarios())
def test_a_payload_the_job_skips_is_one_envbot_ignores(scenario: str) -> None:
    if delivered(scenario) and not runs(scenario):
        assert _ignored_by_envbot(scenario)


def test_a_comment_body_the_job_skips_is_one_envbot_ignores() -> None:
    skipped = [body for body in _bodies() if not comment_runs(body)]
    assert skipped
    assert [body for body in skipped if not _ignored_by_envbot(COMMENT, comment__body=body)] == []


@pytest.mark.parametrize(
    "scenario",
    [
        "create/branch",
        "delete/branch",
        LABEL,
        "pull_request/closed-merged",
        "pull_request/closed-unmerged",
        "pull_request/closed-fork-deleted",
        COMMENT,
        "workflow_dispatch/provision",
        DISPATCH,
        "schedule/hourly",
    ],
)
def test_every_event_with_work_runs(scenario: str) -> None:
    assert delivered(scenario)
    assert runs(scenario)


def test_tags_are_skipped() -> None:
    assert not runs("create/tag")
    assert not runs("delete/tag")


@pytest.mark.parametrize("scenario", ["create/branch", COMMENT, DISPATCH, "schedule/hourly"])
def test_nothing_runs_unless_the_repository_enables_envbot(scenario: str) -> None:
    assert not runs(scenario, variables={})
    assert not runs(scenario, variables={"ENVBOT_ENABLED": "false"})


# -- item 5: least privilege --------------------------------------------------------------------------------------


def test_the_workflow_token_has_no_permission_but_the_jobs_minimum() -> None:
    assert workflow()["permissions"] == {}
    assert job()["permissions"] == {
        "contents": "read",  # check out envbot.yaml and the templates, list branches for the sweep
        "pull-requests": "read",  # read the pull request (head, state) and list pull requests for the sweep
        "issues": "write",  # the sticky comment and replies are issue comments
        "statuses": "write",  # the envbot/<env> commit status
    }


def test_the_gitops_token_asks_for_exactly_what_envbot_does_there() -> None:
    _, token = token_step()
    inputs = token["with"]
    assert "app-id" not in inputs
    assert inputs["client-id"] == "${{ vars.ENVBOT_APP_CLIENT_ID }}"
    assert inputs["private-key"] == "${{ secrets.ENVBOT_APP_PRIVATE_KEY }}"
    assert {k: v for k, v in inputs.items() if k.startswith("permission-")} == {
        "permission-contents": "write",  # push branches, merge pull requests
        "permission-pull-requests": "write",  # open, edit and label pull requests
        "permission-statuses": "write",  # the envbot/infrastructure status, and read the checks' statuses
    }


def test_the_gitops_token_names_its_repositories_and_never_falls_back_to_all() -> None:
    _, token = token_step()
    inputs = token["with"]
    # With `owner` set and `repositories` empty the action would scope the token to every repository of the
    # installation; without `owner` it never does.
    assert "owner" not in inputs
    assert inputs["repositories"] == "${{ vars.ENVBOT_GITOPS_REPOSITORIES }}"


def _guard_exit(repositories: str | None, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    index, _ = token_step()
    guards = [s for s in job()["steps"][:index] if "ENVBOT_GITOPS_REPOSITORIES" in str(s.get("env", "")) and "run" in s]
    assert len(guards) == 1, "one step before the token step checks the repository list"
    guard = guards[0]
    assert "if" not in guard
    variables = {**ENABLED}
    if repositories is None:
        del variables["ENVBOT_GITOPS_REPOSITORIES"]
    else:
        variables["ENVBOT_GITOPS_REPOSITORIES"] = repositories
    scope = contexts(COMMENT, payload(COMMENT), variables)
    env = {name: interpolate(str(value), scope) for name, value in guard["env"].items()}
    script = tmp_path / "guard.sh"
    script.write_text(str(guard["run"]), encoding="utf-8")
    return subprocess.run(
        ["bash", "-e", str(script)], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("repositories", [None, "", "  ", ",", " , \n"])
def test_an_empty_repository_list_fails_the_job_before_any_token(repositories: str | None, tmp_path: Path) -> None:
    done = _guard_exit(repositories, tmp_path)
    assert done.returncode != 0
    assert "::error" in done.stdout and "ENVBOT_GITOPS_REPOSITORIES" in done.stdout


@pytest.mark.parametrize("repositories", ["gitops-platform,gitops-apps", "gitops-platform\ngitops-apps"])
def test_a_repository_list_lets_the_job_go_on(repositories: str, tmp_path: Path) -> None:
    done = _guard_exit(repositories, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def _uses(document: Any) -> list[str]:
    if isinstance(document, dict):
        found = [str(v) for k, v in document.items() if k == "uses"]
        return found + [u for v in document.values() for u in _uses(v)]
    if isinstance(document, list):
        return [u for v in document for u in _uses(v)]
    return []


@pytest.mark.parametrize("path", [WORKFLOW, ACTION], ids=["workflow", "action"])
def test_every_action_is_pinned_to_a_commit(path: Path) -> None:
    used = _uses(_document(path))
    assert used
    assert [u for u in used if not (u.startswith("./") or SHA_PINNED.fullmatch(u))] == []
