"""Shared helpers of the events tests: our own payloads by scenario, and the real third-party ones (conformance)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from project_paths import FIXTURES

from tests.webhooks import payload, with_changes

# -- our own payloads (tests/fixtures/webhooks) ------------------------------------------------------------------------

BRANCH_CREATE = "create/branch"  # feature-checkout, by nadia
BRANCH_DELETE = "delete/branch"
TAG_CREATE = "create/tag"  # v1.4.0, by omar
TAG_DELETE = "delete/tag"
PR_OPENED = "pull_request/opened"  # #42, head feature-login, by nadia
PR_SYNCHRONIZE = "pull_request/synchronize"
PR_REOPENED = "pull_request/reopened"
PR_LABELED = "pull_request/labeled"  # envbot:provision
PR_UNLABELED = "pull_request/unlabeled"
PR_MERGED = "pull_request/closed-merged"  # merged by omar
PR_CLOSED = "pull_request/closed-unmerged"
PR_FROM_FORK = "pull_request/closed-merged-from-fork"  # #57, mallory/shop's feature-login
PR_FORK_DELETED = "pull_request/closed-fork-deleted"  # #58, head.repo null
PR_COMMENT = "issue_comment/created-on-pull-request"  # /provision on #42, by nadia
ISSUE_COMMENT = "issue_comment/created-on-issue"  # /provision on the plain issue #40
COMMENT_EDITED = "issue_comment/edited"
COMMENT_DELETED = "issue_comment/deleted"
DISPATCH = "workflow_dispatch/provision"  # provision feature-checkout, by omar, on refs/heads/main
DISPATCH_DEFAULTS = "workflow_dispatch/reconcile"
PING = "ping/repository-hook"
PUSH = "push/branch-created"
STATUS = "status/envbot-pending"  # sent by envbot-acme[bot]
SCHEDULE = "schedule/hourly"
REPOSITORY = "acme/shop"


def comment_payload(body: str, **sender: Any) -> dict[str, Any]:
    """Our comment-on-a-PR payload with another body (and optionally another sender and author)."""
    document = payload(PR_COMMENT, comment__body=body)
    if sender:
        document["sender"].update(sender)
        document["comment"]["user"].update(sender)
    return document


# -- the real payloads of the conformance tier (FIXTURES/github-webhooks; read only inside tests) ----------------------

REAL_WEBHOOKS = FIXTURES / "github-webhooks"

_REAL_EVENTS = {
    "drone-go-scm/branch_create.json": "create",
    "drone-go-scm/branch_delete.json": "delete",
    "drone-go-scm/tag_create.json": "create",
    "drone-go-scm/tag_delete.json": "delete",
    "drone-go-scm/check_run.json": "check_run",
    "drone-go-scm/comment.json": "issue_comment",
    "drone-go-scm/status.json": "status",
    "go-playground-webhooks/check-run.json": "check_run",
    "go-playground-webhooks/check-suite.json": "check_suite",
    "go-playground-webhooks/create.json": "create",
    "go-playground-webhooks/delete.json": "delete",
    "go-playground-webhooks/issue-comment.json": "issue_comment",
    "go-playground-webhooks/pull-request-issue-comment.json": "issue_comment",
    "go-playground-webhooks/pull-request.json": "pull_request",
    "go-playground-webhooks/push.json": "push",
    "go-playground-webhooks/status.json": "status",
    "go-playground-webhooks/workflow_dispatch.json": "workflow_dispatch",
}


def real_event_name_of(relative: str) -> str:
    """The ``X-GitHub-Event`` of a real payload (the files carry no headers), per SOURCES.md's scenario index."""
    if relative in _REAL_EVENTS:
        return _REAL_EVENTS[relative]
    parts = relative.split("/")
    if parts[0] == "octokit-webhooks":
        return parts[2]
    if parts[0] == "create-issue-branch":
        return parts[1].split(".")[0]
    if parts[0] == "drone-go-scm" and parts[1].startswith("pr_"):
        return "pull_request"
    if parts[0] == "drone-go-scm" and parts[1].startswith("push"):
        return "push"
    raise KeyError(relative)


def real_payload_files() -> list[str]:
    """Every real webhook payload (not the schemas, not the signature test vector), relative to REAL_WEBHOOKS."""
    return sorted(
        path.relative_to(REAL_WEBHOOKS).as_posix()
        for path in REAL_WEBHOOKS.rglob("*.json")
        if path.parts[len(REAL_WEBHOOKS.parts)] != "schemas" and path.name != "signature-test-vector.json"
    )


_REAL_CACHE: dict[str, Any] = {}


def real_payload(relative: str, **changes: Any) -> Any:
    """A fresh copy of one real payload, with fields changed as ``payload`` does (``a__b`` nests)."""
    if relative not in _REAL_CACHE:
        _REAL_CACHE[relative] = json.loads(real_path(relative).read_text(encoding="utf-8"))
    return with_changes(copy.deepcopy(_REAL_CACHE[relative]), **changes)


def real_path(relative: str) -> Path:
    return REAL_WEBHOOKS / relative
