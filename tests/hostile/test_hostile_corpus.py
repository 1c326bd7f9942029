"""The hostile input corpus: every case is answered with an ``error:`` line, a reply, a refusal or an ignore, and
nothing is written anywhere (see ``arena``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from project_paths import PROJECT_ROOT

from tests.hostile.arena import Arena, Case, Outcome, cli_case, comment, event_case, open_arena
from tests.hostile.corpus_events import CASES as EVENT_CASES
from tests.hostile.corpus_files import CASES as FILE_CASES

CORPUS: list[Case] = [*EVENT_CASES, *FILE_CASES]


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    with open_arena(tmp_path_factory.mktemp("hostile")) as opened:
        yield opened


def test_the_corpus_holds_more_than_100_distinct_cases(capsys: pytest.CaptureFixture[str]) -> None:
    ids = [case.id for case in CORPUS]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    by_category = Counter(case.category for case in CORPUS)
    by_outcome = Counter(case.outcome.name.lower() for case in CORPUS)
    with capsys.disabled():
        print(f"\nhostile inputs tried: {len(CORPUS)}")
        print("  by category: " + ", ".join(f"{k} {v}" for k, v in sorted(by_category.items())))
        print("  by answer: " + ", ".join(f"{k} {v}" for k, v in sorted(by_outcome.items())))
    assert len(CORPUS) >= 100
    assert all(by_category[c] >= 5 for c in by_category), by_category
    security = (PROJECT_ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert f"| {len(CORPUS)} hostile inputs" in security, "SECURITY.md quotes another number of hostile inputs"


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_hostile_input_is_answered_and_nothing_is_written(
    case: Case, arena: Arena, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    arena.run(case, monkeypatch, capsys)


VALID = (
    "kind: Environment\nname: control\ncatalogs:\n  - name: rds-postgres\n"
    "    parameters: {databaseName: app, vpcId: vpc-0abc}\n"
)


@pytest.mark.parametrize(
    "control",
    [
        cli_case(
            "control-valid-provision-writes-gitops",
            "control",
            ("provision", "{case}/env.yaml", "--config", "{config}"),
            "the GitOps repositories changed",
            files={"env.yaml": VALID},
        ),
        event_case(
            "control-status-writes-the-source",
            "control",
            "issue_comment",
            comment("/status"),
            Outcome.IGNORED,
            "changed",  # its commit status at least; its app pull request too once the Workspace is Available
        ),
    ],
    ids=lambda case: case.id,
)
def test_the_arena_notices_a_write(
    control: Case, arena: Arena, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs last: legitimate requests that do write fail the arena's checks, so a quiet corpus means something."""
    with pytest.raises(AssertionError) as caught:
        arena.run(control, monkeypatch, capsys)
    assert str(caught.value).startswith(control.id) and control.expected in str(caught.value)
