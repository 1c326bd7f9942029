"""GitHubForge's replies said at most once a while (``upsert_comment(..., unless_posted_since=...)``) on the fake:
only envbot's own comments count, and only by GitHub's creation time, which neither an edit nor a person moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from manual_clock import ManualClock

from bot.forge import FileChange
from bot.forge.github import GitHubForge
from tests.fakes.github_api import FakeGitHub, own_api
from tests.forge.conftest import seeded_fake
from tests.forge.support import github_forge

MARKER = "envbot:reply:refusal:nadia"
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeGitHub]:
    with seeded_fake(own_api(), clock) as fake:
        yield fake


@pytest.fixture
def number(fake: FakeGitHub) -> int:
    forge = github_forge(fake)
    forge.push_commit("feature-login", "main", [FileChange.write("a.yaml", "a\n")], "m")
    return forge.ensure_pull_request("feature-login", "main", "t", "b").number


def refuse(forge: GitHubForge, number: int, clock: ManualClock, text: str = "Sorry.") -> bool:
    """One refusal as the Action posts it; True when it was posted."""
    return forge.upsert_comment(number, MARKER, text, unless_posted_since=clock() - HOUR).changed


def marked(fake: FakeGitHub, number: int) -> list[dict[str, Any]]:
    return [c for c in fake.comments.values() if c["issue"] == number and c["body"].startswith(f"<!-- {MARKER} -->")]


def test_a_persons_look_alike_marker_does_not_silence_a_reply(
    fake: FakeGitHub, number: int, clock: ManualClock
) -> None:
    fake.add_comment(number, f"<!-- {MARKER} -->\nforged by a person", author="nadia")

    assert refuse(github_forge(fake), number, clock)
    assert [c["author"] for c in marked(fake, number)] == ["nadia", "envbot[bot]"]  # the look-alike is left alone


def test_an_edit_does_not_make_an_old_reply_recent(fake: FakeGitHub, number: int, clock: ManualClock) -> None:
    forge = github_forge(fake)
    assert refuse(forge, number, clock)
    clock.advance(2 * HOUR)
    (old,) = marked(fake, number)
    fake.op_issues_update_comment(
        {"comment_id": str(old["id"])}, {}, {"body": old["body"] + " (edited)"}
    )  # by a maintainer
    assert old["updated_at"] == clock()

    assert refuse(forge, number, clock)  # created two hours ago: a new reply
    assert len(marked(fake, number)) == 2


def test_the_lookup_asks_github_only_for_comments_of_the_last_hour(
    fake: FakeGitHub, number: int, clock: ManualClock
) -> None:
    forge = github_forge(fake)
    for i in range(150):  # a long conversation: two pages of comments
        fake.add_comment(number, f"comment {i}", author="someone", created_at=clock() - 3 * HOUR)
    before = len(fake.calls)

    assert refuse(forge, number, clock)
    assert not refuse(forge, number, clock)

    lists = [c for c in fake.calls[before:] if c.operation == "issues/list-comments"]
    assert len(lists) == 3  # before and after the post, then the quiet lookup: one page each
    assert {c.query["since"] for c in lists} == {"2026-11-27T11:00:00Z"}


def test_two_runs_at_once_leave_one_reply(
    fake: FakeGitHub, number: int, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    forge = github_forge(fake)
    real_list = fake.op_issues_list_comments
    raced = False

    def racing_list(p: dict[str, str], q: dict[str, str], b: Any) -> tuple[int, Any]:
        nonlocal raced
        answer = real_list(p, q, b)
        if not raced:  # another run looks at the same moment, finds none either, and posts first
            raced = True
            fake.add_comment(number, f"<!-- {MARKER} -->\nSorry (the other run).")
        return answer

    monkeypatch.setattr(fake, "op_issues_list_comments", racing_list)

    assert not refuse(forge, number, clock)  # ours was posted second, so it went again

    assert [c["body"] for c in marked(fake, number)] == [f"<!-- {MARKER} -->\nSorry (the other run)."]
