"""Shared helpers of the events tests: the real webhook payloads of ../shared and their event names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from project_paths import FIXTURES

WEBHOOKS = FIXTURES / "github-webhooks"

_BY_FILE = {
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


def event_name_of(relative: str) -> str:
    """The ``X-GitHub-Event`` of a fixture (the payload files carry no headers), per SOURCES.md's index."""
    if relative in _BY_FILE:
        return _BY_FILE[relative]
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


def payload_files() -> list[str]:
    """Every real webhook payload (not the schemas, not the signature test vector), relative to WEBHOOKS."""
    return sorted(
        path.relative_to(WEBHOOKS).as_posix()
        for path in WEBHOOKS.rglob("*.json")
        if path.parts[len(WEBHOOKS.parts)] not in ("schemas",) and path.name != "signature-test-vector.json"
    )


_CACHE: dict[str, Any] = {}


def payload(relative: str) -> Any:
    """A fresh, mutable copy of one real payload."""
    if relative not in _CACHE:
        _CACHE[relative] = json.loads((WEBHOOKS / relative).read_text(encoding="utf-8"))
    return copy.deepcopy(_CACHE[relative])


def path_of(relative: str) -> Path:
    return WEBHOOKS / relative


PR_COMMENT = "go-playground-webhooks/pull-request-issue-comment.json"
ISSUE_COMMENT = "create-issue-branch/issue_comment.created.json"
BRANCH_CREATE = "drone-go-scm/branch_create.json"
BRANCH_DELETE = "drone-go-scm/branch_delete.json"
PR_MERGED = "create-issue-branch/pull_request.closed.json"
PR_CLOSED = "octokit-webhooks/api.github.com/pull_request/closed.payload.json"
PR_LABELED = "octokit-webhooks/api.github.com/pull_request/labeled.payload.json"
DISPATCH = "octokit-webhooks/api.github.com/workflow_dispatch/payload.json"


def comment_payload(body: str, **sender: Any) -> Any:
    """The real comment-on-a-PR payload with another body (and optionally another sender/author)."""
    document = payload(PR_COMMENT)
    document["comment"]["body"] = body
    if sender:
        document["sender"].update(sender)
        document["comment"]["user"].update(sender)
    return document
