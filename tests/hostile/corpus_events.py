"""Hostile events through ``envbot handle-event``: commands nobody may run, commands that are not commands,
look-alikes, hostile arguments, broken payloads, hostile workflow_dispatch inputs and colliding branch names."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.names import LABEL_RULE
from tests.hostile.arena import (
    FORK_PR,
    PR,
    PR_BRANCH,
    REPO,
    WRITER,
    Case,
    Outcome,
    comment,
    event_case,
)
from tests.webhooks import payload

IGNORED = Outcome.IGNORED
REPLY = Outcome.REPLY
ERROR = Outcome.ERROR
REFUSED = Outcome.REFUSED
UNTOUCHED = Outcome.UNTOUCHED

NO_COMMAND = f"envbot: nothing to do for IssueComment: comment on #{PR}: the comment holds no command"
USAGE = "Usage: `/provision [catalog ...] [key=value ...]`."
KNOWN = "Its commands are `/provision`, `/destroy`, `/status`, `/retry`, `/help`; comment `/help` for what they do."
CANARY = "canary-hostile-7f3e9a1c5b"

CREATE = "create/branch"
DELETE = "delete/branch"
LABELED = "pull_request/labeled"  # envbot:provision on #42
CLOSED = "pull_request/closed-merged"
DISPATCH = "workflow_dispatch/provision"


def _comment(
    id: str,
    body: str,
    outcome: Outcome,
    expected: str,
    *,
    prefix: bool = False,
    forbidden: tuple[str, ...] = (),
    **changes: Any,
) -> Case:
    document = comment(body, **changes)
    return event_case(id, "", "issue_comment", document, outcome, expected, prefix=prefix, forbidden=forbidden)


def _tagged(category: str, cases: list[Case]) -> list[Case]:
    return [replace(case, category=category) for case in cases]


def _ignored(id: str, body: str, **changes: Any) -> Case:
    return _comment(id, body, IGNORED, NO_COMMAND, **changes)


def _refused(id: str, who: str, line: str, has: str, *, number: int = PR) -> Case:
    return _comment(
        id,
        line,
        REPLY,
        f"Sorry, `{line}` needs write permission on this repository, and `{who}` has {has}.",
        comment__user__login=who,
        sender__login=who,
        issue__number=number,
    )


def _reply(id: str, body: str, expected: str, *, prefix: bool = False, forbidden: tuple[str, ...] = ()) -> Case:
    return _comment(id, body, REPLY, expected, prefix=prefix, forbidden=forbidden)


def _problem(id: str, line: str, problems: str, *, forbidden: tuple[str, ...] = ()) -> Case:
    return _comment(id, line, REPLY, f"`{line}` cannot be carried out: {problems}.", forbidden=forbidden)


# -- who may command -------------------------------------------------------------------------------------------

PERMISSION = [
    _refused("read-user-destroy", "reader", "/destroy", "read permission"),
    _refused("triage-user-provision", "triager", "/provision rds-postgres allocatedStorage=50", "triage permission"),
    _refused("stranger-retry", "stranger", "/retry", "no access"),
    _refused("stranger-help", "stranger", "/help", "no access"),
    _refused("stranger-status", "stranger", "/status", "no access"),
    _refused("stranger-malformed-command-not-echoed-as-own-reply", "stranger", "/frobnicate --all", "no access"),
    _refused("fork-author-provision-on-fork-pr", "mallory", "/provision", "no access", number=FORK_PR),
    _refused("reader-with-look-alike-login-of-writer", f"{WRITER}-", "/destroy", "no access"),
    event_case(
        "label-by-reader",
        "permission",
        "pull_request",
        payload(LABELED, sender__login="reader"),
        REPLY,
        f"Sorry, `label envbot:provision on pull request #{PR}` needs write permission on this repository, and `reader`"
        " has read permission.",
    ),
    event_case(
        "branch-created-by-stranger",
        "permission",
        "create",
        payload(CREATE, ref="feature-mallory", sender__login="stranger"),
        REFUSED,
        "envbot: Sorry, `branch feature-mallory created` needs write permission on this repository, and `stranger`"
        " has no access.",
    ),
    event_case(
        "dispatch-by-reader",
        "permission",
        "workflow_dispatch",
        payload(DISPATCH, sender__login="reader", inputs={"action": "destroy", "environment": PR_BRANCH}),
        REFUSED,
        "envbot: Sorry, `workflow_dispatch destroy` needs write permission on this repository, and `reader` has"
        " read permission.",
    ),
]

# -- bots ------------------------------------------------------------------------------------------------------

BOTS = [
    _comment(
        "bot-type-comment",
        "/destroy",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was written by the bot envbot[bot]",
        comment__user__login="envbot[bot]",
        comment__user__type="Bot",
        sender__login="envbot[bot]",
        sender__type="Bot",
    ),
    _comment(
        "bot-login-suffix-typed-user",
        "/destroy",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was written by the bot renovate[bot]",
        comment__user__login="renovate[bot]",
        comment__user__type="User",
    ),
    _comment(
        "bot-sender-human-author",
        "/provision",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was written by the bot {WRITER}",
        sender__login="github-actions[bot]",
        sender__type="Bot",
    ),
    _comment(
        "bot-uppercase-suffix",
        "/destroy",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was written by the bot Dependabot[BOT]",
        comment__user__login="Dependabot[BOT]",
    ),
    event_case(
        "bot-label",
        "bots",
        "pull_request",
        payload(LABELED, sender__login="mergify[bot]", sender__type="Bot"),
        IGNORED,
        f"envbot: nothing to do for PullRequestLabeled: label 'envbot:provision' on #{PR} was added by the bot"
        " mergify[bot]",
    ),
    event_case(
        "bot-branch-create",
        "bots",
        "create",
        payload(CREATE, ref="feature-deps", sender__login="dependabot[bot]", sender__type="Bot"),
        IGNORED,
        "envbot: nothing to do for BranchCreated: branch feature-deps was created by the bot dependabot[bot]",
    ),
    event_case(
        "bot-dispatch",
        "bots",
        "workflow_dispatch",
        payload(DISPATCH, sender__login="github-actions[bot]", sender__type="Bot", inputs={"action": "sweep"}),
        IGNORED,
        "envbot: nothing to do for WorkflowDispatch: workflow_dispatch by the bot github-actions[bot]",
    ),
]

# -- not commands: quoted, fenced, indented, inline, in comments, edited, deleted, on issues ----------------------

NOT_COMMANDS = [
    _ignored("quote-nested", "> > /destroy"),
    _ignored("quote-without-space", ">/destroy"),
    _ignored("quote-in-list", "- > /destroy"),
    _ignored("list-item", "- /destroy"),
    _ignored("ordered-list-item", "1. /destroy"),
    _ignored("fence-unclosed-swallows-rest", "```\n/destroy"),
    _ignored("fence-long-closed-by-longer", "````\n```\n/destroy\n`````"),
    _ignored("fence-quoted", "> ```\n> /destroy\n> ```"),
    _ignored("fence-tilde-with-info", "~~~ sh\n/provision rds-postgres\n~~~"),
    _ignored("tab-indented", "\t/destroy"),
    _ignored("four-spaces", "    /destroy"),
    _ignored("inline-code", "run `/destroy` later"),
    _ignored("mid-sentence", "please /destroy this"),
    _ignored("html-comment-multiline", "<!--\n/destroy\n-->"),
    _ignored("html-comment-opened-mid-line", "note <!-- hidden\n/destroy\n-->"),
    _ignored("own-sticky-comment-echoed", f"<!-- envbot:status:{PR_BRANCH} -->\n### envbot · `{PR_BRANCH}` · Ready"),
    _ignored(
        "own-reply-echoed",
        "<!-- envbot:reply:0123456789ab -->\nenvbot does not know `/x`. " + KNOWN,
    ),
    _comment(
        "edited-comment",
        "/destroy",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was edited; only new comments are read",
        action="edited",
    ),
    _comment(
        "deleted-comment",
        "/destroy",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR} was deleted; only new comments are read",
        action="deleted",
    ),
    _comment(
        "plain-issue-comment",
        "/provision",
        IGNORED,
        f"envbot: nothing to do for IssueComment: comment on #{PR}: #{PR} is an issue, not a pull request",
        issue__pull_request=None,
    ),
    _comment(
        "empty-body", "", IGNORED, f"envbot: nothing to do for IssueComment: comment on #{PR}: the comment is empty"
    ),
    _ignored("slash-alone", "/"),
]

# -- unicode look-alikes ----------------------------------------------------------------------------------------

LOOK_ALIKES = [
    _ignored("fullwidth-solidus", "\uff0fdestroy"),
    _ignored("division-slash", "\u2215destroy"),
    _ignored("fraction-slash", "\u2044destroy"),
    _ignored("cyrillic-e", "/d\u0435stroy"),
    _ignored("roman-numeral-d", "/\u217eestroy"),
    _ignored("combining-underline", "/d\u0332estroy"),
    _ignored("zero-width-space-before", "\u200b/destroy"),
    _ignored("bidi-override-before", "\u202e/destroy"),
    _ignored("no-break-space-separator", "/provision\u00a0rds-postgres"),
    _ignored("zero-width-joiner-inside", "/dest\u200droy"),
    _reply(
        "zero-width-space-argument",
        "/destroy \u200b",
        "`/destroy \ufffd` contains control or invisible characters; please retype it.",
    ),
    _reply(
        "bidi-override-argument",
        "/provision \u202erds-postgres",
        "`/provision \ufffdrds-postgres` contains control or invisible characters; please retype it.",
    ),
    _reply(
        "nul-in-argument",
        "/provision rds-postgres\u0000",
        "`/provision rds-postgres\ufffd` contains control or invisible characters; please retype it.",
    ),
    _reply(
        "unicode-hyphen-catalog",
        "/provision rds\u2010postgres",
        f"`rds\u2010postgres` is neither a catalog name nor a `key=value` parameter. {USAGE}",
    ),
    _problem(
        "fullwidth-digits",
        "/provision rds-postgres allocatedStorage=\uff15\uff10",
        "rds-postgres.allocatedStorage must be an integer, got `\uff15\uff10`",
    ),
    _reply(
        "fullwidth-catalog-letter",
        "/provision \uff52ds-postgres",
        f"`\uff52ds-postgres` is neither a catalog name nor a `key=value` parameter. {USAGE}",
    ),
]

# -- hostile command arguments ----------------------------------------------------------------------------------

ARGUMENTS = [
    _reply("unknown-command", "/destroyall", f"envbot does not know `/destroyall`. {KNOWN}"),
    _ignored("command-path", "/../../destroy"),
    _reply(
        "destroy-with-argument",
        "/destroy now",
        "`/destroy now` takes no arguments; write `/destroy` alone on its line.",
    ),
    _reply(
        "retry-with-jinja",
        "/retry {{ 7*7 }}",
        "`/retry {{ 7*7 }}` takes no arguments; write `/retry` alone on its line.",
    ),
    _reply(
        "catalog-path-traversal",
        "/provision ../../etc/passwd",
        f"`../../etc/passwd` is neither a catalog name nor a `key=value` parameter. {USAGE}",
    ),
    _reply(
        "catalog-jinja",
        "/provision {{7*7}}",
        f"`{{{{7*7}}}}` is neither a catalog name nor a `key=value` parameter. {USAGE}",
    ),
    _reply(
        "key-path-traversal",
        "/provision ../rds-postgres.databaseName=x",
        "`../rds-postgres.databaseName=x` is not a usable `key=value` parameter: the key must be `param` or"
        f" `catalog.param`. {USAGE}",
    ),
    _reply(
        "key-with-three-parts",
        "/provision rds-postgres.databaseName.x=y",
        "`rds-postgres.databaseName.x=y` is not a usable `key=value` parameter: the key must be `param` or"
        f" `catalog.param`. {USAGE}",
    ),
    _problem(
        "value-path-traversal",
        "/provision databaseName=../../etc/passwd",
        "rds-postgres.databaseName `../../etc/passwd` does not match the pattern `^[a-z][a-z0-9_]{0,62}$`",
    ),
    _problem(
        "value-jinja",
        "/provision imageTag={{7*7}}",
        "sample-app.imageTag `{{7*7}}` does not match the pattern `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`",
    ),
    _problem(
        "value-yaml-separator",
        '/provision databaseName="---"',
        "rds-postgres.databaseName `---` does not match the pattern `^[a-z][a-z0-9_]{0,62}$`",
    ),
    _problem(
        "value-yaml-document",
        "/provision databaseName='x\\n---\\nkind: Secret'",
        "rds-postgres.databaseName `x\\n---\\nkind: Secret` does not match the pattern `^[a-z][a-z0-9_]{0,62}$`",
    ),
    _reply(
        "value-newline-splits-quote",
        '/provision databaseName="abc\ndef"',
        '`/provision databaseName="abc` has a quote that is never closed.',
    ),
    _reply(
        "value-with-equals-unquoted",
        "/provision databaseName=a=b",
        "`databaseName=a=b` is not a usable `key=value` parameter: a value with `=`, spaces or quotes must be one"
        f' quoted string, such as `key="a=b"`. {USAGE}',
    ),
    _reply(
        "value-empty",
        "/provision databaseName=",
        f'`databaseName=` is not a usable `key=value` parameter: the value is empty; write `key=""` for an empty string. {USAGE}',
    ),
    _reply(
        "value-long",
        "/provision databaseName=" + "a" * 900,
        "`/provision databaseName="
        + "a" * 55
        + "…` cannot be carried out: rds-postgres.databaseName `"
        + "a" * 79
        + "…` does not match the pattern `^[a-z][a-z0-9_]{0,62}$`.",
    ),
    _reply(
        "line-too-long",
        "/provision databaseName=" + "a" * 2000,
        "That command line is 2024 characters long; envbot reads at most 1000: `/provision databaseName="
        + "a" * 55
        + "…`",
    ),
    _reply(
        "too-many-arguments",
        "/provision " + " ".join(f"p{i}=1" for i in range(33)),
        "`/provision` has 33 arguments; at most 32 are allowed.",
    ),
    _reply(
        "duplicate-catalog",
        "/provision rds-postgres rds-postgres",
        "`rds-postgres` is given more than once in `/provision rds-postgres rds-postgres`.",
    ),
    _reply(
        "duplicate-setting",
        "/provision replicas=1 replicas=2",
        "`replicas` is given more than once in `/provision replicas=1 replicas=2`.",
    ),
    _problem(
        "unknown-catalog",
        "/provision rds-postgress",
        "there is no catalog rds-postgress (did you mean rds-postgres?) (known: datadog-agent, rds-postgres,"
        " redis-cache, s3-bucket, sample-app)",
    ),
    _problem(
        "unknown-parameter",
        "/provision masterPassword=x",
        "`masterPassword=x`: no catalog of this environment has a parameter masterPassword",
    ),
    _reply(
        "literal-secret-in-comment",
        f"/provision datadog-agent.apiKey={CANARY}",
        "`/provision datadog-agent.apiKey=***` cannot be carried out: datadog-agent.apiKey is a secret; a comment"
        " cannot carry it, give a fromSecret reference in the environment template.",
        forbidden=(CANARY,),
    ),
    _reply(
        "literal-secret-set-twice",
        f"/provision apiKey={CANARY} datadog-agent.apiKey={CANARY}x",
        "`/provision apiKey=*** datadog-agent.apiKey=***x` cannot be carried out: datadog-agent.apiKey is a"
        " secret; a comment cannot carry it, give a fromSecret reference in the environment template;"
        " `datadog-agent.apiKey`: datadog-agent.apiKey is set more than once.",
        forbidden=(CANARY,),
    ),
    _problem(
        "integer-overflow",
        "/provision allocatedStorage=99999999999999999999",
        "rds-postgres.allocatedStorage must be an integer, got `99999999999999999999`",
    ),
    _problem(
        "integer-exponent",
        "/provision allocatedStorage=1e400",
        "rds-postgres.allocatedStorage must be an integer, got `1e400`",
    ),
    _problem(
        "yaml-boolean-word",
        "/provision s3-bucket s3-bucket.versioning=yes",
        "s3-bucket.versioning must be true or false, got `yes`",
    ),
    _problem("below-minimum", "/provision replicas=-1", "sample-app.replicas must be at least 1, got -1"),
    _reply(
        "unclosed-quote",
        "/provision databaseName='abc",
        "`/provision databaseName='abc` has a quote that is never closed.",
    ),
]

# -- broken and truncated payloads ------------------------------------------------------------------------------

_TRUNCATED = comment("/destroy")


def _payload_error(id: str, event_name: str, raw: bytes | Any, expected: str, *, prefix: bool = False) -> Case:
    return event_case(id, "payload", event_name, raw, ERROR, expected, prefix=prefix)


PAYLOADS = [
    _payload_error(
        "truncated-json",
        "issue_comment",
        json.dumps(_TRUNCATED).encode()[:700],
        "error: event payload {case}/event.json: not valid JSON (",
        prefix=True,
    ),
    _payload_error("empty-file", "issue_comment", b"", "error: event payload {case}/event.json: the file is empty"),
    _payload_error(
        "blank-file", "issue_comment", b" \n\t\n", "error: event payload {case}/event.json: the file is empty"
    ),
    _payload_error(
        "json-array", "issue_comment", [], "error: issue_comment event payload: must be a JSON object, got a list"
    ),
    _payload_error(
        "json-null", "issue_comment", None, "error: issue_comment event payload: must be a JSON object, got null"
    ),
    _payload_error(
        "not-utf8", "issue_comment", b"\xff\xfe\xfa{", "error: event payload {case}/event.json: not ", prefix=True
    ),
    _payload_error(
        "nested-too-deeply",
        "issue_comment",
        b"[" * 100_000,
        "error: event payload {case}/event.json: nested too deeply to be a webhook payload",
    ),
    _payload_error(
        "event-name-path",
        "../../etc/passwd",
        comment("/destroy"),
        "error: '../../etc/passwd' is not a GitHub event name (such as pull_request or issue_comment)",
    ),
    _payload_error(
        "event-name-uppercase",
        "Issue_Comment",
        comment("/destroy"),
        "error: 'Issue_Comment' is not a GitHub event name (such as pull_request or issue_comment)",
    ),
    _payload_error(
        "event-name-blank", " ", comment("/destroy"), "error: no event name: set GITHUB_EVENT_NAME or pass --event-name"
    ),
    _payload_error(
        "comment-without-issue",
        "issue_comment",
        {k: v for k, v in comment("/destroy").items() if k != "issue"},
        "error: issue_comment event payload: issue is missing",
    ),
    _payload_error(
        "comment-without-action",
        "issue_comment",
        {k: v for k, v in comment("/destroy").items() if k != "action"},
        "error: issue_comment event payload: action is missing",
    ),
    _payload_error(
        "comment-login-number",
        "issue_comment",
        comment("/destroy", comment__user__login=42),
        "error: issue_comment event payload: comment.user.login must be a string, got a number",
    ),
    _payload_error(
        "comment-issue-number-string",
        "issue_comment",
        comment("/destroy", issue__number=str(PR)),
        "error: issue_comment event payload: issue.number must be a positive integer, got a string",
    ),
    _payload_error(
        "comment-issue-number-negative",
        "issue_comment",
        comment("/destroy", issue__number=-PR),
        "error: issue_comment event payload: issue.number must be a positive integer, got a number",
    ),
    _payload_error(
        "comment-user-string",
        "issue_comment",
        comment("/destroy", comment__user=WRITER),
        "error: issue_comment event payload: comment.user must be an object, got a string",
    ),
    _payload_error(
        "sender-list",
        "issue_comment",
        comment("/destroy", sender=[WRITER]),
        "error: issue_comment event payload: sender must be an object, got a list",
    ),
    _payload_error(
        "repository-name-number",
        "issue_comment",
        comment("/destroy", repository__full_name=7),
        "error: issue_comment event payload: repository.full_name must be a string, got a number",
    ),
    _payload_error(
        "pull-request-missing",
        "pull_request",
        {k: v for k, v in payload(CLOSED).items() if k != "pull_request"},
        "error: pull_request event payload: pull_request is missing",
    ),
    _payload_error(
        "pull-request-head-ref-missing",
        "pull_request",
        payload(CLOSED, pull_request__head={"sha": "0" * 40}),
        "error: pull_request event payload: pull_request.head.ref is missing",
    ),
    _payload_error(
        "pull-request-merged-string",
        "pull_request",
        payload(CLOSED, pull_request__merged="true"),
        "error: pull_request event payload: pull_request.merged must be true or false, got a string",
    ),
    _payload_error(
        "label-missing",
        "pull_request",
        {k: v for k, v in payload(LABELED).items() if k != "label"},
        "error: pull_request event payload: label.name is missing",
    ),
    _payload_error(
        "create-without-ref-type",
        "create",
        {k: v for k, v in payload(CREATE).items() if k != "ref_type"},
        "error: create event payload: ref_type is missing",
    ),
    _payload_error(
        "create-ref-empty",
        "create",
        payload(CREATE, ref=""),
        "error: create event payload: ref is empty",
    ),
    _payload_error(
        "dispatch-inputs-list",
        "workflow_dispatch",
        payload(DISPATCH, inputs=["provision"]),
        "error: workflow_dispatch event payload: inputs must be an object, got a list",
    ),
    _payload_error(
        "dispatch-inputs-nested",
        "workflow_dispatch",
        payload(DISPATCH, inputs={"action": {"$ne": "x"}}),
        "error: workflow_dispatch event payload: inputs.action must be a string, number or boolean, got an object",
    ),
    _payload_error(
        "dispatch-too-many-inputs",
        "workflow_dispatch",
        payload(DISPATCH, inputs={f"i{n}": "x" for n in range(51)}),
        "error: workflow_dispatch event payload: inputs has 51 entries; at most 50 are read",
    ),
    event_case(
        "other-repository",
        "payload",
        "issue_comment",
        comment("/destroy", repository__full_name="mallory/shop"),
        IGNORED,
        f"envbot: nothing to do for IssueComment: event from mallory/shop, not the configured repository {REPO}",
    ),
]

# -- hostile workflow_dispatch inputs ---------------------------------------------------------------------------


def _dispatch(id: str, inputs: dict[str, Any], expected: str, *, prefix: bool = False) -> Case:
    document = payload(DISPATCH, sender__login=WRITER, inputs=inputs)
    return event_case(id, "dispatch", "workflow_dispatch", document, ERROR, expected, prefix=prefix)


DISPATCHES = [
    _dispatch(
        "dispatch-action-shell",
        {"action": "$(rm -rf /)"},
        "error: workflow_dispatch input action: must be one of provision, destroy, reconcile, sweep, got '$(rm -rf /)'",
    ),
    _dispatch(
        "dispatch-environment-64-chars",
        {"action": "destroy", "environment": "e" * 64},
        "error: workflow_dispatch input environment: is 64 characters long; at most 63 are allowed",
    ),
    _dispatch(
        "dispatch-environment-traversal",
        {"action": "destroy", "environment": "../../etc"},
        f"error: workflow_dispatch input environment: '../../etc' is not {LABEL_RULE}",
    ),
    _dispatch(
        "dispatch-environment-cyrillic",
        {"action": "reconcile", "environment": "f\u0435ature-login"},
        f"error: workflow_dispatch input environment: 'f\u0435ature-login' is not {LABEL_RULE}",
    ),
    _dispatch(
        "dispatch-branch-newline",
        {"action": "destroy", "branch": "feature\nmain"},
        "error: workflow_dispatch input branch: not a branch name",
    ),
    _dispatch(
        "dispatch-branch-too-long",
        {"action": "provision", "branch": "feature-" + "x" * 300},
        "error: workflow_dispatch input branch: not a branch name",
    ),
    _dispatch(
        "dispatch-template-traversal",
        {"action": "provision", "branch": "feature-x", "template": "../../../etc/passwd"},
        "error: workflow_dispatch input template: '../../../etc/passwd' is not a configured template"
        " (envs/feature.yaml)",
    ),
    _dispatch(
        "dispatch-destroy-without-target",
        {"action": "destroy"},
        "error: workflow_dispatch destroy: give the environment input (or the branch input)",
    ),
    _dispatch(
        "dispatch-branch-traversal",
        {"action": "provision", "branch": "../../../etc/passwd"},
        "error: {world}/envs/feature.yaml: origin.branch: '../../../etc/passwd' is not a branch name",
    ),
]

# -- environment and branch names that collide after slugging, or are too long ----------------------------------


def _deleted(id: str, branch: str, name: str) -> Case:
    return event_case(
        id,
        "names",
        "delete",
        payload(DELETE, ref=branch, sender__login=WRITER),
        UNTOUCHED,
        f"envbot: destroying {name}: branch {branch} was deleted",
    )


NAMES = [
    _deleted("collide-uppercase", "Feature-Login", "feature-login-6626944e"),
    _deleted("collide-slash", "feature/login", "feature-login-df7c7aeb"),
    _deleted("collide-underscore", "feature_login", "feature-login-eda9645e"),
    _deleted("collide-dot", "feature.login", "feature-login-8974d2f0"),
    _deleted("collide-trailing-dash", "feature-login-", "feature-login-06fe6f72"),
    _deleted("collide-accent", "f\u00e9ature-login", "feature-login-d59e0e9e"),
    _deleted("collide-fake-hash-tail", "feature-login-0123abcd", "feature-login-0123abcd-5ff92175"),
    _deleted("branch-64-chars", PR_BRANCH + "-" + "x" * 50, "feature-login-" + "x" * 40 + "-f3002c2f"),
    _deleted("branch-300-chars", "x" * 300, "x" * 54 + "-0d4e2ca9"),
    _deleted(
        "branch-traversal", "../../registry/environments/feature-login", "registry-environments-feature-login-1498fbe0"
    ),
]

CASES: list[Case] = [
    *_tagged("permission", PERMISSION),
    *_tagged("bots", BOTS),
    *_tagged("not a command", NOT_COMMANDS),
    *_tagged("look-alike", LOOK_ALIKES),
    *_tagged("command arguments", ARGUMENTS),
    *_tagged("payload", PAYLOADS),
    *_tagged("dispatch inputs", DISPATCHES),
    *_tagged("names", NAMES),
]
