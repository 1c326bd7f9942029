"""Events → intents from our own payloads, the events config, authorization, commands resolved, and orphans."""

from __future__ import annotations

from typing import Any

import pytest

from bot.action import load_event
from bot.environment.model import Origin, OriginKind
from bot.errors import UserError
from bot.events.commands import REGISTRY
from bot.events.commands.spec import CommandSpec, Registry, Target
from bot.events.comments import Command, Ignore, Reply, Setting
from bot.events.config import BranchRule, EventsConfig, parse_events_config
from bot.events.intents import Destroy, Intent, Provision, Reconcile, Retry, RunCommand, SweepOrphans
from bot.events.naming import environment_name
from bot.events.payloads import parse_event
from bot.events.routing import InputError, authorize, needs_permission, resolve_command, to_intent
from bot.events.sweep import orphan_reason
from bot.forge.model import Permission
from tests.events.support import (
    BRANCH_CREATE,
    BRANCH_DELETE,
    COMMENT_DELETED,
    COMMENT_EDITED,
    DISPATCH,
    DISPATCH_DEFAULTS,
    ISSUE_COMMENT,
    PING,
    PR_CLOSED,
    PR_COMMENT,
    PR_FORK_DELETED,
    PR_FROM_FORK,
    PR_LABELED,
    PR_MERGED,
    PR_OPENED,
    PR_REOPENED,
    PR_SYNCHRONIZE,
    PR_UNLABELED,
    PUSH,
    SCHEDULE,
    STATUS,
    TAG_CREATE,
    TAG_DELETE,
    comment_payload,
)
from tests.webhooks import event_name_of, path_of, payload

CONFIG = EventsConfig(
    branches=(
        BranchRule("feature-*", "environments/feature.yaml"),
        BranchRule("feature/*", "environments/feature.yaml"),
        BranchRule("hotfix/*", "environments/hotfix.yaml"),
    ),
    default_template="environments/pull-request.yaml",
)
PR_ORIGIN_42 = Origin(OriginKind.PULL_REQUEST, repository="acme/shop", branch="feature-login", pull_request=42)


def intent_of(name: str, document: Any, config: EventsConfig = CONFIG) -> Intent:
    return to_intent(parse_event(name, document), config)


def own(scenario: str, config: EventsConfig = CONFIG) -> Intent:
    """The intent of one of our payloads, as loaded from its file."""
    return to_intent(load_event(event_name_of(scenario), path_of(scenario)), config)


# -- branches and tags -------------------------------------------------------------------------------------------------


def test_branch_created_matching_a_pattern_provisions_its_template() -> None:
    assert own(BRANCH_CREATE) == Provision(
        "feature-checkout",
        "environments/feature.yaml",
        Origin(OriginKind.BRANCH, repository="acme/shop", branch="feature-checkout"),
        requested_by="nadia",
        required=Permission.WRITE,
        trigger="branch feature-checkout created",
    )


def test_the_first_matching_pattern_wins_and_names_are_derived() -> None:
    document = payload(BRANCH_CREATE, ref="hotfix/Login_Bug")
    intent = intent_of("create", document)
    assert isinstance(intent, Provision)
    assert intent.template_path == "environments/hotfix.yaml"
    assert intent.environment_name == environment_name("hotfix/Login_Bug")
    assert intent.origin.branch == "hotfix/Login_Bug"
    prefixed = intent_of("create", document, EventsConfig(branches=CONFIG.branches, name_prefix="pr-"))
    assert isinstance(prefixed, Provision)
    assert prefixed.environment_name.startswith("pr-hotfix-login-bug-")


def test_branch_created_matching_no_pattern_is_ignored() -> None:
    intent = intent_of("create", payload(BRANCH_CREATE, ref="docs/readme"))
    assert intent == Ignore("branch docs/readme matches no configured branch pattern")
    assert own(BRANCH_CREATE, EventsConfig()) == Ignore("branch feature-checkout matches no configured branch pattern")


def test_patterns_are_case_sensitive_globs() -> None:
    assert isinstance(intent_of("create", payload(BRANCH_CREATE, ref="Feature/x")), Ignore)
    assert isinstance(intent_of("create", payload(BRANCH_CREATE, ref="feature/deep/nested")), Provision)


def test_branch_created_by_a_bot_is_ignored() -> None:
    document = payload(BRANCH_CREATE, ref="feature/bump")
    document["sender"].update(login="dependabot[bot]", type="Bot")
    intent = intent_of("create", document)
    assert intent == Ignore("branch feature/bump was created by the bot dependabot[bot]")


def test_branch_deleted_destroys_its_environment() -> None:
    assert own(BRANCH_DELETE) == Destroy(
        "feature-checkout",
        "branch feature-checkout was deleted",
        requested_by="nadia",
        trigger="branch feature-checkout deleted",
    )


def test_branch_deleted_by_a_bot_still_destroys() -> None:
    document = payload(BRANCH_DELETE)
    document["sender"].update(login="github-actions[bot]", type="Bot")
    assert isinstance(intent_of("delete", document), Destroy)


@pytest.mark.parametrize(("scenario", "verb"), [(TAG_CREATE, "created"), (TAG_DELETE, "deleted")])
def test_tags_are_ignored(scenario: str, verb: str) -> None:
    catch_all = EventsConfig(branches=(BranchRule("*", "t.yaml"),))
    assert own(scenario, catch_all) == Ignore(f"tag v1.4.0 {verb}: tags are ignored")


# -- pull requests -----------------------------------------------------------------------------------------------------


def test_merged_pull_request_destroys_the_head_branch_environment() -> None:
    assert own(PR_MERGED) == Destroy(
        "feature-login",
        "pull request #42 was merged",
        requested_by="omar",  # merged_by
        pr_number=42,
        trigger="pull request #42 merged",
    )


def test_merged_by_a_merge_queue_bot_still_destroys() -> None:
    document = payload(PR_MERGED)
    document["sender"].update(login="github-merge-queue[bot]", type="Bot")
    document["pull_request"]["merged_by"].update(login="github-merge-queue[bot]", type="Bot")
    intent = intent_of("pull_request", document)
    assert isinstance(intent, Destroy)
    assert intent.requested_by == "github-merge-queue[bot]"


def test_closed_unmerged_keeps_the_environment_unless_configured() -> None:
    assert own(PR_CLOSED) == Ignore("pull request #42 was closed without merging; destroyOnCloseUnmerged is off")
    assert own(PR_CLOSED, EventsConfig(destroy_on_close_unmerged=True)) == Destroy(
        "feature-login",
        "pull request #42 was closed without merging",
        requested_by="nadia",
        pr_number=42,
        trigger="pull request #42 closed",
    )


def test_fork_pull_requests_get_their_own_environment() -> None:
    merged = own(PR_FROM_FORK)
    assert isinstance(merged, Destroy)
    assert merged.environment_name == environment_name("mallory:feature-login") != "feature-login"
    assert (merged.requested_by, merged.pr_number) == ("omar", 57)
    fork_head = payload(PR_FROM_FORK)["pull_request"]["head"]
    labeled = intent_of("pull_request", payload(PR_LABELED, pull_request__head=fork_head))
    assert isinstance(labeled, Provision)
    assert labeled.environment_name == merged.environment_name
    assert labeled.origin == PR_ORIGIN_42  # the branch as GitHub names it; the environment name tells the fork


def test_a_pull_request_whose_fork_was_deleted_never_touches_the_same_named_branch_environment() -> None:
    intent = own(PR_FORK_DELETED, EventsConfig(destroy_on_close_unmerged=True))
    assert isinstance(intent, Destroy)
    assert intent.environment_name == environment_name("mallory:feature-login") != "feature-login"
    assert (intent.requested_by, intent.pr_number) == ("omar", 58)  # omar closed it


def test_other_labels_are_ignored() -> None:
    assert intent_of("pull_request", payload(PR_LABELED, label__name="bug")) == Ignore(
        "label 'bug' on #42 is not 'envbot:provision'"
    )


def test_the_provision_label_provisions() -> None:
    assert own(PR_LABELED) == Provision(
        "feature-login",
        "environments/feature.yaml",
        PR_ORIGIN_42,
        requested_by="nadia",
        required=Permission.WRITE,
        pr_number=42,
        trigger="label envbot:provision on pull request #42",
    )


def test_the_label_uses_the_default_template_when_no_pattern_matches() -> None:
    document = payload(PR_LABELED)
    document["pull_request"]["head"]["ref"] = "docs/typo"
    intent = intent_of("pull_request", document)
    assert isinstance(intent, Provision)
    assert (intent.environment_name, intent.template_path) == (
        environment_name("docs/typo"),
        "environments/pull-request.yaml",
    )


def test_the_label_uses_a_matching_branch_pattern_before_the_default() -> None:
    document = payload(PR_LABELED, label__name="deploy")
    document["pull_request"]["head"]["ref"] = "hotfix/1"
    intent = intent_of("pull_request", document, EventsConfig(branches=CONFIG.branches, provision_label="deploy"))
    assert isinstance(intent, Provision)
    assert intent.template_path == "environments/hotfix.yaml"


def test_the_label_without_any_template_is_ignored() -> None:
    intent = own(PR_LABELED, EventsConfig())
    assert intent == Ignore("pull request #42: branch feature-login has no environment template")


def test_the_label_added_by_a_bot_is_ignored() -> None:
    document = payload(PR_LABELED, sender__login="labeler[bot]")
    assert intent_of("pull_request", document) == Ignore(
        "label 'envbot:provision' on #42 was added by the bot labeler[bot]"
    )


@pytest.mark.parametrize("scenario", [PR_OPENED, PR_REOPENED, PR_SYNCHRONIZE, PR_UNLABELED])
def test_other_pull_request_actions_are_ignored(scenario: str) -> None:
    action = scenario.partition("/")[2]
    assert own(scenario) == Ignore(f"pull_request {action!r} is not acted on (only closed and labeled are)")


# -- comments ----------------------------------------------------------------------------------------------------------


def test_a_command_on_a_pull_request_waits_for_authorization() -> None:
    assert own(PR_COMMENT) == RunCommand(
        command=Command("provision", (), "/provision"),
        requested_by="nadia",
        required=Permission.WRITE,
        pr_number=42,
        trigger="/provision",
    )


def test_unknown_command_on_a_pull_request_gets_a_reply_after_authorization() -> None:
    intent = intent_of("issue_comment", comment_payload("/build"))
    assert isinstance(intent, RunCommand)
    assert isinstance(intent.command, Reply)
    assert "`/build`" in intent.command.text
    assert (intent.pr_number, intent.requested_by, intent.required, intent.trigger) == (
        42,
        "nadia",
        Permission.WRITE,
        "/build",
    )


@pytest.mark.parametrize(
    ("body", "name", "required"),
    [
        ("/provision", "provision", Permission.WRITE),
        ("/destroy", "destroy", Permission.WRITE),
        ("/status", "status", Permission.WRITE),
        ("/retry", "retry", Permission.WRITE),
        ("/help", "help", Permission.WRITE),
    ],
)
def test_commands_on_a_pull_request(body: str, name: str, required: Permission) -> None:
    intent = intent_of("issue_comment", comment_payload(body))
    assert intent == RunCommand(
        command=Command(name, (), body), requested_by="nadia", required=required, pr_number=42, trigger=body
    )


def test_lower_configured_permission_keeps_the_command_floors() -> None:
    config = EventsConfig(permission=Permission.READ)
    status = intent_of("issue_comment", comment_payload("/status"), config)
    destroy = intent_of("issue_comment", comment_payload("/destroy"), config)
    assert isinstance(status, RunCommand) and status.required is Permission.READ
    assert isinstance(destroy, RunCommand) and destroy.required is Permission.WRITE


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("> /destroy", "no command"),
        ("please run /destroy", "no command"),
        ("```\n/destroy\n```", "no command"),
        ("\uff0fdestroy", "no command"),
        ("", "empty"),
    ],
)
def test_comments_without_a_command_are_ignored(body: str, reason: str) -> None:
    intent = intent_of("issue_comment", comment_payload(body))
    assert isinstance(intent, Ignore)
    assert reason in intent.reason


@pytest.mark.parametrize("body", ["/provision", "/destroy"])
def test_slash_commands_on_a_plain_issue_are_ignored(body: str) -> None:
    intent = intent_of("issue_comment", payload(ISSUE_COMMENT, comment__body=body))
    assert intent == Ignore("comment on #40: #40 is an issue, not a pull request")


@pytest.mark.parametrize(("scenario", "action"), [(COMMENT_EDITED, "edited"), (COMMENT_DELETED, "deleted")])
def test_edited_and_deleted_comments_are_ignored(scenario: str, action: str) -> None:
    assert own(scenario) == Ignore(f"comment on #42 was {action}; only new comments are read")
    assert intent_of("issue_comment", comment_payload("/destroy") | {"action": action}) == own(scenario)


@pytest.mark.parametrize(
    "sender",
    [
        {"login": "envbot[bot]", "type": "Bot"},
        {"login": "some-app", "type": "Bot"},
        {"login": "ci[bot]", "type": "User"},
    ],
)
def test_bot_comments_are_ignored(sender: dict[str, str]) -> None:
    intent = intent_of("issue_comment", comment_payload("/destroy", **sender))
    assert isinstance(intent, Ignore) and "bot" in intent.reason


def test_foreign_commands_are_not_answered() -> None:
    config = EventsConfig(foreign_commands=frozenset({"build"}))
    assert isinstance(intent_of("issue_comment", comment_payload("/build"), config), Ignore)


# -- repository, schedule, dispatch, the rest --------------------------------------------------------------------------


def test_events_of_another_repository_are_ignored() -> None:
    config = EventsConfig(repository="acme/app", branches=CONFIG.branches)
    assert own(BRANCH_CREATE, config) == Ignore("event from acme/shop, not the configured repository acme/app")
    same = EventsConfig(repository="ACME/Shop", branches=CONFIG.branches)
    assert isinstance(own(BRANCH_CREATE, same), Provision)


def test_schedule_sweeps_orphans() -> None:
    assert own(SCHEDULE) == SweepOrphans(trigger="schedule 17 * * * *")
    assert intent_of("schedule", {}) == SweepOrphans(trigger="schedule")


@pytest.mark.parametrize("scenario", [PING, PUSH, STATUS])
def test_anything_else_is_ignored_with_a_reason(scenario: str) -> None:
    intent = own(scenario)
    assert isinstance(intent, Ignore) and intent.reason


def test_dispatch_with_the_default_inputs_reconciles_everything() -> None:
    expected = Reconcile(None, requested_by="omar", required=Permission.WRITE, trigger="workflow_dispatch reconcile")
    assert own(DISPATCH_DEFAULTS) == expected
    assert intent_of("workflow_dispatch", payload(DISPATCH, inputs=None)) == expected  # a workflow without inputs


def test_dispatch_provision_of_a_branch() -> None:
    assert own(DISPATCH) == Provision(
        "feature-checkout",
        "environments/feature.yaml",
        Origin(OriginKind.BRANCH, repository="acme/shop", branch="feature-checkout"),
        requested_by="omar",
        required=Permission.WRITE,
        trigger="workflow_dispatch provision",
    )


def dispatch(**inputs: str) -> Any:
    return payload(DISPATCH, inputs=inputs)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"action": "reconcile", "environment": "dev"}, Reconcile(("dev",))),
        ({"action": "sweep"}, SweepOrphans(trigger="workflow_dispatch sweep")),
        ({"action": " destroy ", "environment": "dev"}, Destroy("dev", "workflow_dispatch by omar")),
        ({"action": "destroy", "branch": "feature/x"}, Destroy(environment_name("feature/x"), "")),
        (
            {"action": "provision", "branch": "feature/x"},
            Provision(
                environment_name("feature/x"),
                "environments/feature.yaml",
                Origin(OriginKind.BRANCH, repository="acme/shop", branch="feature/x"),
            ),
        ),
        (
            {"action": "provision", "environment": "demo", "template": "environments/hotfix.yaml"},
            Provision(
                "demo",
                "environments/hotfix.yaml",
                Origin(OriginKind.BRANCH, repository="acme/shop", branch="main"),
            ),
        ),
        ({"action": "provision"}, Provision("main", "environments/pull-request.yaml", Origin())),
    ],
)
def test_dispatch_inputs(inputs: dict[str, str], expected: Intent) -> None:
    intent = intent_of("workflow_dispatch", dispatch(**inputs))
    assert type(intent) is type(expected)
    match intent, expected:
        case Reconcile(), Reconcile():
            assert intent.names == expected.names
        case Destroy(), Destroy():
            assert intent.environment_name == expected.environment_name
            assert intent.required is Permission.WRITE
        case Provision(), Provision():
            assert (intent.environment_name, intent.template_path) == (
                expected.environment_name,
                expected.template_path,
            )
            if expected.origin.kind is OriginKind.BRANCH:
                assert intent.origin == expected.origin
            assert intent.required is Permission.WRITE


def test_dispatch_provision_from_the_workflow_ref_names_the_branch() -> None:
    intent = intent_of("workflow_dispatch", dispatch(action="provision"))
    assert isinstance(intent, Provision)
    assert intent.origin == Origin(OriginKind.BRANCH, repository="acme/shop", branch="main")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"action": "explode"}, "input action: must be one of provision, destroy, reconcile, sweep, got 'explode'"),
        ({"action": "destroy"}, "destroy: give the environment input"),
        ({"action": "reconcile", "environment": "Not A Label"}, "is not a DNS-1123 label"),
        ({"action": "reconcile", "environment": "dev\nprod"}, "is not a DNS-1123 label"),
        ({"action": "reconcile", "environment": "a" * 64}, "is 64 characters long; at most 63 are allowed"),
        ({"action": "provision", "template": "../../etc/passwd"}, "is not a configured template"),
        ({"action": "provision", "branch": "a\x00b"}, "input branch: not a branch name"),
    ],
)
def test_bad_dispatch_inputs(inputs: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        intent_of("workflow_dispatch", dispatch(**inputs))
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UserError)


def test_dispatch_provision_needs_a_template() -> None:
    with pytest.raises(InputError, match="give the template input"):
        intent_of("workflow_dispatch", dispatch(action="provision"), EventsConfig())


def test_dispatch_by_a_bot_is_ignored() -> None:
    document = dispatch(action="destroy", environment="dev")
    document["sender"]["type"] = "Bot"
    assert intent_of("workflow_dispatch", document) == Ignore("workflow_dispatch by the bot omar")


# -- authorization -----------------------------------------------------------------------------------------------------


def run(body: str) -> RunCommand:
    intent = intent_of("issue_comment", comment_payload(body))
    assert isinstance(intent, RunCommand)
    return intent


@pytest.mark.parametrize("permission", [Permission.WRITE, Permission.MAINTAIN, Permission.ADMIN])
def test_enough_permission_passes_the_intent_through(permission: Permission) -> None:
    intent = run("/destroy")
    assert authorize(intent, permission) is intent


@pytest.mark.parametrize(
    ("permission", "has"),
    [(Permission.NONE, "no access"), (Permission.READ, "read permission"), (Permission.TRIAGE, "triage permission")],
)
def test_too_little_permission_gets_one_polite_line(permission: Permission, has: str) -> None:
    result = authorize(run("/destroy"), permission)
    assert result == Reply(f"Sorry, `/destroy` needs write permission on this repository, and `nadia` has {has}.")


def test_a_malformed_command_is_answered_only_for_those_allowed_to_command() -> None:
    intent = run("/provision a=b=c")
    allowed = authorize(intent, Permission.WRITE)
    assert isinstance(allowed, Reply) and "`a=b=c` is not a usable" in allowed.text
    refused = authorize(intent, Permission.READ)
    assert isinstance(refused, Reply) and refused.text.startswith("Sorry, `/provision a=b=c` needs write")


def test_refusals_never_mention_anyone() -> None:
    intent = to_intent(parse_event("issue_comment", comment_payload("/destroy @octocat @org/team")), CONFIG)
    refused = authorize(intent, Permission.NONE)
    assert isinstance(refused, Reply)
    assert refused.text.startswith("Sorry, `/destroy @octocat @org/team` needs")


def test_provision_from_a_label_is_authorized_too() -> None:
    intent = own(PR_LABELED)
    assert needs_permission(intent) == ("nadia", Permission.WRITE)
    assert authorize(intent, Permission.WRITE) is intent
    refused = authorize(intent, Permission.TRIAGE)
    assert refused == Reply(
        "Sorry, `label envbot:provision on pull request #42` needs write permission on this repository,"
        " and `nadia` has triage permission."
    )


@pytest.mark.parametrize(
    "intent",
    [
        Ignore("x"),
        SweepOrphans(),
        Destroy("dev", "branch gone"),
        Reconcile(None),
    ],
)
def test_intents_without_a_requirement_need_no_check(intent: Intent) -> None:
    assert needs_permission(intent) is None
    assert authorize(intent, Permission.NONE) is intent


# -- resolving commands ------------------------------------------------------------------------------------------------


def test_resolve_provision_with_catalogs_and_settings() -> None:
    intent = run("/provision rds-postgres rds-postgres.allocatedStorage=30")
    resolved = resolve_command(
        intent, "feature/Auth_Flow", EventsConfig(repository="acme/shop", branches=CONFIG.branches)
    )
    assert resolved == Provision(
        environment_name("feature/Auth_Flow"),
        "environments/feature.yaml",
        Origin(OriginKind.PULL_REQUEST, repository="acme/shop", branch="feature/Auth_Flow", pull_request=42),
        requested_by="nadia",
        pr_number=42,
        catalogs=("rds-postgres",),
        settings=(Setting("rds-postgres", "allocatedStorage", "30"),),
        trigger="/provision rds-postgres rds-postgres.allocatedStorage=30",
    )
    assert needs_permission(resolved) is None


def test_resolve_provision_without_a_template_replies() -> None:
    result = resolve_command(run("/provision"), "docs/x", EventsConfig())
    assert result == Reply(
        "`/provision` has no environment template for branch `docs/x`: add a branch pattern or a default template"
        " to the envbot configuration."
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/destroy", Destroy("feature-a", "/destroy by nadia", requested_by="nadia", pr_number=42)),
        ("/status", Reconcile(("feature-a",), requested_by="nadia", pr_number=42)),
        ("/retry", Retry("feature-a", requested_by="nadia", pr_number=42)),
    ],
)
def test_resolve_other_commands(body: str, expected: Intent) -> None:
    resolved = resolve_command(run(body), "feature-a", CONFIG)
    assert resolved == expected.__class__(**{**expected.__dict__, "trigger": body})


def test_resolve_help_replies_with_the_table() -> None:
    assert resolve_command(run("/help"), "x", CONFIG) == Reply(REGISTRY.help_text())
    lowered = EventsConfig(permission=Permission.READ)
    assert resolve_command(run("/help"), "x", lowered) == Reply(REGISTRY.help_text(minimum=Permission.READ))


def test_resolve_for_a_fork_names_the_fork() -> None:
    config = EventsConfig(repository="acme/shop", default_template="t.yaml")
    resolved = resolve_command(run("/destroy"), "main", config, head_repository="mallory/shop")
    assert isinstance(resolved, Destroy)
    assert resolved.environment_name == environment_name("mallory:main")


def test_resolve_passes_a_malformed_reply_through() -> None:
    assert isinstance(resolve_command(run("/nope"), "x", CONFIG), Reply)


# -- the events configuration ------------------------------------------------------------------------------------------


def test_parse_events_config() -> None:
    config = parse_events_config(
        {
            "repository": "acme/app",
            "branches": [
                {"pattern": "feature/*", "template": "environments/feature.yaml"},
                {"pattern": "hotfix/*", "template": "environments/hotfix.yaml"},
            ],
            "defaultTemplate": "environments/pr.yaml",
            "provisionLabel": "preview",
            "destroyOnCloseUnmerged": True,
            "permission": "maintain",
            "namePrefix": "pr-",
            "foreignCommands": ["lgtm", "Retest"],
        },
        "envbot.yaml",
    )
    assert config == EventsConfig(
        repository="acme/app",
        branches=(
            BranchRule("feature/*", "environments/feature.yaml"),
            BranchRule("hotfix/*", "environments/hotfix.yaml"),
        ),
        default_template="environments/pr.yaml",
        provision_label="preview",
        destroy_on_close_unmerged=True,
        permission=Permission.MAINTAIN,
        name_prefix="pr-",
        foreign_commands=frozenset({"lgtm", "retest"}),
    )
    assert config.templates() == ("environments/feature.yaml", "environments/hotfix.yaml", "environments/pr.yaml")
    assert parse_events_config(None, "envbot.yaml") == EventsConfig()
    assert parse_events_config({}, "envbot.yaml") == EventsConfig()


def test_events_config_defaults() -> None:
    config = EventsConfig()
    assert (config.provision_label, config.destroy_on_close_unmerged, config.permission) == (
        "envbot:provision",
        False,
        Permission.WRITE,
    )


def test_events_config_problems_all_at_once() -> None:
    with pytest.raises(UserError) as caught:
        parse_events_config(
            {
                "repository": "not a repo",
                "branches": [{"pattern": "", "template": "t.yaml"}, {"pattern": "x"}, {"pattern": "y", "template": 3}],
                "defaultTemplate": "",
                "provisionLabel": "x" * 51,
                "destroyOnCloseUnmerged": "yes",
                "permission": "owner",
                "namePrefix": "PR_",
                "foreignCommands": ["/lgtm"],
                "colour": "blue",
            },
            "envbot.yaml",
        )
    assert list(caught.value.problems) == [
        "envbot.yaml: events.colour: unknown key (known: branches, defaultTemplate, destroyOnCloseUnmerged,"
        " foreignCommands, namePrefix, permission, provisionLabel, repository)",
        "envbot.yaml: events.repository: 'not a repo' is not a GitHub owner/name",
        "envbot.yaml: events.branches[0].pattern: '' is not a branch glob such as feature/*",
        "envbot.yaml: events.branches[1].template: is missing",
        "envbot.yaml: events.branches[2].template: must be a string, got the integer 3",
        "envbot.yaml: events.defaultTemplate: '' is not a one-line file path",
        f"envbot.yaml: events.provisionLabel: '{'x' * 51}' is not a label name of 1 to 50 characters",
        "envbot.yaml: events.destroyOnCloseUnmerged: must be true or false, got the string 'yes'",
        "envbot.yaml: events.permission: must be read, triage, write, maintain or admin, got 'owner'",
        "envbot.yaml: events.namePrefix: 'PR_' must be lowercase letters, digits and '-', starting with a letter"
        " or digit",
        "envbot.yaml: events.foreignCommands: must be a list of command names without the slash, such as lgtm",
    ]


def test_events_config_refuses_none_permission_and_a_non_mapping() -> None:
    with pytest.raises(UserError, match="none would let anyone run commands"):
        parse_events_config({"permission": "none"}, "envbot.yaml")
    with pytest.raises(UserError, match="events: must be a mapping"):
        parse_events_config(["x"], "envbot.yaml")


# -- orphans -----------------------------------------------------------------------------------------------------------

BRANCH_ORIGIN = Origin(OriginKind.BRANCH, repository="acme/app", branch="feature/x")
PR_ORIGIN = Origin(OriginKind.PULL_REQUEST, repository="acme/app", branch="feature/x", pull_request=7)
ACME = EventsConfig(repository="acme/app")


@pytest.mark.parametrize(
    ("origin", "config", "observed", "reason"),
    [
        (Origin(), ACME, {"branch_exists": False}, None),
        (BRANCH_ORIGIN, ACME, {"branch_exists": True}, None),
        (BRANCH_ORIGIN, ACME, {}, None),
        (BRANCH_ORIGIN, ACME, {"branch_exists": False}, "branch feature/x no longer exists"),
        (BRANCH_ORIGIN, EventsConfig(repository="acme/other"), {"branch_exists": False}, None),
        (PR_ORIGIN, ACME, {"pull_request_state": "open", "branch_exists": False}, None),
        (PR_ORIGIN, ACME, {"pull_request_state": "merged"}, "pull request #7 is merged"),
        (PR_ORIGIN, ACME, {"pull_request_state": "closed"}, None),
        (PR_ORIGIN, ACME, {"pull_request_state": "closed", "branch_exists": False}, "pull request #7 is closed"),
        (
            PR_ORIGIN,
            EventsConfig(repository="acme/app", destroy_on_close_unmerged=True),
            {"pull_request_state": "closed"},
            "pull request #7 is closed",
        ),
        (PR_ORIGIN, ACME, {}, None),
    ],
)
def test_orphan_reason(origin: Origin, config: EventsConfig, observed: dict[str, Any], reason: str | None) -> None:
    assert orphan_reason(origin, config, **observed) == reason


def test_a_new_command_is_its_spec_alone() -> None:
    """Parser, permission floor, resolution and /help all follow from one CommandSpec in the registry."""

    def pong(target: Target) -> Reply:
        return Reply(f"pong, {target.commenter}, from {target.environment_name}")

    ping = CommandSpec("ping", "/ping", "Answer pong.", pong, Permission.TRIAGE)
    registry = Registry((*REGISTRY.commands, ping))
    intent = to_intent(parse_event("issue_comment", comment_payload("/ping")), EventsConfig(), registry)
    assert isinstance(intent, RunCommand) and intent.required is Permission.WRITE
    lowered = to_intent(
        parse_event("issue_comment", comment_payload("/ping")), EventsConfig(permission=Permission.READ), registry
    )
    assert isinstance(lowered, RunCommand) and lowered.required is Permission.TRIAGE
    assert resolve_command(intent, "feature/a", CONFIG, registry=registry) == Reply(
        f"pong, nadia, from {environment_name('feature/a')}"
    )
    assert "| `/ping` | Answer pong. | write permission or above |" in registry.help_text()
    unknown = to_intent(parse_event("issue_comment", comment_payload("/ping")), EventsConfig())
    assert isinstance(unknown, RunCommand) and isinstance(unknown.command, Reply)
