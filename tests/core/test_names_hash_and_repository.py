"""bot.names: shortening with a hash (pinned: the names live in clusters) and GitHub's ``owner/name`` rules."""

from __future__ import annotations

import pytest

from bot.names import is_github_owner, is_repository, shortened


@pytest.mark.parametrize(
    ("name", "limit", "short"),
    [
        ("a" * 70, 63, "a" * 54 + "-6bd5e503"),
        ("team-" + "b" * 60 + "-rds", 63, "team-" + "b" * 49 + "-e92d9f47"),
        ("x" * 40 + "-" + "y" * 30, 50, "x" * 40 + "-8eff381d"),  # the cut lands on a dash: it goes
        ("short", 63, "short"),
        ("a" * 63, 63, "a" * 63),
    ],
)
def test_shortened_names_are_pinned(name: str, limit: int, short: str) -> None:
    assert shortened(name, limit) == short


@pytest.mark.parametrize(
    "repository",
    [
        "acme/platform",
        "Acme-Corp/gitops.platform",
        "a/b",
        "o1/x_y-z.w",
        "mona-lisa_acme/gitops",  # an Enterprise Managed User's name ends in _shortcode
        "a" * 39 + "/" + "x" * 100,
        "acme/.github",
        "acme/..x",
    ],
)
def test_github_repositories(repository: str) -> None:
    assert is_repository(repository)


@pytest.mark.parametrize(
    "repository",
    [
        "acme",
        "acme/",
        "/platform",
        "acme/platform/extra",
        "acme/.",  # would name the owner itself in a URL
        "acme/..",  # would climb out of /repos/acme/ in a URL
        "-acme/platform",
        "acme-/platform",
        "ac--me/platform",
        "ac.me/platform",
        "a_b_c/platform",
        "_acme/platform",
        "a" * 40 + "/platform",
        "acme/" + "x" * 101,
        "acme/plat form",
        "acme/platform\n",
        "ácme/platform",
        "",
        None,
        3,
    ],
)
def test_not_github_repositories(repository: object) -> None:
    assert not is_repository(repository)


@pytest.mark.parametrize(("owner", "valid"), [("acme", True), ("a", True), ("a" * 39, True), ("a" * 40, False)])
def test_github_owner_length(owner: str, valid: bool) -> None:
    assert is_github_owner(owner) is valid
