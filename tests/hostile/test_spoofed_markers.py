"""A comment that starts with envbot's hidden marker, written by someone else.

envbot finds its sticky comment (and its replies) by the marker line AND by the comment's author: a bot account
(or the configured comment author). A person's look-alike is left alone, so the status people read is envbot's.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tests.action.support import make_world
from tests.hostile.arena import PR, PR_BRANCH, REPO, WRITER, comment


def test_a_planted_status_marker_is_not_adopted(tmp_path: Path) -> None:
    with contextmanager(make_world)(tmp_path, REPO) as world:
        world.fake.grant(WRITER, "write")
        world.add_pull_request(PR, PR_BRANCH)
        planted = f"<!-- envbot:status:{PR_BRANCH} -->\n### envbot · `{PR_BRANCH}` · Ready\nhttps://evil.example"
        planted_id = world.fake.add_comment(PR, planted, author=WRITER)

        assert world.handle("issue_comment", comment("/provision")) == 0, world.logs

        assert world.fake.comments[planted_id]["body"] == planted  # the impostor's comment is left alone
        assert sum(1 for body in world.comments(PR) if "Provisioning Infrastructure" in body) == 1
