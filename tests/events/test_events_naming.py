"""Environment names from branch names: valid labels, stable hashes, no collisions, prefixes and odd input."""

from __future__ import annotations

import hashlib
import itertools
import re

import pytest

from bot.events.naming import (
    branch_hash,
    environment_name,
    prefix_problem,
    slug,
    source_branch,
)
from bot.names import HASH_LENGTH, is_dns1123_label

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
HASHED = re.compile(rf"(?P<readable>.*)-(?P<hash>[0-9a-f]{{{HASH_LENGTH}}})")


def assert_label(name: str) -> None:
    assert len(name) <= 63 and LABEL.fullmatch(name), name
    assert is_dns1123_label(name)


@pytest.mark.parametrize(
    ("branch", "name"),
    [
        ("main", "main"),
        ("feature-branch", "feature-branch"),
        ("issue-111-robvanderleek-patch-1", "issue-111-robvanderleek-patch-1"),
        ("v2", "v2"),
        ("a" * 63, "a" * 63),
    ],
)
def test_valid_labels_are_kept(branch: str, name: str) -> None:
    assert environment_name(branch) == name


@pytest.mark.parametrize(
    ("branch", "readable"),
    [
        ("feature/Auth_Flow", "feature-auth-flow"),
        ("feature/a.b", "feature-a-b"),
        ("feature/a-b", "feature-a-b"),
        ("Feature", "feature"),
        ("dependabot/npm_and_yarn/lodash-4.17.21", "dependabot-npm-and-yarn-lodash-4-17-21"),
        ("-leading", "leading"),
        ("trailing-", "trailing"),
        ("a//b__c..d", "a-b-c-d"),
        ("café/crème", "cafe-creme"),
        ("\ufb01x/\uff21\uff22\uff23", "fix-abc"),  # compatibility forms fold to ASCII
        ("日本語", "branch"),
        ("///", "branch"),
        ("", "branch"),
        ("🚀", "branch"),
        ("main\n", "main"),
        ("MAIN", "main"),
    ],
)
def test_changed_names_get_a_readable_part_and_the_hash(branch: str, readable: str) -> None:
    name = environment_name(branch)
    assert_label(name)
    match = HASHED.fullmatch(name)
    assert match is not None, name
    assert match["readable"] == readable
    assert match["hash"] == hashlib.sha256(branch.encode()).hexdigest()[:HASH_LENGTH]


def test_the_hash_is_stable_across_releases() -> None:
    # Environments outlive envbot versions: changing this mapping would orphan every hashed environment.
    assert environment_name("feature/Auth_Flow") == "feature-auth-flow-" + branch_hash("feature/Auth_Flow")
    assert branch_hash("feature/Auth_Flow") == hashlib.sha256(b"feature/Auth_Flow").hexdigest()[:8]
    assert environment_name("feature/a.b") == environment_name("feature/a.b")


def test_dotted_and_dashed_branches_do_not_collide() -> None:
    assert environment_name("feature/a.b") != environment_name("feature/a-b")
    assert environment_name("feature/a-b") != environment_name("feature-a-b")
    assert environment_name("Main") != environment_name("main")


def test_a_branch_named_like_a_hashed_name_is_hashed_too() -> None:
    taken = environment_name("feature/a.b")  # feature-a-b-<hash>
    impostor = environment_name(taken)
    assert impostor != taken
    assert HASHED.fullmatch(impostor)
    assert environment_name("release-2024-deadbeef") != "release-2024-deadbeef"
    assert environment_name("release-2024-DEADBEEF") != "release-2024-deadbeef"
    assert environment_name("release-2024-deadbee") == "release-2024-deadbee"  # seven digits: not the pattern


def test_long_names_are_cut_and_hashed() -> None:
    long = "feature/" + "x" * 200
    name = environment_name(long)
    assert_label(name)
    assert len(name) == 63
    assert environment_name(long + "y") != name
    assert environment_name("a" * 64) != environment_name("a" * 65)
    assert len(environment_name("a" * 64)) == 63
    ragged = environment_name("a" * 53 + "-" + "b" * 20)  # the cut lands on a dash
    assert_label(ragged)
    assert "--" not in ragged


def test_many_similar_branches_never_collide() -> None:
    stems = ["feature/x", "feature-x", "Feature/X", "feature_x", "feature.x", "feature//x", "feature/x/", "x"]
    extras = ["", "-", ".", "/", "_", "1", "a" * 70, "é"]
    branches = {stem + extra for stem, extra in itertools.product(stems, extras)}
    branches |= {f"feature/{i}" for i in range(2000)} | {f"feature-{i}" for i in range(2000)}
    names = {environment_name(b) for b in branches}
    assert len(names) == len(branches)
    for name in names:
        assert_label(name)


@pytest.mark.parametrize(
    "branch",
    [
        "\ud800",  # a lone surrogate, as JSON can carry
        "a\x00b",
        "x" * 100_000,
        "\u202eevil",
        " ",
    ],
)
def test_hostile_branch_names_still_give_labels(branch: str) -> None:
    assert_label(environment_name(branch))
    assert_label(environment_name(branch, "pr-"))


def test_prefix() -> None:
    assert environment_name("main", "pr-") == "pr-main"
    assert environment_name("feature/Auth_Flow", "pr-").startswith("pr-feature-auth-flow-")
    assert environment_name("", "pr-") == "pr-branch-" + branch_hash("")
    long = environment_name("x" * 100, "preview-")
    assert long.startswith("preview-x") and len(long) == 63
    assert environment_name("a" * 60, "pr-") == "pr-" + "a" * 60  # exactly 63
    assert environment_name("a" * 61, "pr-") != "pr-" + "a" * 61
    assert_label(environment_name("a" * 61, "pr-"))


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("", None),
        ("pr-", None),
        ("env2", None),
        ("PR-", "must be lowercase letters"),
        ("-pr", "must be lowercase letters"),
        ("pr_", "must be lowercase letters"),
        ("p" * 21, "at most 20"),
    ],
)
def test_prefix_problems(prefix: str, problem: str | None) -> None:
    found = prefix_problem(prefix)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        with pytest.raises(ValueError, match="environment name prefix"):
            environment_name("main", prefix)


def test_slug_reads_a_bounded_part_of_the_branch() -> None:
    assert slug("x" * 100_000) == "x" * 256


def test_is_label_is_checked_whole() -> None:
    assert is_dns1123_label("main")
    assert not is_dns1123_label("main\n")
    assert not is_dns1123_label("a" * 64)
    assert not is_dns1123_label("-a")


def test_forks_are_named_apart_from_the_repository_own_branches() -> None:
    assert source_branch("feature/x") == "feature/x"
    assert source_branch("feature/x", "acme/app", "acme/app") == "feature/x"
    assert source_branch("feature/x", "ACME/App", "acme/app") == "feature/x"
    assert source_branch("feature/x", "mallory/app", "acme/app") == "mallory:feature/x"
    assert environment_name(source_branch("feature-x", "mallory/app", "acme/app")) != environment_name("feature-x")
    assert environment_name(source_branch("main", "mallory/app", "acme/app")) != "main"


def test_a_deleted_fork_is_named_after_its_owner_from_the_head_label() -> None:
    gone = source_branch(
        "feature-login", None, "acme/shop", head_label="mallory:feature-login", head_repository_deleted=True
    )
    assert gone == source_branch("feature-login", "mallory/shop", "acme/shop") == "mallory:feature-login"
    assert source_branch(
        "feature-login", None, None, head_label="mallory:feature-login", head_repository_deleted=True
    ) == (
        "mallory:feature-login"
    )  # the base repository does not matter: a deleted head repository is never the base's own
    same_owner = source_branch("x", None, "acme/shop", head_label="acme:x", head_repository_deleted=True)
    assert same_owner == "acme:x" != "x"


@pytest.mark.parametrize(
    "label",
    [
        None,
        "",
        "feature-login",  # no owner part
        ":feature-login",
        "mallory:other-branch",  # names another branch than head.ref
        "ghost:feature-login",  # GitHub's placeholder for every deleted account: shared by all of them
        "Ghost:feature-login",
        "mal lory:feature-login",
        "mallory/shop:feature-login",
    ],
)
def test_a_deleted_fork_whose_owner_is_unknown_has_no_source_branch(label: str | None) -> None:
    assert source_branch("feature-login", None, "acme/shop", head_label=label, head_repository_deleted=True) is None


def test_the_head_label_changes_nothing_while_the_head_repository_is_known() -> None:
    assert source_branch("feature/x", "acme/app", "acme/app", head_label="acme:feature/x") == "feature/x"
    assert source_branch("feature/x", head_label="mallory:feature/x") == "feature/x"  # no head.repo at all: legacy


@pytest.mark.parametrize(
    ("branch", "prefix", "name"),
    [
        ("feature/" + "x" * 200, "", "feature-" + "x" * 46 + "-6d980a16"),
        (
            "dependabot/npm_and_yarn/@types/node-20.11.30-and-some-more-words-here",
            "",
            "dependabot-npm-and-yarn-types-node-20-11-30-and-some-m-90e72416",
        ),
        ("a" * 53 + "-" + "b" * 20, "", "a" * 53 + "-af3ec493"),
        ("a" * 64, "", "a" * 54 + "-ffe054fe"),
        ("a" * 61, "pr-", "pr-" + "a" * 51 + "-35d5fc17"),
        ("x" * 100, "preview-", "preview-" + "x" * 46 + "-09ecb6eb"),
        ("", "", "branch-e3b0c442"),
        ("", "pr-", "pr-branch-e3b0c442"),
        ("\ud800", "", "branch-91a681b9"),
        ("\ud800", "pr-", "pr-branch-91a681b9"),
        ("feature/Auth_Flow", "", "feature-auth-flow-eaf6ebc7"),
        ("release-2024-deadbeef", "", "release-2024-deadbeef-f3cd9d8b"),
        ("日本語/" + "é" * 80, "env2", "env2" + "e" * 50 + "-1ea6aed8"),
        (
            "mallory:feature/" + "login-" * 12,
            "pr-",
            "pr-mallory-feature-login-login-login-login-login-login-714fe251",
        ),
    ],
)
def test_environment_names_are_pinned(branch: str, prefix: str, name: str) -> None:
    # Literal names, recorded before the hashing moved to bot.names: a change here renames live environments.
    assert environment_name(branch, prefix) == name
