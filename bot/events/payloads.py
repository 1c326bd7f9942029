"""GitHub webhook payloads → typed, frozen events; tolerant of old payloads, one clear line for broken ones."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypedDict

from bot.errors import UserError
from bot.forge.model import PullRequestState

MAX_PAYLOAD_BYTES: Final = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; anything larger is not a payload."""

MAX_INPUTS: Final = 50
_EVENT_NAME = re.compile(r"[a-z][a-z_]{0,63}", re.ASCII)
_MISSING: Final = object()

Visibility = Literal["public", "private", "internal"]
"""A repository's visibility as GitHub names it."""
_VISIBILITIES: Final[dict[str, Visibility]] = {"public": "public", "private": "private", "internal": "internal"}


class PayloadError(UserError):
    """A webhook payload that is not JSON, or lacks a field the event needs; one line says which."""


@dataclass(frozen=True)
class Actor:
    """A GitHub account that caused an event or wrote a comment."""

    login: str
    type: str = ""

    @property
    def is_bot(self) -> bool:
        """True for GitHub Apps and bot accounts (type ``Bot``, or a login such as ``dependabot[bot]``)."""
        return self.type == "Bot" or self.login.lower().endswith("[bot]")


@dataclass(frozen=True)
class PullRequestInfo:
    """What envbot needs of a pull request in a ``pull_request`` payload.

    ``head_repository_deleted``: GitHub reports the head repository as null, so it is a fork that was deleted and
    ``head_label`` (``owner:branch``) is all that still tells whose. ``state`` is None when the payload does not say.
    """

    number: int
    head_ref: str
    head_sha: str | None = None
    head_repository: str | None = None
    base_ref: str | None = None
    title: str = ""
    url: str | None = None
    author: Actor | None = None
    labels: tuple[str, ...] = ()
    head_label: str | None = None
    head_repository_deleted: bool = False
    state: PullRequestState | None = None


@dataclass(frozen=True, kw_only=True)
class _Event:
    repository: str | None = None
    sender: Actor | None = None
    repository_visibility: Visibility | None = field(default=None, compare=False)
    """From ``repository.visibility``, else ``repository.private``; None when the payload says neither. It describes
    the repository, not what happened, so events compare equal whatever it says."""


@dataclass(frozen=True, kw_only=True)
class BranchCreated(_Event):
    """``create`` with ``ref_type: branch``."""

    ref: str
    default_branch: str | None = None


@dataclass(frozen=True, kw_only=True)
class BranchDeleted(_Event):
    """``delete`` with ``ref_type: branch``."""

    ref: str


@dataclass(frozen=True, kw_only=True)
class TagCreated(_Event):
    """``create`` with ``ref_type: tag``."""

    ref: str


@dataclass(frozen=True, kw_only=True)
class TagDeleted(_Event):
    """``delete`` with ``ref_type: tag``."""

    ref: str


@dataclass(frozen=True, kw_only=True)
class PullRequestClosed(_Event):
    """``pull_request`` closed, merged or not."""

    pull_request: PullRequestInfo
    merged: bool
    merged_by: Actor | None = None


@dataclass(frozen=True, kw_only=True)
class PullRequestLabeled(_Event):
    """``pull_request`` labeled; ``label`` is the label just added."""

    pull_request: PullRequestInfo
    label: str


@dataclass(frozen=True, kw_only=True)
class IssueComment(_Event):
    """``issue_comment`` created, edited or deleted, on a pull request or on a plain issue."""

    action: str
    issue_number: int
    on_pull_request: bool
    body: str
    author: Actor | None = None
    comment_id: int | None = None
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Schedule(_Event):
    """``schedule``: a cron run of the workflow."""

    cron: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkflowDispatch(_Event):
    """``workflow_dispatch``: a person started the workflow, with its inputs as strings."""

    ref: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    workflow: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))

    @property
    def branch(self) -> str | None:
        """The branch the workflow was started on (``refs/heads/x`` → ``x``); None for tags and odd refs."""
        if self.ref and self.ref.startswith("refs/heads/") and len(self.ref) > len("refs/heads/"):
            return self.ref[len("refs/heads/") :]
        return None


@dataclass(frozen=True, kw_only=True)
class Unsupported(_Event):
    """Any event or action envbot does not act on, with the reason in words."""

    event_name: str
    action: str | None = None
    reason: str


Event = (
    BranchCreated
    | BranchDeleted
    | TagCreated
    | TagDeleted
    | PullRequestClosed
    | PullRequestLabeled
    | IssueComment
    | Schedule
    | WorkflowDispatch
    | Unsupported
)
"""Every event ``parse_event`` returns."""


# -- reading fields --------------------------------------------------------------------------------------------


def _kind(value: object) -> str:
    """A JSON value's kind, never the value: unlike a file people write (``bot.documents.describe_type``), a payload
    is anyone's text, so its errors do not repeat it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Common(TypedDict):
    repository: str | None
    sender: Actor | None
    repository_visibility: Visibility | None


class _Reader:
    """Walks one payload; every complaint names the event and the dotted path of the field."""

    def __init__(self, event: str, payload: Mapping[str, Any]) -> None:
        self.event = event
        self.payload = payload

    def fail(self, path: str, message: str) -> PayloadError:
        return PayloadError(f"{self.event} event payload: {path} {message}")

    def get(self, path: str) -> Any:
        node: Any = self.payload
        walked: list[str] = []
        for part in path.split("."):
            if node is None:
                return _MISSING
            if not isinstance(node, Mapping):
                raise self.fail(".".join(walked), f"must be an object, got {_kind(node)}")
            walked.append(part)
            node = node.get(part, _MISSING)
            if node is _MISSING:
                return _MISSING
        return node

    def text(self, path: str) -> str:
        value = self.get(path)
        if value is _MISSING or value is None:
            raise self.fail(path, "is missing")
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {_kind(value)}")
        if not value:
            raise self.fail(path, "is empty")
        return value

    def optional_text(self, path: str) -> str | None:
        value = self.get(path)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {_kind(value)}")
        return value

    def number(self, *paths: str) -> int:
        for path in paths:
            value = self.get(path)
            if value is _MISSING or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self.fail(path, f"must be a positive integer, got {_kind(value)}")
            return value
        raise self.fail(paths[0], "is missing")

    def optional_number(self, path: str) -> int | None:
        value = self.get(path)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return None

    def flag(self, path: str) -> bool | None:
        value = self.get(path)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {_kind(value)}")
        return value

    def actor(self, path: str) -> Actor | None:
        value = self.get(path)
        if value is _MISSING or value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be an object, got {_kind(value)}")
        login = self.text(f"{path}.login")
        kind = self.optional_text(f"{path}.type") or ""
        return Actor(login=login, type=kind)

    def repository(self) -> str | None:
        full_name = self.optional_text("repository.full_name")
        if full_name:
            return full_name
        owner = self.optional_text("repository.owner.login")
        name = self.optional_text("repository.name")
        return f"{owner}/{name}" if owner and name else None

    def visibility(self) -> Visibility | None:
        """Read leniently: a field of an unexpected type counts as not given, never as public or private."""
        visibility = self.get("repository.visibility")
        if isinstance(visibility, str) and visibility.lower() in _VISIBILITIES:
            return _VISIBILITIES[visibility.lower()]
        private = self.get("repository.private")
        if isinstance(private, bool):
            return "private" if private else "public"
        return None

    def common(self) -> _Common:
        return {
            "repository": self.repository(),
            "sender": self.actor("sender"),
            "repository_visibility": self.visibility(),
        }

    def pull_request_state(self) -> PullRequestState | None:
        state = self.get("pull_request.state")
        merged_at = self.get("pull_request.merged_at")
        if self.get("pull_request.merged") is True or (state == "closed" and isinstance(merged_at, str)):
            return "merged"
        return state if state in ("open", "closed") else None

    def pull_request(self) -> PullRequestInfo:
        if not isinstance(self.get("pull_request"), Mapping):
            raise self.fail("pull_request", "is missing")
        labels = self.get("pull_request.labels")
        names = (
            tuple(sorted(str(item["name"]) for item in labels if isinstance(item, Mapping) and "name" in item))
            if isinstance(labels, list)
            else ()
        )
        return PullRequestInfo(
            number=self.number("number", "pull_request.number"),
            head_ref=self.text("pull_request.head.ref"),
            head_sha=self.optional_text("pull_request.head.sha"),
            head_repository=self.optional_text("pull_request.head.repo.full_name"),
            head_label=label if isinstance(label := self.get("pull_request.head.label"), str) else None,
            head_repository_deleted=self.get("pull_request.head.repo") is None,
            base_ref=self.optional_text("pull_request.base.ref"),
            title=self.optional_text("pull_request.title") or "",
            url=self.optional_text("pull_request.html_url"),
            author=self.actor("pull_request.user"),
            labels=names,
            state=self.pull_request_state(),
        )


# -- events ----------------------------------------------------------------------------------------------------


def _ref_event(reader: _Reader, created: bool) -> Event:
    common = reader.common()
    ref_type = reader.text("ref_type")
    if ref_type not in ("branch", "tag"):
        return Unsupported(
            event_name=reader.event, reason=f"{reader.event} of a {ref_type[:40]!r} is not a branch or a tag", **common
        )
    ref = reader.text("ref")
    if ref_type == "tag":
        return TagCreated(ref=ref, **common) if created else TagDeleted(ref=ref, **common)
    if created:
        return BranchCreated(ref=ref, default_branch=reader.optional_text("master_branch"), **common)
    return BranchDeleted(ref=ref, **common)


def _pull_request_event(reader: _Reader) -> Event:
    common = reader.common()
    action = reader.text("action")
    if action == "closed":
        merged = reader.flag("pull_request.merged")
        if merged is None:  # old payloads: only merged_at tells
            merged = reader.optional_text("pull_request.merged_at") is not None
        return PullRequestClosed(
            pull_request=reader.pull_request(),
            merged=merged,
            merged_by=reader.actor("pull_request.merged_by") if merged else None,
            **common,
        )
    if action == "labeled":
        return PullRequestLabeled(pull_request=reader.pull_request(), label=reader.text("label.name"), **common)
    return Unsupported(
        event_name=reader.event,
        action=action,
        reason=f"pull_request {action[:40]!r} is not acted on (only closed and labeled are)",
        **common,
    )


def _issue_comment_event(reader: _Reader) -> Event:
    common = reader.common()
    action = reader.text("action")
    if action not in ("created", "edited", "deleted"):
        return Unsupported(
            event_name=reader.event,
            action=action,
            reason=f"issue_comment {action[:40]!r} is not acted on",
            **common,
        )
    if not isinstance(reader.get("issue"), Mapping):
        raise reader.fail("issue", "is missing")
    if not isinstance(reader.get("comment"), Mapping):
        raise reader.fail("comment", "is missing")
    link = reader.get("issue.pull_request")
    return IssueComment(
        action=action,
        issue_number=reader.number("issue.number"),
        on_pull_request=link is not _MISSING and link is not None,
        body=reader.optional_text("comment.body") or "",
        author=reader.actor("comment.user") or common["sender"],
        comment_id=reader.optional_number("comment.id"),
        url=reader.optional_text("comment.html_url"),
        **common,
    )


def _dispatch_inputs(reader: _Reader) -> dict[str, str]:
    value = reader.get("inputs")
    if value is _MISSING or value is None:
        return {}
    if not isinstance(value, Mapping):
        raise reader.fail("inputs", f"must be an object, got {_kind(value)}")
    if len(value) > MAX_INPUTS:
        raise reader.fail("inputs", f"has {len(value)} entries; at most {MAX_INPUTS} are read")
    inputs: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            continue
        if isinstance(item, bool):
            inputs[str(key)] = "true" if item else "false"
        elif isinstance(item, str | int | float):
            inputs[str(key)] = str(item)
        else:
            raise reader.fail(f"inputs.{key}", f"must be a string, number or boolean, got {_kind(item)}")
    return inputs


def parse_event(event_name: str, payload: Any) -> Event:
    """The typed event of one webhook delivery; ``PayloadError`` (one line) when the payload cannot be read."""
    name = event_name.strip() if isinstance(event_name, str) else ""
    if not name:
        raise PayloadError("no event name: set GITHUB_EVENT_NAME or pass --event-name")
    if not _EVENT_NAME.fullmatch(name):
        raise PayloadError(f"{name[:60]!r} is not a GitHub event name (such as pull_request or issue_comment)")
    if not isinstance(payload, Mapping):
        raise PayloadError(f"{name} event payload: must be a JSON object, got {_kind(payload)}")
    reader = _Reader(name, payload)
    if name == "create":
        return _ref_event(reader, created=True)
    if name == "delete":
        return _ref_event(reader, created=False)
    if name == "pull_request":
        return _pull_request_event(reader)
    if name == "issue_comment":
        return _issue_comment_event(reader)
    common = reader.common()
    if name == "schedule":
        return Schedule(cron=reader.optional_text("schedule"), **common)
    if name == "workflow_dispatch":
        return WorkflowDispatch(
            ref=reader.optional_text("ref"),
            inputs=_dispatch_inputs(reader),
            workflow=reader.optional_text("workflow"),
            **common,
        )
    action = payload.get("action")
    return Unsupported(
        event_name=name,
        action=action if isinstance(action, str) else None,
        reason=_UNSUPPORTED.get(name, f"{name} events are not acted on"),
        **common,
    )


_UNSUPPORTED: Final = {
    "ping": "ping: GitHub is checking the webhook; nothing to do",
    "push": "push events are not acted on; branches are followed through create and delete",
}


def event_from_json(event_name: str, data: bytes, where: str) -> Event:
    """Parse the bytes of a payload file (``GITHUB_EVENT_PATH``: read by ``bot.action.load_event``); ``where``
    names it in every error."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"event payload {where}: larger than {MAX_PAYLOAD_BYTES} bytes, so not a webhook payload")
    if not data.strip():
        raise PayloadError(f"event payload {where}: the file is empty")
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"event payload {where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno});"
            " is the file truncated?"
        ) from None
    except UnicodeDecodeError:
        raise PayloadError(f"event payload {where}: not UTF-8 text") from None
    except RecursionError:
        raise PayloadError(f"event payload {where}: nested too deeply to be a webhook payload") from None
    return parse_event(event_name, payload)
