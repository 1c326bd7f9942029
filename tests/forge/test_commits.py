"""bot.forge.commits: the steps of a push that every forge takes alike, as pure functions."""

from __future__ import annotations

import pytest

from bot.forge.commits import (
    BranchMove,
    Head,
    Tip,
    branch_move,
    changes_by_path,
    checked_base,
    history_title,
    merge_message,
    reusable_commit,
)
from bot.forge.errors import BaseMovedError, ForgeNotFoundError
from bot.forge.model import FileChange

BASE = Tip("b" * 40, "tree-of-base")
NEW_TREE = "tree-with-changes"


def test_changes_by_path_keep_the_last_change_of_a_path_and_check_every_path() -> None:
    changes = [FileChange.write("a.yaml", "1"), FileChange.delete("b.yaml"), FileChange.write("a.yaml", "2")]
    assert changes_by_path(changes) == {"a.yaml": "2", "b.yaml": None}
    with pytest.raises(ValueError, match="invalid repository path"):
        changes_by_path([FileChange.write("../escape", "x")])


def test_the_base_must_exist_and_be_where_the_caller_expects() -> None:
    assert checked_base("main", BASE, None, "acme/platform") is BASE
    assert checked_base("main", BASE, BASE.sha, "acme/platform") is BASE
    with pytest.raises(ForgeNotFoundError, match="base branch 'main' does not exist in acme/platform"):
        checked_base("main", None, None, "acme/platform")
    with pytest.raises(BaseMovedError) as moved:
        checked_base("main", BASE, "a" * 40, "acme/platform")
    assert (moved.value.expected, moved.value.actual) == ("a" * 40, BASE.sha)


@pytest.mark.parametrize(
    ("tree", "head", "reused"),
    [
        (BASE.tree, None, BASE.sha),  # the changes change nothing: the base itself
        (BASE.tree, Head("h" * 40, NEW_TREE, (BASE.sha,)), BASE.sha),  # ... even when the branch holds a commit
        (NEW_TREE, Head("h" * 40, NEW_TREE, (BASE.sha,)), "h" * 40),  # the branch already is base + changes
        (NEW_TREE, None, None),
        (NEW_TREE, Head("h" * 40, NEW_TREE, ("o" * 40,)), None),  # same files on an older base: rebuilt
        (NEW_TREE, Head("h" * 40, "other", (BASE.sha,)), None),  # other files on this base
        (NEW_TREE, Head("h" * 40, NEW_TREE, (BASE.sha, "m" * 40)), None),  # a merge commit is never ours
    ],
)
def test_which_commit_is_reused(tree: str, head: Head[str] | None, reused: str | None) -> None:
    assert reusable_commit(BASE, tree, head) == reused


def test_trees_may_be_the_files_themselves() -> None:
    files = {"a.yaml": "1"}
    assert reusable_commit(Tip("b" * 40, dict(files)), files, None) == "b" * 40
    assert reusable_commit(Tip("b" * 40, {}), files, Head("h" * 40, dict(files), ("b" * 40,))) == "h" * 40


def test_the_ref_moves_only_when_it_is_not_there_yet() -> None:
    base, head, new = "b" * 40, "h" * 40, "n" * 40
    assert branch_move("envbot/x", "main", base, None, new) == BranchMove("envbot/x", None, new, onto_base=False)
    assert branch_move("envbot/x", "main", base, head, new) == BranchMove("envbot/x", head, new, onto_base=False)
    assert branch_move("envbot/x", "main", base, head, head) is None
    assert branch_move("envbot/x", "main", base, None, base) == BranchMove("envbot/x", None, base, onto_base=False)
    assert branch_move("main", "main", base, None, new) == BranchMove("main", base, new, onto_base=True)
    assert branch_move("main", "main", base, None, base) is None


def test_a_merge_commit_reads_back_as_the_pull_request_title() -> None:
    subject, _, body = merge_message(7, "envbot/dev/infrastructure", "Provision dev").partition("\n")
    assert subject == "Merge pull request #7 from envbot/dev/infrastructure"
    assert history_title(subject, body) == "Merge pull request #7 from envbot/dev/infrastructure: Provision dev"
    assert history_title("provision dev", "some body") == "provision dev"
    assert history_title("Merge pull request #8 from x", "  \n") == "Merge pull request #8 from x"
