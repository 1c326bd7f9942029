"""Refusals cannot be used for spam: at most one refusal reply per person per pull request per hour, from our
comment-on-a-PR payload (nadia on #42 of acme/shop, here with read permission) and our labeled payload; the
hour runs on the world's clock, from GitHub's creation time of envbot's previous refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.action.conftest import OpenWorld
from tests.action.support import ActionWorld
from tests.webhooks import payload

COMMENT = "issue_comment/created-on-pull-request"
LABELED = "pull_request/labeled"
REPO = "acme/shop"
READER = "nadia"
STRANGER = "omar"
WRITER = "lena"
PR = 42
ENV = "feature-login"
MINUTE = dt.timedelta(minutes=1)


def comment_by(user: str, body: str, number: int = PR) -> dict[str, Any]:
    return payload(COMMENT, comment__body=body, comment__user__login=user, sender__login=user, issue__number=number)


def refusal_marker(user: str) -> str:
    return f"<!-- envbot:reply:refusal:{user} -->\n"


@pytest.fixture
def world(open_world: OpenWorld) -> ActionWorld:
    world = open_world(REPO)
    world.add_pull_request(PR, ENV)
    world.fake.grant(READER, "read")
    world.fake.grant(WRITER, "write")
    return world


def refusals(world: ActionWorld, user: str, number: int = PR) -> list[str]:
    """envbot's refusal replies to ``user`` on pull request ``number``, oldest first."""
    found = sorted(
        (c for c in world.fake.comments.values() if c["issue"] == number and c["author"] == "envbot[bot]"),
        key=lambda c: c["id"],
    )
    return [c["body"] for c in found if c["body"].startswith(refusal_marker(user))]


def handle(world: ActionWorld, event_name: str, document: dict[str, Any]) -> list[str]:
    """Run one event; the lines it logged."""
    before = len(world.logs)
    assert world.handle(event_name, document) == 0, world.logs
    return world.logs[before:]


def silent(user: str, number: int = PR) -> list[str]:
    return [f"envbot: not replying to `{user}` on #{number} again: a refusal was posted there less than an hour ago"]


def test_three_refused_provisions_in_ten_minutes_get_one_reply(world: ActionWorld) -> None:
    lines = ["/provision", "/provision rds-postgres", "/provision sample-app rds-postgres allocatedStorage=50"]

    logged = []
    for line in lines:
        logged.append(handle(world, "issue_comment", comment_by(READER, line)))
        world.clock.advance(5 * MINUTE)

    (reply,) = refusals(world, READER)
    assert reply.endswith(
        f"Sorry, `{lines[0]}` needs write permission on this repository, and `nadia` has read permission."
    )
    assert logged == [["envbot: replied on the pull request"], silent(READER), silent(READER)]
    assert world.writes() == ["POST issues/create-comment"]  # the silent ones write nothing at all
    assert world.gitops_files("platform") == {}


def test_an_hour_after_the_last_reply_a_refusal_gets_a_reply_again(world: ActionWorld) -> None:
    def refuse(line: str) -> list[str]:
        return handle(world, "issue_comment", comment_by(READER, line))

    assert refuse("/provision") == ["envbot: replied on the pull request"]
    world.clock.advance(59 * MINUTE)
    assert refuse("/destroy") == silent(READER)
    world.clock.advance(2 * MINUTE)  # an hour and a minute since the reply
    assert refuse("/destroy") == ["envbot: replied on the pull request"]
    world.clock.advance(30 * MINUTE)
    assert refuse("/provision") == silent(READER)  # the hour counts from the latest reply

    first, second = refusals(world, READER)
    assert "`/provision`" in first and "`/destroy`" in second
    assert world.writes() == ["POST issues/create-comment"] * 2


def test_each_person_gets_their_own_reply(world: ActionWorld) -> None:
    assert handle(world, "issue_comment", comment_by(READER, "/provision")) == ["envbot: replied on the pull request"]
    assert handle(world, "issue_comment", comment_by(STRANGER, "/provision")) == ["envbot: replied on the pull request"]
    assert handle(world, "issue_comment", comment_by(STRANGER, "/destroy")) == silent(STRANGER)
    assert handle(world, "issue_comment", comment_by(READER, "/destroy")) == silent(READER)

    assert [len(refusals(world, user)) for user in (READER, STRANGER)] == [1, 1]
    assert refusals(world, STRANGER)[0].endswith("and `omar` has no access.")


def test_each_pull_request_gets_its_own_reply(world: ActionWorld) -> None:
    world.add_pull_request(43, "feature-search")
    for number in (PR, 43, PR, 43):
        handle(world, "issue_comment", comment_by(READER, "/provision", number))

    assert [len(refusals(world, READER, number)) for number in (PR, 43)] == [1, 1]


def test_a_refused_label_counts_as_a_refusal_too(world: ActionWorld) -> None:
    assert handle(world, "pull_request", payload(LABELED)) == ["envbot: replied on the pull request"]
    assert handle(world, "issue_comment", comment_by(READER, "/provision")) == silent(READER)

    (reply,) = refusals(world, READER)
    assert f"label envbot:provision on pull request #{PR}" in reply


def test_a_permitted_users_commands_are_unaffected(world: ActionWorld) -> None:
    for line in ("/provision", "/destroy", "/status"):
        handle(world, "issue_comment", comment_by(READER, line))

    assert (
        handle(world, "issue_comment", comment_by(WRITER, "/provision"))[0]
        == f"envbot: provisioning {ENV} (/provision)"
    )
    assert handle(world, "issue_comment", comment_by(WRITER, "/help")) == ["envbot: replied on the pull request"]
    assert handle(world, "issue_comment", comment_by(WRITER, "/status extra")) == [
        "envbot: replied on the pull request"
    ]

    assert f"registry/environments/{ENV}/environment.yaml" in world.gitops_files("platform")
    bodies = world.comments(PR)
    assert sum(b.startswith(f"<!-- envbot:status:{ENV} -->") for b in bodies) == 1
    assert sum(b.startswith("<!-- envbot:reply:") for b in bodies) == 3  # nadia's one refusal, lena's two replies
    assert len(refusals(world, READER)) == 1


def test_only_envbots_own_refusals_count(world: ActionWorld) -> None:
    """A person who types the marker cannot silence envbot, for themselves or for anyone else."""
    world.fake.add_comment(PR, refusal_marker(READER) + "Sorry, nothing for you.", author=READER)
    world.fake.add_comment(PR, refusal_marker(STRANGER) + "Sorry, nothing for you.", author=READER)

    assert handle(world, "issue_comment", comment_by(READER, "/provision")) == ["envbot: replied on the pull request"]
    assert handle(world, "issue_comment", comment_by(STRANGER, "/provision")) == ["envbot: replied on the pull request"]

    assert [len(refusals(world, user)) for user in (READER, STRANGER)] == [1, 1]


def test_a_dry_run_only_logs_the_refusal(world: ActionWorld) -> None:
    for _ in range(2):
        assert world.handle("issue_comment", comment_by(READER, "/provision"), dry_run=True) == 0
        assert world.logs[-1].startswith(
            "envbot: dry run: source: would comment on #42: Sorry, `/provision` needs write permission"
        )

    assert world.writes() == []
